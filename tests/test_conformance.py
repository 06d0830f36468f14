"""The gate against html5lib, a spec-conforming parser, on real and generated pages.

For every document, after gating with analytics refused:

- html5lib finds no element of the refused category left in the output (an
  element is what a browser would build: markup in comments and raw text
  does not count, markup in ``<noscript>`` does, as for a browser with
  scripting off);
- the output is the input with whole elements deleted (a few leave a
  harmless filler so that the rest parses as before, see
  :func:`deleted_spans`), and those elements are exactly the refused ones
  html5lib finds in the input;
- gating the output again changes nothing;
- the output is the same whatever the chunk size.

Then hypothesis throws random HTML-like input at the gate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import Any

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.pages import generate_page
from consentgate.categories import Category
from consentgate.consent import Consent
from consentgate.rewriter import HtmlGate
from consentgate.rules import Rules

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TRACKERS = ("google-analytics", "google-tag-manager", "matomo", "meta-pixel", "hotjar")
RULES = Rules([Category("necessary", required=True), Category("analytics", trackers=TRACKERS)])
REFUSED = Consent(frozenset({"necessary"}), decided=True).allows
BANNER = b'<div id="consentgate-banner">Cookies?</div>'
#: Elements the gate classifies by their URL or ``data-consent``.
GATED = frozenset(
    ["script", "iframe", "img", "link", "embed", "object", "audio", "video", "source"]
)
_XLINK = "{http://www.w3.org/1999/xlink}"

Key = tuple[str, tuple[tuple[str, str], ...], str]


def gate(data: bytes, chunk_size: int = 0, banner: bytes | None = None, **options: Any) -> bytes:
    """``data`` through a fresh gate in ``chunk_size`` pieces (0: all at once)."""
    step = chunk_size or max(len(data), 1)
    return gate_cut(data, [*range(0, len(data), step), len(data)], banner, **options)


def gate_cut(
    data: bytes, cuts: Iterable[int], banner: bytes | None = None, **options: Any
) -> bytes:
    """``data`` through a fresh gate, cut at ``cuts`` (any order, any of them out of range)."""
    html_gate = HtmlGate(RULES, REFUSED, banner=banner, **options)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    out = [html_gate.feed(data[a:b]) for a, b in pairwise(bounds)]
    out.append(html_gate.close())
    return b"".join(out)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attrs(element: Any) -> dict[str, str]:
    # Foreign attributes as written in the markup (xlink:href), as the gate sees them.
    return {
        ("xlink:" + name[len(_XLINK) :]) if name.startswith(_XLINK) else _local(name): value
        for name, value in element.attrib.items()
    }


def refused(element: Any) -> Key | None:
    """The element's key when the refused category owns it, else None."""
    if not isinstance(element.tag, str):
        return None  # comment
    tag, attrs = _local(element.tag), _attrs(element)
    if tag not in GATED and not (tag == "noscript" and "data-consent" in attrs):
        return None
    text = ""
    category = RULES.classify_element(tag, attrs)
    if category is None and tag == "script" and not {"src", "data-src"} & attrs.keys():
        text = element.text or ""
        category = RULES.classify_inline(text.encode("utf-8", "surrogatepass"))
    if category is None or REFUSED(category):
        return None
    return tag, tuple(sorted(attrs.items())), text


def refused_elements(document: bytes, *, encoding: str | None = None) -> tuple[list[Key], str]:
    """Refused elements html5lib builds from ``document``, nested ones too, and its encoding.

    With ``encoding``, ``document`` is a fragment of a page in that encoding.
    """
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    if encoding is None:
        root = parser.parse(document)
    else:
        root = parser.parseFragment(document, override_encoding=encoding)
    found: list[Key] = []

    def walk(element: Any) -> None:
        key = refused(element)
        if key is not None:
            found.append(key)
        for child in element:
            walk(child)

    walk(root)
    return found, parser.tokenizer.stream.charEncoding[0].name


def _short(keys: Iterable[Key]) -> list[str]:
    return [f"<{tag} {dict(attrs)}>{text[:60]!r}" for tag, attrs, text in keys][:3]


