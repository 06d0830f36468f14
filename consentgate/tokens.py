"""The compiled patterns :class:`~consentgate.rewriter.HtmlGate` tokenizes HTML with.

They follow the WHATWG tokenizer: tag names end at whitespace, ``/`` or ``>``; quotes only
open an attribute value right after ``=``; comments, raw text and script data have their
own ends. The *skippers* consume, in C, everything the gate may pass without a look from
Python and stop at the few tags it must see; they are built so that the regex engine
decides each ``<`` from its next byte or two (sre tries an alternative that starts with a
literal byte or a set only when that byte fits). Where the compiled scanner runs
(:mod:`consentgate.speedups`), it walks those tokens in front of each skipper; the
patterns stay their one definition.
"""

from __future__ import annotations

import functools
import html
import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from .speedups import (
    ANY_TAG,
    FOREIGN_CONTENT,
    HTML_CONTENT,
    Searcher,
    Skipper,
    TagFinder,
    compiled,
    searcher,
    skipper,
    tag_finder,
)

__all__ = [
    "ATTRS_ON",
    "BACKGROUND",
    "BEFORE_FIRST",
    "BODY_START",
    "BREAKOUT",
    "CDATA_END",
    "COMMENT_END",
    "FAST",
    "FAST_PLACED",
    "FIRST_OR_BODY",
    "FIRST_START",
    "FOREIGN",
    "FOREIGN_END",
    "FOREIGN_GATED",
    "FOREIGN_ONLY",
    "GATED",
    "GLYPHS",
    "GT",
    "HEAD",
    "HTML_ENCODINGS",
    "HTML_VOID",
    "IP",
    "RAW",
    "RAW_END_ANY",
    "SCRIPT",
    "SLOW",
    "TAG",
    "TAG_HEAD",
    "UNQUOTED_END",
    "UNSURE",
    "UNSURE_ENDS",
    "VALUE_START",
    "VOID",
    "WIDGETS",
    "Span",
    "TagFinder",
    "attr_spans",
    "decode_attrs",
    "fast_widgets",
    "foreign_text",
    "has_src",
    "last_attr",
    "raw_end",
    "self_closing",
    "skipped",
    "tag_limit",
    "widget_search",
]


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Elements whose ``background`` attribute loads an image: only that attribute is removed.
BACKGROUND = _names("body table thead tbody tfoot tr td th")
#: Elements that may load something, classified by the gate.
GATED = (
    _names("script iframe img image link embed object audio video source noscript input meta frame")
    | BACKGROUND
)
#: In SVG, ``<use>`` and ``<feImage>`` load too (in HTML they are unknown elements).
FOREIGN_GATED = GATED | _names("use feimage")
VOID = _names("img link embed source input meta frame")
#: Gated elements that load nothing without this attribute: the skippers pass them unseen.
_LOADS_WITH = {**dict.fromkeys(BACKGROUND, "background"), "input": "src", "meta": "http-equiv"}
#: Elements the tree builder closes as soon as it opens them (image is read as img).
HTML_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param"
    " source track wbr"
)
RAW = _names("script style xmp iframe noembed noframes textarea title")
#: Start tags that end SVG/MathML content and are reprocessed as HTML ("in foreign content").
BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img"
    " li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var"
)
#: HTML integration points of SVG and MathML: their content is parsed as HTML.
IP = {"svg": _names("foreignobject desc title"), "math": _names("mi mo mn ms mtext")}
#: Start tags that stay MathML in a MathML text integration point (mi, mo, mn, ms, mtext).
GLYPHS = _names("mglyph malignmark")
FOREIGN_END = _names("svg math annotation-xml") | IP["svg"] | IP["math"] | GLYPHS
_FOREIGN_START = BREAKOUT | FOREIGN_END | FOREIGN_GATED | {"font"}
#: Start tags that may be a script-built widget's element (``twitter-tweet``, ``fb-post``),
#: read for their class; only :func:`fast_widgets` stops at them in HTML content.
WIDGETS = _names("blockquote div")
_HTML_START = GATED | RAW | _names("plaintext svg math base")
#: End tags that close only SVG/MathML elements: no HTML element has these names. Other
#: end tags in SVG/MathML content may close it through an HTML element around it.
FOREIGN_ONLY = _names(
    "animate animatemotion animatetransform circle clippath defs ellipse feblend"
    " fecolormatrix fecomponenttransfer fecomposite feconvolvematrix fediffuselighting"
    " fedisplacementmap fedistantlight fedropshadow feflood fefunca fefuncb fefuncg fefuncr"
    " fegaussianblur feimage femerge femergenode femorphology feoffset fepointlight"
    " fespecularlighting fespotlight fetile feturbulence filter g line lineargradient marker"
    " mask metadata mpath path pattern polygon polyline radialgradient rect set stop switch"
    " symbol text textpath tspan use view"
    " maction menclose merror mfrac mmultiscripts mover mpadded mphantom mprescripts mroot"
    " mrow mspace msqrt mstyle msub msubsup msup mtable mtd mtr munder munderover none"
    " semantics annotation"
)
HTML_ENCODINGS = ("text/html", "application/xhtml+xml")

