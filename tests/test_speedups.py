"""The compiled scanner (``consentgate._speedups``) against the pure-Python gate.

The scanner walks tokens in front of each skipper pattern and must stop only at token
boundaries the pattern's own loop passes. Proven three ways: the pattern's match from
where the scanner stopped equals its match from where the scanner started (random
markup, every skipper); the gate's output with the scanner equals its output with the
patterns alone (random markup and chunkings, in process); and the output of the real
fallback (``CONSENTGATE_PURE=1``, in a subprocess) equals the compiled one on the
html5lib-tests documents and the shared corpus at 1 B, 1 KB, 16 KB and whole-document
chunks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate import rewriter, speedups, tokens
from tests.differential import CORPUS, documents
from tests.test_conformance import _DOCUMENTS, BANNER, gate_cut
from tests.test_rewriter import ALPHABET, FakeEmbeds, FakeRules

ROOT = Path(__file__).resolve().parents[1]
#: Widget classes for the skipper that also stops at widgets (:func:`tokens.fast_widgets`).
CLASSES = ("twitter-tweet", "post")

if not speedups.ACCELERATED:
    if os.environ.get("CI") == "true" and not os.environ.get(speedups.PURE_ENV):
        pytest.fail("CI: consentgate._speedups was not built", pytrace=False)
    pytest.skip(
        "the compiled scanner is not in use (no C compiler at install, or CONSENTGATE_PURE)",
        allow_module_level=True,
    )


def skippers() -> dict[str, speedups.Skipper]:
    return {
        "FAST": tokens.FAST,
        "FAST_PLACED": tokens.FAST_PLACED,
        "FOREIGN": tokens.FOREIGN,
        "SLOW": tokens.SLOW,
        "UNSURE": tokens.UNSURE,
        "widgets": tokens.fast_widgets(CLASSES),
        "widgets, placed": tokens.fast_widgets(CLASSES, False),
    }


# Markup that reaches each of the scanner's decisions: quiet tags with and without the
# attribute that loads, any case, widgets, comments, declarations, cut-off tokens.
_TOKENS = st.sampled_from(
    [
        "<td>", "<TD>", "<td background=x.png>", "<td BACKGROUND = 'x'>", "<tr class=a>",
        "<meta charset=utf-8>", '<meta http-equiv="refresh" content=1>', "<input src=x>",
        "<input type=text>", "<body>", "</body>", "</BODY x>", "<div class=post>",
        "<div CLASS = 'a post'>", '<blockquote class="twitter-tweet">', "<div class=posts>",
        "<div data-x='class=post'>", "<DIV class=post>", "<p>", "</p>", "<a href=x/>",
        "<a b = \"c\" d='e' f=g h>", "<!---->", "<!--->", "<!-->", "<!-- x --!>", "--", "->",
        "<!doctype html>", "<![CDATA[x]]>", "<?pi x>", "</ x>", "</>", "< ", "<<", "<", "/",
        "=", "\"", "'", ">", " ", "\n", "x", "<script>", "</script>", "<svg>", "</svg>",
        "<style>", "</style>", "<img src=x>", "<use href=#a>", "<path d=1/>", "<tdx>", "é",
    ]
)  # fmt: skip
MARKUP = (
    st.lists(_TOKENS | st.sampled_from(ALPHABET) | st.text(max_size=4), max_size=40).map(
        lambda parts: b"".join(p if isinstance(p, bytes) else p.encode() for p in parts)
    )
    | _DOCUMENTS
)


def _groups(m: re.Match[bytes]) -> object:
    return (m.end(), m.lastindex, tuple(m.regs[1:]))


def _pattern_scan(pattern: re.Pattern[bytes], doc: bytes, pos: int, end: int) -> list[object]:
    """The pattern's matches from pos, each from where the last ended, up to an empty one."""
    found = []
    while True:
        m = pattern.match(doc, pos, end)
        assert m is not None
        found.append(_groups(m))
        if m.end() == pos:
            return found
        pos = m.end()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=MARKUP, start=st.integers(min_value=0, max_value=60), cut=st.integers(min_value=0))