def _common(a: bytes, i: int, b: bytes, j: int) -> int:
    """Length of the common prefix of ``a[i:]`` and ``b[j:]``."""
    x, y = memoryview(a)[i:], memoryview(b)[j:]
    lo, hi = 0, min(len(x), len(y))
    step = 4096
    while lo + step <= hi and x[lo : lo + step] == y[lo : lo + step]:
        lo, step = lo + step, step * 2
    hi = min(hi, lo + step)
    while lo < hi:  # x[:lo] == y[:lo]; find the first difference below hi
        mid = (lo + hi + 1) // 2
        if x[lo:mid] == y[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


_TAG_NAME = re.compile(rb"<([a-zA-Z][^\t\n\f\r />]*)")
_VOID = frozenset({b"img", b"image", b"link", b"embed", b"source"})
_SEPARATOR = b"<!---->"
_BREAKOUT = b"<span></span>"


def deleted_spans(original: bytes, gated: bytes) -> list[tuple[int, int]]:
    """The spans of ``original`` missing from ``gated``; fails if anything else changed.

    Each run must be one element: it starts at a start tag and ends after
    a ``>`` that can end that element (one of the next few, an end tag of
    the same name, or the end of the input).
    A cut right after a text ``<`` leaves an empty comment in its place, so
    that the ``<`` cannot open a tag with what follows the cut; a cut tag
    that would have ended SVG or MathML content leaves ``<span></span>``,
    which ends it just the same.
    Candidates are tried longest agreement first, backtracking when the
    rest of the output cannot be matched; html5lib then judges each run.
    """
    a, b = original, gated
    failed: set[tuple[int, int]] = set()

    def solve(i: int, j: int, depth: int = 0) -> list[tuple[int, int]] | None:
        if (i, j) in failed or depth > 5000:
            return None
        n = _common(a, i, b, j)
        tail = a[i + n : i + n + 1]
        if j + n == len(b) and tail in (b"", b"<"):  # the output is over, the rest was cut
            return [(i + n, len(a))] if tail else []
        start = a.rfind(b"<", i, i + n + 1)
        tried = 0
        while start >= 0 and tried < 4:
            jj = j + start - i
            jj = _skip_fillers(a, start, b, jj)
            for end in _ends(a, start, b, jj):
                rest = solve(end, jj, depth + 1)
                if rest is not None:
                    return [(start, end), *rest]
            start = a.rfind(b"<", i, start)
            tried += 1
        failed.add((i, j))
        return None

    cuts = solve(0, 0)
    assert cuts is not None, "the output is not the input with whole elements cut out"
    return cuts


def _skip_fillers(a: bytes, start: int, b: bytes, j: int) -> int:
    """Step over what the gate may leave in place of a cut at ``a[start]``."""
    if a[start - 1 : start] == b"<" and b.startswith(_SEPARATOR, j):
        j += len(_SEPARATOR)
    if b.startswith(_BREAKOUT, j) and re.search(rb"<(?i:svg|math)", a[:start]):
        j += len(_BREAKOUT)
    return j


_FOREIGN_OPEN = re.compile(rb"<(svg|math)[\t\n\f\r />]|</(svg|math)[\t\n\f\r />]", re.I)


def _in_foreign(a: bytes, at: int) -> bool:
    """Roughly: whether ``a[at]`` lies inside SVG or MathML (the last one opened is not closed)."""
    marks = _FOREIGN_OPEN.findall(a, 0, at)
    return bool(marks) and bool(marks[-1][0])


def _ends(a: bytes, start: int, b: bytes, j: int) -> list[int]:
    """Where a cut of the element at ``a[start]`` may end, most promising first."""
    m = _TAG_NAME.match(a, start)
    if m is None:
        return []
    name = m.group(1).lower()
    # The start tag's own ">" (a quoted value may hide it), or for an element
    # closed early by what follows (a tag that ends SVG content), a ">" or a
    # "<" soon after.
    ends: list[int] = []
    for mark, offset in ((b">", 1), (b"<", 0)):
        at = a.find(mark, start + 1)
        while at >= 0 and len(ends) < 64:
            ends.append(at + offset)
            at = a.find(mark, at + 1)
    if name not in _VOID:  # an end tag of its own, or the end of the input
        pattern = re.compile(rb"</" + re.escape(name) + rb"(?:[\t\n\f\r /][^>]*)?>|$", re.I)
        ends += [g.end() for g in pattern.finditer(a, start)]
    scored = []
    for end in ends:
        length = _common(a, end, b, j) if a[end : end + 1] == b[j : j + 1] else 0
        if j + length == len(b) or a.rfind(b"<", end, end + length + 1) >= 0:
            scored.append((-length, end))
    return [end for _, end in sorted(scored)]


def check_document(data: bytes, chunk_sizes: tuple[int, ...]) -> None:
    """Every promise of the module docstring, on one document."""
    out = gate(data)
    for size in chunk_sizes:
        assert gate(data, size) == out, f"output differs with {size}-byte chunks"
    expected, encoding = refused_elements(data)
    left = refused_elements(out)[0] if out != data else []
    assert not left, f"refused elements left: {_short(left)}"
    removed: Counter[Key] = Counter()
    for start, end in deleted_spans(data, out):
        run = data[start:end]
        assert run.startswith(b"<"), f"cut does not start at a tag: {run[:80]!r}"
        context = b"<svg>" if _in_foreign(data, start) else b""
        elements = refused_elements(context + run, encoding=encoding)[0]
        assert elements, f"cut holds no refused element: {run[:200]!r}"
        if not set(elements) <= set(expected) and _dom(data[:start] + data[end:]) == _dom(data):
            continue  # the parser drops this tag where it stands (say, <link> in <select>)
        removed.update(elements)
    missed, extra = Counter(expected) - removed, removed - Counter(expected)
    assert not missed and not extra, (
        f"missed {_short(missed.elements())}, extra {_short(extra.elements())}"
    )
    assert gate(out) == out, "gating the output again changed it"


def _dom(document: bytes) -> Any:
    """The tree html5lib builds, as nested tuples."""

    def shape(element: Any) -> Any:
        return (
            str(element.tag),
            sorted(element.attrib.items()),
            element.text,
            [shape(child) for child in element],
            element.tail,
        )

    return shape(html5lib.parse(document, namespaceHTMLElements=False))


def corpus_pages() -> list[Any]:
    pages = sorted(CORPUS.rglob("*.html")) if CORPUS.is_dir() else []
    if not pages:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))]
    return [pytest.param(path, id=path.relative_to(CORPUS).as_posix()) for path in pages]


