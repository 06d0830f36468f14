"""Passage: one response on its way out through the gate, protocol-free.

An adapter pushes the app's response in and sends what comes out:
:meth:`Passage.start` takes the status and headers, :meth:`Passage.feed`
each body chunk, :meth:`Passage.finish` the end. Each answers the head to send
(once, just before the first byte of a gated body) and the bytes that follow,
so that WSGI's ``start_response`` and ASGI's ``http.response.start`` message
are the only parts the adapters write themselves.

A gated response's headers wait for its first byte: a page found unreadable
before then is answered ``502``, one found unreadable later ends there
(:attr:`Passage.ended`: the adapter stops reading the app).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from . import ui
from .charset import watch
from .csp import CSP_NONCE, header_nonce
from .embeds import IDS_HEADER
from .encoding import Feeder, Recoder, Unreadable
from .endpoint import NO_COOKIES
from .http import (
    PASSES,
    TAGS,
    ResponsePlan,
    bad_gateway_headers,
    plan_response,
    quick_look,
    tag_etags,
)
from .paths import log_path
from .rewriter import HtmlGate

if TYPE_CHECKING:
    from .gate import Environ, Gate, Visitor

logger = logging.getLogger("consentgate")
#: Largest buffered body checked for a chance to skip the rewriter.
_SMALL_BODY = 64 * 1024
#: The status line of the answer to a page that cannot be gated.
BAD_GATEWAY_STATUS = "502 Bad Gateway"

#: A response's status line (``"200 OK"``) and headers, as the adapter sends them.
Head = tuple[str, list[tuple[str, str]]]


class Step(NamedTuple):
    """What the adapter sends for one chunk of the app's body."""

    #: The response's head, the first time something is sent; None after.
    head: Head | None
    #: The bytes to send (after the head); may be empty.
    body: bytes


