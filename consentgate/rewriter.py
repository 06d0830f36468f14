"""Streaming HTML gate: cut refused trackers out of a page, activate accepted ones.

The gate sits between a WSGI app and the client and sees the body as byte chunks. It follows
the WHATWG tokenizer closely enough that markup cannot hide a tracker from it (comments, raw
text, script escapes, quoted attributes, foreign content), yet it never re-serialises: the
output is the input with refused elements cut out, a few start tags rewritten, and the
banner inserted where the body begins. Compiled regexes consume runs of text and uninteresting
tags in C, so Python only sees the few tokens that matter.

An inline script is classified by the first signature found in its text, searched in fixed
32 KB blocks that overlap by ``inline_overlap`` bytes, so neither chunking nor size changes
the verdict. An SVG ``<script>`` (its content is markup) is held back until it ends and
its text, CDATA included, is searched then; it is removed whole if it holds an element of
a refused category. ``<noscript>`` content is read as markup, as by a browser with
scripting off, so trackers inside it are found.

SVG and MathML are followed as the HTML Standard's tree builder follows them: breakouts,
integration points (with the HTML elements opened in them, which decide whether
``<![CDATA[`` is a CDATA section or a bogus comment), ``mglyph``/``malignmark`` in
MathML text integration points. A removed element ends where the tree builder ends it: an
SVG/MathML one with its parent, a ``<video>``, ``<audio>`` or ``<object>`` at an end tag
that closes an element around it (``<p><video src=...>a</p>``).

Known limits, all in markup that browsers repair rather than markup sites write: the
HTML elements around an SVG/MathML are not followed, so an end tag there that may close
it through one of them (``<div><svg></div>``) leaves the gate unsure until the SVG ends;
it then reads what follows both ways, gating the markup either reading builds, and may
cut text a browser shows. Inside an integration point the implied ends of HTML elements
are not followed either, and a CDATA section is then read as a bogus comment, at worst
cutting text. A start tag that implicitly closes a removed ``<video>``, ``<audio>`` or
``<object>`` through an element around it (``<p><video src=...><div>``) is not followed:
the cut runs on to the element's end tag or an end tag of an element around it; where the
tree builder ignores such an end tag, the rest of the removed element's fallback content
is kept. A removed ``<svg><script>`` left open inside an untracked element runs to the
end of the SVG (as does a held one, whose text is then all searched). Markup that only a
scripting browser sees after a ``</noscript>`` hidden in an attribute or comment is not
gated. ``<select>`` content is read as any other, as the HTML Standard now parses it;
the older "in select" parsing, which drops tags such as ``<style>`` and ``<plaintext>``
there, is not modelled.

The banner goes where the HTML Standard begins the body: right after the first ``<body>``
tag or, when that tag is left out, before the first start tag that is not head content
(text before it is not looked at). Nothing inside ``<template>`` or ``<noscript>`` counts,
as neither is shown. A document with no such tag gets it before ``</body>``, or else at its
end if that is in ordinary text, never inside a tag, comment, raw text or SVG/MathML. No
markup in the page can stop or move it: only the app, by setting
``environ["consentgate.banner_placed"]``, places the banner itself.

Markup meant to run first (the Consent Mode snippet) goes where the head begins: right
after the ``<head>`` tag or, when that tag is left out, before the first start tag but
``<html>``; the head's leading ``<meta>``, ``<title>``, ``<base>`` and ``<link>`` tags, which
run nothing, are let through first, so that a ``<meta charset>`` stays within the 1024
bytes where browsers look for it. A document with no other start tag runs no script and
gets none.

A tag longer than ``max_buffer`` is passed on as it streams when nothing about it but its
end matters (an ordinary tag); one the gate must read whole makes it stop, with a warning,
and the rest of the response passes through as it is, however the input is split.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol

from .speedups import Searcher
from .tokens import (
    ATTRS_ON,
    BACKGROUND,
    BEFORE_FIRST,
    BODY_START,
    BREAKOUT,
    CDATA_END,
    COMMENT_END,
    FAST,
    FAST_PLACED,
    FIRST_OR_BODY,
    FIRST_START,
    FOREIGN,
    FOREIGN_END,
    FOREIGN_GATED,
    FOREIGN_ONLY,
    GATED,
    GLYPHS,
    GT,
    HEAD,
    HTML_ENCODINGS,
    HTML_VOID,
    IP,
    RAW,
    RAW_END_ANY,
    SCRIPT,
    SLOW,
    TAG,
    TAG_HEAD,
    UNQUOTED_END,
    UNSURE,
    UNSURE_ENDS,
    VALUE_START,
    VOID,
    WIDGETS,
    Span,
    TagFinder,
    attr_spans,
    decode_attrs,
    fast_widgets,
    foreign_text,
    has_src,
    last_attr,
    raw_end,
    self_closing,
    skipped,
    tag_limit,
    widget_search,
)

__all__ = ["EmbedsLike", "HtmlGate", "RulesLike"]


class RulesLike(Protocol):
    """What the gate needs from :class:`consentgate.rules.Rules`."""

    @property
    def inline_overlap(self) -> int:
        """Bytes to keep between two signature searches (longest signature - 1)."""

    def classify_element(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """Category of an element from its lower-cased name and decoded attributes."""

    def classify_tag(self, tag: str, raw: bytes) -> str | None:
        """``classify_element`` of a start tag from its raw attribute bytes (what follows
        the name, up to the ``>``), decoded as :func:`~.tokens.decode_attrs` does."""

    def classify_inline(self, text: bytes) -> str | None:
        """Category of an inline script from a piece of its text."""

    def may_classify(self, tag: bytes) -> bool:
        """False if ``classify_element`` would give None for a start tag of these raw
        attribute bytes (no decoding needed then)."""

    def based(self, href: str) -> RulesLike:
        """These rules for what follows the page's first ``<base href>``."""