@pytest.mark.parametrize("path", corpus_pages())
def test_corpus_page(path: Path) -> None:
    check_document(path.read_bytes(), (1024, 16 * 1024))


@pytest.mark.parametrize("size", [20 * 1024, 100 * 1024, 1024 * 1024], ids=["20k", "100k", "1m"])
def test_generated_page(size: int) -> None:
    data = generate_page(size)
    assert gate(data) != data
    check_document(data, (1, 1024, 16 * 1024) if size <= 20 * 1024 else (1024, 16 * 1024))


GA = "https://www.google-analytics.com/analytics.js"
PIXEL = "https://www.facebook.com/tr?id=1&amp;ev=PageView"
GTAG_JS = "gtag('config', 'G-1');"

# Small documents, each stressing one corner of the tokenizer.
EDGE_CASES = [
    pytest.param(f"<!-- <script src={GA}></script> --><p>x", id="commented-out"),
    pytest.param(f"<textarea><img src={PIXEL}></textarea>", id="textarea-raw-text"),
    pytest.param(f"<title><script src={GA}></script></title>", id="title-raw-text"),
    pytest.param(f"<style>/* <img src={PIXEL}> */</style>", id="style-raw-text"),
    pytest.param(f"<xmp><script>{GTAG_JS}</script></xmp>", id="xmp-raw-text"),
    pytest.param(f"<noscript><img src={PIXEL}></noscript>", id="noscript-pixel"),
    pytest.param("<SCRIPT SRC='//WWW.Google-Analytics.com/analytics.js'></SCRIPT>", id="case"),
    pytest.param("<img src='https://www&#46;google-analytics.com/collect'>", id="entity-host"),
    pytest.param(f"<img alt='a>b' src=\"{PIXEL}\">x", id="gt-in-quoted-value"),
    pytest.param(f"<img\nsrc\n=\n{PIXEL}\n/><p>x</p>", id="newlines-in-tag"),
    pytest.param(f"<script src=/app.js src={GA}></script>", id="duplicate-attribute"),
    pytest.param(f"<script><!--<script>{GTAG_JS}</script>--></script>x", id="double-escape"),
    pytest.param(f"<script>var s = '</scr' + 'ipt>'; {GTAG_JS}</script><p>x", id="split-end"),
    pytest.param(f"<script>{GTAG_JS}", id="script-to-eof"),
    pytest.param(f"<iframe src={GA}>abc", id="iframe-to-eof"),
    pytest.param(f"<table><tr><td><img src={PIXEL}></table>", id="table"),
    pytest.param(f"<table><img src={PIXEL}></table>", id="foster-parented"),
    pytest.param(f"<svg><script href='{GA}'></script></svg><p>x", id="svg-script-src"),
    pytest.param(f"<math><mtext><script>{GTAG_JS}</script></mtext></math>", id="mathml-ip"),
    pytest.param(f"<svg><desc><img src={PIXEL}></desc></svg>", id="svg-desc"),
    pytest.param(f"<svg><p><script>{GTAG_JS}</script></svg>", id="svg-breakout"),
    pytest.param(f"<svg><![CDATA[<script>{GTAG_JS}</script>]]></svg>", id="svg-cdata"),
    pytest.param(f"<plaintext><script src={GA}></script>", id="plaintext"),
    pytest.param(f"<template><img src={PIXEL}></template>", id="template"),
    pytest.param(f"<object data={GA}><img src={PIXEL}></object>x", id="object"),
    pytest.param(f"<video><source src={GA}></video>", id="video-source"),
    pytest.param('<script data-consent="analytics">var x = 1;</script>', id="data-consent"),
    pytest.param('<script data-consent="nope">var x = 1;</script>', id="unknown-consent"),
    pytest.param(f"<script>/* gtag */ {GTAG_JS}</script>" * 3, id="repeated"),
    pytest.param("<p>gtag('x') &lt;script&gt;</p>", id="text-only"),
    pytest.param(f"<<img src={PIXEL}>script>alert(1)</script>", id="lone-lt-before-cut"),
    pytest.param(f"<svg><img src={PIXEL}><p>x</p>", id="svg-breakout-cut"),
    pytest.param(f"<svg><script src={GA}><body><p>x", id="svg-script-ended-by-breakout"),
    pytest.param(f"<select><link href={GA}><option>x</select>", id="select-drops-link"),
    pytest.param(f"<svg><link href={GA}><link href={GA}></svg>", id="svg-link-nested"),
    pytest.param(
        f"<select><style><script src={GA}></script></select>",
        id="select-ignores-style",
        marks=pytest.mark.xfail(
            strict=True,
            reason="<select> parsing is not modelled: the parser drops <style> there, "
            "so the script after it is live",
        ),
    ),
    pytest.param(f"<svg><script>{GTAG_JS}</script></svg>", id="svg-inline-script"),
]