class Passage:
    """One response: header filtering and, for HTML, the streaming gate.

    Built by :meth:`~consentgate.gate.Gate.admit`. :meth:`start` decides the
    plan from the app's status and headers; then either the body passes on
    untouched (:attr:`passes`) or each chunk goes through :meth:`feed`.
    """

    __slots__ = (
        "_feeder",
        "_head",
        "_page",
        "conditional",
        "ended",
        "environ",
        "gate",
        "plan",
        "tag",
        "visitor",
    )

    def __init__(
        self,
        gate: Gate,
        environ: Environ,
        visitor: Visitor,
        conditional: bool,
        tag: str | None = None,
    ) -> None:
        self.gate = gate
        self.environ = environ
        self.visitor = visitor
        self.conditional = conditional
        #: What this response's ETags are tagged with: the visitor's state, and the
        #: language when it is not the default one (a page per language).
        self.tag = visitor.tag if tag is None else tag
        #: How the body is gated; None while it passes on untouched.
        self.plan: ResponsePlan | None = None
        #: Whether nothing more of the app's body is sent (refused or cut).
        self.ended = False
        self._feeder: Feeder | None = None
        #: The head of a gated response, until its first byte.
        self._head: Head | None = None
        #: What a refused response sends instead of the app's body, until sent.
        self._page = b""

    @property
    def passes(self) -> bool:
        """Whether the app's body goes on as it is (the adapter may skip :meth:`feed`)."""
        return self.plan is None and not self.ended

    def start(self, status: str, headers: list[tuple[str, str]]) -> Head | None:
        """Take the app's head; return the head to send now, or None when it waits for
        the body's first byte (a gated page)."""
        self.plan = None
        # Most responses (no page, no cookie, nobody's cookie to expire) need no plan.
        if not self.visitor.refused:
            look = quick_look(status, headers, self.conditional)
            if look is PASSES:
                return status, headers
            if look is TAGS:
                return status, tag_etags(headers, self.tag)
        # A decision that could not be recorded leaves the visitor's cookies alone.
        frozen = self.environ.get(NO_COOKIES, False)
        refused = () if frozen else self.visitor.refused
        plan = plan_response(
            self.environ,
            status,
            headers,
            keep_cookie=_no_cookie if frozen else self.keep_cookie,
            expire=self.gate.expire_cookies(refused, self.environ) if refused else (),
            tag=self.tag,
            vary=self.gate.vary,
            conditional=self.conditional,
            keep_load=None if self.visitor.grants_all else self.keep_load,
            negotiated=self.gate.languages.negotiated,
        )
        self.plan = None
        if plan is None:
            return status, headers
        if plan.skipped:
            if self.blocking():
                return self._refuse(plan.skipped)
            logger.warning("%s; passed through ungated (%s)", plan.skipped, self.path())
        if plan.encoding is None:
            return status, plan.headers
        if CSP_NONCE not in self.environ:  # the app's own policy, if it has a nonce
            self.environ[CSP_NONCE] = header_nonce(plan.headers)
        self.plan = plan
        headers = plan.headers
        if "consentgate.load_once" in self.environ or IDS_HEADER in self.environ:
            # This response differs from the page's usual one: keep it out of every cache.
            headers = [(k, v) for k, v in headers if k.lower() not in ("cache-control", "etag")]
            headers.append(("Cache-Control", "no-store"))
        self._head = (status, headers)
        return None

    def feed(self, chunk: bytes) -> Step:
        """One chunk of the app's body in; what to send out (the head waits for the
        first byte of a gated body, so an empty answer sends nothing)."""
        if self.ended:
            return Step(None, self._take_page())
        if self._feeder is None:  # the first chunk (a gated body makes its feeder on it)
            self.skip_if_unchanged(chunk)
        if self.plan is None:
            return Step(self._take_head(), chunk)
        try:
            feeder = self._feeder if self._feeder is not None else self.feeder(chunk)
            out = feeder.feed(chunk)
        except Unreadable as error:
            return self._fail(error)
        return Step(self._take_head(), out) if out else _NOTHING

    def finish(self) -> Step:
        """The end of the app's body: the gate's tail, with the head if still due."""
        if self.ended:
            return Step(None, self._take_page())
        self.ended = True
        if self.plan is None:
            return Step(self._take_head(), b"")
        try:
            out = self.feeder(b"").close()
        except Unreadable as error:
            return self._fail(error)
        return Step(self._take_head(), out)

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

    def _take_head(self) -> Head | None:
        head, self._head = self._head, None
        return head

    def _take_page(self) -> bytes:
        page, self._page = self._page, b""
        return page

    def _fail(self, error: Unreadable) -> Step:
        """Send nothing more of an unreadable page: a 502 if no byte of it went out yet."""
        self.ended = True
        if self._head is None:
            logger.error("%s; the rest of the page was dropped (%s)", error, self.path())
            return Step(None, error.tail)
        head = self._refuse(str(error))
        return Step(head, self._take_page())

    def _refuse(self, reason: str) -> Head:
        """Answer 502 instead of a page that cannot be gated: the next :meth:`feed` or
        :meth:`finish` gives its body, and nothing of the app's follows."""
        logger.error("%s; answered 502 (%s)", reason, self.path())
        self.plan = None
        self._head = None
        self.ended = True
        page = ui.bad_gateway_page(self.gate.settings, self.gate.languages.current(self.environ))
        self._page = b"" if self.environ.get("REQUEST_METHOD") == "HEAD" else page
        return BAD_GATEWAY_STATUS, bad_gateway_headers(len(page))

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
        gate, visitor, plan = self.gate, self.visitor, self.plan
        banner, first_markup, embeds = gate.page_parts(self.environ, visitor)
        html_gate = HtmlGate(
            gate.rules,
            visitor.keeps,
            banner=banner,
            first=first_markup,
            max_buffer=gate.settings.max_buffer,
            warn=self._overflow,
            embeds=embeds,
        )
        escapes = plan is not None and plan.escapes
        if plan is None or not plan.encoding:
            return watch(html_gate, first, escapes, self._unreadable)
        watched = partial(watch, html_gate, escapes=escapes, unreadable=self._unreadable)
        return Recoder(plan.encoding, watched, gate.settings.max_inflated)

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


#: The step of a chunk that sends nothing yet (the gate holds it back).
_NOTHING = Step(None, b"")


def _no_cookie(name: str) -> bool:
    """``keep_cookie`` for a response that must set no cookie."""
    return False