class EmbedsLike(Protocol):
    """What the gate asks about embeds (an ``<iframe>`` of a classified category).

    Asked only for such elements, in document order, so an implementation may count
    them (for ids that stay the same across two loads of a page).
    """

    def refused(self, tag: str, attrs: Mapping[str, str], category: str) -> Embedding:
        """For a refused embed: the placeholder that replaces it (bytes), the attributes
        to set on it when it is let through this once (a mapping), or None to remove it."""

    def accepted(self, tag: str, attrs: Mapping[str, str], category: str) -> Mapping[str, str]:
        """Attributes to set on an accepted embed (an id, a privacy-friendlier src)."""

    def widget(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """The category of a script-built widget's element (a ``<blockquote>`` or ``<div>``
        of one of an embed's classes), or None."""

    @property
    def widget_classes(self) -> tuple[str, ...]:
        """The classes of the gated widgets' elements; none: no widget is looked for."""


#: What :meth:`EmbedsLike.refused` answers (for a refused ``<script>``, only whether it is
#: let through: a mapping, or None).
Embedding = bytes | Mapping[str, str] | None
#: Elements :class:`EmbedsLike` is asked about.
_EMBEDS = frozenset({"iframe"})
_FONT_BREAKOUT = ("color", "face", "size")
_LOOKS = frozenset({"font", "annotation-xml"})  # foreign start tags read for their attributes
_INERT = ("template", "noscript")  # before the body, what these hold is never shown
#: Removed HTML elements that end where the tree builder ends them, not only at their end
#: tag: ``</p>`` after ``<p><video src=...>`` ends the video, so what follows is kept.
_BUILDER_ENDS = frozenset({"video", "audio", "object", *WIDGETS})
#: End tags that never pop an element: the tree builder ignores them or reads ``</br>`` as
#: ``<br>``.
_NO_POP = frozenset({"body", "html", "br"})
#: What ends an ``<object>`` from outside it (it bounds every other scope), and an SVG or
#: MathML integration point from outside it.
_TABLE_ENDS = frozenset(
    ["caption", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "template"]
)
#: Elements left open inside a removed element that are remembered, at most.
_OPEN_MAX = 256
#: Open elements followed for foreign content, at most; past it the gate is unsure what
#: is SVG/MathML and what is HTML, and gates what either may build.
_STACK_MAX = 512
_BLOCK = 1 << 15  # inline scripts are searched in fixed blocks so chunking cannot matter
#: A script cut off by the end of the buffer with at most this many bytes in it waits for
#: the next chunk once, to be taken whole; scanning it again costs less than the raw-text path.
_DEFER = 1 << 13
#: An ``<iframe srcdoc>`` is gated as a document of its own, nested at most this deep;
#: deeper, the iframe is removed (each level costs a pass over the value).
_SRCDOC_DEPTH = 3


def _set_attrs(
    spans: Mapping[str, Span], a: int, values: Mapping[str, str], rename: bool
) -> list[tuple[int, int, bytes]]:
    """Edits of a start tag (its attributes from ``a``) that set ``values``: an attribute
    there gets the new value, double-quoted; another is added after the tag's name.
    ``src`` is ``data-src`` when that is renamed to ``src``."""
    edits = []
    for name, value in values.items():
        quoted = b'"' + html.escape(value).encode("utf-8") + b'"'
        span = spans.get("data-src" if name == "src" and rename else name)
        if span is None:
            edits.append((a, a, b" " + name.encode("ascii") + b"=" + quoted))
        elif span.value == span.value_end:  # no value: add one after the name
            edits.append((span.name_end, span.name_end, b"=" + quoted))
        else:
            edits.append((span.value, span.value_end, quoted))
    return edits


class _Frame(NamedTuple):
    """An open element that matters for where foreign content ends: SVG/MathML, or HTML
    inside an HTML integration point (then ``ns`` is "html")."""

    name: str
    ns: str
    ip: bool  # its content is parsed as HTML: an HTML integration point, or HTML
    root: bool  # SVG/MathML opened from HTML content


def _math_text(frame: _Frame) -> bool:
    """Whether ``frame`` is a MathML text integration point (mi, mo, mn, ms, mtext)."""
    return frame.ns == "math" and frame.name in IP["math"]


class HtmlGate:
    """Gate one HTML response: push chunks through :meth:`feed`, then call :meth:`close`.

    Elements the rules put in a category that ``allows`` refuses are removed with their
    content; accepted ones that a client-side banner had neutralised (``type="text/plain"``
    with ``data-consent``, ``data-src``) are activated. Everything else passes byte for byte,
    and the output is the same however the input is split.

    :param rules: classifies elements and inline scripts into categories.
    :param allows: whether the visitor accepted a category.
    :param banner: inserted where the body begins: right after the first ``<body>`` tag,
        or before the first start tag that is not head content; failing that, before
        ``</body>`` or at the end of the document.
    :param first: inserted before the page's first script: where the head begins,
        after its leading ``<meta>``, ``<title>``, ``<base>`` and ``<link>`` tags; not at
        all in a document with no other start tag.
    :param max_buffer: the most bytes held back at once (a tag the gate must read whole, or
        an inline script being classified); past it the rest of the response passes through
        ungated.
    :param warn: told once when ``max_buffer`` is exceeded; it may raise instead, to give
        up on the response (the gate is not used again then).
    :param embeds: asked about each classified ``<iframe>``: a refused one is replaced by
        the placeholder it gives (or let through once), an accepted one may get attributes.

    .. code-block:: python

        gate = HtmlGate(rules, consent.allows, banner=b"<div id=consentgate-banner>...</div>")
        body = b"".join(gate.feed(chunk) for chunk in app_iter) + gate.close()
    """

    changed = False  #: True once anything was removed, activated or injected.

    # The tokenizer's state, as class-level defaults so that a gate is cheap to make (a
    # tiny page's whole gating costs a few microseconds); instances override what moves.
    _buf = b""
    _pos = 0  # where tokenizing, or a search in a text state, resumes
    _out = 0  # start of the kept bytes not returned yet; -1 while cutting
    _hold = -1  # start of an inline script held back until it is classified
    _done = _bypass = _plain = False
    _partial = -1  # end of the buffer when the tag at _pos was found cut off
    _lbuf: bytes | None = None  # the buffer that _lim was computed for
    _lim = 0  # what tag_limit gave for it
    _cut_name, _cut_depth, _cut_stack = "", 0, 0  # removed nested element
    _cut_foreign = False
    _cut_open: list[str] | None = None  # open in a removed <video>, <audio>, <object>
    _tail = b""  # the byte before the buffer, or before a held script that left it
    _until: Searcher | None = None  # end of a comment-like section
    _ustart = 0
    _rname = ""  # raw-text element we are inside, if any
    _rscript = _rcut = False
    _rstate = _rbody = _scanned = 0
    _rend = -1
    _fhold, _fbody = -1, 0  # start and text of an SVG <script> held until it ends
    _fsep = False  # a text "<" before that script: a cut there must leave a separator
    _fcut = False  # that script holds an element of a refused category: it goes whole
    _unsure = False  # an end tag in SVG/MathML may have closed it through an HTML element
    _deferred = -1  # start of the script that last waited for the next chunk
    _lquote: bytes | None = None  # in a tag too long to hold: what ends the value it is in
    _inert = 0  # <template> and <noscript> open while the banner waits for the body
    _eof_open = False  # the input ended inside a tag, comment or raw text
    _depth = 0  # how deep in <iframe srcdoc> documents this gate is
    _first: bytes | None = None  # markup to insert before the first script, until placed
    _finder: TagFinder | None = None  # finds where the first or the banner may go, while due
    # The skipper for HTML content: FAST while a banner waits for </body>, then
    # _fast_placed (FAST_PLACED, or with widgets one that also finds them).
    _fast = _fast_placed = FAST_PLACED
    _widget_hint: Callable[[bytes], object] | None = None  # finds a widget's class

    def __init__(
        self,
        rules: RulesLike,
        allows: Callable[[str], bool],
        *,
        banner: bytes | None = None,
        first: bytes | None = None,
        max_buffer: int = 1 << 20,
        warn: Callable[[str], None] | None = None,
        embeds: EmbedsLike | None = None,
    ) -> None:
        self._rules, self._allows, self._banner = rules, allows, banner
        if first:
            self._first = first
            self._finder = FIRST_OR_BODY if banner is not None else FIRST_START
        elif banner is not None:
            self._finder = BODY_START
        self._embeds = embeds
        if embeds is not None and embeds.widget_classes:
            classes = embeds.widget_classes
            self._widget_hint = widget_search(classes)
            self._fast = self._fast_placed = fast_widgets(classes, False)
            if banner is not None:
                self._fast = fast_widgets(classes)
        elif banner is not None:
            self._fast = FAST
        self._max, self._warn = max_buffer, warn
        self._pending = banner is not None  # banner still to place
        # What every gate changes, set first and in one order: instances then share one
        # attribute layout, which keeps attribute access fast.
        self._buf = self._tail = b""
        self._pos = self._out = 0
        self._partial = -1
        self._pieces: list[bytes] = []  # output of the current call
        self._held: list[bytes] = []  # start of a held script, moved out of the buffer
        self._stack: list[_Frame] = []

    def feed(self, data: bytes) -> bytes:
        """Gate the next chunk; return the bytes that can be sent now."""
        if self._done:
            return data
        data = data if type(data) is bytes else bytes(data)
        self._buf = self._buf + data if self._buf else data
        # Mostly markup, and the buffer ends in it: _run only once another state begins.
        if self._in_text() or (self._markup(False) and not self._bypass):
            self._run(False)
        return self._flush(data)

    def close(self) -> bytes:
        """Finish the stream: return whatever was held back, resolved."""
        if self._done or (not self._buf and self._hold < 0 and not self._pending):
            self._done = True  # nothing left to resolve
            return b""
        if self._buf or self._hold >= 0:
            self._run(True)
            if self._fhold >= 0 and not self._bypass:  # an SVG script open to the end
                self._end_cut(len(self._buf))
        if self._pending and not self._bypass and self._in_data():
            self._place(len(self._buf))  # no body began: at the end of the document
        out = self._flush()
        self._done, self._buf, self._lbuf = True, b"", None
        return out

    def _run(self, final: bool) -> None:
        """Tokenize the buffer, state after state, as far as it goes."""
        go = True
        while go and not self._bypass:
            if self._rname:
                go = self._raw_text(final)
            elif self._until is not None:
                go = self._text_state(final)
            elif self._lquote is not None:
                go = self._long_tag(final)
            elif self._plain:  # <plaintext>: nothing after it is markup
                self._pos = len(self._buf)
                return
            else:
                go = self._markup(final)

    def _flush(self, data: bytes = b"") -> bytes:
        """Return what is decided, and drop it (and what was cut) from the buffer.

        In a text state that passes what it reads (raw text, a comment), all that was
        read is sent, though the end of the buffer stays for the search of the state's
        end to resume: nothing before that end can be cut or moved any more. ``data``
        is the chunk at the end of the buffer: when exactly it is to be sent, it is sent
        as it came, not copied.
        """
        if self._hold >= 0 or self._fhold >= 0 or self._bypass:
            return self._flush_held()
        buf, pieces, out, keep = self._buf, self._pieces, self._out, self._pos
        self._pieces = []
        if out >= 0:
            end = len(buf)
            send = end if self._rname or self._until is not None else keep
            if out < send:
                exact = send == end and out == end - len(data)
                pieces.append(data if exact else buf[out:send])
                self._out = send
        if keep:
            self._buf, self._tail = buf[keep:], buf[keep - 1 : keep]
            self._rebase(keep)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _flush_held(self) -> bytes:
        """:meth:`_flush` while a script is held back, or once the gate gave up."""
        buf, pieces, out = self._buf, self._pieces, self._out
        self._pieces = []
        if self._fhold >= 0 and not self._bypass and self._pos - self._fhold > self._max:
            self._overflow("an SVG script")
        if self._bypass:
            if self._fhold >= 0:  # the held SVG script passes through, as all that follows
                out, self._fhold = self._fhold, -1
            self._done = True
            pieces += self._held
            pieces.append(buf[out if out >= 0 else self._pos :])
            self._buf, self._held = b"", []
            return b"".join(pieces)
        keep = self._pos if self._hold < 0 else min(self._pos, self._hold)
        if self._fhold >= 0:
            keep = min(keep, self._fhold)
        if 0 <= out < keep:
            pieces.append(buf[out:keep])
            self._out = keep
        tail = None
        if self._hold >= 0:  # keep only what the next signature search needs
            spill = self._rbody + max(0, self._scanned - self._rules.inline_overlap)
            if spill > keep:
                # A cut of the script still looks at the byte before it, not into it.
                tail = buf[keep - 1 : keep] if keep else self._tail
                self._held.append(buf[keep:spill])
                self._out = self._hold = keep = spill
        if keep:
            self._buf, self._tail = buf[keep:], buf[keep - 1 : keep] if tail is None else tail
            if self._hold >= 0:
                self._hold -= keep
            if self._fhold >= 0:
                self._fhold -= keep
                self._fbody -= keep
            self._rebase(keep)
        return b"".join(pieces)

    def _rebase(self, n: int) -> None:
        """Shift the remembered offsets after ``n`` bytes left the buffer (those of a held
        script, :meth:`_flush_held` shifts)."""
        self._pos -= n
        if self._out >= 0:
            self._out -= n
        if self._rname:
            self._rbody -= n
            self._rend -= n if self._rend >= 0 else 0
        if self._until is not None:
            self._ustart -= n
        if self._partial >= 0:
            self._partial -= n
        if self._deferred >= 0:  # once negative, it matches no script's start
            self._deferred -= n

    def _overflow(self, what: str) -> bool:
        if self._warn is not None:
            self._warn(f"consentgate: {what} exceeds max_buffer ({self._max} bytes); rest ungated")
        self._bypass = True
        return False

    def _markup(self, final: bool) -> bool:
        """Tokenize markup until a text state begins (True) or more input is needed (False)."""
        buf, end = self._buf, len(self._buf)
        if self._partial >= 0 and not self._resume_partial(final):
            return self._in_text()
        if final or end - self._pos < 4096:
            limit = end
        elif self._lbuf is buf and self._lim >= self._pos:  # this buffer's, still ahead
            limit = self._lim
        else:
            limit = self._lim = tag_limit(buf, self._pos, end)
            self._lbuf = buf
        may_classify, cand, fast = self._rules.may_classify, -1, self._fast
        while True:
            if self._pos > limit:  # a whole tag read past a "<" in one of its values
                limit = self._lim = tag_limit(buf, self._pos, end)
            pos, stop, stack = self._pos, limit, self._stack
            if stack and self._unsure:
                skip = UNSURE
            elif self._out < 0:
                skip = SLOW
            else:
                skip = fast if not stack else SLOW if stack[-1].ip else FOREIGN
                if self._finder is not None:  # the first or the banner is due
                    # The next tag that may place either, found in the bytes alone: if it is
                    # in a comment, raw text or a value, the skipper stops at what holds it.
                    if cand < pos:
                        cand = self._finder.find(buf, pos)
                    if cand > pos:  # the skipper runs up to it: no tag before it places
                        stop = min(cand, limit)
                    elif pos < limit:  # at it: place what it places, or read it alone
                        at = self._place_before(pos)
                        if at >= 0:  # the skippers take the tag as if nothing had waited
                            self._pos, cand, fast = at, -1, self._fast
                            continue
                        if not self._token(pos, end, final):
                            return False
                        if self._in_text():
                            return True
                        fast = self._fast  # FAST_PLACED once the banner is placed
                        continue
                    else:
                        skip = SLOW
            # A skipper matches at every position (the empty string at least), so each
            # match starts where the one before ended, as long as none is empty.
            scan = skip.finditer(buf, pos, stop)
            m = next(scan)
            last = m.lastindex
            # The commonest stops, a void element in HTML content and a whole script, leave
            # the tokenizer's state as it was: the same scan goes on after them.
            while last == 5 or last == 3:
                if last == 3:
                    if not self._script(m):
                        return False
                else:
                    (s, e), a = m.span(5), m.start(6)
                    if e - s > self._max:
                        return self._overflow("a tag")
                    # Nothing else about it matters: it opens nothing, and a due banner
                    # stopped the scan before it. (self._pos catches up at the next stop.)
                    if may_classify(buf[a : e - 1]):
                        self._gate(buf[s + 1 : a].decode("latin-1"), s, e, a, hinted=True)
                m = next(scan)
                last = m.lastindex
            if last == 4:  # a script whose text runs on past what was matched
                s = m.start(2)
                if not final and end - s <= _DEFER and s != self._deferred:
                    self._pos = self._deferred = s  # its text runs on: wait to take it whole
                    return False
                return self._script(m)
            elif last == 7:
                (s, e), (a, b) = m.span(7), m.span(9)
                if skip is fast and a - s == 2 and buf[a:b] == b"body" and e - s <= self._max:
                    self._end_body(s, e)  # in plain HTML content: nothing else to do
                    continue
                if not self._tag(s, e, a - s == 2, buf[a:b], b):  # "</" before the name
                    return False
            elif last == 1:  # an SVG whose content runs on: it is open there
                # Its start tag and content change nothing else (a due banner stopped
                # the scan before it; nothing gated, no tokenizer state in between).
                stack.append(_Frame("svg", "svg", False, True))
                self._pos, self._unsure = m.end(), False
                continue
            else:
                pos = self._pos = m.end()
                if pos >= end:
                    return False
                if pos < stop or (pos == limit and end - pos > self._max):
                    if not self._token(pos, end, final):
                        return False
                elif pos == limit:
                    return False
                elif pos == cand:  # up to the candidate, passed unseen: nothing changed
                    continue
            may_classify = self._rules.may_classify  # a <base href> changes the rules
            if self._in_text():
                return True

    def _resume_partial(self, final: bool) -> bool:
        """Retry a tag cut off by the end of the last chunk; False to stop tokenizing markup.

        Only a ">" in the new bytes can end it, and it alone needs matching again (not
        every skipper path over its length); past ``max_buffer`` it cannot wait longer.
        """
        buf = self._buf
        if not final and buf.find(b">", self._partial) < 0 and len(buf) - self._pos <= self._max:
            return False
        self._partial = -1
        if not self._token(self._pos, len(self._buf), final):
            return False
        return not self._in_text()

    def _in_text(self) -> bool:
        """Whether a state other than markup began: raw text, a comment-like section, a
        long tag passed on as it streams, or plain text to the end."""
        return bool(
            self._rname or self._until is not None or self._lquote is not None or self._plain
        )

    def _end_body(self, s: int, e: int) -> None:
        """Pass ``</body>`` at ``buf[s:e]``, placing the banner before it if still due."""
        self._pos = e
        if self._pending:
            self._head_end("body", s, True)

    def _head_start(self, name: str, s: int, gate: bool) -> bool:
        """While the banner waits, place it if the start tag at ``s`` begins the body.

        Any tag but head content does, the banner going before it (the HTML Standard's
        implied body); ``<body>`` does too, the banner going right after it: then this
        says True, and the caller places it once the tag itself is gated (an attribute
        removed from it must not be sent before the banner). Not when ``gate`` is false:
        the tag is being removed. Templates and noscripts are counted even then, so that
        their end tags, removed or not, match them.
        """
        if name in _INERT:
            self._inert += 1
        elif gate and not self._inert and name not in HEAD:
            if name == "body":
                return True
            self._place(s)
        return False

    def _head_end(self, name: str, s: int, gate: bool) -> None:
        """While the banner waits, follow the end tag at ``s``; ``</body>`` places it."""
        if name in _INERT:
            self._inert -= 1 if self._inert else 0
        elif gate and name == "body" and not self._inert:
            self._place(s)

    def _place(self, at: int) -> None:
        """Insert the banner at ``at``, passing on what comes before it."""
        self._insert(at, self._banner or b"")
        self._pending, self._fast = False, self._fast_placed
        self._finder = None if self._first is None else FIRST_START

    def _place_before(self, s: int) -> int:
        """At a candidate start tag at ``s``, in HTML content, place what it places when
        nothing else about the tag needs Python: the markup meant to run first before it,
        the banner before it (or after a ``<body>`` tag that nothing can classify). Returns
        where tokenizing resumes (``s``, or the ``<body>`` tag's end), or -1: the tag is
        read by :meth:`_token` as any other (an end tag, one cut off by the end of the
        buffer or too long, a ``<template>`` or ``<noscript>``, one in SVG/MathML or in
        an inert element)."""
        if self._stack or self._inert:
            return -1
        buf = self._buf
        m = TAG.match(buf, s)
        if m is None or m[1]:
            return -1
        at, name = m.end(), m[2].lower().decode("latin-1")
        first = self._first is not None and name not in BEFORE_FIRST
        banner = self._pending and name not in HEAD
        if name in _INERT or not (first or banner) or at - s > self._max:
            return -1
        if banner and name == "body":  # after it, once sure that gating it changes nothing
            raw = buf[m.end(2) : at - 1]  # (a <body> without attributes gates to itself)
            if raw and self._rules.may_classify(raw):
                return -1
        else:
            at = s
        if first:
            self._first_start(name, s, at)
        if banner:
            self._place(at)
        return at

    def _first_start(self, name: str, s: int, e: int) -> None:
        """While the markup meant to run first waits, place it if the start tag
        ``buf[s:e]`` begins the head's content: right after ``<head>`` and the tags
        that run nothing (:data:`BEFORE_FIRST`), before any other."""
        if name not in BEFORE_FIRST:
            self._insert(s, self._first or b"")
            self._first, self._finder = None, BODY_START if self._pending else None

    def _insert(self, at: int, markup: bytes) -> None:
        """Insert ``markup`` at ``at``, passing on what comes before it."""
        self._pieces += (self._buf[self._out : at], markup)
        self._out, self.changed = at, True

    def _in_data(self) -> bool:
        """Whether the input ended in ordinary HTML text, where the banner may follow."""
        open_ = self._eof_open or self._in_text() or self._inert or self._stack
        return not open_ and self._out >= 0 and self._fhold < 0

    def _token(self, pos: int, end: int, final: bool) -> bool:
        """Handle what the skipper stopped at besides a whole tag; False to wait for input."""
        buf = self._buf
        m = TAG.match(buf, pos)
        if m is not None:
            if m.end() - pos > self._max and self._stream_tag(pos):
                return True  # a long tag the skippers pass unseen: as if it streamed
            return self._tag(pos, m.end(), bool(m[1]), m[2], m.end(2))
        nxt = buf[pos + 1 : pos + 10]
        if not final and (nxt in (b"", b"/") or b"!--".startswith(nxt)):
            return False
        unsure = self._unsure and bool(self._stack)
        if nxt.startswith(b"!--"):
            self._until = UNSURE_ENDS[COMMENT_END] if unsure else COMMENT_END
            self._ustart, self._pos = pos + 4, pos + 2
        elif nxt.startswith(b"![CDATA[") and self._stack and self._stack[-1].ns != "html":
            if unsure:  # a bogus comment if the SVG/MathML was closed
                self._until, self._ustart, self._pos = UNSURE_ENDS[GT], 0, pos + 2
                return True
            self._until, self._ustart, self._pos = CDATA_END, 0, pos + 9
        elif not final and b"![CDATA[".startswith(nxt):
            return False
        elif nxt[:1] in (b"!", b"?") or (nxt[:1] == b"/" and not nxt[1:2].isalpha()):
            self._until = UNSURE_ENDS[GT] if unsure else GT  # a bogus comment
            self._ustart, self._pos = 0, pos + 2
        elif nxt[:1].isalpha() or nxt[:1] == b"/":  # a tag cut off by the end of the buffer
            if final:
                self._pos, self._eof_open = end, True  # stays as it was
            elif end - pos > self._max:
                return self._stream_tag(pos) or self._overflow("a tag")
            else:
                self._partial = end
                return False
        else:
            self._pos = pos + 1  # a "<" that opens nothing is text
        return True

    def _stream_tag(self, pos: int) -> bool:
        """Start passing on the tag at ``pos``, longer than ``max_buffer``, as it streams.

        Only a tag that the skippers would pass unseen (in an integration point, one whose
        name alone is followed) qualifies: nothing about it but its end matters. Others
        make the gate stop.
        """
        stack, m = self._stack, TAG_HEAD.match(self._buf, pos)
        if self._out < 0 or m is None:
            return False
        name, end_tag = m[2].lower().decode("latin-1"), bool(m[1])
        foreign = bool(stack) and not stack[-1].ip
        if not skipped(name, end_tag, foreign, bool(stack)):
            return False
        if stack and not foreign:  # HTML in an integration point: opened or closed now
            if end_tag:
                self._end_tag(name, pos, pos)
            elif name not in HTML_VOID:
                self._push(_Frame(name, "html", True, False))
        self._lquote, self._pos = b"", m.end()
        return True

    def _long_tag(self, final: bool) -> bool:
        """Pass on a long tag up to its ``>``; True once it is over.

        Attributes are read as the tokenizer reads them, so a ``>`` in a quoted value does
        not end the tag; what is sure is passed on, and an attribute that more bytes could
        continue is held back.
        """
        buf, pos, end = self._buf, self._pos, len(self._buf)
        while True:
            quote = self._lquote
            if quote:  # in a value: find its end
                if quote == b" ":
                    m = UNQUOTED_END.search(buf, pos)
                    at = -1 if m is None else m.start()
                else:
                    at = buf.find(quote, pos)
                if at < 0:  # all of it is in the value
                    return self._tag_so_far(end, final)
                pos, self._lquote = at if quote == b" " else at + 1, b""
            m = ATTRS_ON.match(buf, pos)
            if m is None:  # never: it matches the empty string at least
                return False
            if m[1] is not None:  # the ">": the tag is over
                self._pos, self._lquote = m.end(), None
                return True
            pos = m.end()
            if pos == end:
                pos = last_attr(buf, m.start(), end)
            value = VALUE_START.match(buf, pos)
            if value is None:  # an attribute whose value has not begun
                if end - pos > self._max:
                    return self._overflow("a tag")
                return self._tag_so_far(pos, final)
            pos, self._lquote = value.end(), value[1] or b" "

    def _tag_so_far(self, pos: int, final: bool) -> bool:
        """Pass on a long tag's bytes before ``pos`` (all of them when ``final``)."""
        if final:
            pos, self._lquote, self._eof_open = len(self._buf), None, True
        self._pos = pos
        return False

    def _text_state(self, final: bool) -> bool:
        """Pass through a comment, bogus comment or CDATA section up to its end."""
        buf, pat, pos = self._buf, self._until, self._pos
        m = pat.search(buf, pos) if pat is not None else None
        # `<!--!>` and `<!---!>` do not close a comment; `<!-->` and `<!--->` do.
        while pat is not None and m is not None and m.start() < self._ustart and m[0] == b"--!>":
            m = pat.search(buf, m.start() + 1)
        if m is None and not final:  # resume where the longest end, `</noframes `, may start
            self._pos = max(pos, len(buf) - 10)
            return False
        self._pos = len(buf) if m is None else m.end()
        self._until, self._eof_open = None, m is None
        return True

    def _tag(self, s: int, e: int, end_tag: bool, name: bytes, a: int) -> bool:
        """Apply the complete tag ``buf[s:e]``, its name ending at ``a``; False on overflow."""
        if e - s > self._max:  # passed on from its start, as when it comes cut off
            self._pos = s
            return self._stream_tag(s) or self._overflow("a tag")
        self._pos = e
        if end_tag:
            self._end_tag(name.lower().decode("latin-1"), s, e)
        else:
            self._start_tag(name.lower().decode("latin-1"), s, e, a)
        return True

    def _script(self, m: re.Match[bytes]) -> bool:
        """Gate a whole ``<script>`` element matched at once; False on overflow."""
        (s, e), q, z = m.span(2), m.end(3), m.end()
        self._pos = z
        if e - s > self._max:
            return self._overflow("a tag")
        if z == q:  # no end tag yet: raw text, whose search for one resumes near the end
            self._start_tag("script", s, e, s + 7)
            self._pos = max(e, q - 8)
            return True
        buf = self._buf
        if e - s == 8 or not self._rules.may_classify(buf[s + 7 : e - 1]):
            # Its start tag places it nowhere: only the text of an inline script can.
            if q == e or (e - s > 8 and has_src(buf, s + 7, e - 1)):
                return True
            verdict = "hold"
        else:
            verdict = self._gate("script", s, e, s + 7, hinted=True)
        if verdict == "hold" and q - e < _BLOCK and q - e <= self._max:
            # One search over the whole text decides, exactly as _classify would.
            cat = self._rules.classify_inline(buf[e:q]) if q > e else None
            if cat is not None and not self._allows(cat):
                self._cut(s, z)
        elif verdict == "hold":
            self._hold, self._rbody, self._scanned = s, e, 0
            if not self._classify(q, False, z):
                return False
            if self._out < 0:
                self._out, self._rcut = z, False
        elif verdict == "cut":
            self._out = z
        return True

    def _start_tag(self, name: str, s: int, e: int, a: int) -> None:
        """Apply a start tag: the banner's place, foreign content, gating, the tokenizer state."""
        buf, stack, gate = self._buf, self._stack, self._out >= 0
        if not gate:
            self._open_in_cut(name, a, e)
        if self._first is not None:  # before it, nothing is open or being cut
            self._first_start(name, s, e)
        after = self._pending and not stack and self._head_start(name, s, gate)
        foreign = bool(stack) and (not stack[-1].ip or (name in GLYPHS and _math_text(stack[-1])))
        if foreign and self._foreign_start(name, s, e, a, gate):
            return
        gate = self._out >= 0  # a breakout also ends a removed SVG script
        if name in ("svg", "math"):
            if not self_closing(buf, a, e - 1):
                self._unsure = self._unsure and bool(stack)
                self._push(_Frame(name, name, False, True))
            return
        if name == "base" and gate:
            href = decode_attrs(buf[a : e - 1]).get("href")
            if href is not None:  # relative URLs after it resolve against it
                self._rules = self._rules.based(href)
        verdict = ""
        if name in GATED:
            if gate:
                verdict = self._gate(name, s, e, a)
            elif self._fhold >= 0:
                self._fcut = self._fcut or self._refused_tag(name, a, e)
        elif name in WIDGETS and gate and not foreign and self._embeds is not None:
            verdict = self._widget(name, s, e, a, self._embeds)
        if foreign and verdict == "cut":  # the removed tag ended SVG/MathML; so must the output
            self._pieces.append(b"<span></span>")
        if after:  # the banner, after the <body> tag as gated
            self._place(e)
        if name in RAW:
            hold = s if verdict == "hold" else -1
            self._enter_raw(name, e, hold, verdict == "cut", escapes=name == "script")
        elif name == "plaintext":
            self._plain = True
        elif stack and stack[-1].ip and verdict != "cut" and name not in HTML_VOID:
            self._push(_Frame(name, "html", True, False))  # for what the current node is

    def _push(self, frame: _Frame) -> None:
        """Open ``frame`` on the stack, unless it is full: then the gate is unsure."""
        if len(self._stack) < _STACK_MAX:
            self._stack.append(frame)
        else:
            self._unsure = True

    def _foreign_start(self, name: str, s: int, e: int, a: int, gate: bool) -> bool:
        """Apply a start tag inside SVG/MathML; False when it breaks out to HTML."""
        stack, buf = self._stack, self._buf
        # Only <font> and <annotation-xml> look at their attributes here.
        attrs = decode_attrs(buf[a : e - 1]) if name in _LOOKS else {}
        if name in BREAKOUT or (name == "font" and any(k in attrs for k in _FONT_BREAKOUT)):
            while stack and not stack[-1].ip:
                stack.pop()
            if self._out < 0 and self._cut_foreign:
                self._end_cut(s)
            return False
        if name in FOREIGN_GATED:
            # Inert here but for <script> and <image>, yet cut when refused: an HTML end
            # tag can close SVG through ancestors the gate does not track.
            held = gate and self._gate(name, s, e, a, foreign=True) == "hold"
            if held and not self_closing(buf, a, e - 1):
                self._hold_foreign(s, e)
            elif not gate and self._fhold >= 0:
                self._fcut = self._fcut or self._refused_tag(name, a, e)
            return True
        closed, top = self_closing(buf, a, e - 1), stack[-1]
        math_xml = top.ns == "math" and top.name == "annotation-xml"
        ns = "svg" if name == "svg" and math_xml else top.ns
        if not closed and name in FOREIGN_END:
            encoding = attrs.get("encoding", "").lower()
            html_xml = ns == "math" and name == "annotation-xml" and encoding in HTML_ENCODINGS
            ip = name in IP[ns] or html_xml
            self._push(_Frame(name, ns, ip, False))
        return True

    def _gate(
        self, name: str, s: int, e: int, a: int, foreign: bool = False, hinted: bool = False
    ) -> str:
        """Classify a gated start tag and cut or activate it: "cut", "hold" or "".

        ``hinted``: the rules' :meth:`~RulesLike.may_classify` already said yes.
        """
        raw = self._buf[a : e - 1]
        # A srcdoc is looked for last, and only where its value may hold markup.
        if (
            not hinted
            and not self._rules.may_classify(raw)
            and not (name == "iframe" and (b"<" in raw or b"&" in raw) and b"srcdoc" in raw.lower())
        ):
            # Unclassified: only an inline script is held, to search its text.
            if name != "script" or has_src(self._buf, a, e - 1):
                return ""
            return "hold"
        tag = "img" if name == "image" else name  # the tree builder turns <image> into <img>
        attrs = None
        if tag != "noscript":
            cat = self._rules.classify_tag(tag, raw)
        else:  # only its data-consent places a <noscript>
            attrs = decode_attrs(raw)
            cat = self._rules.classify_element(tag, attrs) if "data-consent" in attrs else None
        if cat is None or self._allows(cat):
            attrs = decode_attrs(raw) if attrs is None else attrs
            if "<" in attrs.get("srcdoc", ""):  # its document wins over src: gate it instead
                return "cut" if self._srcdoc(s, e, a) else ""
            if cat is not None:
                extra = None
                if self._embeds is not None and tag in _EMBEDS and not foreign:
                    extra = self._embeds.accepted(tag, attrs, cat)
                self._activate(s, e, a, attrs, extra)
                return ""
            inline = tag == "script" and "src" not in attrs and "data-src" not in attrs
            return "hold" if inline else ""
        if tag in BACKGROUND:  # a table cell or the body: only its image goes
            self._drop_attr(s, e, a, "background")
            return ""
        placeholder = None
        if self._embeds is not None and (tag in _EMBEDS or tag == "script") and not foreign:
            attrs = decode_attrs(raw) if attrs is None else attrs
            answer = self._embeds.refused(tag, attrs, cat)
            if answer is not None and not isinstance(answer, bytes):  # let through this once
                self._activate(s, e, a, attrs, answer)
                return ""
            placeholder = answer
        # In SVG/MathML nothing is void or raw text: content is markup up to the end tag.
        void = self_closing(self._buf, a, e - 1) if foreign else tag in VOID
        self._cut(s, e if void else -1)
        if placeholder:
            self._pieces.append(placeholder)
        if not void and (foreign or tag not in RAW):
            self._cut_name, self._cut_depth, self._cut_stack = name, 1, len(self._stack)
            self._cut_foreign = foreign
            self._cut_open = [] if not foreign and tag in _BUILDER_ENDS else None
        return "cut"

    def _widget(self, name: str, s: int, e: int, a: int, embeds: EmbedsLike) -> str:
        """Replace a refused widget's element by its placeholder: "cut", or ""."""
        raw = self._buf[a : e - 1]
        if self._widget_hint is None or not self._widget_hint(raw):
            return ""
        attrs = decode_attrs(raw)
        cat = embeds.widget(name, attrs)
        if cat is None:
            return ""
        answer: Embedding = embeds.accepted(name, attrs, cat) if self._allows(cat) else None
        if answer is None:
            answer = embeds.refused(name, attrs, cat)
        if answer is not None and not isinstance(answer, bytes):
            self._activate(s, e, a, attrs, answer)
            return ""
        self._cut(s, -1)
        if answer:
            self._pieces.append(answer)
        self._cut_name, self._cut_depth, self._cut_stack = name, 1, len(self._stack)
        self._cut_foreign, self._cut_open = False, []
        return "cut"

    def _srcdoc(self, s: int, e: int, a: int) -> bool:
        """Gate the document in an iframe's ``srcdoc`` and write it back; True if the
        iframe is removed instead (nested too deep, or its document too large to read).

        The value is gated as a page of its own (without banner) and, if anything in it
        changed, written back double-quoted with ``&`` and ``"`` escaped, so the browser
        decodes exactly the gated document.
        """
        buf, span = self._buf, attr_spans(self._buf, a, e - 1)[0]["srcdoc"]
        value = buf[span.value : span.value_end]
        value = value[1:-1] if value[:1] in (b'"', b"'") else value
        doc = html.unescape(value.decode("utf-8", "surrogateescape"))
        inner = HtmlGate(self._rules, self._allows, max_buffer=self._max, warn=self._warn)
        inner._depth = self._depth + 1
        out = b""
        if inner._depth <= _SRCDOC_DEPTH:
            out = inner.feed(doc.encode("utf-8", "surrogateescape")) + inner.close()
        if inner._depth > _SRCDOC_DEPTH or inner._bypass:
            if self._warn is not None:
                self._warn("consentgate: an <iframe srcdoc> could not be gated; iframe removed")
            self._cut(s, -1)
            self._cut_name, self._cut_depth, self._cut_stack = "iframe", 1, len(self._stack)
            self._cut_foreign = False
            return True
        if inner.changed:
            escaped = out.replace(b"&", b"&amp;").replace(b'"', b"&quot;")
            self._pieces += (buf[self._out : span.value], b'"', escaped, b'"')
            self._out, self.changed = span.value_end, True
        return False

    def _drop_attr(self, s: int, e: int, a: int, name: str) -> None:
        """Remove the attribute ``name`` (with the space before it) from a start tag."""
        span = attr_spans(self._buf, a, e - 1)[0].get(name)
        if span is not None:
            self._pieces.append(self._buf[self._out : span.sep])
            self._out, self.changed = span.value_end, True

    def _cut(self, s: int, e: int) -> None:
        """Drop the bytes from ``s``: up to ``e``, or until the element ends when ``e`` is -1."""
        buf = self._buf
        self._pieces.append(buf[self._out : s])
        if (buf[s - 1 : s] if s else self._tail) == b"<":  # a text "<" must not join what follows
            self._pieces.append(b"<!---->")
        self._out, self.changed = e, True

    def _end_cut(self, at: int) -> None:
        """End a removed element at ``at``; whatever it left open in SVG/MathML closes too.

        A held SVG ``<script>`` is decided here, by its text and the elements in it, and
        removed or kept.
        """
        self._out, self._cut_name, self._cut_depth, self._cut_open = at, "", 0, None
        del self._stack[self._cut_stack :]
        if self._fhold >= 0:
            text = foreign_text(self._buf, self._fbody, at)
            cat = self._rules.classify_inline(text) if text else None
            if not self._fcut and (cat is None or self._allows(cat)):
                self._out = self._fhold
            else:
                if self._fsep:
                    self._pieces.append(b"<!---->")
                self.changed = True
            self._fhold, self._fcut = -1, False

    def _refused_tag(self, name: str, a: int, e: int) -> bool:
        """Whether the start tag ending at ``e``, attributes from ``a``, is refused."""
        raw = self._buf[a : e - 1]
        if not self._rules.may_classify(raw):
            return False
        cat = self._rules.classify_tag("img" if name == "image" else name, raw)
        return cat is not None and not self._allows(cat)

    def _hold_foreign(self, s: int, e: int) -> None:
        """Hold back an SVG ``<script>`` from ``s`` until it ends, as if it were removed.

        Its content is markup, followed like a removed element's; when it ends,
        :meth:`_end_cut` searches its text for signatures as for an inline script. An
        element of a refused category inside it (an ``<iframe>``, or HTML in a
        ``<foreignObject>``) has it removed whole: it must not be released unclassified.
        """
        buf = self._buf
        self._pieces.append(buf[self._out : s])
        self._fsep = (buf[s - 1 : s] if s else self._tail) == b"<"
        self._out, self._fhold, self._fbody = -1, s, e
        self._cut_name, self._cut_depth, self._cut_stack = "script", 1, len(self._stack)
        self._cut_foreign = True

    def _activate(
        self, s: int, e: int, a: int, attrs: dict[str, str], extra: Mapping[str, str] | None = None
    ) -> None:
        """Undo a client-side neutralisation of an accepted element, in its start tag only,
        and set the attributes ``extra`` (``src`` meaning the one that loads)."""
        plain = "data-consent" in attrs and attrs.get("type", "").strip().lower() == "text/plain"
        rename = "data-src" in attrs and "src" not in attrs
        if not plain and not rename and not extra:
            return
        buf, spans = self._buf, attr_spans(self._buf, a, e - 1)[0]
        edits = _set_attrs(spans, a, extra, rename) if extra else []
        if plain:
            t, dt = spans["type"], spans.get("data-type")
            if dt is None:
                edits.append((t.sep, t.value_end, b""))
            else:
                edits.append((t.value, t.value_end, buf[dt.value : dt.value_end]))
        if rename:
            edits.append((spans["data-src"].name, spans["data-src"].name_end, b"src"))
        tag = bytearray(buf[s:e])
        for start, stop, new in sorted(edits, reverse=True):
            tag[start - s : stop - s] = new
        self._pieces += (buf[self._out : s], bytes(tag))
        self._out, self.changed = e, True

    def _end_tag(self, name: str, s: int, e: int) -> None:
        """Apply an end tag: foreign content, the end of a removed element, the banner."""
        stack = self._stack
        if stack and stack[-1].ns == "html":
            # The tree builder pops the current node by its name. Any other end tag closes
            # nothing in the integration point, or more than the gate counts, which only
            # costs text; but a table's may close the SVG/MathML through a cell around it.
            if stack[-1].name == name:
                stack.pop()
            else:
                self._unsure = self._unsure or name in _TABLE_ENDS
        elif stack and not stack[-1].ip and name in ("br", "p"):
            while stack and not stack[-1].ip:
                stack.pop()
        elif stack and (name in FOREIGN_END or not stack[-1].ip):
            for i in range(len(stack) - 1, -1, -1):
                if stack[i].name == name:
                    del stack[i:]
                    break
                if stack[i].root:
                    # Closing an HTML element of this name around it closes it too: sure
                    # when that element is followed (in an integration point), else unsure.
                    if i and stack[i - 1].ns == "html" and stack[i - 1].name == name:
                        del stack[i - 1 :]
                    else:
                        self._unsure = self._unsure or not (stack[-1].ip or name in FOREIGN_ONLY)
                    break
        elif stack and name in _TABLE_ENDS:
            # Table scope ends at no integration point: a cell around the SVG may close it.
            self._unsure = True
        if self._pending and not stack:
            self._head_end(name, s, self._out >= 0)
        if self._out < 0:
            if self._cut_open is not None:
                self._end_in_cut(name, s, e, self._cut_open)
            elif name == self._cut_name:
                self._cut_depth -= 1
                if not self._cut_depth:
                    self._end_cut(e)
            elif self._cut_foreign and len(stack) < self._cut_stack:
                self._end_cut(s)  # closing its parent closed the removed SVG script

    def _open_in_cut(self, name: str, a: int, e: int) -> None:
        """Follow a start tag inside a removed element, for where that element ends."""
        opened = self._cut_open
        if opened is None:
            if name == self._cut_name:
                self._cut_depth += 1
        elif name in HTML_VOID or name in RAW or len(opened) >= _OPEN_MAX:
            return
        elif not (self._stack and self_closing(self._buf, a, e - 1)):  # <svg/> opens nothing
            opened.append(name)

    def _end_in_cut(self, name: str, s: int, e: int, opened: list[str]) -> None:
        """Apply an end tag inside a removed ``<video>``, ``<audio>`` or ``<object>``.

        It closes what was opened inside, or the removed element itself; any other end tag
        may close an element around it (the tree builder pops through a video or audio
        to the element named, and through an object only to a table cell, row, table,
        caption or template). That ends the removed element before the end tag, which is
        kept: the rest of the page must not be swallowed. Where the tree builder in fact
        ignored the end tag, the element's remaining fallback content is shown, and its
        trackers are gated as anywhere else.
        """
        if name in opened:
            del opened[len(opened) - 1 - opened[::-1].index(name) :]
        elif name == self._cut_name:
            self._end_cut(e)
        elif name not in _NO_POP and (self._cut_name != "object" or name in _TABLE_ENDS):
            self._end_cut(s)

    def _enter_raw(self, name: str, body: int, hold: int, cut: bool, *, escapes: bool) -> None:
        self._rname, self._rscript, self._rcut, self._rstate = name, escapes, cut, 0
        self._rbody = self._pos = body
        self._rend, self._hold, self._scanned = -1, hold, 0

    def _raw_text(self, final: bool) -> bool:
        """Advance through raw text; True once the element (and its end tag) is over."""
        buf, end = self._buf, len(self._buf)
        q = self._rend
        if q < 0:
            q = self._rend = self._find_end(end)
        if self._hold >= 0 and not self._classify(q, final, end):
            return False
        if q < 0 and not final:
            return False
        m = TAG.match(buf, q) if q >= 0 else None
        if m is None and not final:
            self._pos = q
            return False
        self._pos, self._eof_open = (end, True) if m is None else (m.end(), False)
        if self._rcut:
            self._out, self._rcut = self._pos, False
        self._rname = ""
        return True

    def _find_end(self, end: int) -> int:
        """Offset of the end tag closing the raw text, or -1 (searching resumes later)."""
        buf, pos = self._buf, self._pos
        if not self._rscript:
            # Where SVG/MathML may have been closed, an element raw text in HTML may hold
            # is too: raw text ends at any raw-text end tag.
            unsure = self._unsure and bool(self._stack)
            m = (RAW_END_ANY if unsure else raw_end(self._rname)).search(buf, pos)
            if m is not None:
                return m.start()
            self._pos = max(pos, end - (10 if unsure else len(self._rname) + 2))
            return -1
        state = self._rstate
        while (m := SCRIPT[state].search(buf, pos)) is not None:
            if state == 0:
                if m[1] is None:
                    return m.start()
                state, pos = 1, m.start() + 2  # `<!-->` already closes the escape
            elif m[1] is not None:
                state, pos = 0, m.end()
            elif state == 1 and m[2]:
                return m.start()
            else:
                state, pos = 3 - state, m.end()
        self._rstate, self._pos = state, max(pos, end - 8)
        return -1

    def _classify(self, q: int, final: bool, end: int) -> bool:
        """Search a held inline script in fixed blocks and decide it; False on overflow."""
        size = (q if q >= 0 else end if final else self._pos) - self._rbody
        while self._scanned + _BLOCK <= min(size, self._max):
            if self._decide(self._scan(self._scanned + _BLOCK)):
                return True
        if size > self._max:
            return self._overflow("an inline script")
        done = q >= 0 or final
        if done and (size <= self._scanned or not self._decide(self._scan(size))):
            self._release()
        return True

    def _scan(self, stop: int) -> str | None:
        start = self._rbody + max(0, self._scanned - self._rules.inline_overlap)
        self._scanned = stop
        return self._rules.classify_inline(self._buf[start : self._rbody + stop])

    def _decide(self, cat: str | None) -> bool:
        if cat is None:
            return False
        if self._allows(cat):
            self._release()
        else:
            self._held = []
            self._cut(self._hold, -1)
            self._hold, self._rcut = -1, True
        return True

    def _release(self) -> None:
        self._pieces += self._held
        self._held, self._hold = [], -1