_D = rb"[\t\n\f\r />]"  # what ends a tag name
_NAME = rb"[a-zA-Z][^\t\n\f\r />]*+"
# Attributes as the tokenizer sees them: quotes only open a value right after `=`, and once a
# name is followed by `=` a value must follow, so a cut-off value never reads as a new name.
_ATTRS = (
    rb"(?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r />=]*+(?:(?>[\t\n\f\r ]*+=)[\t\n\f\r ]*+"
    rb"""(?:"[^"]*+"|'[^']*+'|[^\t\n\f\r >"'][^\t\n\f\r >]*+|(?=>))|(?![\t\n\f\r ]*+=)))*+"""
)
# The usual `name="value"` shape, which the tokenizer reads the same way; cheaper to match.
# `>` first (most tags have no attributes), then the commonest attributes (one space,
# lower-case name, double-quoted value), then any whitespace, name and quoting.
_PLAIN_ATTRS = (
    rb"""(?:>|(?: [a-z][-a-z0-9]*+="[^"]*+")*+(?:>|(?:[\t\n\f\r ]++[^\t\n\f\r />="'<]++"""
    rb"""(?:="[^"]*+"|='[^']*+'|=[^\t\n\f\r >"'=<`]++|))*+[\t\n\f\r ]*+/?>))"""
)
_COMMENT = rb"!--(?:>|->|[^-]*+(?:-(?!-!?>)[^-]*+)*+--!?>)"
_DECLARATION = rb"!(?:" + _COMMENT[1:] + rb"|(?!--|\[CDATA\[)[^>]*+>)"
_NAME_TAIL = rb"[^\t\n\f\r />A-Z]*+"  # the rest of a lower-case name

TAG = re.compile(rb"<(/?)(" + _NAME + rb")(" + _ATTRS + rb")>")
#: A tag's ``<``, ``/`` (group 1) and whole name (group 2).
TAG_HEAD = re.compile(rb"<(/?)(" + _NAME + rb")(?=[\t\n\f\r />])")
#: Attributes, then the tag's ``>`` (group 1) if it comes. Stops before an attribute cut
#: off in a quoted value.
ATTRS_ON = re.compile(_ATTRS + b"(>)?")
#: An attribute up to the start of its value: the quote that opens it (group 1), if any.
VALUE_START = re.compile(
    rb"[^\t\n\f\r />][^\t\n\f\r />=]*+[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:([\"'])|(?=[^\t\n\f\r >]))"
)
#: What ends an unquoted attribute value.
UNQUOTED_END = re.compile(rb"[\t\n\f\r >]")
_ATTR = re.compile(
    rb"[\t\n\f\r /]*+([^\t\n\f\r />][^\t\n\f\r />=]*+)"
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+("[^"]*+"|'[^']*+'|[^\t\n\f\r >]*+))?"""
)
_ATTR_TEXT = re.compile(
    r"([^\t\n\f\r />][^\t\n\f\r />=]*+)"
    r"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"([^"]*+)"|'([^']*+)'|([^\t\n\f\r >]*+)))?"""
)
# The searches of text states come with the literal alternatives every match starts
# with (True: a byte that ends a tag name follows), for the compiled finder.
_COMMENT_END_ALT: tuple[bytes, bool] = (b"-->", False)
_SCRIPT_END: tuple[bytes, bool] = (b"</script", True)
COMMENT_END = searcher(re.compile(rb"--!?>"), [_COMMENT_END_ALT, (b"--!>", False)])
GT = re.compile(rb">")
CDATA_END = re.compile(rb"]]>")
#: Script data, escaped and double-escaped states (WHATWG 13.2.5.4 and following).
SCRIPT = (
    searcher(
        re.compile(rb"<(?:(!--)|/script[\t\n\f\r />])", re.I), [(b"<!--", False), _SCRIPT_END]
    ),
    searcher(
        re.compile(rb"(-->)|<(/?)script[\t\n\f\r />]", re.I),
        [_COMMENT_END_ALT, (b"<script", True), _SCRIPT_END],
    ),
    searcher(re.compile(rb"(-->)|</script[\t\n\f\r />]", re.I), [_COMMENT_END_ALT, _SCRIPT_END]),
)
_END = {
    n: searcher(re.compile(rb"</" + n.encode() + _D, re.I), [(b"</" + n.encode(), True)])
    for n in RAW
}