def test_the_scanner_matches_as_its_pattern(doc: bytes, start: int, cut: int) -> None:
    end = cut % (len(doc) + 1)
    start = min(start, end)
    for name, scanner in skippers().items():
        pattern = scanner.pattern  # type: ignore[attr-defined]
        stop = scanner.skip(doc, start, end)  # type: ignore[attr-defined]
        assert start <= stop <= end, name
        assert _groups(pattern.match(doc, stop, end)) == _groups(pattern.match(doc, start, end))
        compiled = [_groups(m) for m in scanner.finditer(doc, start, end)]
        assert compiled == _pattern_scan(pattern, doc, start, end), name


def test_other_buffers_go_to_the_pattern() -> None:
    doc = b"<p>a<img src=x><script>b</script>"
    for scanner in skippers().values():
        pattern = scanner.pattern  # type: ignore[attr-defined]
        got = [_groups(m) for m in scanner.finditer(bytearray(doc), 0, len(doc))]  # type: ignore[arg-type]
        assert got == [_groups(m) for m in pattern.finditer(bytearray(doc), 0, len(doc))]


def test_hostile_input_is_walked_in_linear_steps() -> None:
    # Long runs of what each walk loops over: attributes, comments, "<", cut-off tags.
    for doc in (
        b"<p " + b"a=b " * 20_000 + b">",
        b"<!--" + b"-" * 40_000,
        b"<" * 40_000,
        b"<style>" + b"</styl" * 10_000,
        b"<script>" + b"<!-" * 10_000 + b"</script>",
    ):
        for scanner in skippers().values():
            pattern = scanner.pattern  # type: ignore[attr-defined]
            assert _groups(next(scanner.finditer(doc, 0, len(doc)))) == _groups(
                pattern.match(doc, 0, len(doc))
            )


#: The searches for where the banner or the markup meant to run first may go.
FINDERS = ("BODY_START", "FIRST_START", "FIRST_OR_BODY")
# Names each search decides on: passed or not, in any case, cut off by the end, longer
# than any name it knows, end tags of the body and the inert elements.
_NAMED = st.sampled_from(
    [
        "<html>", "<HEAD>", "<meta", "<meta ", "<Meta\n", "<title>", "<TITLE/", "<base",
        "<basefont>", "<bases>", "<link", "<linkx>", "<style>", "<script>", "<noframes>",
        "<frameset>", "<bgsound>", "<body>", "</body>", "</BODY ", "</body", "</bodyx>",
        "</template>", "</noscript\t", "</p>", "<p", "<x" + "y" * 40, "<" + "b" * 31 + ">",
        "<a\x00>", "<h\xc3\xa9ad>", "</ body>", "<!--<body>-->", "<1>", "</", "<",
    ]
)  # fmt: skip
FINDER_MARKUP = st.lists(_NAMED | _TOKENS | st.text(max_size=3), max_size=30).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogateescape")
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=FINDER_MARKUP | MARKUP, start=st.integers(min_value=-2, max_value=80))
def test_the_tag_finders_find_what_their_patterns_find(doc: bytes, start: int) -> None:
    for name in FINDERS:
        finder = getattr(tokens, name)
        expected = speedups._TagSearch(finder.pattern).find(doc, max(start, 0))
        assert finder.find(doc, start) == expected, name


def test_the_tag_finders_walk_hostile_input_in_linear_steps() -> None:
    for doc in (b"<" * 50_000, b"<p" * 30_000, b"<meta " * 20_000, b"<" + b"x" * 100_000):
        for name in FINDERS:
            finder = getattr(tokens, name)
            assert finder.find(doc, 0) == speedups._TagSearch(finder.pattern).find(doc, 0)


def searchers() -> dict[str, speedups.Searcher]:
    found = {"COMMENT_END": tokens.COMMENT_END, "RAW_END_ANY": tokens.RAW_END_ANY}
    found |= {f"SCRIPT[{i}]": finder for i, finder in enumerate(tokens.SCRIPT)}
    return found | {f"raw_end({n})": tokens.raw_end(n) for n in sorted(tokens.RAW)}


def _found(m: re.Match[bytes] | None) -> object:
    return None if m is None else (m.span(), m.regs, m.lastindex)


