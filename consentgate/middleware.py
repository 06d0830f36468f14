"""ConsentGate: the WSGI middleware that connects the pure pieces.

It reads the visitor's signed choice (as the request's mode and Global Privacy
Control signal make it count, :mod:`~consentgate.jurisdiction`), answers the
decision endpoint, filters
the app's ``Set-Cookie`` headers, expires refused cookies, and streams HTML
responses through :class:`~consentgate.rewriter.HtmlGate`. Responses that
need no rewriting are handed back untouched, so ``wsgi.file_wrapper`` keeps
its fast path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from . import ui
from .cache import Memo, SizedCache, short_key
from .charset import watch
from .config import Settings, build_settings, secret_warnings
from .consent import Consent, ConsentCodec
from .consent_mode import ConsentMode
from .cookies import cookie_value, expiry_headers, request_cookie_names
from .csp import CSP_NONCE, header_nonce, nonce_attr
from .decision import safe_prefix
from .embeds import (
    IDS_HEADER,
    TOKEN_PARAM,
    EmbedFinder,
    LoadOnceCodec,
    PageContext,
    PageEmbeds,
    Placeholder,
    split_token,
)
from .encoding import Feeder, Recoder, Unreadable, readable_accept_encoding
from .endpoint import NO_COOKIES, FormRequest, endpoint_response
from .http import (
    ResponsePlan,
    bad_gateway_headers,
    hostname,
    plan_response,
    state_tag,
    strip_conditional,
)
from .i18n import LanguageChooser
from .jurisdiction import (
    ALL_STATES,
    RequestState,
    checked_mode,
    effective_consent,
    gpc_applies,
    sends_gpc,
    vary_headers,
)
from .recording import Recorder
from .rewriter import HtmlGate
from .rules import Rules
from .script import consent_state, script_path, state_json, state_tags

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger("consentgate")
#: Distinct Cookie headers whose verified state is kept, and the bytes they may hold.
_VISITOR_CACHE = 4096
_VISITOR_CACHE_BYTES = 8 << 20
#: Distinct Cookie headers whose cookies' categories are kept, and their bytes.
_COOKIE_CACHE = 1024
_COOKIE_CACHE_BYTES = 4 << 20
#: Distinct request paths whose banner is kept, and their bytes.
_BANNER_CACHE = 1024
_BANNER_CACHE_BYTES = 8 << 20
#: Distinct consent states whose JSON for the JavaScript API is kept, and their bytes.
_STATE_CACHE = 4096
_STATE_CACHE_BYTES = 4 << 20
#: Longest path a log line shows; the query string is never logged (it may hold secrets).
_LOGGED_PATH = 200
#: Distinct unknown ``data-consent`` values warned about, at most.
_UNKNOWN_NAMES = 256
#: Largest buffered body checked for a chance to skip the rewriter.
_SMALL_BODY = 64 * 1024
#: What tells a request state's readings of a ``Cookie`` header apart in the cache.
_STATE_KEYS = {state: f"{state.mode}:{state.gpc:d}:" for state in ALL_STATES}


class _Visitor(NamedTuple):
    """What one ``Cookie`` header says in one :class:`RequestState`: the consent in
    effect and what follows from it."""

    consent: Consent
    #: Names of the request's cookies whose category the consent refuses.
    refused: tuple[str, ...]
    #: The consent's state tag, for ETags (:func:`~consentgate.http.state_tag`).
    tag: str
    #: Whether the consent grants every category: then nothing is ever cut.
    grants_all: bool
    #: When this reading stops being valid, as a Unix time.
    until: float
    #: Whether an element of a category stays in the page (allowed, or advanced mode).
    keeps: Callable[[str], bool]
    #: The Google Consent Mode snippet's JavaScript, when this visitor's pages get it.
    consent_mode: str | None
    #: Whether a page that cannot be gated is refused (``unreadable = "block"``): something
    #: is cut, or the Consent Mode default is due and would be missing.
    strict: bool


class ConsentGate:
    """Wrap a WSGI app so that what a visitor did not accept never reaches them.

    :param app: the WSGI application to wrap.
    :param config: settings, e.g. from :func:`~consentgate.load_config`, or a mapping
        of options as a TOML file has them; a mistake raises
        :class:`~consentgate.ConfigError` naming the option.
    :param serve_endpoint: answer the decision endpoint here; the Flask
        extension turns this off and serves it from a blueprint.
    :param options: any :class:`~consentgate.config.Settings` field; with
        ``config`` they override it.

    .. code-block:: python

        app = ConsentGate(app, secret_key="...", categories=[
            Category("necessary", required=True),
            Category("analytics", trackers=["google-analytics"]),
        ])
    """

    def __init__(
        self,
        app: WSGIApplication,
        config: Settings | Mapping[str, Any] | None = None,
        *,
        serve_endpoint: bool = True,
        **options: Any,
    ) -> None:
        config = build_settings(config, options)
        for warning in secret_warnings(config):
            logger.warning(
                "%s; set a long random key (python -c 'import secrets; "
                "print(secrets.token_hex(32))')",
                warning,
            )
        self.app = app
        self.settings = config
        self.serve_endpoint = serve_endpoint
        self._unknown_names: set[str] = set()
        self.rules = Rules(config.categories, self._warn_unknown_category)
        self.codec = ConsentCodec(
            config.secret_key,
            required=config.required_names,
            known=config.names,
            version=config.policy_version,
            max_age=config.max_age,
        )
        #: Signs the token of a placeholder's "load this once".
        self.load_once = LoadOnceCodec(config.secret_key, config.load_once_seconds)
        #: Which catalogue embed an element is, for its placeholder.
        self.embeds = EmbedFinder(config.categories)
        #: Source of the current time; tests replace it.
        self.clock: Callable[[], float] = time.time
        self.consent_mode = ConsentMode(config)
        for warning in self.consent_mode.warnings():
            logger.warning("%s", warning)
        #: Writes each decision's record; the store opens on the first decision.
        self.recorder = Recorder(config)
        self._undecided = Consent.undecided(config.required_names)
        #: What no cookie at all means, in each request state.
        self._nobody = {
            state: self._reading(
                effective_consent(self._undecided, state, config), (), float("inf"), state
            )
            for state in ALL_STATES
        }
        #: The request headers a gated page depends on, for ``Vary``.
        self.vary = vary_headers(config)
        #: The state of every request, when neither a region nor the GPC signal can change it.
        self._fixed_state: RequestState | None = None
        if config.region is None and not gpc_applies(config, config.mode):
            self._fixed_state = RequestState(config.mode, False)
        self._gated_cookies = Memo(
            self._classify_request_cookies, max_entries=_COOKIE_CACHE, max_bytes=_COOKIE_CACHE_BYTES
        )
        #: Raw path -> the default banner for it.
        self._banners = Memo(
            self._render_banner, max_entries=_BANNER_CACHE, max_bytes=_BANNER_CACHE_BYTES
        )
        #: Cookie header (or its digest) -> what it says, until ``_Visitor.until``.
        self._visitors: SizedCache[str | bytes, _Visitor] = SizedCache(
            max_entries=_VISITOR_CACHE, max_bytes=_VISITOR_CACHE_BYTES
        )
        self._warned: set[str] = set()
        stem = config.endpoint.rstrip("/")
        #: The endpoint answers with and without a trailing slash.
        self._endpoint_paths = frozenset((stem or "/", stem + "/", stem + ui.EMBED_JS_PATH))
        #: Where the JavaScript API's script is served, inside the app.
        self.script_path = script_path(config.endpoint)
        #: (consent, mode, GPC) -> the state as the pages' JSON, for the API's tags.
        self._state_texts = Memo(
            self._state_text, max_entries=_STATE_CACHE, max_bytes=_STATE_CACHE_BYTES
        )
        self._warned_once: set[str] = set()
        #: Chooses each request's language (:mod:`consentgate.i18n`).
        self.languages = LanguageChooser(config.languages, config.default_language)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        state = self.request_state(environ)
        visitor = self._visitor(environ.get("HTTP_COOKIE"), state)
        environ["consentgate.consent"] = visitor.consent
        environ["consentgate.mode"] = state.mode
        environ["consentgate.gpc"] = state.gpc
        environ["consentgate.gate"] = self
        language = self.languages.choose(environ, visitor.consent.language)
        if language != self.settings.default_language:  # a page per language: its own ETag
            visitor = visitor._replace(tag=f"{visitor.tag}.{language}")
        if self.serve_endpoint and (
            self.is_endpoint(environ) or environ.get("PATH_INFO") == self.script_path
        ):
            return self._endpoint(environ, start_response)
        if TOKEN_PARAM in environ.get("QUERY_STRING", ""):
            self._take_token(environ)
        # Most requests are not conditional: spare them the call.
        conditional = "HTTP_IF_NONE_MATCH" in environ and strip_conditional(environ, visitor.tag)
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        # If the page may need gating (or an insertion), ask for a coding the gate reads.
        inserts = not visitor.consent.decided or self.settings.inject_script
        if accept and (visitor.strict or inserts):
            environ["HTTP_ACCEPT_ENCODING"] = readable_accept_encoding(accept)
        body = _Body(self, environ, visitor, start_response, conditional)
        return body.start(self.app(environ, body.start_response))

    def _take_token(self, environ: WSGIEnvironment) -> None:
        """Take a load-once token out of the query string, so the app sees the page's
        own URL; a valid one names the embed this response lets through."""
        query, token = split_token(environ.get("QUERY_STRING", ""))
        environ["QUERY_STRING"] = query
        if token is not None:
            path = _path_and_query("", environ.get("PATH_INFO", ""), "")
            environ["consentgate.load_once"] = self.load_once.loads(token, path, self.clock())

    def page_embeds(self, environ: WSGIEnvironment, consent: Consent) -> PageEmbeds | None:
        """What answers the rewriter about this response's embeds; None when no category
        has any. The placeholder is rendered by ``environ["consentgate.placeholder"]``
        (the Flask template) or :func:`~consentgate.ui.placeholder_html`."""
        if not self.embeds:
            return None
        render: Callable[[Placeholder], str] = environ.get(
            "consentgate.placeholder", ui.placeholder_html
        )
        return PageEmbeds(
            self.embeds,
            lambda: self._page_context(environ, consent),
            render,
            lambda kind, message: self.warn_once(kind, f"{message} ({log_path(environ)})"),
        )

    def _page_context(self, environ: WSGIEnvironment, consent: Consent) -> PageContext:
        """Where this response's placeholders post and come back to, and what they keep."""
        prefix = self.mount_prefix(environ)
        script = prefix + self.settings.endpoint.rstrip("/") + ui.EMBED_JS_PATH
        return PageContext(
            settings=self.settings,
            action=prefix + self.settings.endpoint,
            next_url=app_path(environ),
            granted=consent.granted if consent.decided else frozenset(),
            assets=ui.embed_assets(script, environ.get("consentgate.csp_nonce")),
            loaded=environ.get("consentgate.load_once"),
            mark_ids=bool(environ.get(IDS_HEADER)),
            language=(language := self.languages.current(environ)),
            translations=ui.translations(self.settings, language),
        )

    def warn_once(self, kind: str, message: str) -> None:
        """Log ``message`` the first time something of this ``kind`` goes wrong, so that a
        client repeating it cannot fill the log."""
        if kind not in self._warned_once:
            self._warned_once.add(kind)
            logger.warning("%s", message)

    def _warn_unknown_category(self, name: str) -> None:
        """Log once per value a ``data-consent`` that names no category: it is never granted."""
        if name not in self._unknown_names and len(self._unknown_names) < _UNKNOWN_NAMES:
            self._unknown_names.add(name)
            logger.warning(
                "data-consent=%r names no configured category; such elements are removed "
                "for every visitor (known: %s)",
                name[:100],
                ", ".join(sorted(self.settings.names)),
            )

    def consent_for(self, environ: WSGIEnvironment) -> Consent:
        """The visitor's consent in effect for this request: what a valid cookie says,
        as the request's mode and GPC signal read it; undecided without one."""
        if environ.get("consentgate.gate") is self:  # read when the request came in
            consent: Consent = environ["consentgate.consent"]
            return consent
        return self._visitor(environ.get("HTTP_COOKIE"), self.request_state(environ)).consent

    def request_state(self, environ: WSGIEnvironment) -> RequestState:
        """This request's mode (from ``region``, else ``mode``) and whether the
        browser's Global Privacy Control signal is honoured for it."""
        if self._fixed_state is not None:
            return self._fixed_state
        if environ.get("consentgate.gate") is self:  # read when the request came in
            return RequestState(environ["consentgate.mode"], environ["consentgate.gpc"])
        settings = self.settings
        region = settings.region
        mode = settings.mode if region is None else checked_mode(region, environ, self.warn_once)
        gpc = sends_gpc(environ.get("HTTP_SEC_GPC")) and gpc_applies(settings, mode)
        return RequestState(mode, gpc)

    def effective(self, stored: Consent, environ: WSGIEnvironment) -> Consent:
        """The consent in effect for this request when its cookie holds ``stored``."""
        return effective_consent(stored, self.request_state(environ), self.settings)

    def _visitor(self, header: str | None, state: RequestState) -> _Visitor:
        """What a ``Cookie`` header says about its visitor in ``state``, cached per
        header and state.

        Verifying a signature costs more than the rest of a pass-through
        request, so the answer is kept until the decision would expire.
        """
        if not header:
            return self._nobody[state]
        now = self.clock()
        # A fixed state keeps the header itself as the key; otherwise states are told apart.
        key = short_key(header if self._fixed_state else _STATE_KEYS[state] + header)
        hit = self._visitors.get(key)
        if hit is not None and now < hit.until:
            return hit
        value = cookie_value(header, self.settings.cookie_name)
        stored = self._undecided if value is None else self.codec.loads(value, now)
        until = stored.decided_at + self.settings.max_age if stored.decided else now + 3600
        consent = effective_consent(stored, state, self.settings)
        refused = tuple(self.refused_request_cookies(header, consent))
        return self._visitors.put(key, self._reading(consent, refused, until, state))

    def _reading(
        self, consent: Consent, refused: tuple[str, ...], until: float, state: RequestState
    ) -> _Visitor:
        grants_all = self.settings.names <= consent.granted
        mode = self.consent_mode
        script = mode.script(consent)
        strict = not grants_all or script is not None
        tag, keeps = state_tag(consent, state.mode, state.gpc), mode.keeps(consent)
        return _Visitor(consent, refused, tag, grants_all, until, keeps, script, strict)

    def page_state(
        self, environ: WSGIEnvironment, consent: Consent | None = None
    ) -> dict[str, Any]:
        """This request's consent state for scripts (:func:`~consentgate.script.consent_state`).

        :param consent: the consent to describe; by default the request's own.
        """
        state = self.request_state(environ)
        return consent_state(
            environ["consentgate.consent"] if consent is None else consent,
            self.settings,
            gpc=state.gpc,
            mode=state.mode,
        )

    def script_tags(self, environ: WSGIEnvironment) -> str:
        """The JavaScript API for this page: its state and the script, with the CSP nonce.

        For apps that write their own pages (the banner brings the tags itself);
        Flask templates call ``consentgate_script()``, which marks them placed.
        """
        state = self.request_state(environ)
        data = self._state_texts[(environ["consentgate.consent"], state.mode, state.gpc)]
        prefix = self.mount_prefix(environ)
        return state_tags(data, prefix, self.settings.endpoint, nonce_attr(environ))

    def _state_text(self, key: tuple[Consent, str, bool]) -> str:
        consent, mode, gpc = key
        return state_json(consent_state(consent, self.settings, gpc=gpc, mode=mode))

    def is_endpoint(self, environ: WSGIEnvironment) -> bool:
        """Whether this request is for the decision endpoint."""
        return environ.get("PATH_INFO") in self._endpoint_paths

    def mount_prefix(self, environ: WSGIEnvironment) -> str:
        """The app's mount prefix (``SCRIPT_NAME``), percent-encoded, to write before
        the gate's own paths; ``""`` at the root.

        A prefix that could lead off the site (:func:`~consentgate.decision.safe_prefix`)
        is replaced by ``""``, and the first one is logged: a wrong URL on this site
        is better than a redirect to another.
        """
        script_name = environ.get("SCRIPT_NAME", "")
        if not script_name:
            return ""
        prefix = safe_prefix(script_name)
        if prefix is None:
            self.warn_once("prefix", "SCRIPT_NAME is not a safe path; URLs are written without it")
            return ""
        return _path_and_query(prefix, "", "")

    def refused_request_cookies(self, cookie_header: str, consent: Consent) -> list[str]:
        """Names of the request's cookies whose category ``consent`` refuses."""
        if not cookie_header:
            return []
        return [name for name, cat in self._gated_cookies[cookie_header] if not consent.allows(cat)]

    def expire_cookies(
        self, names: tuple[str, ...] | list[str], environ: WSGIEnvironment
    ) -> list[tuple[str, str]]:
        """``Set-Cookie`` headers that expire ``names`` for this request's host.

        Capped per response (:data:`~consentgate.cookies.MAX_EXPIRY_HEADERS`);
        the first time names are left for later responses, one warning says so.
        """
        expiry = expiry_headers(names, hostname(environ), domain=self.settings.cookie_domain)
        if expiry.deferred:
            self.warn_once(
                "deferred",
                f"{expiry.deferred} refused cookies left to expire on later responses: one "
                f"response expires at most {len(expiry.headers)} headers' worth "
                f"({log_path(environ)})",
            )
        return expiry.headers

    def keep_cookie(self, name: str, consent: Consent) -> bool:
        """Whether a ``Set-Cookie`` from the app for ``name`` may reach the browser."""
        if name == self.settings.cookie_name:
            return True
        category = self.rules.classify_cookie(name)
        if category is not None:
            return consent.allows(category)
        policy = self.settings.undeclared_cookies
        if policy != "allow" and name not in self._warned:
            self._warned.add(name)
            logger.warning(
                "cookie %r is not declared in any category; %s",
                name,
                "it was blocked" if policy == "block" else "it was allowed",
            )
        return policy != "block"

    def banner_for(self, environ: WSGIEnvironment, consent: Consent) -> bytes | None:
        """The banner to inject into this response, or None when none is due."""
        if consent.decided or not self.settings.inject_banner:
            return None
        # The preferences page is the banner's long form: one form is enough.
        if environ.get("consentgate.banner_placed") or self.is_endpoint(environ):
            return None
        # A script's fetch of an HTML fragment: the page it goes into has the banner.
        if environ.get("HTTP_SEC_FETCH_DEST") == "empty":
            return None
        if self.settings.exclude_paths and environ.get("PATH_INFO", "").startswith(
            self.settings.exclude_paths
        ):
            return None
        html = environ.get("consentgate.banner_html")
        if html is None:
            # Cached by the raw path and request state, so that a hit needs no quoting;
            # the nonce is per response.
            state = environ.get("consentgate.mode", "opt-in"), bool(environ.get("consentgate.gpc"))
            language = self.languages.current(environ)
            form = self._banners[(*_raw_path(environ), *state, language)]
            banner = ui.style_tag(nonce_attr(environ)) + form
        else:
            banner = str(html).encode("utf-8")
        if environ.get("consentgate.script_placed"):
            return banner
        # The state and nonce change per request: never part of the cached banner.
        return banner + self.script_tags(environ).encode("utf-8")

    def inserts_for(self, environ: WSGIEnvironment, consent: Consent) -> bytes | None:
        """What goes at the top of this response's body: the banner when one is due
        (the JavaScript API's tags with it), else, with ``inject_script``, the tags alone."""
        banner = self.banner_for(environ, consent)
        if banner is not None or not self.settings.inject_script:
            return banner
        # A fragment a script fetches goes into a page that has them; the API's own page
        # is the preferences page.
        if (
            environ.get("consentgate.script_placed")
            or environ.get("HTTP_SEC_FETCH_DEST") == "empty"
            or self.is_endpoint(environ)
        ):
            return None
        return self.script_tags(environ).encode("utf-8")

    def _render_banner(self, key: tuple[str, str, str, str, bool, str]) -> bytes:
        script_name, path_info, query, mode, gpc, lang = key
        next_url = _path_and_query("", path_info, query)
        prefix = self.mount_prefix({"SCRIPT_NAME": script_name})
        if mode == "opt-out":
            form = ui.notice_form(self.settings, next_url, prefix, gpc=gpc, language=lang)
            return form.encode("utf-8")
        return ui.banner_form(self.settings, next_url, prefix, lang).encode("utf-8")

    def consent_mode_script(self, environ: WSGIEnvironment, script: str | None) -> bytes | None:
        """The Consent Mode ``<script>`` element for this response (with the CSP nonce),
        or None when ``script`` (the visitor's :attr:`_Visitor.consent_mode`) is."""
        # A script's fetch of an HTML fragment: the page it goes into has the default, and
        # a second one there (run by a library that runs scripts it swaps in) comes too late.
        if script is None or environ.get("HTTP_SEC_FETCH_DEST") == "empty":
            return None
        return f"<script{nonce_attr(environ)}>{script}</script>".encode()

    def _classify_request_cookies(self, cookie_header: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for name in request_cookie_names(cookie_header):
            category = self.rules.classify_cookie(name)
            if category is not None and category not in self.settings.required_names:
                pairs.append((name, category))
        return tuple(pairs)

    def _endpoint(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = endpoint_response(self, FormRequest(environ), app_path(environ))
        return response(environ, start_response)


class _Body:
    """One response on its way out: header filtering and, for HTML, the gate.

    ``start_response`` decides the plan from the app's status and headers; the
    app's iterable then either passes through untouched or this object, as the
    response's iterable, streams it through the gate and forwards ``close()``.
    A gated response's headers wait for its first byte: a page found unreadable
    before then is answered ``502``, one found unreadable later ends there.
    """

    __slots__ = (
        "_feeder",
        "_head",
        "_page",
        "_write",
        "app_iter",
        "conditional",
        "environ",
        "gate",
        "outer_start_response",
        "plan",
        "started",
        "visitor",
    )

    def __init__(
        self,
        gate: ConsentGate,
        environ: WSGIEnvironment,
        visitor: _Visitor,
        start_response: StartResponse,
        conditional: bool,
    ) -> None:
        self.gate = gate
        self.environ = environ
        self.visitor = visitor
        self.outer_start_response = start_response
        self.conditional = conditional
        #: Whether the app called ``start_response`` yet.
        self.started = False
        #: How the body is gated; None once it is known to pass on untouched.
        self.plan: ResponsePlan | None = None
        self._feeder: Feeder | None = None
        self.app_iter: Iterable[bytes] = ()
        #: Status, headers and exc_info of a gated response, until its first byte.
        self._head: tuple[str, list[tuple[str, str]], Any] | None = None
        #: Once the page is refused or cut: what is sent instead of the app's body.
        self._page: bytes | None = None
        #: The server's ``write``, once the headers went out (PEP 3333's legacy path).
        self._write: Callable[[bytes], object]

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        # A decision that could not be recorded leaves the visitor's cookies alone.
        frozen = self.environ.get(NO_COOKIES, False)
        refused = () if frozen else self.visitor.refused
        plan = plan_response(
            self.environ,
            status,
            headers,
            keep_cookie=_no_cookie if frozen else self.keep_cookie,
            expire=self.gate.expire_cookies(refused, self.environ) if refused else (),
            tag=self.visitor.tag,
            vary=self.gate.vary,
            conditional=self.conditional,
            keep_load=None if self.visitor.grants_all else self.keep_load,
            language=self.gate.languages.negotiated(self.environ),
        )
        self.started = True
        self.plan = None
        if plan is None:
            return self.outer_start_response(status, headers, exc_info)
        if plan.skipped:
            if self.blocking():
                return self._refuse(plan.skipped, exc_info)
            logger.warning("%s; passed through ungated (%s)", plan.skipped, self.path())
        if plan.encoding is None:
            return self.outer_start_response(status, plan.headers, exc_info)
        if CSP_NONCE not in self.environ:  # the app's own policy, if it has a nonce
            self.environ[CSP_NONCE] = header_nonce(plan.headers)
        self.plan = plan
        headers = plan.headers
        if "consentgate.load_once" in self.environ or IDS_HEADER in self.environ:
            # This response differs from the page's usual one: keep it out of every cache.
            headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "etag")]
            headers.append(("Cache-Control", "no-store"))
        self._head = (status, headers, exc_info)
        return self.write

    def write(self, data: bytes) -> None:
        """The ``write`` callable of PEP 3333, for apps that push their body."""
        if self._page is not None:  # refused or cut: nothing more is sent
            return
        try:
            out = self.feeder(data).feed(data)
        except Unreadable as error:
            out = self._fail(error)
        if out:
            self._send_head()
            self._write(out)

    def blocking(self) -> bool:
        """Whether a page that cannot be gated is refused: the visitor refuses something,
        or the page's Google tags would run without the Consent Mode default."""
        return self.gate.settings.unreadable == "block" and self.visitor.strict

    def path(self) -> str:
        """This request's path, for the log."""
        return log_path(self.environ)

    def keep_cookie(self, name: str) -> bool:
        """Whether a ``Set-Cookie`` from the app for ``name`` may reach the browser."""
        return self.gate.keep_cookie(name, self.visitor.consent)

    def keep_load(self, tag: str, attrs: dict[str, str]) -> bool:
        """Whether an element the response's headers stand for may load."""
        category = self.gate.rules.classify_element(tag, attrs)
        return category is None or self.visitor.keeps(category)

    def start(self, app_iter: Iterable[bytes]) -> Iterable[bytes]:
        """Return the app's iterable itself when nothing needs rewriting."""
        if self.started and self.plan is None and self._page is None:
            return app_iter
        self.app_iter = app_iter
        return self

    def __iter__(self) -> Iterator[bytes]:
        if self._page is not None:
            yield self._page
            return
        try:
            first = True
            for chunk in self.app_iter:
                if first:
                    self.skip_if_unchanged(chunk)
                    first = False
                out = chunk if self.plan is None else self.feeder(chunk).feed(chunk)
                if self._head is not None:
                    if not out:
                        continue  # the headers wait for the first byte
                    self._send_head()
                # PEP 3333: yield even when the gate holds everything back.
                yield out
            out = self.feeder(b"").close() if self.plan is not None else b""
            if self._head is not None:
                self._send_head()
            yield out
        except Unreadable as error:
            yield self._fail(error)

    def close(self) -> None:
        """Close the app's iterable, as PEP 3333 asks of every middleware."""
        close = getattr(self.app_iter, "close", None)
        if close is not None:
            close()

    def _send_head(self) -> None:
        """Give the server the gated response's headers, with its first byte."""
        head, self._head = self._head, None
        if head is not None:
            self._write = self.outer_start_response(*head)

    def _fail(self, error: Unreadable) -> bytes:
        """Send nothing more of an unreadable page: a 502 if no byte of it went out yet."""
        if self._head is None:
            logger.error("%s; the rest of the page was dropped (%s)", error, self.path())
            self._page = b""
            return error.tail
        self._head = None
        self._refuse(str(error), None)
        page, self._page = self._page or b"", b""  # sent once, here
        return page

    def _refuse(self, reason: str, exc_info: Any) -> Callable[[bytes], object]:
        """Answer 502 instead of a page that cannot be gated."""
        logger.error("%s; answered 502 (%s)", reason, self.path())
        head = self.environ.get("REQUEST_METHOD") == "HEAD"
        language = self.gate.languages.current(self.environ)
        page = ui.bad_gateway_page(self.gate.settings, language)
        self._page = b"" if head else page
        headers = bad_gateway_headers(len(page))
        self._write = self.outer_start_response("502 Bad Gateway", headers, exc_info)
        return _nowhere

    def feeder(self, first: bytes) -> Feeder:
        """The rewriter for this body, built on first use (with its ``first`` chunk)."""
        if self._feeder is None:
            self._feeder = self._make_feeder(first)
        return self._feeder

    def skip_if_unchanged(self, first: bytes) -> None:
        """Stop gating when the first chunk is the whole body and would come out as it is.

        So it is when the visitor granted every category, no banner is due, and
        no start tag in the body could be classified (then nothing is cut and
        nothing activated). For a small page the check costs far less than the
        rewriter; a streamed body is never held back to make it.
        """
        plan, visitor = self.plan, self.visitor
        if plan is None or plan.encoding or plan.length != len(first):
            return
        if self._feeder is not None or plan.length > _SMALL_BODY or visitor.strict:
            return
        consent = visitor.consent
        # A decided visitor is never shown the banner, but may get the API's tags.
        due = not consent.decided or self.gate.settings.inject_script
        if due and self.gate.inserts_for(self.environ, consent) is not None:
            return
        if not self.gate.rules.may_classify(first):
            self.plan = None

    def _make_feeder(self, first: bytes) -> Feeder:
        gate, plan, settings = self.gate, self.plan, self.gate.settings
        html_gate = HtmlGate(
            gate.rules,
            self.visitor.keeps,
            banner=gate.inserts_for(self.environ, self.visitor.consent),
            first=gate.consent_mode_script(self.environ, self.visitor.consent_mode),
            max_buffer=settings.max_buffer,
            warn=self._overflow,
            embeds=gate.page_embeds(self.environ, self.visitor.consent),
        )
        escapes = plan is not None and plan.escapes

        def watched(first: bytes) -> Feeder:
            return watch(html_gate, first, escapes, self._unreadable)

        if plan is None or not plan.encoding:
            return watched(first)
        return Recoder(plan.encoding, watched, settings.max_inflated)

    def _overflow(self, message: str) -> None:
        """Told by the rewriter that the page needs more than ``max_buffer`` held."""
        if self.blocking():
            raise Unreadable(
                f"the page needs more than max_buffer ({self.gate.settings.max_buffer})"
            )
        logger.warning("%s (%s)", message, self.path())

    def _unreadable(self, reason: str) -> None:
        """Told that the body turned out unreadable: fail closed, or let it pass."""
        if self.blocking():
            raise Unreadable(reason)
        logger.warning("%s; unreadable = 'pass' lets it through (%s)", reason, self.path())


