"""The gate with the real rules: every attribute that loads, ``<base href>``, ``srcdoc``."""

from __future__ import annotations

import html

import pytest

from consentgate.categories import Category
from consentgate.rules import Rules

from .test_rewriter import run_all

RULES = Rules(
    [
        Category("necessary", required=True, sources=["/static/"]),
        Category("analytics", trackers=["google-analytics"]),
        Category("marketing", trackers=["meta-pixel"]),
    ]
)
GA = b"https://www.google-analytics.com/analytics.js"
PIXEL = b"https://www.facebook.com/tr?id=1&amp;ev=PageView"


def gate(doc: bytes, *allowed: str) -> bytes:
    return run_all(doc, allowed=allowed, rules=RULES)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(
            b'a<img src="x.png" srcset="x2.png 2x, ' + PIXEL + b' 3x">b', b"ab", id="srcset"
        ),
        pytest.param(
            b'<picture><source srcset="' + PIXEL + b'"><img src="x.png"></picture>',
            b'<picture><img src="x.png"></picture>',
            id="picture-source",
        ),
        pytest.param(b'a<video poster="' + PIXEL + b'" src="v.mp4"></video>b', b"ab", id="poster"),
        pytest.param(b'a<input type="image" src="' + PIXEL + b'">b', b"ab", id="input-image"),
        pytest.param(
            b'<table><tr><td class="c" background="' + PIXEL + b'">x</td></tr></table>',
            b'<table><tr><td class="c">x</td></tr></table>',
            id="td-background",
        ),
        pytest.param(
            b"<TABLE BACKGROUND=" + PIXEL + b" border=1><tr><th>x</table>",
            b"<TABLE border=1><tr><th>x</table>",
            id="table-background",
        ),
        pytest.param(
            b"<body background='" + PIXEL + b"'>x</body>", b"<body>x</body>", id="body-background"
        ),
        pytest.param(
            b'<svg><script href="' + GA + b'"></script></svg>', b"<svg></svg>", id="svg-script"
        ),
        pytest.param(
            b'<svg><image xlink:href="' + PIXEL + b'" /></svg>', b"<svg></svg>", id="svg-image"
        ),
        pytest.param(
            b'<svg><filter><feImage href="' + PIXEL + b'"/></filter></svg>',
            b"<svg><filter></filter></svg>",
            id="svg-feimage",
        ),
        pytest.param(b'<svg><use href="' + PIXEL + b'#x"/></svg>', b"<svg></svg>", id="svg-use"),
        pytest.param(b'a<link rel="preload" as="script" href="' + GA + b'">b', b"ab", id="preload"),
        pytest.param(b'a<link rel="prefetch" href="' + GA + b'">b', b"ab", id="prefetch"),
        pytest.param(b'a<link rel="modulepreload" href="' + GA + b'">b', b"ab", id="modulepreload"),
        pytest.param(
            b'a<link rel=preload as=image imagesrcset="x.png 1x, ' + PIXEL + b' 2x">b',
            b"ab",
            id="preload-imagesrcset",
        ),
        pytest.param(
            b'<head><meta http-equiv="Refresh" content="0; URL=' + PIXEL + b'"></head>',
            b"<head></head>",
            id="meta-refresh",
        ),
        pytest.param(
            b'<frameset><frame src="' + PIXEL + b'"></frameset>',
            b"<frameset></frameset>",
            id="frame",
        ),
        pytest.param(
            b'a<script src="https:www.google-analytics.com/analytics.js"></script>b',
            b"ab",
            id="url-without-slashes",
        ),
        pytest.param(
            "a<img src='//www.\uff46acebook\u3002com/tr?id=1'>b".encode(), b"ab", id="url-uts46"
        ),
        pytest.param(
            b"a<img src='//www.face&shy;book.com/tr?id=1'>b", b"ab", id="url-soft-hyphen-entity"
        ),
    ],
)
def test_attributes_that_load_are_gated(doc: bytes, expected: bytes) -> None:
    assert gate(doc) == expected
    assert gate(doc, "analytics", "marketing") == doc


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(b'<td background="/img/bg.png">x</td>', id="own-background"),
        pytest.param(b'<img srcset="a.png 1x, b.png 2x" alt="">', id="own-srcset"),
        pytest.param(b'<meta http-equiv="refresh" content="5; url=/next">', id="own-refresh"),
        pytest.param(b'<meta name="description" content="' + PIXEL + b'">', id="meta-not-refresh"),
        pytest.param(b'<input type="text" name="q" value="' + PIXEL + b'">', id="input-value"),
        pytest.param(b'<a href="x.html"><img src="a.png"></a>', id="ordinary"),
    ],
)
def test_what_loads_nothing_refused_is_kept(doc: bytes) -> None:
    assert gate(doc) == doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(
            b'<head><base href="https://www.google-analytics.com/"></head>'
            b'<script src="analytics.js"></script>x',
            b'<head><base href="https://www.google-analytics.com/"></head>x',
            id="script",
        ),
        pytest.param(
            b'<base href="//www.facebook.com/"><p><img src="tr?id=1" alt=""></p>',
            b'<base href="//www.facebook.com/"><p></p>',
            id="img-just-after",
        ),
        pytest.param(
            b'<base target="_top"><base href="https://www.facebook.com/"><img src="tr">',
            b'<base target="_top"><base href="https://www.facebook.com/">',
            id="first-with-href",
        ),
        pytest.param(
            b'<base href="/img/"><base href="https://www.facebook.com/"><img src="tr">',
            b'<base href="/img/"><base href="https://www.facebook.com/"><img src="tr">',
            id="only-the-first-counts",
        ),
        pytest.param(
            b'<img src="tr"><base href="https://www.facebook.com/">',
            b'<img src="tr"><base href="https://www.facebook.com/">',
            id="not-before-it",
        ),
    ],
)
def test_base_href_resolves_what_follows(doc: bytes, expected: bytes) -> None:
    assert gate(doc) == expected