# Text that reaches each alternative of the searches, whole, cut off and in any case.
_TEXT = st.sampled_from(
    [
        "</script>", "</SCRIPT ", "</script", "</scripts>", "<script>", "<Script/", "<!--",
        "<!-", "-->", "--!>", "--!", "->", "--", "-", "<", "</", "</style\t", "</StYlE>",
        "</title\f", "</textarea/", "</xmp\r", "</iframe\n", "</noembed>", "</noframes>",
        "</styles", "<style>", "x", " ", ">", "é", "\x00",
    ]
)  # fmt: skip
TEXT = st.lists(_TEXT | st.text(max_size=3), max_size=30).map(lambda p: "".join(p).encode())


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=TEXT, start=st.integers(min_value=0, max_value=40))
def test_the_finders_search_as_their_patterns(doc: bytes, start: int) -> None:
    for name, finder in searchers().items():
        pattern = finder.pattern  # type: ignore[attr-defined]
        for pos in (start, 0):
            assert _found(finder.search(doc, pos)) == _found(pattern.search(doc, pos)), name


def test_finders_on_hostile_and_other_buffers() -> None:
    for doc in (b"<" * 40_000, b"-" * 40_000 + b">", b"</scrip" * 10_000, b"<!-" * 10_000):
        for name, finder in searchers().items():
            pattern = finder.pattern  # type: ignore[attr-defined]
            assert _found(finder.search(doc, 1)) == _found(pattern.search(doc, 1)), name
    other = bytearray(b"a</style>b--><!--</script>")
    for finder in searchers().values():
        pattern = finder.pattern  # type: ignore[attr-defined]
        assert _found(finder.search(other, 0)) == _found(pattern.search(other, 0))  # type: ignore[arg-type]


def test_finders_are_in_use() -> None:
    assert all(not isinstance(f, re.Pattern) for f in searchers().values())


# Markup that reaches each step of tag_limit: tags cut off and whole, "<" that opens
# nothing, quoted values holding markup, "=" before a quote or not.
_LIMITS = st.sampled_from(
    ["<p", "<P ", "</a", "</", "<", "<1", "<!--", ">", "<a href=", '"', "'", '="', "='", "=",
     '<i title="<b>">', "<b>", " ", "x", "/", "{\"h\":\"<p>\"}"]
)  # fmt: skip
LIMITS = st.lists(_LIMITS | st.text(max_size=2), max_size=40).map(lambda p: "".join(p).encode())


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=LIMITS, start=st.integers(min_value=0), cut=st.integers(min_value=0))
def test_tag_limit_is_its_reference(doc: bytes, start: int, cut: int) -> None:
    end = cut % (len(doc) + 1)
    pos = start % (end + 1)
    assert tokens.tag_limit(doc, pos, end) == tokens._tag_limit(doc, pos, end)
    assert tokens.tag_limit(doc, 0, len(doc)) == tokens._tag_limit(doc, 0, len(doc))


def test_tag_limit_is_compiled() -> None:
    assert tokens.tag_limit is not tokens._tag_limit
    with pytest.raises(ValueError):
        tokens.tag_limit(b"<p", 2, 1)


@contextlib.contextmanager
def pure_gate() -> Iterator[None]:
    """The rewriter with the bare patterns, as ``CONSENTGATE_PURE=1`` runs it."""
    with pytest.MonkeyPatch.context() as patch:
        placed = tokens.FAST_PLACED.pattern  # type: ignore[attr-defined]
        patch.setattr(rewriter.HtmlGate, "_fast", placed)
        patch.setattr(rewriter.HtmlGate, "_fast_placed", placed)
        for name in ("FAST", "FOREIGN", "SLOW", "UNSURE"):
            patch.setattr(rewriter, name, getattr(tokens, name).pattern)
        for name in FINDERS:
            patch.setattr(rewriter, name, speedups._TagSearch(getattr(tokens, name).pattern))
        patch.setattr(
            rewriter,
            "fast_widgets",
            lambda c, *end: tokens.fast_widgets(c, *end).pattern,  # type: ignore[attr-defined]
        )
        for name in ("COMMENT_END", "RAW_END_ANY"):
            patch.setattr(rewriter, name, getattr(tokens, name).pattern)
        # Keys as the pure rewriter looks them up: GT is a bare pattern already (its own
        # .pattern is its bytes), COMMENT_END the pattern a compiled finder fronts.
        unsure = {
            (k if isinstance(k, re.Pattern) else k.pattern): v  # type: ignore[attr-defined]
            for k, v in tokens.UNSURE_ENDS.items()
        }
        patch.setattr(rewriter, "UNSURE_ENDS", unsure)
        patch.setattr(rewriter, "SCRIPT", tuple(f.pattern for f in tokens.SCRIPT))  # type: ignore[attr-defined]
        ends = {n: tokens.raw_end(n).pattern for n in tokens.RAW}  # type: ignore[attr-defined]
        patch.setattr(rewriter, "raw_end", ends.__getitem__)
        patch.setattr(rewriter, "tag_limit", tokens._tag_limit)
        yield