@pytest.mark.parametrize("document", EDGE_CASES)
def test_edge_case(document: str) -> None:
    data = f"<!DOCTYPE html><html><head></head><body>{document}</body></html>".encode()
    check_document(data, (1, 2, 3, 7, 1024))


# Random HTML-like input: pieces of markup that matter to the gate, in any order.
_PIECES = st.sampled_from(
    [
        "<script>", "</script>", "<script src=", f"<script src={GA}>", f"{GTAG_JS}",
        "<img src=", f"'{PIXEL}'", ">", "<", "/>", "<!--", "-->", "--!>", "<!", "<?x",
        "<iframe>", "</iframe>", "<noscript>", "</noscript>", "<svg>", "</svg>",
        "<math>", "<mtext>", "<desc>", "<![CDATA[", "]]>", "<textarea>", "</textarea>",
        "<style>", "</style>", "<title>", "<plaintext>", "</body>", "<body>",
        '<div id="consentgate-banner">', " data-consent=analytics", " a='", '"', "=",
        "<link href=//www.google-analytics.com>", "&amp;", "&#46;", "\n", " ", "x",
        "<p>", "</p>", "<table>", "<select>", "é", "\x00",
    ]
)  # fmt: skip
_DOCUMENTS = st.lists(_PIECES | st.text(max_size=5), max_size=40).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
) | st.binary(max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DOCUMENTS, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_random_input_split_anywhere(data: bytes, cuts: list[int]) -> None:
    whole = gate(data, banner=BANNER)
    assert gate_cut(data, cuts, BANNER) == whole
    assert len(whole) <= len(data) + len(BANNER)


@settings(max_examples=100, deadline=None)
@given(data=_DOCUMENTS)
def test_random_input_one_byte_at_a_time(data: bytes) -> None:
    assert gate(data, 1, banner=BANNER) == gate(data, banner=BANNER)


_LONG = "x" * 2000
_TRACKER = f"<script src={GA}></script>"
#: Markup longer than the 1 KB cap the next tests give the gate.
_LONG_PIECES = st.sampled_from(
    [
        '<p title="%s">', "<p title='%s'>", "<p a=%s b>", '<div class="a" data-x="%s"\n id=y>',
        '</p x="%s">', '<svg><path d="%s"/></svg>', '<img alt="%s" src=x>', "<script>%s</script>",
        "<!--%s-->", '<p title="a>%s<b>" c=d>',
    ]
).map(lambda form: form % ("x" * 1100))  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_PIECES | _LONG_PIECES | st.text(max_size=5), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=8),
    banner=st.sampled_from([None, BANNER]),
)
def test_random_input_with_long_tags_split_anywhere(
    parts: list[str], cuts: list[int], banner: bytes | None
) -> None:
    """Past max_buffer the gate passes a tag on or stops, the same however it arrives."""
    data = "".join(parts).encode("utf-8", "surrogatepass")
    assert gate_cut(data, cuts, banner, max_buffer=1024) == gate(data, 0, banner, max_buffer=1024)


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param(f'<p title="{_LONG}">t</p>', id="double-quoted"),
        pytest.param(f"<p title='{_LONG}'>t</p>", id="single-quoted"),
        pytest.param(f"<p title={_LONG} lang=en>t</p>", id="unquoted"),
        pytest.param(f'<p title="a>b" data-x="{_LONG}" id=c>t</p>', id="gt-in-value"),
        pytest.param(f"<p a = \"{_LONG}\" b='{_LONG}' c={_LONG}>t</p>", id="several"),
        pytest.param(
            f'<p data-json="{_LONG}<script src={GA}></script>">t</p>', id="markup-in-value"
        ),
        pytest.param(f'<p\n  class="a"\n  title="{_LONG}"\n/>t', id="newlines"),
        pytest.param(f'</p title="{_LONG}">', id="end-tag"),
        pytest.param(
            f'<svg><foreignObject><p title="{_LONG}">t</p></foreignObject></svg>', id="in-svg-html"
        ),
        pytest.param(f'<svg><g title="{_LONG}"></g><path d="{_LONG}"/></svg>', id="in-svg"),
    ],
)
def test_a_tag_longer_than_max_buffer_streams_as_it_comes(markup: str) -> None:
    """An ordinary tag longer than the cap passes on as it streams; the gate goes on."""
    data = f"<body>{markup}{_TRACKER}<p>end</p></body>".encode()
    warnings: list[str] = []
    expected = f"<body>{markup}<p>end</p></body>".encode()
    for chunk_size in (1, 7, 100, 512, 1000, len(data)):
        out = gate(data, chunk_size, max_buffer=1024, warn=warnings.append)
        assert out == expected, chunk_size
    assert warnings == []


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param(f'<img alt="{_LONG}" src={GA}>', id="gated-tag"),
        pytest.param(f'<video src={GA}><p title="{_LONG}">t</p></video>', id="in-removed"),
    ],
)
def test_a_long_tag_the_gate_must_read_whole_stops_it_chunked_or_not(markup: str) -> None:
    """A tag the gate must read whole stops it, with a warning, however it arrives."""
    data = f"<body>{markup}{_TRACKER}</body>".encode()
    outputs = set()
    for chunk_size in (100, 512, len(data)):
        warnings: list[str] = []
        outputs.add(gate(data, chunk_size, BANNER, max_buffer=1024, warn=warnings.append))
        assert len(warnings) == 1 and "max_buffer" in warnings[0]
    assert len(outputs) == 1
    assert _TRACKER.encode() in outputs.pop()  # the rest of the page passed through
