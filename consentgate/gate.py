"""Gate: the protocol-free core every adapter drives.

One :class:`Gate` holds the settings and everything derived from them (rules,
codec, caches, the banner). It reads requests as a CGI-style mapping, the
``environ`` of PEP 3333 without its streams: a WSGI server gives one, Django's
``request.META`` is one, and :mod:`consentgate.asgi` builds one from a scope.
How an adapter drives it, per request::

    passage = gate.admit(environ)        # the visitor's consent, in environ too
    if passage is None:                  # the decision endpoint: a werkzeug Response
        answer = gate.endpoint(environ)  # (environ["wsgi.input"] holds the body)
    else:                                # call the app with environ's changes
        head = passage.start(status, headers)   # app's head -> send now, or None
        step = passage.feed(chunk)              # each body chunk -> (head, bytes)
        step = passage.finish()                 # the end -> (head, tail bytes)
        # stop reading the app once passage.ended; with passage.passes, the app's
        # body may go on untouched.

:meth:`Gate.admit` may rewrite ``QUERY_STRING`` (a load-once token taken out),
``HTTP_ACCEPT_ENCODING`` (codings the gate reads) and ``HTTP_IF_NONE_MATCH``
(tagged ETags): the app must see them as changed. See
:class:`~consentgate.passage.Passage` for the response side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from . import ui
from .cache import MAX_KEY_LENGTH, Memo, SizedCache, short_key
from .config import Settings, build_settings, secret_warnings
from .consent import Consent, ConsentCodec
from .consent_mode import ConsentMode
from .cookies import cookie_value, expiry_headers, request_cookie_names
from .csp import nonce_attr
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
from .encoding import readable_accept_encoding
from .endpoint import FormRequest, endpoint_response
from .http import hostname, state_tag, strip_conditional
from .i18n import LanguageChooser
from .inserts import Inserts
from .jurisdiction import (
    ALL_STATES,
    RequestState,
    checked_mode,
    effective_consent,
    gpc_applies,
    sends_gpc,
    vary_headers,
)
from .passage import Passage
from .paths import app_path, log_path, path_and_query, raw_path
from .recording import Recorder
from .rules import Rules
from .script import consent_state, script_path

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

logger = logging.getLogger("consentgate")
#: A request as the core reads it: CGI variables (``REQUEST_METHOD``, ``PATH_INFO``,
#: ``HTTP_*``...) and the ``consentgate.*`` keys the gate and the app share.
Environ: TypeAlias = dict[str, Any]

#: Distinct Cookie headers whose verified state is kept, and the bytes they may hold.
_VISITOR_CACHE = 4096
_VISITOR_CACHE_BYTES = 8 << 20
#: Distinct Cookie headers whose cookies' categories are kept, and their bytes.
_COOKIE_CACHE = 1024
_COOKIE_CACHE_BYTES = 4 << 20
#: Distinct unknown ``data-consent`` values warned about, at most.
_UNKNOWN_NAMES = 256
#: What the rewriter adds to one response (:meth:`Gate.page_parts`): what goes where the
#: body begins, what goes before the first script, and what answers about embeds.
PageParts: TypeAlias = tuple[bytes | None, bytes | None, PageEmbeds | None]
#: What tells a request state's readings of a ``Cookie`` header apart in the cache.
_STATE_KEYS = {state: f"{state.mode}:{state.gpc:d}:" for state in ALL_STATES}


class Visitor(NamedTuple):
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
    #: Whether this visitor's pages may be rewritten (something cut or inserted): then
    #: the app is asked for a coding the gate reads.
    reads_body: bool
    #: The language the visitor picked (:attr:`Consent.language`) as one of the site's, or "".
    picked: str
    #: What :meth:`Gate.admit` writes into the request's ``environ`` for this visitor.
    marks: dict[str, Any]


class Gate:
    """The gate's state and decisions for one configuration, whatever the protocol.

    :param config: settings, e.g. from :func:`~consentgate.load_config`, or a mapping
        of options as a TOML file has them; a mistake raises
        :class:`~consentgate.ConfigError` naming the option.
    :param serve_endpoint: answer the decision endpoint here; the Flask
        extension turns this off and serves it from a blueprint.
    :param options: any :class:`~consentgate.config.Settings` field; with
        ``config`` they override it.

    The adapters (:class:`~consentgate.middleware.ConsentGate` for WSGI,
    :class:`~consentgate.asgi.ConsentGateMiddleware` for ASGI) drive it as the
    module's docstring shows.
    """

    #: What :meth:`admit` builds for a response: an adapter may extend
    #: :class:`~consentgate.passage.Passage` with its own protocol's side of it.
    passage_type: type[Passage] = Passage

    def __init__(
        self,
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
        self._has_embeds = bool(self.embeds)
        #: Source of the current time; tests replace it.
        self.clock: Callable[[], float] = time.time
        self.consent_mode = ConsentMode(config)
        for warning in self.consent_mode.warnings():
            logger.warning("%s", warning)
        #: Writes each decision's record; the store opens on the first decision.
        self.recorder = Recorder(config)
        self._undecided = Consent.undecided(config.required_names)
        #: Chooses each request's language (:mod:`consentgate.i18n`).
        self.languages = LanguageChooser(config.languages, config.default_language)
        self._default_language = config.default_language
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
        #: Cookie header (or its digest) -> what it says, until ``Visitor.until``.
        self._visitors: SizedCache[str | bytes, Visitor] = SizedCache(
            max_entries=_VISITOR_CACHE, max_bytes=_VISITOR_CACHE_BYTES
        )
        self._warned: set[str] = set()
        stem = config.endpoint.rstrip("/")
        #: The endpoint answers with and without a trailing slash.
        self._endpoint_paths = frozenset((stem or "/", stem + "/", stem + ui.EMBED_JS_PATH))
        #: Where the JavaScript API's script is served, inside the app.
        self.script_path = script_path(config.endpoint)
        #: The paths :meth:`admit` leaves to the gate: the endpoint's and the script's.
        self._own_paths = (
            self._endpoint_paths | {self.script_path} if serve_endpoint else frozenset()
        )
        #: The banner, the API's tags and the Consent Mode element, rendered once and kept.
        self.inserts = Inserts(config, self._prefix_of)
        self._warned_once: set[str] = set()

    def admit(self, environ: Environ) -> Passage | None:
        """Read a request: its consent goes into ``environ`` (``consentgate.consent``,
        ``.mode``, ``.gpc``, ``.gate``) and the app is asked for what the gate reads.

        Returns the :class:`~consentgate.passage.Passage` of its response, or None when
        the gate answers it itself (:meth:`endpoint`).
        """
        # Every request passes here: what depends only on the cookie and the request's
        # state is read once per visitor (Visitor), so this stays a few lookups. With a
        # fixed state, a header seen before is its own key (see _visitor).
        header = environ.get("HTTP_COOKIE")
        visitor = self._visitors.get(header) if header and self._fixed_state else None
        if visitor is None or self.clock() >= visitor.until:
            visitor = self._visitor(header, self._fixed_state or self.request_state(environ))
        environ.update(visitor.marks)
        language = self.languages.choose(environ, visitor.picked)
        # A page per language: its own ETag.
        tag = visitor.tag if language == self._default_language else f"{visitor.tag}.{language}"
        if environ.get("PATH_INFO") in self._own_paths:
            return None
        if TOKEN_PARAM in environ.get("QUERY_STRING", ""):
            self._take_token(environ)
        # Most requests are not conditional: spare them the call.
        conditional = "HTTP_IF_NONE_MATCH" in environ and strip_conditional(environ, tag)
        if visitor.reads_body and (accept := environ.get("HTTP_ACCEPT_ENCODING")):
            environ["HTTP_ACCEPT_ENCODING"] = readable_accept_encoding(accept)
        return self.passage_type(self, environ, visitor, conditional, tag)

    def endpoint(self, environ: Environ) -> Response:
        """The answer to a request :meth:`admit` left to the gate (the decision endpoint,
        its preferences page and the JavaScript API's files); the body of a post is
        read from ``environ["wsgi.input"]``, at most
        :attr:`~consentgate.endpoint.FormRequest.max_content_length` bytes of it."""
        return endpoint_response(self, FormRequest(environ), app_path(environ))

    def _take_token(self, environ: Environ) -> None:
        """Take a load-once token out of the query string, so the app sees the page's
        own URL; a valid one names the embed this response lets through."""
        query, token = split_token(environ.get("QUERY_STRING", ""))
        environ["QUERY_STRING"] = query
        if token is not None:
            path = path_and_query("", environ.get("PATH_INFO", ""), "")
            environ["consentgate.load_once"] = self.load_once.loads(token, path, self.clock())

    def page_embeds(self, environ: Environ, consent: Consent) -> PageEmbeds | None:
        """What answers the rewriter about this response's embeds; None when no category
        has any. The placeholder is rendered by ``environ["consentgate.placeholder"]``
        (the Flask template) or :func:`~consentgate.ui.placeholder_html`."""
        if not self._has_embeds:
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

    def _page_context(self, environ: Environ, consent: Consent) -> PageContext:
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

    def consent_for(self, environ: Environ) -> Consent:
        """The visitor's consent in effect for this request: what a valid cookie says,
        as the request's mode and GPC signal read it; undecided without one."""
        if environ.get("consentgate.gate") is self:  # read when the request came in
            consent: Consent = environ["consentgate.consent"]
            return consent
        return self._visitor(environ.get("HTTP_COOKIE"), self.request_state(environ)).consent

    def request_state(self, environ: Environ) -> RequestState:
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

    def effective(self, stored: Consent, environ: Environ) -> Consent:
        """The consent in effect for this request when its cookie holds ``stored``."""
        return effective_consent(stored, self.request_state(environ), self.settings)

    def _visitor(self, header: str | None, state: RequestState) -> Visitor:
        """What a ``Cookie`` header says about its visitor in ``state``, cached per
        header and state.

        Verifying a signature costs more than the rest of a pass-through
        request, so the answer is kept until the decision would expire.
        """
        if not header:
            return self._nobody[state]
        now = self.clock()
        # A fixed state keeps the header itself as the key; otherwise states are told apart.
        text = header if self._fixed_state else _STATE_KEYS[state] + header
        key = text if len(text) <= MAX_KEY_LENGTH else short_key(text)
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
    ) -> Visitor:
        """The :class:`Visitor` for ``consent`` in ``state``: all that a request needs of
        it, worked out once per reading of a ``Cookie`` header."""
        grants_all = self.settings.names <= consent.granted
        mode = self.consent_mode
        script = mode.script(consent)
        strict = not grants_all or script is not None
        tag, keeps = state_tag(consent, state.mode, state.gpc), mode.keeps(consent)
        reads_body = strict or not consent.decided or self.settings.inject_script
        marks = {
            "consentgate.consent": consent,
            "consentgate.mode": state.mode,
            "consentgate.gpc": state.gpc,
            "consentgate.gate": self,
        }
        picked = self.languages.match(consent.language) or ""
        return Visitor(
            consent,
            refused,
            tag,
            grants_all,
            until,
            keeps,
            script,
            strict,
            reads_body,
            picked,
            marks,
        )

    def page_state(self, environ: Environ, consent: Consent | None = None) -> dict[str, Any]:
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

    def script_tags(self, environ: Environ) -> str:
        """The JavaScript API for this page: its state and the script, with the CSP nonce.

        For apps that write their own pages (the banner brings the tags itself);
        template helpers call :meth:`place_script`, which marks them placed.
        """
        state = self.request_state(environ)
        key = (environ["consentgate.consent"], state.mode, state.gpc, self.mount_prefix(environ))
        return self.inserts.script_tags(key, nonce_attr(environ))

    def place_script(self, environ: Environ) -> str:
        """:meth:`script_tags` the first time a page asks, marked placed so that the
        banner brings no second copy; ``""`` after (the template helpers of every
        framework call this)."""
        if environ.get("consentgate.script_placed"):
            return ""
        environ["consentgate.script_placed"] = True
        return self.script_tags(environ)

    def is_endpoint(self, environ: Environ) -> bool:
        """Whether this request is for the decision endpoint."""
        return environ.get("PATH_INFO") in self._endpoint_paths

    def mount_prefix(self, environ: Environ) -> str:
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
        # A root given as "/" is no prefix: quoted, "" would become "/", and "/" before
        # the next path ("/" + "/page") a protocol-relative URL to another host.
        return path_and_query(prefix, "", "") if prefix else ""

    def refused_request_cookies(self, cookie_header: str, consent: Consent) -> list[str]:
        """Names of the request's cookies whose category ``consent`` refuses."""
        if not cookie_header:
            return []
        return [name for name, cat in self._gated_cookies[cookie_header] if not consent.allows(cat)]

    def expire_cookies(
        self, names: tuple[str, ...] | list[str], environ: Environ
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

    def banner_due(self, environ: Environ, consent: Consent) -> bool:
        """Whether this page gets the banner: the visitor has not decided, the page placed
        none itself, and the gate injects one here (``inject_banner``; not its own pages,
        not a fragment a script fetches, not an excluded path)."""
        if consent.decided or not self.settings.inject_banner:
            return False
        # The preferences page is the banner's long form: one form is enough.
        if environ.get("consentgate.banner_placed") or self.is_endpoint(environ):
            return False
        # A script's fetch of an HTML fragment: the page it goes into has the banner.
        if environ.get("HTTP_SEC_FETCH_DEST") == "empty":
            return False
        excluded = self.settings.exclude_paths
        return not (excluded and environ.get("PATH_INFO", "").startswith(excluded))

    def banner_for(self, environ: Environ, consent: Consent, nonce: str) -> bytes | None:
        """The banner to inject into this response, or None when none is due.

        :param nonce: the CSP nonce attribute (:func:`~consentgate.csp.nonce_attr`).
        """
        if not self.banner_due(environ, consent):
            return None
        html = environ.get("consentgate.banner_html")
        if html is not None:
            banner = str(html).encode("utf-8")
        else:
            # Cached by the raw path and request state, so that a hit needs no quoting.
            state = environ.get("consentgate.mode", "opt-in"), bool(environ.get("consentgate.gpc"))
            key = (*raw_path(environ), *state, self.languages.current(environ))
            if environ.get("consentgate.script_placed"):
                return self.inserts.form(key, nonce)
            return self.inserts.banner(key, environ["consentgate.consent"], nonce)
        if environ.get("consentgate.script_placed"):
            return banner
        # The state and nonce change per request: never part of the cached banner.
        return banner + self.script_tags(environ).encode("utf-8")

    def inserts_for(
        self, environ: Environ, consent: Consent, nonce: str | None = None
    ) -> bytes | None:
        """What goes at the top of this response's body: the banner when one is due
        (the JavaScript API's tags with it), else, with ``inject_script``, the tags alone.

        :param nonce: the CSP nonce attribute, when the caller has it already.
        """
        banner = self.banner_for(environ, consent, nonce_attr(environ) if nonce is None else nonce)
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

    def page_parts(self, environ: Environ, visitor: Visitor) -> PageParts:
        """What the rewriter adds to this response: at the top of its body
        (:meth:`inserts_for`), before its first script (the Consent Mode element, for a
        visitor who gets one: :attr:`Visitor.consent_mode`), and its embeds' answers
        (:meth:`page_embeds`). Every gated page asks: the CSP nonce is read once for all."""
        nonce = nonce_attr(environ)
        script = visitor.consent_mode
        # A script's fetch of an HTML fragment: the page it goes into has the default, and
        # a second one there (run by a library that runs scripts it swaps in) comes too late.
        if script is None or environ.get("HTTP_SEC_FETCH_DEST") == "empty":
            first = None
        else:
            first = self.inserts.consent_mode(script, nonce)
        consent = visitor.consent
        embeds = self.page_embeds(environ, consent) if self._has_embeds else None
        return self.inserts_for(environ, consent, nonce), first, embeds

    def _prefix_of(self, script_name: str) -> str:
        """:meth:`mount_prefix` of a ``SCRIPT_NAME``, for what is rendered once per path."""
        return self.mount_prefix({"SCRIPT_NAME": script_name})

    def _classify_request_cookies(self, cookie_header: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for name in request_cookie_names(cookie_header):
            category = self.rules.classify_cookie(name)
            if category is not None and category not in self.settings.required_names:
                pairs.append((name, category))
        return tuple(pairs)