def _gate(doc: bytes, bounds: list[int], embeds: bool, first: bool) -> bytes:
    options: dict[str, object] = {"embeds": FakeEmbeds()} if embeds else {}
    if first:
        options["first"] = b"<script>F</script>"
    return gate_cut(doc, bounds, BANNER, **options)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=MARKUP,
    cuts=st.lists(st.integers(min_value=0), max_size=8),
    embeds=st.booleans(),
    first=st.booleans(),
)
def test_compiled_and_pure_gates_give_the_same_bytes(
    doc: bytes, cuts: list[int], embeds: bool, first: bool
) -> None:
    every = list(range(len(doc)))
    for bounds in (cuts, every, []):
        compiled = _gate(doc, bounds, embeds, first)
        with pure_gate():
            assert _gate(doc, bounds, embeds, first) == compiled


def test_the_pure_swap_reaches_every_skipper() -> None:
    # The in-process differential test above is only as good as this swap.
    with pure_gate():
        for banner in (None, BANNER):
            gate = rewriter.HtmlGate(FakeRules(), bool, embeds=FakeEmbeds(), banner=banner)
            assert isinstance(gate._fast, re.Pattern)
            assert isinstance(gate._fast_placed, re.Pattern)
            assert isinstance(rewriter.HtmlGate(FakeRules(), bool, banner=banner)._fast, re.Pattern)
        names = ("FAST", "FOREIGN", "SLOW", "UNSURE", "COMMENT_END", "RAW_END_ANY")
        assert all(isinstance(getattr(rewriter, n), re.Pattern) for n in names)
        assert all(isinstance(p, re.Pattern) for p in rewriter.SCRIPT)  # type: ignore[attr-defined]
        assert all(isinstance(rewriter.raw_end(n), re.Pattern) for n in tokens.RAW)  # type: ignore[attr-defined]
        assert rewriter.tag_limit is tokens._tag_limit  # type: ignore[attr-defined]
        assert all(isinstance(getattr(rewriter, n), speedups._TagSearch) for n in FINDERS)
        waiting = rewriter.HtmlGate(FakeRules(), bool, banner=BANNER, first=b"F")
        assert isinstance(waiting._finder, speedups._TagSearch)
    assert not isinstance(rewriter.HtmlGate(FakeRules(), bool)._fast, re.Pattern)
    assert not any(isinstance(getattr(rewriter, n), speedups._TagSearch) for n in FINDERS)


def test_pure_env_forces_the_fallback() -> None:
    code = "import consentgate, consentgate.tokens as t, consentgate.speedups as s, re; "
    code += "print(consentgate.accelerated, isinstance(t.FAST, re.Pattern), "
    code += "isinstance(t.BODY_START, s._TagSearch))"
    env = {**os.environ, speedups.PURE_ENV: "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "True"]


def test_the_accelerated_flag_says_which_runs() -> None:
    import consentgate

    assert consentgate.accelerated is True
    assert not isinstance(tokens.FAST, re.Pattern)


def _digests(pure: bool) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != speedups.PURE_ENV}
    if pure:
        env[speedups.PURE_ENV] = "1"
    command = [sys.executable, "-m", "tests.differential"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)


def test_compiled_and_pure_agree_on_every_document_and_chunking() -> None:
    if not CORPUS.is_dir():
        print(f"note: {CORPUS} is absent; only the html5lib-tests documents are compared")
    runs = [_digests(False), _digests(True)]  # one per core
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    compiled, pure = (json.loads(out) for out in outputs)
    assert compiled.keys() == pure.keys()
    differ = sorted(k for k in compiled if compiled[k] != pure[k])
    assert not differ, differ[:20]


def test_documents_cover_the_corpus_when_present() -> None:
    names = [name for name, _ in documents()]
    assert len(names) > 1000
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus ({CORPUS}) is absent: html5lib-tests documents only")
    assert sum(n.startswith("corpus:") for n in names) >= 100
