"""The endpoint's views: the decision (POST), the preferences page in the site's own
layout (GET), the visitor's state as JSON (GET asking for it) and the scripts.

They are exempt from Django's CSRF token, as the plain endpoint is: a consent form
is posted from cached pages and from the banner the gate injects, which carry no
token. The core's own check refuses a post from another site (``Origin``, else
``Referer``) with 403 before anything changes. The decision itself is taken by
:func:`consentgate.endpoint.decision_response`, the code every adapter runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from ..decision import safe_next, wants_json
from ..endpoint import (
    RETRY_AFTER,
    FormRequest,
    decision_response,
    embed_script,
    script_response,
    state_response,
)
from ..messages import UNAVAILABLE
from ..paths import app_path
from ..ui import receipt_html
from .conf import BASE_TEMPLATE, FALLBACK_BASE_TEMPLATE, current
from .render import banner_notice, template_context
from .responses import from_werkzeug

if TYPE_CHECKING:
    from ..consent import Consent


@csrf_exempt
def preferences(request: HttpRequest) -> HttpResponse:
    """Take a decision (POST), or show the visitor's choices (GET; JSON to a script)."""
    if request.method == "POST":
        return _decision(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    gate = current().gate
    if wants_json(request.headers.get("Accept")):
        return from_werkzeug(state_response(gate, _core_request(request)))
    consent: Consent = _consent(request)
    context = template_context(request)
    context.update(
        # Without ?next= the visitor comes back here and sees what they saved.
        next_url=safe_next(request.GET.get("next"), default=app_path(request.META)),
        base_template=_base_template(),
        consent_receipt=mark_safe(
            receipt_html(gate.settings, consent, gate.languages.current(request.META))
        ),
    )
    response = HttpResponse(render_to_string("consentgate/preferences.html", context, request))
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, (*gate.vary, "Accept"))
    return response


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
        answer = decision_response(current().gate, posted, banner_notice(request))
    finally:  # not the request itself: it would keep itself alive
        if stream is None:
            del request.META["wsgi.input"]
        else:
            request.META["wsgi.input"] = stream
    response = from_werkzeug(answer)
    if answer.status_code == 503 and answer.mimetype == "text/html":
        prefix = current().gate.mount_prefix(request.META)
        context = template_context(request)
        context.update(
            message=UNAVAILABLE,
            retry_after=RETRY_AFTER,
            back_url=prefix + safe_next(posted.form.get("next")),
            base_template=_base_template(),
        )
        page = render_to_string("consentgate/unavailable.html", context, request)
        response.content = page.encode("utf-8")
        response["Content-Length"] = str(len(response.content))
    return response


def _core_request(request: HttpRequest) -> FormRequest:
    """The request as the core reads it: over ``request.META`` itself, where the
    middleware put the consent and the core leaves word for the response."""
    environ = request.META
    environ.setdefault("wsgi.url_scheme", request.scheme)
    return FormRequest(environ)


def _consent(request: HttpRequest) -> Consent:
    try:
        consent: Consent = request.META["consentgate.consent"]
    except KeyError:
        raise RuntimeError(
            "consentgate.django.middleware.ConsentGateMiddleware is not in MIDDLEWARE"
        ) from None
    return consent


def _base_template() -> str:
    """The layout the pages extend: the configured one, else the site's ``base.html``,
    else the app's minimal one."""
    configured = current().base_template
    if configured is not None:
        return configured
    try:
        get_template(BASE_TEMPLATE)
    except TemplateDoesNotExist:
        return FALLBACK_BASE_TEMPLATE
    return BASE_TEMPLATE