def _no_cookie(name: str) -> bool:
    """``keep_cookie`` for a response that must set no cookie."""
    return False


def _nowhere(data: bytes) -> None:
    """The ``write`` callable given for a refused response: its body is not sent."""


def current_path(environ: WSGIEnvironment) -> str:
    """The path and query of this request, to come back to after deciding."""
    return _path_and_query(*_raw_path(environ))


def app_path(environ: WSGIEnvironment) -> str:
    """The path and query of this request inside the app, without the mount prefix:
    the ``next`` of the gate's forms, which the endpoint puts back behind the prefix."""
    return _path_and_query("", environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


def log_path(environ: WSGIEnvironment) -> str:
    """This request's path for a log line: no query string, which may carry tokens
    or personal data, and at most ``_LOGGED_PATH`` characters."""
    path = _path_and_query(*_raw_path(environ)[:2], "")
    return path if len(path) <= _LOGGED_PATH else path[:_LOGGED_PATH] + "..."


def _raw_path(environ: WSGIEnvironment) -> tuple[str, str, str]:
    """SCRIPT_NAME, PATH_INFO and QUERY_STRING, as the server gave them."""
    return (
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )


def _path_and_query(script_name: str, path_info: str, query: str) -> str:
    # WSGI strings carry the raw bytes as Latin-1; keep them percent-encoded.
    raw = (script_name + path_info).encode("latin-1", "replace")
    path = quote(raw, safe="/;:@&=+$,!~*'()%") or "/"
    return f"{path}?{query}" if query else path
