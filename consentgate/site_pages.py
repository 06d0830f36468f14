"""The consent UI in a site's own templates: which page is due and what it gets.

The Flask extension and the Django app render the banner, the preferences page and
the "not saved" page from the site's templates (``consentgate/banner.html`` and the
rest, which a site overrides one by one), inside the site's layout. What those pages
are is decided here, once, for both: whether a banner is due on a page, which
template says it (the banner, or the notice in opt-out mode), what each template
gets, the preferences page's headers, and the 503 page that replaces the core's own
when a decision could not be recorded. An adapter only renders a :class:`SitePage`
with its template engine, through the ``render`` callable it passes in:

.. code-block:: python

    def render(page: SitePage) -> str:
        values = {**page.values, **{k: Markup(v) for k, v in page.markup.items()}}
        if page.in_layout:
            values["base_template"] = "layout.html"
        return render_template(page.template, **values)

    response = preferences_response(gate, FormRequest(environ), render)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from werkzeug.wrappers import Response

from .csp import nonce_attr
from .decision import safe_next, wants_json
from .endpoint import (
    RETRY_AFTER,
    decision_response,
    language_headers,
    page_language,
    state_response,
)
from .messages import UNAVAILABLE
from .notice import notice_text
from .paths import app_path
from .records import Notice
from .ui import BANNER_CSS, language_picker, receipt_html, site_url

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from .consent import Consent
    from .gate import Environ, Gate

#: The templates, by the names a site overrides them with.
BANNER_TEMPLATE = "consentgate/banner.html"
NOTICE_TEMPLATE = "consentgate/notice.html"
PREFERENCES_TEMPLATE = "consentgate/preferences.html"
UNAVAILABLE_TEMPLATE = "consentgate/unavailable.html"
#: The environ keys the gate and the adapters share about the banner and the consent.
CONSENT = "consentgate.consent"
BANNER_PLACED = "consentgate.banner_placed"
BANNER_HTML = "consentgate.banner_html"

_NO_MARKUP: Mapping[str, str] = MappingProxyType({})


class SitePage(NamedTuple):
    """One consent template to render for this request, with the site's context."""

    #: The template's name (``consentgate/...``).
    template: str
    #: Values the template escapes as it writes them.
    values: Mapping[str, object]
    #: HTML the core wrote (escaped already): the adapter marks it safe.
    markup: Mapping[str, str] = _NO_MARKUP
    #: Whether the page extends the site's layout (the adapter adds ``base_template``).
    in_layout: bool = False


class SharedContext(NamedTuple):
    """The context every consent template gets (:func:`shared_context`)."""

    #: Values the templates escape as they write them.
    values: dict[str, object]
    #: HTML the core wrote: the adapter marks it safe.
    markup: dict[str, str]


#: Renders a :class:`SitePage` with the adapter's template engine, as HTML.
Render = Callable[[SitePage], str]


def shared_context(gate: Gate, environ: Environ) -> SharedContext:
    """What every consent template reads about this request, and a site's own through
    the adapters' context processors: ``consent_mode``, ``consent_gpc`` (the signal is
    honoured), ``consent_settings``, ``consent_url`` (the settings page, behind the
    mount prefix), ``consent_privacy_url`` and ``consent_lang``; as HTML, the banner's
    style (``consentgate_css``) and the CSP nonce attribute (``consentgate_nonce``).
    """
    settings = gate.settings
    # Not the framework's URL builder: a form must never post off the site.
    prefix = gate.mount_prefix(environ)
    values = {
        "consent_mode": environ.get("consentgate.mode", "opt-in"),
        "consent_gpc": bool(environ.get("consentgate.gpc")),
        "consent_settings": settings,
        "consent_url": prefix + settings.endpoint,
        "consent_privacy_url": site_url(prefix, settings.privacy_url),
        "consent_lang": gate.languages.current(environ),
    }
    markup = {"consentgate_css": BANNER_CSS, "consentgate_nonce": nonce_attr(environ)}
    return SharedContext(values, markup)