def _srcdoc(inner: bytes) -> bytes:
    """An iframe holding ``inner``, escaped as the gate writes a value back."""
    return (
        b'<iframe srcdoc="'
        + inner.replace(b"&", b"&amp;").replace(b'"', b"&quot;")
        + b'"></iframe>'
    )


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        pytest.param(
            b'<p>hi</p><script src="' + GA + b'"></script>', b"<p>hi</p>", id="script-src"
        ),
        pytest.param(
            b"<script>gtag('js')</script><p title=\"a&amp;b\">x & y</p>",
            b'<p title="a&amp;b">x & y</p>',
            id="inline-signature",
        ),
        pytest.param(
            b"<p>caf\xc3\xa9</p><img src='" + PIXEL + b"'>", b"<p>caf\xc3\xa9</p>", id="non-ascii"
        ),
        pytest.param(_srcdoc(b'<img src="' + PIXEL + b'">x'), _srcdoc(b"x"), id="nested"),
    ],
)
def test_iframe_srcdoc_is_gated_as_a_document(inner: bytes, expected: bytes) -> None:
    assert gate(b"a" + _srcdoc(inner) + b"b") == b"a" + _srcdoc(expected) + b"b"
    assert gate(b"a" + _srcdoc(inner) + b"b", "analytics", "marketing") == (
        b"a" + _srcdoc(inner) + b"b"
    )


def test_srcdoc_written_back_decodes_to_the_gated_document() -> None:
    doc = b'<iframe srcdoc=\'<p class="q">&amp;amp; &lt;&#39;</p><img src=' + PIXEL + b">'>"
    out = gate(doc)
    value = out.split(b'srcdoc="', 1)[1].rsplit(b'"', 1)[0]
    assert html.unescape(value.decode()) == '<p class="q">&amp; <\'</p>'


def test_srcdoc_nested_too_deep_is_removed() -> None:
    doc = b"<p>x</p>"
    for _ in range(5):
        doc = _srcdoc(doc)
    warnings: list[str] = []
    out = run_all(doc, rules=RULES, warn=warnings.append)
    assert out != doc and out.count(b"iframe") < doc.count(b"iframe")
    assert warnings and all("srcdoc" in w for w in warnings)
