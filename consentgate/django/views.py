"""The endpoint's views: the decision (POST), the preferences page in the site's own
layout (GET), the visitor's state as JSON (GET asking for it) and the scripts.

They are exempt from Django's CSRF token, as the plain endpoint is: a consent form
is posted from cached pages and from the banner the gate injects, which carry no
token. The core's own check refuses a post from another site (``Origin``, else
``Referer``) with 403 before anything changes. The decision itself is taken by
:func:`consentgate.endpoint.decision_response`, the code every adapter runs, and
the pages are those :mod:`consentgate.site_pages` decides for Flask too: these
views only render them with Django's templates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from ..endpoint import FormRequest, embed_script, script_response
from ..site_pages import preferences_response, site_decision_response
from .conf import current
from .render import page_renderer, use_app_language
from .responses import from_werkzeug

if TYPE_CHECKING:
    from ..consent import Consent


@csrf_exempt
def preferences(request: HttpRequest) -> HttpResponse:
    """Take a decision (POST), or show the visitor's choices (GET; JSON to a script)."""
    use_app_language(request)
    if request.method == "POST":
        return _decision(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    _consent(request)  # the page needs the middleware's reading of the request
    page = preferences_response(current().gate, _core_request(request), page_renderer(request))
    return from_werkzeug(page)


def script(request: HttpRequest) -> HttpResponse:
    """The JavaScript API's script, at the versioned URL the pages name."""
    return from_werkzeug(script_response(_core_request(request)))


def embeds_script(request: HttpRequest) -> HttpResponse:
    """The script that swaps a placeholder for its embed in place."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return from_werkzeug(embed_script())


def _decision(request: HttpRequest) -> HttpResponse:
    """Take the posted decision; a 503 page is shown inside the site's layout."""
    posted = _core_request(request)
    stream = request.META.get("wsgi.input")
    # The body, read through Django (whatever read it before); FormRequest caps it.
    request.META["wsgi.input"] = request
    try:
        answer = site_decision_response(current().gate, posted, page_renderer(request))
    finally:  # not the request itself: it would keep itself alive
        if stream is None:
            del request.META["wsgi.input"]
        else:
            request.META["wsgi.input"] = stream
    return from_werkzeug(answer)


def _core_request(request: HttpRequest) -> FormRequest:
    """The request as the core reads it: over ``request.META`` itself, where the
    middleware put the consent and the core leaves word for the response."""
    environ = request.META
    environ.setdefault("wsgi.url_scheme", request.scheme)
    return FormRequest(environ)


def _consent(request: HttpRequest) -> Consent:
    """The visitor's consent, as the middleware read it; a clear error without it."""
    try:
        consent: Consent = request.META["consentgate.consent"]
    except KeyError:
        raise RuntimeError(
            "consentgate.django.middleware.ConsentGateMiddleware is not in MIDDLEWARE"
        ) from None
    return consent