def banner_due(gate: Gate, environ: Environ) -> bool:
    """Whether this HTML page gets a banner rendered from the site's templates, for the
    gate to inject: the visitor has not decided, the page placed none itself, and the
    gate injects one here (``inject_banner``; not its own pages, not a fragment a
    script fetches, not an excluded path). Where none is due, none is rendered."""
    consent: Consent | None = environ.get(CONSENT)
    return consent is not None and gate.banner_due(environ, consent)


def banner_page(gate: Gate, environ: Environ, next_url: str | None = None) -> SitePage:
    """The banner (in opt-out mode, the notice that replaces it), leading back to
    ``next_url`` (by default this page); ``consent_settings_url`` is the cookie
    settings page, leading back there too."""
    template = BANNER_TEMPLATE
    if environ.get("consentgate.mode") == "opt-out":
        template = NOTICE_TEMPLATE
    back = app_path(environ) if next_url is None else next_url
    settings_url = (
        f"{gate.mount_prefix(environ)}{gate.settings.endpoint}?next={quote(back, safe='/')}"
    )
    return SitePage(template, {"next_url": back, "consent_settings_url": settings_url})


def prepare_banner(gate: Gate, environ: Environ, render: Render) -> None:
    """Render the banner from the site's templates for the gate to inject into this
    HTML page, when one is due (:func:`banner_due`)."""
    if banner_due(gate, environ):
        environ[BANNER_HTML] = render(banner_page(gate, environ))


def placed_banner(gate: Gate, environ: Environ, render: Render) -> str:
    """The banner where a template places it by hand (the template helpers of every
    framework), with the JavaScript API's tags unless the page has them; ``""`` once
    the visitor has decided. Either way the gate then injects no second one."""
    environ[BANNER_PLACED] = True
    consent: Consent = environ[CONSENT]
    if consent.decided:
        return ""
    return render(banner_page(gate, environ)) + gate.place_script(environ)


def preferences_response(gate: Gate, request: Request, render: Render) -> Response:
    """A GET of the endpoint: the visitor's state as JSON to a script, else the
    preferences page in the site's layout, in the language asked for (``?lang=``,
    see :func:`~consentgate.endpoint.page_language`), never stored."""
    if wants_json(request.headers.get("Accept")):
        return state_response(gate, request)
    environ = request.environ
    language = page_language(gate, request)
    action = escape(gate.mount_prefix(environ) + gate.settings.endpoint)
    page = SitePage(
        PREFERENCES_TEMPLATE,
        # Without ?next= the visitor comes back here and sees what they saved.
        {"next_url": safe_next(request.args.get("next"), default=app_path(environ))},
        {
            "consent_receipt": receipt_html(gate.settings, environ[CONSENT], language),
            "consent_language_picker": language_picker(gate.settings, language, action),
        },
        in_layout=True,
    )
    response = Response(render(page), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.vary.update((*gate.vary, "Accept"))
    language_headers(request, response)
    return response


def site_decision_response(gate: Gate, request: Request, render: Render) -> Response:
    """Take the posted decision (:func:`~consentgate.endpoint.decision_response`), the
    notice recorded with it read from the site's banner template; when it could not be
    recorded, the 503 page a browser gets is the site's ``unavailable.html``, in its
    layout (a script's JSON stays as the core wrote it)."""
    environ = request.environ

    def notice(language: str) -> Notice:
        return Notice(language, notice_text(render(banner_page(gate, environ, "/"))))

    response = decision_response(gate, request, notice)
    if response.status_code == 503 and response.mimetype == "text/html":
        response.set_data(render(unavailable_page(gate, request)))
    return response


def unavailable_page(gate: Gate, request: Request) -> SitePage:
    """The page that says a decision was not saved, leading back to the form's ``next``."""
    back = gate.mount_prefix(request.environ) + safe_next(request.form.get("next"))
    values: dict[str, Any] = {
        "message": UNAVAILABLE,
        "retry_after": RETRY_AFTER,
        "back_url": back,
    }
    return SitePage(UNAVAILABLE_TEMPLATE, values, in_layout=True)