# What an SVG <script> holds, for its text: CDATA sections are text there; comments,
# bogus comments and tags (complete or cut off by the element's end) are not.
_FOREIGN_TOKEN = re.compile(
    rb"<!\[CDATA\[((?:[^\]]++|\](?!\]>))*+)(?:\]\]>)?"
    rb"|<!--(?:>|->|[^-]*+(?:-(?!-!?>)[^-]*+)*+(?:--!?>)?)"
    rb"|<[!?][^>]*+>?|</(?![a-zA-Z])[^>]*+>?"
    rb"|</?" + _NAME + _ATTRS + rb">?"
    rb"|([^<]++|<)"
)


def last_attr(buf: bytes, a: int, b: int) -> int:
    """Where the attributes in ``buf[a:b]`` stop being sure to read the same with more bytes.

    That is ``b``, unless the last attribute reaches ``b`` with no value or an unquoted
    one (more bytes could continue it): then where that attribute starts.
    """
    m = None
    for found in _ATTR.finditer(buf, a, b):
        m = found
    if m is None or m.end() < b or (m[2] is not None and m[2][:1] in (b'"', b"'")):
        return b
    return m.start(1)


def _tag_limit(buf: bytes, pos: int, end: int) -> int:
    """Where markup in ``buf[pos:end]`` stops being worth tokenizing until more input comes.

    That is the start of a tag the buffer ends in the middle of: every skipper path
    would scan it and fail (a long attribute value cut off costs several scans), so
    one look decides that it is cut off, and it waits for the next chunk. Only the
    last few "<" that could open a tag are looked at. A complete tag may lie inside a
    quoted attribute value that the buffer ends in (markup in JSON or HTML held by an
    attribute): when the last quote before it follows an "=" and none of its kind comes
    after it, the look goes on before that quote. The answer only saves work: the
    skipper stops at a cut-off tag wherever the limit is. Called at every chunk: the
    compiled scanner has it in C (:func:`consentgate.speedups.compiled`).
    """
    last, quoted = end, False
    for _ in range(8):
        last = buf.rfind(b"<", pos, last)
        if last < 0:
            return end
        n = last + 2 if buf[last + 1 : last + 2] == b"/" else last + 1
        if n >= end:
            return last  # too little to tell what it opens
        if 0x61 <= buf[n] | 0x20 <= 0x7A:  # a letter: a tag
            # Without a ">" after it, it is cut off; with one, it is complete unless the
            # ">" is in one of its quoted values, as may be when markup is in a value.
            gt = buf.find(b">", n)
            if quoted and gt >= 0:
                m = TAG.match(buf, last)
                gt = -1 if m is None else m.end() - 1
            if gt < 0:
                return last
            # Inside a value, the quote that opened it follows an "=" and is the last
            # of its kind: look on before it for the tag it belongs to.
            q = buf.rfind(b'"', pos, last)
            if q <= pos or buf[q - 1] != 0x3D or buf.find(b'"', gt) >= 0:
                q = buf.rfind(b"'", pos, last)
                if q <= pos or buf[q - 1] != 0x3D or buf.find(b"'", gt) >= 0:
                    return end
            last, quoted = q, True
    return end


