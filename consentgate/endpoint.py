"""The decision endpoint: turn a posted form into a signed consent cookie.

This is the one implementation of taking a decision. The middleware's own
endpoint and the Flask blueprint both call :func:`decision_response`, so the
rules (same-site check, safe redirect, cookie attributes, expiry of cookies a
withdrawal refuses) cannot drift apart. The middleware's built-in preferences
page is answered here too (:func:`endpoint_response`), and so are the JavaScript
API's state (:func:`state_response`) and script (:func:`script_response`).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from . import messages as m
from . import ui
from .cookies import consent_cookie_header, cookie_value, expiry_header
from .csp import nonce_attr
from .decision import behind_proxy, decide, is_cross_site, referer_path, safe_next, wants_json
from .embeds import MAX_ID, with_token
from .i18n import LANGUAGE_KEY, NEGOTIATED_KEY
from .jurisdiction import DEFAULT_STATE
from .recording import build_record, entry_point, language_of
from .records import Notice, Record, StoreUnavailable
from .script import IMMUTABLE, JAVASCRIPT, SCRIPT, SCRIPT_ETAG, script_path

if TYPE_CHECKING:
    from .consent import Consent
    from .gate import Environ, Gate


#: Why a same-site post can look cross-site, and the fix; the site owner reads it in the log.
_PROXY_HINT = (
    "The browser posted from this site, but the app sees another scheme or host: behind a "
    "reverse proxy, wrap the app in werkzeug.middleware.proxy_fix.ProxyFix (x_proto=1, "
    "x_host=1) so the gate sees the visitor's https and host, or list the site's origin "
    "in trusted_origins."
)
#: Seconds a visitor (or script) is asked to wait before trying again when a decision
#: could not be recorded (``Retry-After`` of the 503).
RETRY_AFTER = 30
#: The WSGI environ key that tells the gate to let no ``Set-Cookie`` out with this
#: response: a decision that was not recorded leaves the visitor as they were.
NO_COOKIES = "consentgate.no_cookies"


class FormRequest(Request):
    """A request whose form parsing is capped, so a hostile post costs little."""

    #: Largest body accepted on the endpoint (413 beyond it, also for a chunked
    #: body when the server ends the stream); a consent form is a few hundred bytes.
    max_content_length = 16 * 1024
    #: Cap on buffered form data, and on the number of fields.
    max_form_memory_size = 16 * 1024
    max_form_parts = 200


def endpoint_response(gate: Gate, request: Request, here: str) -> Response:
    """The plain middleware's endpoint: a decision (POST), the preferences page or, for
    a client asking for JSON, the consent state (GET), and the API's script.

    :param here: this request's path inside the app, where the page's form leads back to
        when the visitor came from nowhere known.
    """
    if request.environ.get("PATH_INFO") == script_path(gate.settings.endpoint):
        return script_response(request)
    if request.path.endswith(ui.EMBED_JS_PATH):
        return embed_script()
    if request.method == "POST":
        return decision_response(gate, request)
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD, POST")
    if wants_json(request.headers.get("Accept")):
        return state_response(gate, request)
    prefix = gate.mount_prefix(request.environ)
    back = _back_path(gate, request, prefix)
    # Without a page to go back to, the visitor comes back here and sees what they saved.
    consent = request.environ["consentgate.consent"]
    nonce = nonce_attr(request.environ)
    state = gate.request_state(request.environ)
    language = page_language(gate, request)
    page = ui.preferences_page(
        gate.settings, consent, back or here, prefix, back, nonce, state, language
    )
    response = Response(page, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = ", ".join((*gate.vary, "Accept"))
    language_headers(request, response)
    return response


def page_language(gate: Gate, request: Request) -> str:
    """The preferences page's language: the one the visitor asked for with the page's
    "Change language" (``?lang=``), else the request's (:class:`~consentgate.i18n.LanguageChooser`).
    Either way it becomes the request's language, which the page's form then saves."""
    use_language(gate, request.environ, request.args.get("lang"))
    return gate.languages.current(request.environ)


def use_language(gate: Gate, environ: Environ, tag: object) -> str | None:
    """Make ``tag`` the request's language when it is one of the site's (the app's
    choice, or the visitor's pick: either goes before ``Accept-Language``); returns
    that language, or None (and nothing changes) for any other value."""
    language = gate.languages.match(tag)
    if language is not None:
        environ[LANGUAGE_KEY] = language
        environ.pop(NEGOTIATED_KEY, None)
    return language


def language_headers(request: Request, response: Response) -> None:
    """``Content-Language`` of a page the gate wrote whole, and ``Vary: Accept-Language``
    when that header chose it."""
    language = request.environ.get(LANGUAGE_KEY)
    if isinstance(language, str):
        response.headers["Content-Language"] = language
        if request.environ.get(NEGOTIATED_KEY) == language:
            response.vary.add("Accept-Language")


def state_response(gate: Gate, request: Request) -> Response:
    """The visitor's consent state as JSON (:func:`~consentgate.script.consent_state`).

    The same URL answers HTML to a browser and JSON to a script, per visitor:
    the answer varies on both headers and is never stored.
    """
    response = Response(json.dumps(gate.page_state(request.environ)), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = ", ".join((*gate.vary, "Accept"))
    return response


def script_response(request: Request) -> Response:
    """The API's script: cached for a year, since its URL changes with its content;
    ``304`` to a browser that holds this version already."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    response = Response(SCRIPT, content_type=JAVASCRIPT)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(SCRIPT_ETAG)
    return response.make_conditional(request)


def _back_path(gate: Gate, request: Request, prefix: str) -> str | None:
    """The page inside the app the visitor came from: ``?next=``, else a same-site
    ``Referer``; never the preferences page itself."""
    back = safe_next(request.args.get("next"), default="") or referer_path(
        request.headers.get("Referer"), host=request.host, scheme=request.scheme, prefix=prefix
    )
    if back is None or gate.is_endpoint({"PATH_INFO": back.partition("?")[0]}):
        return None
    return back


def decision_response(
    gate: Gate, request: Request, notice: Callable[[str], Notice] | None = None
) -> Response:
    """Take the decision posted in ``request`` and answer it.

    A cross-site post is refused with 403 and changes nothing. An unknown
    ``action`` is a 400. When decisions are recorded, the record is committed
    first; if it cannot be, the answer is a 503 with no cookie at all. Otherwise
    the answer sets the consent cookie (keeping the visitor's consent id),
    expires cookies of categories the decision refuses, and is either a ``303``
    back to the form's ``next`` path or, for clients preferring JSON, the new state,
    as a GET of the endpoint gives it.

    :param notice: the notice the visitor was shown, in a language; the built-in
        banner's by default (the Flask blueprint passes its template's).
    """
    settings = gate.settings
    refusal = _refusal(gate, request)
    if refusal is not None:
        return refusal
    try:
        form = _form(request)
    except HTTPException as error:  # too large, too many fields
        why = m.TOO_LARGE if error.code == 413 else m.UNREADABLE
        return _plain(error.code or 400, _say(gate, request, why))
    if form.get("action") == "load_once":
        return load_once_response(gate, request, form)
    now = gate.clock()
    mode = gate.request_state(request.environ).mode
    previous = gate.consent_for(request.environ)
    kept_id = previous.consent_id if previous.decided else _signed_id(gate, request)
    consent = decide(
        form.get("action"),
        form.getlist("category"),
        settings,
        now=int(now),
        consent_id=kept_id or secrets.token_urlsafe(9),
        mode=mode,
    )
    if consent is None:
        return _plain(400, _unknown_action(gate, request, form.get("action"), mode))
    consent = _with_language(gate, request, consent, form.get("lang") or previous.language)
    json_client = wants_json(request.headers.get("Accept"))
    record = None
    if gate.recorder.active:
        entry = entry_point(form.get("entry_point"), json_client)
        try:
            record, shown = _record(gate, request, (previous, consent), form, entry, now, notice)
            gate.recorder.commit(record, shown)
        except StoreUnavailable:
            return _unavailable(gate, request, safe_next(form.get("next")), json_client)
    response = _decided(gate, request, consent, safe_next(form.get("next")), json_client)
    _set_decision_cookies(gate, request, consent, response)
    response.headers["Cache-Control"] = "no-store"
    if record is not None:
        gate.recorder.after(record)
    return response


def _with_language(gate: Gate, request: Request, consent: Consent, lang: str) -> Consent:
    """``consent`` with the language the visitor picked on the preferences page (or
    picked before), which also becomes the request's: the pages that answer and the
    record speak it."""
    picked = use_language(gate, request.environ, lang)
    if picked is None:
        return consent
    return dataclasses.replace(consent, language=picked)


def _signed_id(gate: Gate, request: Request) -> str:
    """The id of a consent cookie of this site that no longer counts (a new policy
    version, say), so a visitor asked again keeps their id; ``""`` without one."""
    value = cookie_value(request.headers.get("Cookie", ""), gate.settings.cookie_name)
    return gate.codec.signed_id(value)


def _record(
    gate: Gate,
    request: Request,
    change: tuple[Consent, Consent],
    form: MultiDict[str, str],
    entry: str,
    now: float,
    notice: Callable[[str], Notice] | None,
) -> tuple[Record, Notice]:
    """The record of the decision ``change`` (before, after) and the notice it names."""
    settings = gate.settings
    state = gate.request_state(request.environ)
    language = language_of(request.environ)
    make = notice or (lambda language: ui.banner_notice(settings, language, state))
    # The wording differs per mode and GPC signal: each is rendered and kept apart.
    key = language if state == DEFAULT_STATE else f"{language} {state.mode} gpc={state.gpc:d}"
    shown = gate.recorder.notice(key, lambda _: make(language))
    record = build_record(
        change[1],
        change[0],
        button=form.get("action", ""),
        entry=entry,
        notice=shown,
        now=now,
        settings=settings,
        request=request.environ,
    )
    return record, shown


def _decided(
    gate: Gate, request: Request, consent: Consent, next_url: str, json_client: bool
) -> Response:
    """The answer to a decision taken: the new state as JSON (as a GET gives it), or a
    303 back."""
    if json_client:
        state = gate.page_state(request.environ, consent)
        return Response(json.dumps(state), mimetype="application/json")
    location = gate.mount_prefix(request.environ) + next_url
    return Response(status=303, headers={"Location": location})


def _unavailable(gate: Gate, request: Request, next_url: str, json_client: bool) -> Response:
    """503 for a decision that could not be recorded: nothing changes, no cookie is set
    (the gate is told to let none out), and the visitor is asked to try again."""
    language = gate.languages.current(request.environ)
    t = ui.translations(gate.settings, language)
    if json_client:
        body = json.dumps({"error": t.gettext(m.UNAVAILABLE), "retry_after": RETRY_AFTER})
        response = Response(body, status=503, mimetype="application/json")
    else:
        prefix = gate.mount_prefix(request.environ)
        nonce = nonce_attr(request.environ)
        page = ui.unavailable_page(prefix, next_url, RETRY_AFTER, nonce, t, language)
        response = Response(page, status=503, mimetype="text/html")
        language_headers(request, response)
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    request.environ[NO_COOKIES] = True
    return response


def load_once_response(gate: Gate, request: Request, form: MultiDict[str, str]) -> Response:
    """Answer "load this once": back to the page with a token that lets the element
    ``element`` through on that one response.

    Nothing is recorded and no cookie is set: the visitor's consent stays as it was. The
    token is signed with the gate's keys, names the element and the page's path, and
    expires after ``load_once_seconds``; it travels in the query string only.
    """
    element = form.get("element", "").strip()
    if not element or len(element) > MAX_ID or any(c.isspace() for c in element):
        return _plain(400, "load_once needs the element's id.")
    target = safe_next(form.get("next"))
    path = target.partition("#")[0].partition("?")[0]
    token = gate.load_once.dumps(element, path, gate.clock())
    url = gate.mount_prefix(request.environ) + with_token(
        target, token, quote(element, safe="-._~!$&'()*+,;=:@/?")
    )
    if wants_json(request.headers.get("Accept")):
        response = Response(json.dumps({"url": url}), mimetype="application/json")
    else:
        response = Response(status=303, headers={"Location": url})
    response.headers["Cache-Control"] = "no-store"
    return response


def embed_script() -> Response:
    """The script that swaps placeholders for their embeds in place (no inline code, so
    a strict Content-Security-Policy with ``script-src 'self'`` lets it run)."""
    response = Response(ui.EMBED_JS, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _refusal(gate: Gate, request: Request) -> Response | None:
    """A 403 for a post from another site; None for the site's own posts.

    When the browser says the post is this site's own, the gate is being shown the
    wrong scheme or host (a proxy), and the answer and the log say how to fix it.
    """
    headers = request.headers
    origin, referer = headers.get("Origin"), headers.get("Referer")
    fetch = headers.get("Sec-Fetch-Site")
    host, scheme = request.host, request.scheme
    trusted = gate.settings.trusted_origins
    seen = {"origin": origin, "referer": referer, "sec_fetch_site": fetch}
    if not is_cross_site(host=host, scheme=scheme, trusted_origins=trusted, **seen):
        return None
    refused = _say(gate, request, m.REFUSED)
    if not behind_proxy(host=host, scheme=scheme, **seen):
        return _plain(403, refused)
    gate.warn_once("proxy", _PROXY_HINT)
    # The hint is for the site's owner, who reads the log in English.
    return _plain(403, f"{refused}\n{_PROXY_HINT}")


def _form(request: Request) -> MultiDict[str, str]:
    """The posted form, or 413 for a body the request's limits cut short.

    werkzeug stops reading a body without ``Content-Length`` (chunked) at
    ``max_content_length`` and parses what it has; such a body is refused
    whole instead, so a decision is never taken from part of a form.
    """
    form = request.form
    if request.content_length is None and getattr(request.stream, "is_exhausted", False):
        raise RequestEntityTooLarge()
    return form


def _set_decision_cookies(
    gate: Gate, request: Request, consent: Consent, response: Response
) -> None:
    """Write the signed cookie and expire what the decision refuses."""
    settings = gate.settings
    if settings.cookie_domain is not None:
        # A host-only consent cookie from before cookie_domain was set is older, so
        # browsers send it first and it would shadow this one: retire it.
        response.headers.add(*expiry_header(settings.cookie_name))
    secure = settings.secure if settings.secure is not None else request.scheme == "https"
    name, value = consent_cookie_header(
        settings.cookie_name,
        gate.codec.dumps(consent),
        max_age=settings.max_age,
        secure=secure,
        path=settings.cookie_path or gate.mount_prefix(request.environ) or "/",
        domain=settings.cookie_domain,
    )
    response.headers.add(name, value)
    effective = gate.effective(consent, request.environ)
    refused = gate.refused_request_cookies(request.headers.get("Cookie", ""), effective)
    for name, value in gate.expire_cookies(refused, request.environ):
        response.headers.add(name, value)


def _not_allowed(allow: str) -> Response:
    response = _plain(405, "Method not allowed.")
    response.headers["Allow"] = allow
    return response


def _unknown_action(gate: Gate, request: Request, action: str | None, mode: str) -> str:
    """Why a posted action is refused, with the actions this mode takes (a script's
    mistake, answered in English, except the visitor's "OK" in the wrong mode)."""
    if action == "acknowledge" and mode == "opt-in":
        return _say(gate, request, m.NO_NOTICE)
    expected = "accept_all, opt_out, acknowledge" if mode == "opt-out" else "accept_all"
    return f"Unknown action: expected {expected}, reject_all, save or load_once."


def _say(gate: Gate, request: Request, message: str) -> str:
    """``message`` (one of :mod:`consentgate.messages`) in the request's language."""
    language = gate.languages.current(request.environ)
    return ui.translations(gate.settings, language).gettext(message)


def _plain(status: int, message: str) -> Response:
    """A short text answer for a refused or malformed post."""
    return Response(message + "\n", status=status, mimetype="text/plain")
