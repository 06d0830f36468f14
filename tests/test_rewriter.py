"""The streaming HTML gate: what it removes, activates and injects, and what it must not touch.

Most cases use a small fake of the rules (sources matched by substring, a few inline
signatures) so each expectation is plain to read; a few at the end use the real
:class:`~consentgate.rules.Rules`, and the corpus tests run real pages when the shared
corpus is present.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate import rewriter
from consentgate.rewriter import HtmlGate
from consentgate.tokens import decode_attrs

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GA = b"https://www.google-analytics.com/analytics.js"
BANNER = b'<div id="consentgate-banner">Cookies?</div>'


class FakeRules:
    """Sources by substring of the URL, inline scripts by a handful of signatures."""

    sources: ClassVar[dict[str, str]] = {
        "google-analytics.com": "analytics",
        "googletagmanager.com": "analytics",
        "facebook.com/tr": "marketing",
        "connect.facebook.net": "marketing",
        "youtube.com": "media",
    }
    signatures: ClassVar[dict[bytes, str]] = {
        b"gtag(": "analytics",
        b"_paq.push": "analytics",
        b"fbq(": "marketing",
    }
    inline_overlap = max(map(len, signatures)) - 1
    _inline = re.compile(b"|".join(map(re.escape, signatures)))
    _hint = re.compile(
        b"|".join([rb"(?i:data-consent|data-src)", b"&", *(re.escape(s.encode()) for s in sources)])
    )

    def may_classify(self, tag: bytes) -> bool:
        return self._hint.search(tag) is not None

    def based(self, href: str) -> FakeRules:
        return self

    def classify_element(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        if "data-consent" in attrs:
            return attrs["data-consent"].strip()
        for name in ("src", "data-src", "href", "data", "background"):
            url = attrs.get(name, "")
            for pattern, category in self.sources.items():
                if url and pattern in url:
                    return category
        return None

    def classify_tag(self, tag: str, raw: bytes) -> str | None:
        return self.classify_element(tag, decode_attrs(raw))

    def classify_inline(self, text: bytes) -> str | None:
        m = self._inline.search(text)
        return self.signatures[m.group()] if m else None


def run(
    doc: bytes,
    allowed: Iterable[str] = (),
    *,
    banner: bytes | None = None,
    chunk: int = 0,
    rules: object = None,
    **options: object,
) -> bytes:
    """``doc`` through a fresh gate, whole or in ``chunk``-byte pieces."""
    granted = frozenset(allowed)
    gate = HtmlGate(rules or FakeRules(), granted.__contains__, banner=banner, **options)  # type: ignore[arg-type]
    step = chunk or max(len(doc), 1)
    out = [gate.feed(doc[i : i + step]) for i in range(0, len(doc), step)]
    return b"".join(out) + gate.close()


def run_all(doc: bytes, **kwargs: object) -> bytes:
    """Like :func:`run`, checking first that 1-byte and 7-byte chunks give the same."""
    whole = run(doc, **kwargs)  # type: ignore[arg-type]
    for chunk in (1, 7):
        assert run(doc, chunk=chunk, **kwargs) == whole, f"{chunk}-byte chunks differ"  # type: ignore[arg-type]
    return whole


REMOVAL = [
    pytest.param(b'<p>a<script src="' + GA + b'"></script>b</p>', b"<p>ab</p>", id="script-src"),
    pytest.param(b"<p>a<script async src='" + GA + b"'>x</script>b", b"<p>ab", id="script-single"),
    pytest.param(b"a<script src=" + GA + b">x</script >b", b"ab", id="script-unquoted"),
    pytest.param(b'a<SCRIPT SRC="' + GA + b'"></ScRiPt>b', b"ab", id="script-upper"),
    pytest.param(b'a<script src="x.js" data-consent="analytics"></script>b', b"ab", id="consent"),
    pytest.param(b"a<script data-consent=nope>x()</script>b", b"ab", id="unknown-category"),
    pytest.param(b"a<script>gtag('js', new Date());</script>b", b"ab", id="inline-gtag"),
    pytest.param(b"a<script>var _paq=[];_paq.push(['x'])</script>b", b"ab", id="inline-matomo"),
    pytest.param(
        b"a<script>var x = 1;</script>b", b"a<script>var x = 1;</script>b", id="inline-kept"
    ),
    pytest.param(b'a<iframe src="https://youtube.com/e/1">no frames</iframe>b', b"ab", id="iframe"),
    pytest.param(b'a<img src="https://facebook.com/tr?id=1" alt="">b', b"ab", id="img"),
    pytest.param(b'a<image src="https://facebook.com/tr?id=1">b', b"ab", id="image-is-img"),
    pytest.param(
        b'a<link rel="preconnect" href="https://www.googletagmanager.com">b', b"ab", id="link"
    ),
    pytest.param(b'a<embed src="https://youtube.com/v">b', b"ab", id="embed"),
    pytest.param(b'a<img src="x.png" data-src="https://facebook.com/tr">b', b"ab", id="data-src"),
    pytest.param(b'a<img src="https://facebook.com&#47;tr">b', b"ab", id="entity-in-url"),
    pytest.param(
        b'a<object data="https://youtube.com/v"><object><param></object>x</object>b',
        b"ab",
        id="object-nested",
    ),
    pytest.param(
        b'a<video data-consent="media"><VIDEO></video><source src=x></video>b', b"ab", id="video"
    ),
    pytest.param(b'a<audio src="https://youtube.com/a"><source>b', b"a", id="unclosed-to-end"),
    pytest.param(
        b'a<noscript data-consent="marketing"><img src=x></noscript>b', b"ab", id="noscript"
    ),
    pytest.param(
        b"a<noscript><p>kept</p></noscript>b",
        b"a<noscript><p>kept</p></noscript>b",
        id="noscript-plain",
    ),
    pytest.param(
        b'<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-1" height="0">'
        b"</iframe><p>kept</p></noscript>",
        b"<noscript><p>kept</p></noscript>",
        id="gtm-noscript",
    ),
    pytest.param(
        b'<noscript><img height="1" src="https://www.facebook.com/tr?id=1&amp;ev=PageView"/></noscript>',
        b"<noscript></noscript>",
        id="pixel-noscript",
    ),
    pytest.param(b"a<script>gtag(1)", b"a", id="unclosed-inline"),
    pytest.param(b'a<script src="' + GA + b'">x', b"a", id="unclosed-src"),
    pytest.param(b"a<script>gtag(</script foo='>'>b", b"ab", id="end-tag-attrs"),
    pytest.param(b"a<script>fbq(1)</script>b", b"ab", id="other-category"),
    # The site's mark gates the tags the skippers pass when they cannot load anything.
    pytest.param(b'a<input data-consent="analytics" value=t>b', b"ab", id="marked-input"),
    pytest.param(b"a<META Data-Consent=analytics name=t>b", b"ab", id="marked-meta"),
    pytest.param(
        b'a<svg><use data-consent=analytics href="#i"/></svg>b', b"a<svg></svg>b", id="marked-use"
    ),
]


@pytest.mark.parametrize(("doc", "expected"), REMOVAL)
def test_removes_refused_elements(doc: bytes, expected: bytes) -> None:
    assert run_all(doc) == expected


@pytest.mark.parametrize(("doc", "_"), REMOVAL)
def test_granted_elements_are_untouched(doc: bytes, _: bytes) -> None:
    everything = ("analytics", "marketing", "media", "nope")
    assert run_all(doc, allowed=everything) == doc


ACTIVATION = [
    pytest.param(
        b'<script type="text/plain" data-consent="analytics" src="' + GA + b'"></script>',
        b'<script data-consent="analytics" src="' + GA + b'"></script>',
        id="type-dropped",
    ),
    pytest.param(
        b'<script data-consent="analytics" TYPE="Text/Plain">gtag(1)</script>',
        b'<script data-consent="analytics">gtag(1)</script>',
        id="type-last-inline",
    ),
    pytest.param(
        b'<script type="text/plain" data-type="module" data-consent="analytics">x</script>',
        b'<script type="module" data-type="module" data-consent="analytics">x</script>',
        id="data-type",
    ),
    pytest.param(
        b'<script type=text/plain data-consent=analytics data-src="' + GA + b'"></script>',
        b'<script data-consent=analytics src="' + GA + b'"></script>',
        id="data-src-renamed",
    ),
    pytest.param(
        b'<iframe DATA-SRC="https://youtube.com/e" width=5></iframe>',
        b'<iframe src="https://youtube.com/e" width=5></iframe>',
        id="iframe-data-src",
    ),
    pytest.param(
        b'<img src="a.png" data-src="https://facebook.com/tr">',
        b'<img src="a.png" data-src="https://facebook.com/tr">',
        id="src-already-there",
    ),
    pytest.param(
        b'<script type="text/plain" src="' + GA + b'"></script>',
        b'<script type="text/plain" src="' + GA + b'"></script>',
        id="text-plain-without-data-consent",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), ACTIVATION)
def test_activates_accepted_neutralised_elements(doc: bytes, expected: bytes) -> None:
    gate = HtmlGate(FakeRules(), lambda category: True)
    assert gate.feed(doc) + gate.close() == expected
    assert gate.changed is (doc != expected)
    assert run_all(doc, allowed=("analytics", "marketing", "media")) == expected


def test_neutralised_element_refused_is_removed() -> None:
    doc = b'a<script type="text/plain" data-consent="analytics" data-src="x.js"></script>b'
    assert run_all(doc) == b"ab"


TA = b"<script src=" + GA + b"></script>"  # a tracker, to show where the gate sees markup
TRICKY = [
    pytest.param(b"<!-- " + TA + b" -->" + TA, b"<!-- " + TA + b" -->", id="comment"),
    pytest.param(b"<!-->" + TA, b"<!-->", id="comment-abrupt"),
    pytest.param(b"<!--->" + TA, b"<!--->", id="comment-abrupt-dash"),
    pytest.param(b"<!-- x --!>" + TA, b"<!-- x --!>", id="comment-bang-end"),
    pytest.param(b"<!--!>" + TA + b"-->", b"<!--!>" + TA + b"-->", id="comment-bang-not-end"),
    pytest.param(
        b"<!-- a -- b ->" + TA + b"-->", b"<!-- a -- b ->" + TA + b"-->", id="comment-dashes"
    ),
    pytest.param(b'<?xml version="1.0"?>' + TA, b'<?xml version="1.0"?>', id="bogus-pi"),
    # A bogus comment ends at the first ">": here the script start tag's, so no script.
    pytest.param(b"<? " + TA, b"<? " + TA, id="bogus-pi-swallows-tag"),
    pytest.param(b"<!x " + TA, b"<!x " + TA, id="bogus-bang"),
    pytest.param(b"</ " + TA, b"</ " + TA, id="bogus-end"),
    pytest.param(b"<!x>" + TA, b"<!x>", id="bogus-bang-closed"),
    pytest.param(b"</>" + TA, b"</>", id="empty-end-tag"),
    pytest.param(b"<!DOCTYPE html>" + TA, b"<!DOCTYPE html>", id="doctype"),
    pytest.param(
        b"<svg><![CDATA[" + TA + b"]]></svg>" + TA,
        b"<svg><![CDATA[" + TA + b"]]></svg>",
        id="cdata-in-svg",
    ),
    pytest.param(b"<![CDATA[ a > " + TA + b"]]>", b"<![CDATA[ a > ]]>", id="cdata-in-html"),
    pytest.param(b"<style>" + TA + b"</style>" + TA, b"<style>" + TA + b"</style>", id="style"),
    pytest.param(b"<title>" + TA + b"</title>" + TA, b"<title>" + TA + b"</title>", id="title"),
    pytest.param(
        b"<textarea>" + TA + b"</textarea>", b"<textarea>" + TA + b"</textarea>", id="textarea"
    ),
    pytest.param(b"<xmp>" + TA + b"</XMP >" + TA, b"<xmp>" + TA + b"</XMP >", id="xmp"),
    pytest.param(
        b"<noembed>" + TA + b"</noembed>", b"<noembed>" + TA + b"</noembed>", id="noembed"
    ),
    pytest.param(
        b"<noframes>" + TA + b"</noframes>", b"<noframes>" + TA + b"</noframes>", id="noframes"
    ),
    pytest.param(
        b"<plaintext>" + TA + b"</plaintext>" + TA,
        b"<plaintext>" + TA + b"</plaintext>" + TA,
        id="plaintext",
    ),
    pytest.param(
        b"<style>a</stylex>" + TA + b"</style>",
        b"<style>a</stylex>" + TA + b"</style>",
        id="rawtext-near-end",
    ),
    pytest.param(
        b"<script>var s = '<script src=" + GA + b">';</script>",
        b"<script>var s = '<script src=" + GA + b">';</script>",
        id="script-in-js-string",
    ),
    pytest.param(
        b"<script><!--<script>x</script>gtag(1)</script>-->y</script>z",
        b"-->y</script>z",  # the first </script> is double-escaped, the second ends it
        id="double-escaped",
    ),
    pytest.param(b"<script><!-- x </script>" + TA, b"<script><!-- x </script>", id="escaped-ends"),
    pytest.param(
        b"<script><!--<script>--></script>" + TA,
        b"<script><!--<script>--></script>",
        id="double-escape-closed-by-dashes",
    ),
    pytest.param(
        b"<script><!--<script></script>-->x</script>" + TA,
        b"<script><!--<script></script>-->x</script>",
        id="double-escape-then-escaped",
    ),
    pytest.param(b"<script><!--></script>" + TA, b"<script><!--></script>", id="escape-abrupt"),
    pytest.param(b"<script></scriptx>gtag(1)</script>b", b"b", id="script-end-needs-delimiter"),
    pytest.param(b'<a title="' + TA + b'">x</a>', b'<a title="' + TA + b'">x</a>', id="dq-attr"),
    pytest.param(b"<a title='" + TA + b"'>x</a>", b"<a title='" + TA + b"'>x</a>", id="sq-attr"),
    pytest.param(
        b'<a title="<script src=x>">x</a>', b'<a title="<script src=x>">x</a>', id="lt-in-attr"
    ),
    pytest.param(b'<a b=x"y>' + TA + b'<a c="z">', b'<a b=x"y><a c="z">', id="quote-in-unquoted"),
    pytest.param(b'<a =">' + TA + b'">', b'<a =">">', id="equals-starts-name"),
    pytest.param(b'<a b="c" ="d>' + TA, b'<a b="c" ="d>', id="equals-after-value"),
    pytest.param(b'<a b=c="d>' + TA, b'<a b=c="d>', id="equals-in-unquoted"),
    pytest.param(b"<a\n\tb\f=\r'>'>" + TA, b"<a\n\tb\f=\r'>'>", id="whitespace-kinds"),
    pytest.param(b"a < b" + TA + b" <3", b"a < b <3", id="lt-as-text"),
    pytest.param(b"<scriptx src=" + GA + b">", b"<scriptx src=" + GA + b">", id="longer-name"),
    pytest.param(b"<svg><script href=" + GA + b"></script></svg>", b"<svg></svg>", id="svg-script"),
    pytest.param(
        b"<svg><style>" + TA + b"</style></svg>",
        b"<svg><style></style></svg>",
        id="svg-style-is-markup",
    ),
    pytest.param(
        b"<svg><foreignObject><style>" + TA + b"</style></foreignObject></svg>",
        b"<svg><foreignObject><style>" + TA + b"</style></foreignObject></svg>",
        id="svg-integration-point",
    ),
    pytest.param(
        b"<svg><p><style>" + TA + b"</style>",
        b"<svg><p><style>" + TA + b"</style>",
        id="svg-breakout",
    ),
    pytest.param(
        b"<svg/><style>" + TA + b"</style>",
        b"<svg/><style>" + TA + b"</style>",
        id="svg-self-closing",
    ),
    pytest.param(  # the current node is MathML: a CDATA section
        b"<math><mi><![CDATA[ > " + TA + b"]]></mi></math>",
        b"<math><mi><![CDATA[ > " + TA + b"]]></mi></math>",
        id="math-text-integration-point",
    ),
    pytest.param(  # the current node is HTML: a bogus comment, ended by the first ">"
        b"<math><mi><b><![CDATA[ > " + TA + b"]]></b></mi></math>",
        b"<math><mi><b><![CDATA[ > ]]></b></mi></math>",
        id="html-in-math-text-integration-point",
    ),
    pytest.param(
        b"<p \x00\xff\xfe>\x00" + TA + b"\xc3(", b"<p \x00\xff\xfe>\x00\xc3(", id="bytes-kept"
    ),
    pytest.param(b"<a href='x", b"<a href='x", id="cut-mid-attribute"),
    pytest.param(b"<!-- cut", b"<!-- cut", id="cut-mid-comment"),
    pytest.param(b"<scri", b"<scri", id="cut-mid-name"),
    pytest.param(b"x<", b"x<", id="cut-after-lt"),
    pytest.param(b"<![CDATA[", b"<![CDATA[", id="cut-in-declaration"),
]


# Removing an element must not change how the rest of the output parses.
CONTEXT = [
    pytest.param(
        b'<svg><img src="https://facebook.com/tr"><style><img src=a></style>',
        b"<svg><span></span><style><img src=a></style>",
        id="removed-breakout-still-ends-svg",
    ),
    pytest.param(
        b'x<<img src="https://facebook.com/tr">?a>' + TA, b"x<<!---->?a>", id="no-join-after-lt"
    ),
    pytest.param(
        b"<svg><script href=" + GA + b"><title>t</title></script><p>x</p>",
        b"<svg><p>x</p>",
        id="svg-script-content-is-markup",
    ),
    pytest.param(
        b"<svg><script href=" + GA + b"><div>kept</div></svg>",
        b"<svg><div>kept</div></svg>",
        id="breakout-ends-svg-script",
    ),
    pytest.param(
        b"<svg><script href=" + GA + b"></svg><p>x</p>",
        b"<svg></svg><p>x</p>",
        id="parent-end-ends-svg-script",
    ),
    pytest.param(
        b'<svg><image href="https://facebook.com/tr?x=1"/><iframe src="https://youtube.com/e">'
        b"</iframe></svg>",
        b"<svg></svg>",
        id="foreign-gated",
    ),
    pytest.param(
        b'<object data="https://youtube.com/v"><svg></object><![CDATA[ > ' + TA,
        b"<![CDATA[ > ",
        id="removed-element-closes-svg",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), CONTEXT)
def test_removal_keeps_the_parse_of_the_rest(doc: bytes, expected: bytes) -> None:
    assert run_all(doc) == expected


@pytest.mark.parametrize(("doc", "expected"), TRICKY)
def test_tokenizer_states(doc: bytes, expected: bytes) -> None:
    assert run_all(doc) == expected


def test_latin1_and_windows_1252_pass_through() -> None:
    doc = "<p title='café'>€ “quoted” naïve</p>".encode("cp1252") + TA
    assert run_all(doc) == doc[: -len(TA)]


BANNERS = [
    pytest.param(
        b"<html><head><title>t</title></head><body class=x><p>x</p></body></html>",
        b"<html><head><title>t</title></head><body class=x>[B]<p>x</p></body></html>",
        id="after-body-start",
    ),
    pytest.param(b"<BODY\nclass=x >x</body>", b"<BODY\nclass=x >[B]x</body>", id="upper-case"),
    pytest.param(
        b"<head><!-- <body> --><script>'<body>'</script><title><body></title><meta"
        b" content='<body>'></head><body>x",
        b"<head><!-- <body> --><script>'<body>'</script><title><body></title><meta"
        b" content='<body>'></head><body>[B]x",
        id="not-in-comment-script-title-attribute",
    ),
    pytest.param(
        b"<head><template><div>t</div><body></template><noscript><p>n</noscript></head><body>x",
        b"<head><template><div>t</div><body></template><noscript><p>n</noscript></head><body>[B]x",
        id="not-in-template-or-noscript",
    ),
    pytest.param(b"<body>x<body>y</body>", b"<body>[B]x<body>y</body>", id="once"),
    pytest.param(
        b"<!doctype html><title>t</title><link rel=icon href=i><p>x</p>",
        b"<!doctype html><title>t</title><link rel=icon href=i>[B]<p>x</p>",
        id="implied-body",
    ),
    pytest.param(b"<title>t</title><svg><body>", b"<title>t</title>[B]<svg><body>", id="svg"),
    pytest.param(b"<p>fragment</p>", b"[B]<p>fragment</p>", id="fragment"),
    pytest.param(b"<title>t</title></body>", b"<title>t</title>[B]</body>", id="before-body-end"),
    pytest.param(
        b"<title>t</title><template></body></template></body>",
        b"<title>t</title><template></body></template>[B]</body>",
        id="body-end-not-in-template",
    ),
    pytest.param(b"<title>t</title>text", b"<title>t</title>text[B]", id="at-the-end"),
    pytest.param(b"<title>t</title><!-- x", b"<title>t</title><!-- x", id="not-in-open-comment"),
    pytest.param(b"<script>x<y", b"<script>x<y", id="not-in-open-script"),
    pytest.param(b"<meta name='x", b"<meta name='x", id="not-in-open-tag"),
    pytest.param(b"<template>x", b"<template>x", id="not-in-open-template"),
    pytest.param(
        b"<title>t</title><plaintext>x</body>",
        b"<title>t</title>[B]<plaintext>x</body>",
        id="before-plaintext",
    ),
    pytest.param(
        b"<head></head><body><div id=consentgate-banner>x</div></body>",
        b"<head></head><body>[B]<div id=consentgate-banner>x</div></body>",
        id="the-id-in-the-page-is-not-a-banner",
    ),
    pytest.param(
        b'<head><script src="' + GA + b'"></script></head><body>x',
        b"<head></head><body>[B]x",
        id="after-a-removed-script",
    ),
    pytest.param(
        b"<head><noscript data-consent=marketing><img src=x></noscript></head><body>x",
        b"<head></head><body>[B]x",
        id="after-a-removed-noscript",
    ),
    pytest.param(
        b"<frameset><frame src=a></frameset>",
        b"<frameset>[B]<frame src=a></frameset>",
        id="frameset-left-whole",  # a banner there does not show, but breaks nothing
    ),
    pytest.param(
        b"<head></head><iframe src=https://youtube.com/x></iframe><p>x",
        b"<head></head>[B]<p>x",
        id="before-a-removed-element",
    ),
    pytest.param(
        b"<head></head><body background=https://facebook.com/tr?x class=a><p>x",
        b"<head></head><body class=a>[B]<p>x",
        id="after-a-body-whose-background-is-removed",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), BANNERS)
def test_banner_placement(doc: bytes, expected: bytes) -> None:
    assert run_all(doc, banner=b"[B]") == expected


def test_banner_sets_changed_and_none_means_no_banner() -> None:
    gate = HtmlGate(FakeRules(), lambda category: True, banner=BANNER)
    assert gate.feed(b"<body></body>") + gate.close() == b"<body>" + BANNER + b"</body>"
    assert gate.changed
    assert run(b"<body></body>") == b"<body></body>"


def test_changed_stays_false_when_nothing_happens() -> None:
    gate = HtmlGate(FakeRules(), lambda category: False)
    doc = b"<p>plain <script>var x</script></p>"
    assert gate.feed(doc) + gate.close() == doc
    assert not gate.changed


def test_max_buffer_passes_the_rest_through_with_one_warning() -> None:
    warnings: list[str] = []
    script = b"<script>" + b"x" * 5000 + b"gtag(1)</script>"
    doc = b"<p>" + TA + script + TA + b"</p>"
    expected = b"<p>" + script + TA + b"</p>"
    for chunk in (0, 1, 100, 4096):
        assert run(doc, chunk=chunk, max_buffer=1000, warn=warnings.append) == expected
    assert len(warnings) == 4
    assert "max_buffer" in warnings[0]


def test_max_buffer_on_a_long_tag() -> None:
    warnings: list[str] = []
    doc = TA + b'<img alt="' + b"x" * 3000 + b'" src="https://facebook.com/tr">' + TA
    out = run(doc, chunk=512, max_buffer=1000, warn=warnings.append)
    assert out == doc[len(TA) :]
    assert len(warnings) == 1


SVG_SCRIPTS = [
    pytest.param(b"<svg><script>gtag(1)</script></svg>x", b"<svg></svg>x", id="removed"),
    pytest.param(b"<svg><script><![CDATA[fbq(1)]]></script></svg>", b"<svg></svg>", id="cdata"),
    pytest.param(b"<svg><script><!-- x -->gtag(1)</script></svg>", b"<svg></svg>", id="comment"),
    pytest.param(b"<svg><script>var a;</script></svg>", None, id="kept"),
    pytest.param(b"<svg><script>gtag(1)<p>x", b"<svg><p>x", id="ended-by-html"),
    pytest.param(b"<svg><script>gtag(1)</svg>x", b"<svg></svg>x", id="ended-by-svg"),
    pytest.param(b"<svg><script>gtag(1)", b"<svg>", id="to-the-end"),
    pytest.param(b"<svg><script/>gtag(1)</svg>", None, id="self-closing"),
    pytest.param(
        b"<svg><g><script>x</script><script>gtag(1)</script></g></svg>",
        b"<svg><g><script>x</script></g></svg>",
        id="second",
    ),
    pytest.param(b"a<<svg><script>gtag(1)</script>", b"a<<svg>", id="after-text-lt"),
]


@pytest.mark.parametrize(("doc", "expected"), SVG_SCRIPTS)
def test_svg_script_text_is_searched(doc: bytes, expected: bytes | None) -> None:
    # Browsers run an SVG <script>: its text (CDATA too) is searched once it ends.
    assert run_all(doc) == (doc if expected is None else expected)
    assert run_all(doc, allowed=("analytics", "marketing")) == doc


def test_max_buffer_on_a_held_svg_script() -> None:
    warnings: list[str] = []
    doc = b"<svg><script>" + b"x" * 3000 + b"gtag(1)</script></svg>"
    assert run(doc, chunk=512, max_buffer=1000, warn=warnings.append) == doc
    assert len(warnings) == 1


def test_long_inline_script_is_searched_in_blocks() -> None:
    body = b"var a = 1;\n" * 20000  # 220 KB, several search blocks
    for tail, kept in ((b"", True), (b"gtag(2)", False)):
        doc = b"<script>" + body + tail + b"</script><p>after</p>"
        expected = doc if kept else b"<p>after</p>"
        for chunk in (0, 1000, 16384):
            assert run(doc, chunk=chunk) == expected


def test_empty_chunks_and_calls_after_close() -> None:
    gate = HtmlGate(FakeRules(), lambda category: False)
    out = gate.feed(b"") + gate.feed(b"a<scr") + gate.feed(b"") + gate.feed(b"ipt>gtag(")
    assert out + gate.feed(b"</script>b") + gate.close() == b"ab"
    assert gate.feed(b"late") == b"late"
    assert gate.close() == b""


SAMPLES = [p.values[0] for p in REMOVAL + TRICKY + CONTEXT + BANNERS + ACTIVATION]
ALPHABET = [
    b"<",
    b">",
    b"/",
    b"=",
    b'"',
    b"'",
    b"-",
    b"!",
    b"?",
    b" ",
    b"\n",
    b"x",
    b"\xc3\xa9",
    b"\x00",
    b"<!--",
    b"-->",
    b"--!>",
    b"<![CDATA[",
    b"]]>",
    b"<script>",
    b"</script>",
    b"<SCRIPT ",
    b"<script src=" + GA + b">",
    b"gtag(1)",
    b"<style>",
    b"</style>",
    b"<textarea>",
    b"<title>",
    b"<svg>",
    b"</svg>",
    b"<math>",
    b"<mi>",
    b"<foreignObject>",
    b"<p>",
    b"<img src=" + GA + b">",
    b'<a href="',
    b"<iframe>",
    b"</iframe>",
    b"<noscript>",
    b"</noscript>",
    b"<video>",
    b"</video>",
    b'<video data-consent="media">',
    b"</body>",
    b"<body>",
    b"<template>",
    b"</template>",
    b"<meta charset=utf-8>",
    b"id=consentgate-banner",
    b"<plaintext>",
    b"<script type=text/plain data-consent=analytics data-src=x>",
    b"<foreignObject>",
    b"</foreignObject>",
    b"<b>",
    b"<image src=" + GA + b">",
    b"<object>",
    b"</object>",
    b"<annotation-xml encoding=text/html>",
    b"<desc>",
    b"<font color=red>",
    b"<br>",
]
html_like = st.lists(st.sampled_from(ALPHABET), max_size=40).map(b"".join)


def splits(doc: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(doc) + 1) for c in cuts} | {0, len(doc)})
    return [doc[a:b] for a, b in pairwise(points)]


def feed_all(chunks: list[bytes], allowed: frozenset[str], banner: bytes | None) -> bytes:
    gate = HtmlGate(FakeRules(), allowed.__contains__, banner=banner)
    return b"".join(gate.feed(c) for c in chunks) + gate.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.one_of(st.sampled_from(SAMPLES), html_like),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    allowed=st.sets(st.sampled_from(["analytics", "media"])),
)
def test_any_split_gives_the_same_output(doc: bytes, cuts: list[int], allowed: set[str]) -> None:
    grant = frozenset(allowed)
    whole = feed_all([doc], grant, BANNER)
    assert feed_all(splits(doc, cuts), grant, BANNER) == whole
    assert feed_all([doc[i : i + 1] for i in range(len(doc))], grant, BANNER) == whole


@settings(max_examples=300, deadline=None)
@given(
    doc=st.one_of(st.binary(max_size=200), html_like), cut=st.integers(min_value=1, max_value=50)
)
def test_never_raises_and_never_grows(doc: bytes, cut: int) -> None:
    gate = HtmlGate(FakeRules(), lambda category: False, banner=BANNER)
    out = b"".join(gate.feed(doc[i : i + cut]) for i in range(0, len(doc), cut)) + gate.close()
    assert len(out) <= len(doc) + len(BANNER)


HELD_TEXT = b"var a = b < c && d-- > e; // <!-- x --> '</scrip' + '<p>'\n" * 700  # > 32 KB


@st.composite
def long_held_scripts(draw: st.DrawFn) -> bytes:
    """An inline script longer than a search block, a signature anywhere or nowhere in it."""
    at = draw(st.integers(min_value=0, max_value=len(HELD_TEXT)))
    signature = draw(st.sampled_from([b"", b"gtag(1)", b"fbq(2)"]))
    return b"<script>" + HELD_TEXT[:at] + signature + HELD_TEXT[at:] + b"</script>"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.tuples(html_like, st.sampled_from([b"", b"<"])).map(b"".join),
    script=long_held_scripts(),
    after=st.tuples(st.sampled_from([b"", b"x", b"/p>"]), html_like).map(b"".join),
    chunk=st.integers(min_value=1000, max_value=9000),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
    allowed=st.sets(st.sampled_from(["analytics", "marketing"])),
)
def test_long_held_scripts_in_small_chunks(
    before: bytes, script: bytes, after: bytes, chunk: int, cuts: list[int], allowed: set[str]
) -> None:
    doc = before + script + after
    grant = frozenset(allowed)
    whole = feed_all([doc], grant, BANNER)
    assert feed_all([doc[i : i + chunk] for i in range(0, len(doc), chunk)], grant, BANNER) == whole
    assert feed_all(splits(doc, cuts), grant, BANNER) == whole


# Script text in which nothing changes the state of script data: chunks of it are set
# aside until a search block is full (or the end may be in one).
PLAIN_HELD = b'{"a": [1, 2, 3], "b": "x < y > z", "c": null, "d": "/scrip"},\n' * 1700


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.integers(min_value=0, max_value=len(PLAIN_HELD)),
    signature=st.sampled_from([b"", b"gtag(1)", b"fbq(2)", b"<!--", b"</script>"]),
    chunk=st.integers(min_value=17, max_value=40000),
    cuts=st.lists(st.integers(min_value=0), max_size=6),
    allowed=st.sets(st.sampled_from(["analytics", "marketing"])),
    limit=st.sampled_from([1 << 20, 50_000]),
)
def test_long_plain_held_script_in_any_chunks(
    at: int, signature: bytes, chunk: int, cuts: list[int], allowed: set[str], limit: int
) -> None:
    text = PLAIN_HELD[:at] + signature + PLAIN_HELD[at:]
    doc = b"<p>a</p><script>" + text + b'</script><img src="' + GA + b'"><p>b</p>'
    grant = frozenset(allowed)
    whole = run(doc, grant, max_buffer=limit)
    assert run(doc, grant, chunk=chunk, max_buffer=limit) == whole
    gate = HtmlGate(FakeRules(), grant.__contains__, max_buffer=limit)
    assert b"".join(map(gate.feed, splits(doc, cuts))) + gate.close() == whole


def test_real_rules() -> None:
    categories = pytest.importorskip("consentgate.categories")
    rules_module = pytest.importorskip("consentgate.rules")
    trackers = ["google-analytics", "google-tag-manager", "meta-pixel"]
    rules = rules_module.Rules([categories.Category("analytics", trackers=trackers)])
    doc = (
        b'<head><script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
        b"<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}</script>"
        b"<script>!function(f,b,e,v){}(window);fbq('init','1');</script>"
        b"<script>var keep = 1;</script></head><body><noscript><img height=1 "
        b'src="https://www.facebook.com/tr?id=1&amp;ev=PageView&amp;noscript=1"/></noscript>'
        b"<p>text</p></body>"
    )
    expected = (
        b"<head><script>var keep = 1;</script></head>"
        b"<body>[B]<noscript></noscript><p>text</p></body>"
    )
    assert run_all(doc, rules=rules, banner=b"[B]") == expected
    assert run_all(doc, allowed=("analytics",), rules=rules) == doc


def test_real_rules_script_with_data_src_is_not_searched() -> None:
    # Its URL decides, as for src: its text is not run by a browser, so not searched.
    categories = pytest.importorskip("consentgate.categories")
    rules_module = pytest.importorskip("consentgate.rules")
    rules = rules_module.Rules([categories.Category("analytics", trackers=["google-analytics"])])
    kept = b'<script type="text/plain" DATA-SRC="/app.js">gtag("js")</script><p>x</p>'
    assert run_all(kept, rules=rules) == kept
    assert run_all(b"<script>gtag('js')</script><p>x</p>", rules=rules) == b"<p>x</p>"


def corpus_pages() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present")
    return sorted(CORPUS.glob("*/*.html"))


def test_corpus_granted_is_identical() -> None:
    for page in corpus_pages():
        data = page.read_bytes()
        assert run(data, allowed=("analytics", "marketing", "media")) == data, page.name


def test_corpus_refused_is_chunk_invariant() -> None:
    rules = pytest.importorskip("consentgate.rules")
    categories = pytest.importorskip("consentgate.categories")
    trackers = ["google-analytics", "google-tag-manager", "matomo", "meta-pixel", "hotjar"]
    real = rules.Rules([categories.Category("analytics", trackers=trackers)])
    changed = 0
    for page in corpus_pages():
        data = page.read_bytes()
        whole = run(data, rules=real, banner=BANNER)
        changed += whole != data
        for chunk in (1024, 16384):
            assert run(data, chunk=chunk, rules=real, banner=BANNER) == whole, (page.name, chunk)
    assert changed > 50


def split_everywhere(doc: bytes, start: int, stop: int, step: int = 1) -> Iterable[list[bytes]]:
    """``doc`` in two pieces cut at each of ``start:stop`` (every ``step``), then in three
    (one more cut a little over a chunk later)."""
    for i in range(start, stop, step):
        yield [doc[:i], doc[i:]]
        yield [doc[:i], doc[i : i + 4100], doc[i + 4100 :]]


FILLER = b'<p class="intro">Some text, <a href="/x">a link</a>.</p>\n' * 90  # past 4 KB


@pytest.mark.parametrize("lead", [b"", FILLER], ids=["first", "after-4kb"])
@pytest.mark.parametrize(("quote", "inner"), [(b'"', b"'"), (b"'", b'"')], ids=["double", "single"])
def test_long_quoted_value_cut_anywhere(quote: bytes, inner: bytes, lead: bytes) -> None:
    # Markup held in an attribute (escaped JSON, HTML) looks like tags to a look back
    # from the end of a chunk; wherever the value is cut, the output must not change.
    item = b"{&quot;caption&quot;:&quot;<p>a > b</p>&quot;," + inner + b"<b>c</b>" + inner + b"} "
    value = item * 90  # longer than a 4 KB look-back, with "<" and ">" all along
    tag = b"<div data-playlist=" + quote + value + quote + b' class="v">'
    tail = b'<script src="' + GA + b'"></script><script>gtag("js")</script><p>end</p>'
    doc = lead + tag + tail
    whole = feed_all([doc], frozenset(), None)
    assert whole == lead + tag + b"<p>end</p>"
    for chunks in split_everywhere(doc, len(lead), len(lead) + len(tag) + 1):
        assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]


@pytest.mark.parametrize("lead", [b"", FILLER], ids=["first", "after-4kb"])
@pytest.mark.parametrize("refused", [b"", b'gtag("js");'], ids=["kept", "removed"])
def test_long_inline_script_cut_anywhere(refused: bytes, lead: bytes) -> None:
    # A script cut off by the end of a chunk is followed as raw text from where the
    # skipper left it: "<" comparisons, "</scrip", "<!-" and the end tag may all be cut.
    body = b"for (var i = 0; i < n; i++) { s += '</scrip' + 't' + '<!-' + '-'; }\n" * 70
    script = b"<script>" + body + refused + b"</script >"
    doc = lead + script + b'<img src="' + GA + b'"><p>end</p>'
    whole = feed_all([doc], frozenset(), None)
    assert whole == lead + (b"" if refused else script) + b"<p>end</p>"
    for chunks in split_everywhere(doc, len(lead), len(lead) + len(script) + 1):
        assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]


@pytest.mark.parametrize("lead", [b"", FILLER], ids=["first", "after-4kb"])
@pytest.mark.parametrize(
    "inner",
    [
        b"",
        b'<script>gtag("js")</script>',
        b'<style><script src="' + GA + b'"></script></style>',
        b"<p>breakout",
    ],
    ids=["plain", "svg-script", "style-is-markup", "breakout"],
)
def test_long_inline_svg_cut_anywhere(inner: bytes, lead: bytes) -> None:
    # An SVG cut off by the end of a chunk is left open where the skipper stopped; its
    # content must then be followed as SVG, whatever it holds after the cut.
    shape = (
        b'<path d="M22.9,14.5C23,14.7,23,15,23,15.2c0,0.4-0.2,0.9-0.4,1.2z"/><g><circle r=1/></g>\n'
    )
    svg = b'<svg viewBox="0 0 24 24"><title>icon</title>' + shape * 60 + inner + shape + b"</svg>"
    tail = b'<script src="' + GA + b'"></script><img src="' + GA + b'"><p>end</p>'
    doc = lead + svg + tail
    whole = feed_all([doc], frozenset(), None)
    assert whole.startswith(lead + svg[:200]) and whole.endswith(b"<p>end</p>")
    assert GA not in whole
    for chunks in split_everywhere(doc, len(lead), len(lead) + len(svg) + 1):
        assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]


def test_a_cut_off_script_is_not_scanned_again_with_each_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A short script cut off by the end of a chunk may wait once for the next chunk, to be
    # taken whole; after that its text is followed as raw text, not scanned from its start
    # again with every chunk (quadratic in its length when chunks are small).
    scanned = 0
    skipper = rewriter.FAST  # type: ignore[attr-defined]

    class Counting:
        def finditer(self, buf: bytes, pos: int, end: int) -> Iterator[re.Match[bytes]]:
            nonlocal scanned
            for m in skipper.finditer(buf, pos, end):
                scanned += m.end() - m.start()
                yield m

    # The gate reads its skipper from the class (a fast attribute lookup), not the module.
    monkeypatch.setattr(rewriter.HtmlGate, "_fast", Counting())
    doc = b"<p>a</p><script>" + b"var x = 1;\n" * 600 + b"</script><p>end</p>"
    for chunk in (1, 100):
        scanned = 0
        assert run(doc, chunk=chunk) == doc
        assert 0 < scanned < 3 * len(doc), chunk


NEVER_RAISES = [
    pytest.param(b"""<div title="<a b='<i>">x</div>""", id="unclosed-quote-in-value"),
    pytest.param(b"""<p data-x='<b c="<i>'>x</p>""", id="unclosed-double-in-single"),
    pytest.param(b"""<div title="<a b='<i>"><img src=\"""" + GA + b'">', id="then-gated"),
]


@pytest.mark.parametrize("tag", NEVER_RAISES)
def test_a_tag_read_past_the_look_back_limit_does_not_raise(tag: bytes) -> None:
    # The look back from the end of a long buffer may stop at a "<" inside a complete
    # tag's quoted value; the tag is then read whole, past that point.
    doc = FILLER + tag + b"<p>end</p>"
    whole = run(doc)
    assert whole.startswith(FILLER + tag[:20]) and whole.endswith(b"<p>end</p>")
    assert GA not in whole
    for chunk in (1, 4096, 5000):
        assert run(doc, chunk=chunk) == whole, chunk


@pytest.mark.parametrize("chunk", [0, 1000, 4096, 5000, 8192])
def test_a_text_lt_before_a_long_removed_script_stays_text(chunk: int) -> None:
    # The script is longer than a search block, so its start has left the buffer when
    # it is found refused; the "<" before it must still not join the text after it.
    script = b"<script>" + b"var x = 1;\n" * 4000 + b"gtag(1)</script>"
    doc = b"<p>a <" + script + b"script src=" + GA + b"></script>"
    assert run(doc, chunk=chunk) == b"<p>a <<!---->script src=" + GA + b"></script>"


# Where a chunk may end: inside a long kept <style>, comment or script (the text state's
# end tag or close split too), a held script (its signature split), a tag, a removed script.
_LONG = b"a { b: c } .d > e { f: '</styl' } " * 300
CHUNK_ENDS = [
    pytest.param(b"<p>x<style>" + _LONG + b"</style ><p>y", id="style"),
    pytest.param(b"<p>x<!--" + _LONG + b"--!><p>y<!-- a --><p>z", id="comment"),
    pytest.param(b"<p>x<script>var s = '" + _LONG + b"';</SCRIPT><p>y", id="kept-script"),
    pytest.param(b"<script>x = '<!--" + _LONG + b"<script>--></script>y", id="escaped-script"),
    pytest.param(b"<p>x<script>var s = '" + _LONG * 3 + b"'; gtag(1)</script><p>y", id="held"),
    pytest.param(b"<p>x<script>var s = 1; gtag(1)</script>" + FILLER, id="short-held"),
    pytest.param(FILLER + b'<img alt="' + _LONG + b'" src="' + GA + b'"><p>y', id="tag"),
    pytest.param(
        FILLER + b'<p title="' + _LONG + b'<b>"><script src=' + GA + b"></script>",
        id="quoted-markup",
    ),
]  # fmt: skip


@pytest.mark.parametrize("doc", CHUNK_ENDS)
def test_a_chunk_may_end_anywhere_in_a_state(doc: bytes) -> None:
    whole = run(doc)
    for chunk in (1, 7, 4096, 16 * 1024):
        assert run(doc, chunk=chunk) == whole, chunk
    # Cut at every byte around each state's end, and around a signature in a script.
    marks = [doc.rfind(word) for word in (b"</sty", b"--!>", b"</SCR", b"--></", b"gtag", b'src="')]
    for mark in (m for m in marks if m > 0):
        for chunks in split_everywhere(doc, mark - 12, mark + 12):
            assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]


@pytest.mark.parametrize("opening", [b"<style>", b"<!--", b"<textarea>", b"<script src=a.js>"])
def test_kept_text_is_sent_as_it_arrives(opening: bytes) -> None:
    # Once in a long kept element (not an inline script: that is held until classified),
    # each chunk of its text is sent when it comes, even the bytes that the search for
    # its end looks at again with the next chunk.
    gate = HtmlGate(FakeRules(), lambda category: True)
    start = b"<p>a</p>" + opening + b"x" * 9000
    assert gate.feed(start[:50]) + gate.feed(start[50:]) == start
    for piece in (b"x" * 5000 + b"</sty", b"le </scr", b"ipt </text", b"area --", b"! -"):
        assert gate.feed(piece) == piece
    assert gate.close() == b""


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        (b"<style>", b"</style>"),
        (b"<textarea>", b"</textarea>"),
        (b"<script src=a.js>", b"</script>"),
        (b"<script src=a.js>x = '<!--", b"--></script>"),
    ],
    ids=["style", "textarea", "script", "escaped-script"],
)
def test_a_chunk_of_kept_raw_text_is_sent_as_it_came(opening: bytes, closing: bytes) -> None:
    # A chunk that holds no end of the raw text (nor of the state script data is in) is
    # sent as the very object that came, not copied into the buffer; the end tag, also
    # cut across two chunks, still ends the raw text there.
    body = b"a { b: c } d < e " * 2400
    doc = b"<p>a</p>" + opening + body + closing + b'<img src="' + GA + b'"><p>end</p>'
    whole = run(doc)
    assert GA not in whole and whole.endswith(closing + b"<p>end</p>")
    for size in (4096, 5000):
        gate = HtmlGate(FakeRules(), frozenset().__contains__)
        chunks = [doc[i : i + size] for i in range(0, len(doc), size)]
        out = [gate.feed(chunk) for chunk in chunks]
        assert b"".join(out) + gate.close() == whole
        # (a script's first chunk waits once to be taken whole: the second may too)
        assert all(o is c for o, c in zip(out[2:6], chunks[2:6], strict=True))
    end = doc.index(closing)
    for chunks in split_everywhere(doc, end - 12, end + 12):
        assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]


def test_a_quiet_tag_cut_by_a_chunk_is_not_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tag the skippers pass unseen (an <input> without src) is read by the skipper once
    # the chunk that ends it comes, as in a whole document: not decoded and classified.
    classified: list[bytes] = []

    def classify_tag(self: FakeRules, tag: str, raw: bytes) -> str | None:
        classified.append(raw)
        return self.classify_element(tag, decode_attrs(raw))

    monkeypatch.setattr(FakeRules, "classify_tag", classify_tag)
    value = b"[{&quot;u&quot;:&quot;" + GA + b"&quot;}]" * 60
    tag = b'<input type="hidden" value="' + value + b'" name="f">'
    lead = b"<p>a</p>"  # a short buffer is read to its end, up to the cut-off tag
    doc = lead + tag + b'<img src="' + GA + b'"><p>end</p>'
    whole = run(doc)
    assert whole == lead + tag + b"<p>end</p>"
    assert len(classified) == 1  # the <img>
    for chunks in split_everywhere(doc, len(lead) + 1, len(lead) + len(tag), step=97):
        classified.clear()
        assert feed_all(chunks, frozenset(), None) == whole, [len(c) for c in chunks]
        assert len(classified) == 1, [len(c) for c in chunks]


# --- markup meant to run first (the Consent Mode default) ------------------------------

FIRSTS = [
    pytest.param(
        b"<!DOCTYPE html><html><head><script>x</script>",
        b"<!DOCTYPE html><html><head>[F]<script>x</script>",
        id="right-after-head",
    ),
    pytest.param(
        b"<html><HEAD><meta charset=utf-8><title>t</title><base href=/><link rel=icon "
        b"href=/i><style>p{}</style>",
        b"<html><HEAD><meta charset=utf-8><title>t</title><base href=/><link rel=icon "
        b"href=/i>[F]<style>p{}</style>",
        id="after-what-runs-nothing",
    ),
    pytest.param(
        b"<!doctype html><meta charset=utf-8><script>x</script>",
        b"<!doctype html><meta charset=utf-8>[F]<script>x</script>",
        id="implied-head",
    ),
    pytest.param(b"<!-- <head> -->hi <p>x", b"<!-- <head> -->hi [F]<p>x", id="after-text"),
    pytest.param(b"<html><body>x", b"<html>[F]<body>[B]x", id="before-the-banner"),
    pytest.param(b"<p>x", b"[F][B]<p>x", id="both-at-once"),
    pytest.param(
        b"<head><noscript><script>x</script></noscript>",
        b"<head>[F]<noscript><script>x</script></noscript>",
        id="never-in-noscript",
    ),
    pytest.param(
        b"<head><template><script>x</script></template>",
        b"<head>[F]<template><script>x</script></template>",
        id="never-in-template",
    ),
    pytest.param(b"<svg><script>x</script></svg>", b"[F]<svg><script>x</script></svg>", id="svg"),
    pytest.param(b"<html><head></head>", b"<html><head></head>", id="no-other-start-tag"),
    pytest.param(b"just text", b"just text[B]", id="no-tag-banner-only"),
]


@pytest.mark.parametrize(("doc", "expected"), FIRSTS)
def test_first_placement(doc: bytes, expected: bytes) -> None:
    banner = b"[B]" if b"[B]" in expected else None
    assert run_all(doc, first=b"[F]", banner=banner) == expected


def test_first_goes_before_a_removed_first_script() -> None:
    doc = b'<head><script src="' + GA + b'"></script><script>x</script>'
    assert run_all(doc, first=b"[F]") == b"<head>[F]<script>x</script>"


FIRST = b"<script>F</script>"


def feed_first(chunks: list[bytes], allowed: frozenset[str]) -> bytes:
    gate = HtmlGate(FakeRules(), allowed.__contains__, banner=BANNER, first=FIRST)
    return b"".join(gate.feed(c) for c in chunks) + gate.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.one_of(st.sampled_from(SAMPLES), html_like),
    cuts=st.lists(st.integers(min_value=0), max_size=12),
    allowed=st.sets(st.sampled_from(["analytics", "media"])),
)
def test_first_runs_before_every_other_script(
    doc: bytes, cuts: list[int], allowed: set[str]
) -> None:
    """As Chromium's tree builder (here html5lib's, scripting on) reads the output, the
    inserted script is the first script element, wherever the input is split."""
    html5lib = pytest.importorskip("html5lib")
    grant = frozenset(allowed)
    whole = feed_first([doc], grant)
    assert feed_first(splits(doc, cuts), grant) == whole
    assert feed_first([doc[i : i + 1] for i in range(len(doc))], grant) == whole
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    tree = parser.parse(whole, scripting=True)
    scripts = [element.text for element in tree.iter("script")]
    if FIRST in whole:
        assert scripts[:1] == ["F"] and scripts.count("F") == 1
    else:
        assert scripts == []


# Where the first and the banner go while both wait, the skipper running up to the next
# tag that may place either: candidates hidden in comments, raw text, attribute values,
# <template>, <noscript> and SVG; names in upper case or that only begin like a passed one.
WAITING = [
    pytest.param(
        b"<!-- <p> <script>x</script> --><head><meta charset=utf-8><p>x",
        b"<!-- <p> <script>x</script> --><head><meta charset=utf-8>[F][B]<p>x",
        id="comment",
    ),
    pytest.param(
        b"<!DOCTYPE html><html><head><title><p></title><style>p{}</style></head><p>x",
        b"<!DOCTYPE html><html><head><title><p></title>[F]<style>p{}</style></head>[B]<p>x",
        id="raw-text",
    ),
    pytest.param(
        b"<head><meta content='<p> </body>'><textarea><b></textarea></head><body>x",
        b"<head><meta content='<p> </body>'>[F][B]<textarea><b></textarea></head><body>x",
        id="attribute-value",
    ),
    pytest.param(
        b"<head><template><p>t</p><body></template><noscript><p>n</noscript></head><body>x",
        b"<head>[F]<template><p>t</p><body></template><noscript><p>n</noscript></head><body>[B]x",
        id="template-noscript",
    ),
    pytest.param(
        b"<head><noscript><script>x</script></noscript></head><body>y",
        b"<head>[F]<noscript><script>x</script></noscript></head><body>[B]y",
        id="noscript",
    ),
    pytest.param(
        b"<title>t</title><svg><p><body></svg>",
        b"<title>t</title>[F][B]<svg><p><body></svg>",
        id="svg",
    ),
    pytest.param(
        b"<HTML><HEAD><META charset=utf-8><TITLE>t</TITLE><SCRIPT>x</SCRIPT></HEAD>"
        b"<BODY class=a>y</BODY>",
        b"<HTML><HEAD><META charset=utf-8><TITLE>t</TITLE>[F]<SCRIPT>x</SCRIPT></HEAD>"
        b"<BODY class=a>[B]y</BODY>",
        id="upper-case",
    ),
    pytest.param(
        b"<html><head><meta charset=utf-8><title>t</title><link rel=icon href=/i></head></html>\n",
        b"<html><head><meta charset=utf-8><title>t</title><link rel=icon href=/i></head>"
        b"</html>\n[B]",
        id="head-only",
    ),
    pytest.param(
        b"<head><base href=/><link rel=stylesheet href=/s.css><script src=/a.js></script></head>"
        b"<body>x",
        b"<head><base href=/><link rel=stylesheet href=/s.css>[F]<script src=/a.js></script>"
        b"</head><body>[B]x",
        id="after-base-and-link",
    ),
    pytest.param(
        b"<head><Meta charset=utf-8><metal><body>x",
        b"<head><Meta charset=utf-8>[F][B]<metal><body>x",
        id="a-name-that-begins-as-meta",
    ),
    pytest.param(
        b"<html lang=en><head><meta charset=utf-8></head>\n<BODY\nclass=x>y</body></html>",
        b"<html lang=en><head><meta charset=utf-8></head>\n[F]<BODY\nclass=x>[B]y</body></html>",
        id="both-at-body",
    ),
    pytest.param(
        b"<head><title>a</title><script>gtag(1)</script><body>x",
        b"<head><title>a</title>[F]<body>[B]x",
        id="before-a-removed-script",
    ),
    pytest.param(
        b"<head><meta charset=utf-8></head><template><script>x</script></template><body>y",
        b"<head><meta charset=utf-8></head>[F]<template><script>x</script></template><body>[B]y",
        id="template-after-head",
    ),
]


@pytest.mark.parametrize(("doc", "expected"), WAITING)
def test_first_and_banner_waiting_at_any_chunking(doc: bytes, expected: bytes) -> None:
    both = {"first": b"[F]", "banner": b"[B]"}
    for options, want in (
        (both, expected),
        ({"first": b"[F]"}, expected.replace(b"[B]", b"")),
        ({"banner": b"[B]"}, expected.replace(b"[F]", b"")),
    ):
        assert run_all(doc, **options) == want
        for i in range(len(doc) + 1):  # every cut, inside each candidate tag too
            for chunks in ([doc[:i], doc[i:]], [doc[:i], doc[i : i + 3], doc[i + 3 :]]):
                gate = HtmlGate(FakeRules(), frozenset().__contains__, **options)  # type: ignore[arg-type]
                out = b"".join(gate.feed(c) for c in chunks) + gate.close()
                assert out == want, (options, [len(c) for c in chunks])


# --- embeds: a refused iframe replaced by a placeholder -----------------------


class FakeEmbeds:
    """Placeholders that show the element's src; ``loaded`` is let through with an id."""

    def __init__(self, loaded: str | None = None, nocookie: bool = False) -> None:
        self.loaded, self.nocookie = loaded, nocookie
        self.asked: list[str] = []

    def refused(
        self, tag: str, attrs: Mapping[str, str], category: str
    ) -> bytes | dict[str, str] | None:
        src = attrs.get("src", "")
        self.asked.append(src)
        if "skip" in src:
            return None
        if src == self.loaded:
            return {"id": "once"}
        return f"<div class=ph data-cat={category}>{src}</div>".encode()

    def accepted(self, tag: str, attrs: Mapping[str, str], category: str) -> dict[str, str]:
        return {"src": "https://nocookie.example/e"} if self.nocookie else {}

    widget_classes = ("post",)

    def widget(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        return "media" if "post" in attrs.get("class", "").split() else None


YT = b'<iframe width="560" height="315" src="https://youtube.com/e/1" allowfullscreen></iframe>'

EMBEDS = [
    pytest.param(
        b"<p>a</p>" + YT + b"<p>b</p>",
        b"<p>a</p><div class=ph data-cat=media>https://youtube.com/e/1</div><p>b</p>",
        {},
        id="replaced",
    ),
    pytest.param(
        b"<p>a" + YT.replace(b"e/1", b"skip") + b"b",
        b"<p>ab",
        {},
        id="no-placeholder-removed",
    ),
    pytest.param(
        b"<p>a" + YT + b"b",
        b'<p>a<iframe id="once" width="560" height="315" src="https://youtube.com/e/1" '
        b"allowfullscreen></iframe>b",
        {"loaded": "https://youtube.com/e/1"},
        id="loaded-once-gets-id",
    ),
    pytest.param(
        b"a<" + YT + b"b",
        b"a<<!----><div class=ph data-cat=media>https://youtube.com/e/1</div>b",
        {},
        id="text-lt-before",
    ),
    pytest.param(
        b'<svg><iframe src="https://youtube.com/e/1"></iframe></svg>b',
        b"<svg></svg>b",
        {},
        id="foreign-not-replaced",
    ),
    pytest.param(b'<video src="https://youtube.com/e/1"></video>b', b"b", {}, id="only-iframes"),
    pytest.param(
        b"<blockquote class='x post'><blockquote>q</blockquote><p>t</blockquote>b",
        b"<div class=ph data-cat=media></div>b",
        {},
        id="widget-nested",
    ),
    pytest.param(
        b"<div><blockquote class=post><p>t</p></div>b<blockquote class=other>c</blockquote>",
        b"<div><div class=ph data-cat=media></div></div>b<blockquote class=other>c</blockquote>",
        {},
        id="widget-ended-by-outer-end-tag",
    ),
    *(
        pytest.param(
            b"<p>a</p><div id=w " + attrs + b"><b>x</b></div><div class=posts>kept</div>",
            b"<p>a</p><div class=ph data-cat=media></div><div class=posts>kept</div>",
            {},
            id=f"widget-div-{i}",
        )
        for i, attrs in enumerate(
            [
                b'class="post"',
                b"class='big post'",
                b"class=post",
                b'CLASS = "x post"',
                b'data-x="a\'b" class="post"',
                b'title="class=\'post\'" class="post"',
            ]
        )
    ),
]


@pytest.mark.parametrize(("doc", "expected", "options"), EMBEDS)
def test_refused_embed_is_replaced_the_same_for_any_chunking(
    doc: bytes, expected: bytes, options: dict[str, Any]
) -> None:
    outputs = set()
    for chunk in (0, 1, 7):
        outputs.add(run(doc, chunk=chunk, embeds=FakeEmbeds(**options)))
    assert outputs == {expected}


def test_accepted_embed_gets_its_attributes_set() -> None:
    doc = b"<iframe data-src='https://youtube.com/e/1' title=x></iframe>"
    out = run_all(doc, allowed={"media"}, embeds=FakeEmbeds(nocookie=True))
    assert out == b'<iframe src="https://nocookie.example/e" title=x></iframe>'
    plain = run_all(YT, allowed={"media"}, embeds=FakeEmbeds(nocookie=True))
    assert plain == YT.replace(b"https://youtube.com/e/1", b"https://nocookie.example/e")


def test_embeds_are_asked_in_document_order_once_each() -> None:
    embeds = FakeEmbeds()
    doc = YT + b"<p>" + YT.replace(b"e/1", b"e/2") + b"<iframe src=/own></iframe>"
    run(doc, chunk=3, embeds=embeds)
    assert embeds.asked == ["https://youtube.com/e/1", "https://youtube.com/e/2"]