#: :func:`_tag_limit`, compiled where the scanner is.
tag_limit = compiled("tag_limit", _tag_limit, TAG.match)


def skipped(name: str, end_tag: bool, foreign: bool, ip: bool) -> bool:
    """Whether the skippers pass a tag of this (lower-case) name unseen.

    ``foreign``: in SVG/MathML content (:data:`FOREIGN`); ``ip``: in HTML content inside
    an HTML integration point of SVG/MathML, where the gate sees every tag (:data:`SLOW`)
    but needs no more than the name of those this passes.
    """
    if foreign:
        return name in FOREIGN_ONLY if end_tag else name not in _FOREIGN_START
    if end_tag:
        return name != "body" and not (ip and name in FOREIGN_END)
    return name not in _HTML_START and not (ip and name in GLYPHS)


def foreign_text(buf: bytes, a: int, b: int) -> bytes:
    """The text of the SVG/MathML content ``buf[a:b]``, CDATA included, markup left out."""
    return b"".join(m[1] or m[2] or b"" for m in _FOREIGN_TOKEN.finditer(buf, a, b))


def raw_end(name: str) -> Searcher:
    """The pattern finding the end tag of the raw-text element ``name``."""
    return _END[name]


def _trie(words: Iterable[str]) -> bytes:
    """A regex matching any of ``words``, branching on one byte at a time (faster in sre)."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word[1:])
    alts = [re.escape(k.encode()) + _trie(rest) for k, rest in sorted(groups.items()) if k]
    if not alts:
        return b""
    body = b"(?:" + b"|".join(alts) + b")" if len(alts) > 1 or "" in groups else alts[0]
    return body + b"?" if "" in groups else body


def _any_case(word: str) -> bytes:
    """``word`` in any case, as byte sets (sre can skip a choice that starts with a set)."""
    return b"".join(b"[" + c.encode() + c.upper().encode() + b"]" for c in word)


def _tags(
    names: frozenset[str],
    extra: Mapping[str, list[bytes]],
    quiet: Mapping[str, bytes] | None = None,
) -> list[bytes]:
    """Alternatives consuming a tag, after its ``<`` or ``</``, whose name is not in ``names``.

    Lower-case names in the usual ``name="value"`` shape come first, one alternative per
    first letter (letters no name in ``names`` starts with share one); then, for each
    letter, the ``extra`` alternatives; then any other tag, in any case and shape. The
    ``quiet`` names (in ``names`` too) are consumed where each attribute name passes the
    lookahead they map to (see :func:`_quiet`); they are tried first in their letter's
    alternative, grouped by lookahead, so that the commonest of them (``<td>``, ``<tr>``,
    ``<meta>``) cost one alternative, as other tags do.
    """
    heads: dict[str, list[str]] = {}
    for word in names:
        heads.setdefault(word[0], []).append(word[1:])
    free = "".join(c for c in string.ascii_lowercase if c not in heads)
    alts = [b"[" + free.encode() + b"]" + _NAME_TAIL + _PLAIN_ATTRS] if free else []
    for letter, rests in sorted(heads.items()):
        lookaheads: dict[bytes, list[str]] = {}
        for name, allowed in sorted((quiet or {}).items()):
            if name[0] == letter:
                lookaheads.setdefault(allowed, []).append(name[1:])
        named = [_trie(words) + _start_tag(allowed) for allowed, words in lookaheads.items()]
        named.append(b"(?!" + _trie(rests) + _D + b")" + _NAME_TAIL + _PLAIN_ATTRS)
        alts.append(
            letter.encode() + (b"(?:" + b"|".join(named) + b")" if lookaheads else named[0])
        )
    alts += [alt for _, more in sorted(extra.items()) for alt in more]
    alts.append(b"(?=[a-zA-Z])(?!(?i:" + _trie(names) + rb")" + _D + rb")" + _NAME + _ATTRS + b">")
    return alts


def _quiet(foreign: bool = False) -> dict[str, bytes]:
    """The gated elements whose start tags the skippers pass when they cannot load
    anything, each with the lookahead every attribute name of the tag must pass: without
    their loading attribute (:data:`_LOADS_WITH`) and the site's ``data-consent`` mark
    (which gates any of them, as it does every gated element), or an SVG ``<use>`` whose references
    are all to the page's own fragments (``href="#icon"``). In SVG/MathML (``foreign``) a
    tag that breaks out to HTML must still stop the skipper."""
    quiet = {
        name: rb"(?!(?i:" + re.escape(attr.encode()) + rb"|data-consent)[\t\n\f\r />=])"
        for name, attr in _LOADS_WITH.items()
        if not (foreign and name in BREAKOUT)
    }
    if foreign:
        local = rb"(?![\t\n\f\r ]*+=[\t\n\f\r ]*+[\"']?#)"
        quiet["use"] = (
            rb"(?!(?i:(?:xlink:)?href)" + local + rb"[\t\n\f\r />=])"
            rb"(?!(?i:data-consent)[\t\n\f\r />=])"
        )
    return quiet


def _start_tag(allowed: bytes) -> bytes:
    """The rest of a start tag after its name, each attribute name passing the lookahead
    ``allowed``."""
    name_start = rb"|[^\t\n\f\r />][^\t\n\f\r />=]*+"
    attrs = _ATTRS.replace(name_start, b"|" + allowed + name_start[1:], 1)
    # The usual shape first, as for other tags: a name after one space, or after any.
    usual = _PLAIN_ATTRS.replace(b"(?: [a-z]", b"(?: " + allowed + b"[a-z]", 1)
    spaces = rb"[\t\n\f\r ]++"
    usual = usual.replace(spaces + b"[^", spaces + allowed + b"[^", 1)
    return b"(?=" + _D + b")(?:" + usual + b"|" + attrs + b">)"


def _element(name: str, body: bytes | None = None, start: bytes = _ATTRS + b">") -> bytes:
    """A whole element after its ``<``: start tag, ``body`` (raw text if None), end tag."""
    n = _any_case(name)
    if body is None:
        body = rb"[^<]*+(?:<(?!/" + n + _D + rb")[^<]*+)*+"
    return n + b"(?=" + _D + b")" + start + body + b"</" + n + b"(?=" + _D + b")" + _ATTRS + b">"


def _text_only(names: Iterable[str]) -> dict[str, list[bytes]]:
    """Alternatives consuming SVG/MathML elements ``names`` that hold nothing but text.

    The gate would push such an element on its stack of open elements and pop it again
    with nothing in between, so the skipper can pass it whole.
    """
    found: dict[str, list[bytes]] = {}
    for name in sorted(names):
        found.setdefault(name[0], []).append(_element(name, rb"[^<]*+", _ATTRS + rb"(?<!/)>"))
    return found


def _end_tags(ends: frozenset[str]) -> bytes:
    """The alternative consuming, after its ``<``, an end tag not named in ``ends`` (only
    one named in it for :data:`FOREIGN_ONLY`), or a bogus comment opened by ``</``."""
    if ends is FOREIGN_ONLY:
        named = b"(?i:" + _trie(ends) + b")(?=" + _D + b")" + _ATTRS + b">"
    else:
        named = b"|".join(_tags(ends, {}))
    return b"/(?:" + named + rb"|(?![a-zA-Z])[^>]*+>)"


def _skipper(
    starts: frozenset[str] | None,
    ends: frozenset[str] | None,
    html_content: bool = False,
    comments: bool = True,
    quieter: Mapping[str, bytes] | None = None,
) -> re.Pattern[bytes]:
    """Compile a regex consuming what the gate may pass without a look from Python.

    It consumes text, comments, declarations and tags, and stops at a start tag named in
    ``starts`` or an end tag named in ``ends`` (at every tag when None; at an end tag *not*
    named in it for :data:`FOREIGN_ONLY`), at CDATA, and at a token cut off by the end of
    the buffer. The tag it stops at is captured when
    complete: groups 2-3 for a whole ``<script>`` without escapes (start tag, text), or one
    whose text, free of escapes and end tags, runs to the end of what is matched (group 4
    then matches there, empty); in HTML content, 5-6 for the start tag of a void element
    or BACKGROUND one in lower case (tag, name end); 7-9 for other tags (tag, ``/`` of an end tag,
    name). With ``html_content`` it also consumes whole ungated raw-text elements and simple
    inline SVGs; without, SVG/MathML elements that hold only text. An inline SVG whose
    content runs to the end of what is matched is consumed too, and group 1 then matches
    there (empty): the SVG is open. Without ``comments`` it also stops at comments.
    ``quieter`` adds start tags it passes where each attribute passes a lookahead, as
    :func:`_quiet` gives them.
    """
    alts: list[bytes] = []
    script = rb"((?!))()()"
    if starts is not None and ends is not None:
        extra = {} if html_content else _text_only(FOREIGN_END)
        if html_content:
            for name in sorted(RAW - GATED):
                extra.setdefault(name[0], []).append(_element(name))
            inner = _tags(_FOREIGN_START, _text_only(FOREIGN_END), _quiet(True))
            inner.append(_end_tags(FOREIGN_ONLY))
            svg = b"[^<]*+(?:<(?:" + b"|".join([*inner, _DECLARATION]) + b")[^<]*+)*+"
            # Group 1: an empty match at the end when its content runs on past that.
            n = _any_case("svg")
            element = n + b"(?=" + _D + b")" + _ATTRS + rb"(?<!/)>" + svg
            element += b"(?:</" + n + b"(?=" + _D + b")" + _ATTRS + rb">|()\Z)"
            extra.setdefault("s", []).append(element)
            script_name = _any_case("script")
            text = rb"([^<]*+(?:<(?!/" + script_name + _D + rb"|!--)[^<]*+)*+)"
            # Atomic: both ways of reading the start tag end at the same ">", so a script
            # cut off by the end of the buffer is not scanned again the other way.
            script = b"(<" + script_name + b"(?>" + _PLAIN_ATTRS + b"|(?=" + _D + b")"
            script += _ATTRS + b">))" + text + b"(?:</" + script_name + b"(?=" + _D + b")"
            script += _ATTRS + rb">|()\Z)"
        alts.append(_end_tags(ends))
        alts += _tags(starts, extra, {**_quiet(not html_content), **(quieter or {})})
    else:
        alts.append(rb"/(?![a-zA-Z])[^>]*+>")
    declaration = _DECLARATION if comments else rb"!(?!--|\[CDATA\[)[^>]*+>"
    alts += [declaration, rb"\?[^>]*+>", rb"[^a-zA-Z/!?<]|(?=<)"]
    loop = b"[^<]*+(?:<(?:" + b"|".join(alts) + b")[^<]*+)*+"
    attrs = b"(?:" + _PLAIN_ATTRS + b"|" + _ATTRS + b">)"
    quiet = rb"((?!))()"
    if html_content:
        quiet = b"(<" + _trie(VOID | BACKGROUND) + b"()(?=" + _D + b")" + attrs + b")"
    tag = rb"(<(/?)(" + _NAME + b")" + attrs + b")"
    svg_groups = b"" if html_content else rb"(?:(?!)())?"  # numbered as in HTML content
    return re.compile(svg_groups + loop + b"(?:" + script + b"|" + quiet + b"|" + tag + b")?")


_RAW_END = rb"(?=</(?i:" + _trie(RAW) + rb")" + _D + rb")"
#: In SVG/MathML content that an HTML end tag may have closed, a comment and a bogus
#: comment also end before the end tag of a raw-text element: in HTML they may lie in one.
UNSURE_ENDS: dict[Searcher, Searcher] = {
    COMMENT_END: re.compile(rb"--!?>|" + _RAW_END),
    GT: re.compile(rb">|" + _RAW_END),
}
#: There, the end tag of any raw-text element ends raw text.
RAW_END_ANY = searcher(re.compile(_RAW_END[3:-1]), [(b"</" + n.encode(), True) for n in RAW])


def _html_skipper(
    starts: frozenset[str],
    quieter: Mapping[str, bytes],
    classes: tuple[str, ...],
    ends: frozenset[str],
) -> Skipper:
    """:func:`_skipper` for HTML content, fronted by the compiled scanner where it runs.

    The scanner is told what the pattern passes: the tags it does not stop at, the
    quiet ones (:data:`_LOADS_WITH`), and the ``quieter`` widget tags with their classes.
    """
    pattern = _skipper(starts, ends, html_content=True, quieter=quieter)
    return skipper(
        pattern,
        HTML_CONTENT,
        starts,
        ends,
        quiet=_LOADS_WITH,
        widgets=quieter,
        classes=classes,
        raw=RAW - GATED,
        deferred=["svg"],
        voids=VOID | BACKGROUND,
    )


def _any_tag_skipper(
    starts: frozenset[str] | None, ends: frozenset[str] | None, comments: bool = True
) -> Skipper:
    """:func:`_skipper` outside HTML content; the compiled scanner, where it runs, passes
    text, comments (with ``comments``) and declarations, and stops at every tag (in
    SVG/MathML content, ``starts`` given, it leaves every tag to the pattern)."""
    mode = ANY_TAG if starts is None else FOREIGN_CONTENT
    return skipper(_skipper(starts, ends, comments=comments), mode, comments=comments)


_BODY_END = _names("body")
#: In HTML content: stops at start tags the gate classifies or that change the tokenizer's
#: state, and at ``</body>`` (where a banner still due goes).
FAST = _html_skipper(_HTML_START, {}, (), _BODY_END)
#: :data:`FAST` for when no banner is due: it passes ``</body>`` too.
FAST_PLACED = _html_skipper(_HTML_START, {}, (), frozenset())


@functools.cache
def fast_widgets(classes: tuple[str, ...], body_end: bool = True) -> Skipper:
    """:data:`FAST` that also stops at a ``<blockquote>`` or ``<div>`` whose ``class``
    value holds one of ``classes`` (a gated widget's element), compiled once per set of
    classes, on first use. It may stop at others too; it never passes one that holds one.
    Without ``body_end``, it passes ``</body>`` as :data:`FAST_PLACED` does.
    """
    has = b"(?:" + b"|".join(re.escape(c.encode()) for c in classes) + b")"
    # The value, in any of its three quotings, up to one of the classes.
    quoted = rb'"[^"]*?' + has + rb"|'[^']*?" + has
    value = b"(?:" + quoted + rb"|(?![\"'])[^\t\n\f\r >]*?" + has + b")"
    allowed = rb"(?!(?i:class)[\t\n\f\r ]*+=[\t\n\f\r ]*+" + value + b")"
    ends = _BODY_END if body_end else frozenset()
    return _html_skipper(_HTML_START | WIDGETS, dict.fromkeys(WIDGETS, allowed), classes, ends)


@functools.cache
def widget_search(classes: tuple[str, ...]) -> Callable[[bytes], object]:
    """Search a start tag's raw bytes for one of ``classes``: where it finds none, the
    element is no widget of theirs (a class written with character references is missed)."""
    return re.compile(b"|".join(re.escape(c.encode()) for c in classes)).search


#: In SVG/MathML content: stops at the start tags that open or end it, and at end tags
#: but those of SVG/MathML elements only (any other may close it).
FOREIGN = _any_tag_skipper(_FOREIGN_START, FOREIGN_ONLY)
#: Stops at every tag, for the gate to follow nesting while it removes an element.
SLOW = _any_tag_skipper(None, None)
#: Stops at every tag and comment, in SVG/MathML content an HTML end tag may have closed.
UNSURE = _any_tag_skipper(None, None, comments=False)


_VALUE = rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+("[^"]*+"|'[^']*+'|[^\t\n\f\r >]*+))?"""
_SRC_NAME = rb"(?:[dD][aA][tT][aA]-)?[sS][rR][cC](?![^\t\n\f\r />=])"  # src or data-src
_NO_SRC = re.compile(
    rb"(?:[\t\n\f\r /]*+(?:>|(?!"
    + _SRC_NAME
    + rb")[^\t\n\f\r />][^\t\n\f\r />=]*+"
    + _VALUE
    + rb"))*+[\t\n\f\r /]*+"
)


def self_closing(buf: bytes, a: int, b: int) -> bool:
    """Whether a start tag whose attributes are ``buf[a:b]`` ends with ``/>``.

    The ``/`` counts unless it ends an unquoted attribute value (``<a href=x/>``).
    """
    return b > a and buf[b - 1] == 0x2F and attr_spans(buf, a, b)[1]


def has_src(buf: bytes, a: int, b: int) -> bool:
    """Whether the attributes in ``buf[a:b]`` include ``src`` or ``data-src``.

    Attributes are read as :func:`attr_spans` reads them.
    """
    if b"src" not in buf[a:b].lower():  # the usual answer, found without parsing
        return False
    return _NO_SRC.match(buf, a, b).end() < b  # type: ignore[union-attr]  # always matches


class Span(NamedTuple):
    """Where an attribute is in the buffer: separator before it, name, value."""

    sep: int
    name: int
    name_end: int
    value: int
    value_end: int


def decode_attrs(raw: bytes) -> dict[str, str]:
    """Attribute names (lower case) and decoded values of a tag's attribute text."""
    text = raw.decode("utf-8", "replace")
    # Reversed, so that the first of repeated attributes wins, as in the tokenizer.
    found = {n.lower(): d + s + u for n, d, s, u in reversed(_ATTR_TEXT.findall(text))}
    if "&" in text:
        return {name: _unescape(value) if "&" in value else value for name, value in found.items()}
    return found


def _unescape(value: str) -> str:
    """:func:`html.unescape`, quicker when the only references are ``&amp;`` (as in URLs)."""
    amps = value.count("&")
    if amps and amps == value.count("&amp;"):
        return value.replace("&amp;", "&")
    return html.unescape(value) if amps else value


def attr_spans(buf: bytes, a: int, b: int) -> tuple[dict[str, Span], bool]:
    """Byte spans of the attributes in ``buf[a:b]``, and whether the tag is self-closing."""
    found: dict[str, Span] = {}
    last = a
    for m in _ATTR.finditer(buf, a, b):
        last = m.end()
        vs, ve = m.span(2) if m.group(2) is not None else (last, last)
        found.setdefault(m.group(1).lower().decode("latin-1"), Span(m.start(), *m.span(1), vs, ve))
    return found, b > a and buf[b - 1] == 0x2F and last < b


#: Start tags of head content: before the body they neither begin it nor hide what follows
#: (the HTML Standard's "in head" and "after head" insertion modes); and those of a
#: frameset, which has no body (a banner inside it would not show, but break it).
HEAD = _names("html head meta link base basefont bgsound title style script noframes frameset")
#: End tags the banner's searches find: ``</body>`` places it, the others end what hides
#: a body start from it.
_BANNER_ENDS = _names("template noscript body")
_ENDS = rb"|/(?i:" + _trie(_BANNER_ENDS) + rb")" + _D
#: While the banner waits for its place: a start tag that may begin the body (any but head
#: content), or one of ``template``, ``noscript`` or ``body`` ending.
BODY_START = tag_finder(
    re.compile(rb"<(?:(?!(?i:" + _trie(HEAD) + rb")" + _D + rb")[a-zA-Z]" + _ENDS + b")"),
    HEAD,
    _BANNER_ENDS,
)
#: Start tags let through before the markup meant to run first: they run nothing, and a
#: ``<meta charset>`` must stay near the top.
BEFORE_FIRST = _names("html head meta title base link")
_FIRST = rb"(?!(?i:" + _trie(BEFORE_FIRST) + rb")" + _D + rb")[a-zA-Z]"
#: While the markup meant to run first waits for its place: a start tag that may place it
#: (any but :data:`BEFORE_FIRST`).
FIRST_START = tag_finder(re.compile(b"<" + _FIRST), BEFORE_FIRST, ())
#: While both wait: where either may go. :data:`BEFORE_FIRST` is head content, so every
#: start tag :data:`BODY_START` finds is one of these already.
FIRST_OR_BODY = tag_finder(re.compile(b"<(?:" + _FIRST + _ENDS + b")"), BEFORE_FIRST, _BANNER_ENDS)
