"""ConsentGate: the WSGI middleware that connects the pure pieces.

It reads the visitor's signed choice, answers the decision endpoint, filters
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
from .cookies import cookie_value, expiry_headers, request_cookie_names
from .decision import safe_prefix
from .encoding import Feeder, Recoder, Unreadable, readable_accept_encoding
from .endpoint import NO_COOKIES, FormRequest, endpoint_response
from .http import (
    BAD_GATEWAY,
    ResponsePlan,
    bad_gateway_headers,
    hostname,
    plan_response,
    state_tag,
    strip_conditional,
)
from .recording import Recorder
from .rewriter import HtmlGate
from .rules import Rules

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
#: Longest path a log line shows; the query string is never logged (it may hold secrets).
_LOGGED_PATH = 200
#: Distinct unknown ``data-consent`` values warned about, at most.
_UNKNOWN_NAMES = 256
#: Largest buffered body checked for a chance to skip the rewriter.
_SMALL_BODY = 64 * 1024


class _Visitor(NamedTuple):
    """What one ``Cookie`` header says: the consent and what follows from it."""

    consent: Consent
    #: Names of the request's cookies whose category the consent refuses.
    refused: tuple[str, ...]
    #: The consent's state tag, for ETags (:func:`~consentgate.http.state_tag`).
    tag: str
    #: Whether the consent grants every category: then nothing is ever cut.
    grants_all: bool
    #: When this reading stops being valid, as a Unix time.
    until: float


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
        #: Source of the current time; tests replace it.
        self.clock: Callable[[], float] = time.time
        #: Writes each decision's record; the store opens on the first decision.
        self.recorder = Recorder(config)
        self._undecided = Consent.undecided(config.required_names)
        self._nobody = self._reading(self._undecided, (), float("inf"))
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
        self._endpoint_paths = frozenset((stem or "/", stem + "/"))
        self._warned_once: set[str] = set()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        visitor = self._visitor(environ.get("HTTP_COOKIE"))
        environ["consentgate.consent"] = visitor.consent
        environ["consentgate.gate"] = self
        if self.serve_endpoint and self.is_endpoint(environ):
            return self._endpoint(environ, start_response)
        # Most requests are not conditional: spare them the call.
        conditional = "HTTP_IF_NONE_MATCH" in environ and strip_conditional(environ, visitor.tag)
        accept = environ.get("HTTP_ACCEPT_ENCODING")
        # If the page may need gating (or a banner), ask the app for a coding the gate reads.
        if accept and (not visitor.grants_all or not visitor.consent.decided):
            environ["HTTP_ACCEPT_ENCODING"] = readable_accept_encoding(accept)
        body = _Body(self, environ, visitor, start_response, conditional)
        return body.start(self.app(environ, body.start_response))

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
        """The visitor's current consent; undecided unless a valid cookie says otherwise."""
        return self._visitor(environ.get("HTTP_COOKIE")).consent

    def _visitor(self, header: str | None) -> _Visitor:
        """What a ``Cookie`` header says about its visitor, cached per header.

        Verifying a signature costs more than the rest of a pass-through
        request, so the answer is kept until the decision would expire.
        """
        if not header:
            return self._nobody
        now = self.clock()
        key = short_key(header)
        hit = self._visitors.get(key)
        if hit is not None and now < hit.until:
            return hit
        value = cookie_value(header, self.settings.cookie_name)
        consent = self._undecided if value is None else self.codec.loads(value, now)
        until = consent.decided_at + self.settings.max_age if consent.decided else now + 3600
        refused = tuple(self.refused_request_cookies(header, consent))
        return self._visitors.put(key, self._reading(consent, refused, until))

    def _reading(self, consent: Consent, refused: tuple[str, ...], until: float) -> _Visitor:
        grants_all = self.settings.names <= consent.granted
        return _Visitor(consent, refused, state_tag(consent), grants_all, until)

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
            # Cached by the raw path, so that a hit needs no quoting.
            return self._banners[_raw_path(environ)]
        return str(html).encode("utf-8")

    def _render_banner(self, raw_path: tuple[str, str, str]) -> bytes:
        script_name, path_info, query = raw_path
        next_url = _path_and_query("", path_info, query)
        prefix = self.mount_prefix({"SCRIPT_NAME": script_name})
        return ui.banner_html(self.settings, next_url, prefix).encode("utf-8")

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
            conditional=self.conditional,
            keep_load=None if self.visitor.grants_all else self.keep_load,
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
        self.plan = plan
        self._head = (status, plan.headers, exc_info)
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
        """Whether a page that cannot be gated is refused: the visitor refuses something."""
        return self.gate.settings.unreadable == "block" and not self.visitor.grants_all

    def path(self) -> str:
        """This request's path, for the log."""
        return log_path(self.environ)

    def keep_cookie(self, name: str) -> bool:
        """Whether a ``Set-Cookie`` from the app for ``name`` may reach the browser."""
        return self.gate.keep_cookie(name, self.visitor.consent)

    def keep_load(self, tag: str, attrs: dict[str, str]) -> bool:
        """Whether an element the response's headers stand for may load."""
        category = self.gate.rules.classify_element(tag, attrs)
        return category is None or self.visitor.consent.allows(category)

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
        self._page = b"" if head else BAD_GATEWAY
        self._write = self.outer_start_response("502 Bad Gateway", bad_gateway_headers(), exc_info)
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
        if self._feeder is not None or plan.length > _SMALL_BODY or not visitor.grants_all:
            return
        consent = visitor.consent
        # A decided visitor is never shown the banner.
        if not consent.decided and self.gate.banner_for(self.environ, consent) is not None:
            return
        if not self.gate.rules.may_classify(first):
            self.plan = None

    def _make_feeder(self, first: bytes) -> Feeder:
        gate, plan, settings = self.gate, self.plan, self.gate.settings
        html_gate = HtmlGate(
            gate.rules,
            self.visitor.consent.allows,
            banner=gate.banner_for(self.environ, self.visitor.consent),
            max_buffer=settings.max_buffer,
            warn=self._overflow,
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
