from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.urls import (
    PAGE,
    Base,
    Target,
    base_of,
    domain_to_ascii,
    refresh_url,
    significant,
    srcset_urls,
    targets,
)

GA = "www.google-analytics.com"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(f"https://{GA}/a.js", [(GA, "/a.js")], id="plain"),
        pytest.param(f"//{GA}/a.js", [(GA, "/a.js")], id="scheme-relative"),
        pytest.param(f"/\\{GA}/a.js", [(GA, "/a.js")], id="slash-backslash"),
        pytest.param(f"https:////{GA}", [(GA, "/")], id="four-slashes"),
        pytest.param(f"wss:{GA}/a", [(GA, "/a")], id="no-slashes-other-special-scheme"),
        pytest.param(f"https:{GA}/a.js", [(None, f"/{GA}/a.js"), (GA, "/a.js")], id="both"),
        pytest.param(f"https://user:pw@{GA}:8443/a", [(GA, "/a")], id="user-info-and-port"),
        pytest.param(f"https://{GA}.?x#y", [(GA, "/")], id="trailing-dot-query"),
        pytest.param("https://[::1]:80/x", [("[::1]", "/x")], id="ipv6"),
        pytest.param("/a/b/../c", [(None, "/a/c")], id="same-site"),
        pytest.param("a.js", [(None, "/a.js")], id="relative"),
        pytest.param("?x", [(None, "/")], id="query-only"),
        pytest.param("", [], id="empty"),
        pytest.param("https://", [], id="no-host"),
        pytest.param("data:,x", [], id="data"),
        pytest.param("javascript:x", [], id="javascript"),
        pytest.param("file:///etc/passwd", [], id="file"),
        pytest.param("blob:https://x/1", [], id="blob"),
    ],
)
def test_targets(url: str, expected: list[tuple[str | None, str]]) -> None:
    assert targets(significant(url)) == tuple(Target(*t) for t in expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(" \x01https://x/a?q#f \n", "https://x/a", id="strip"),
        pytest.param("ht\ttps://x/\na", "https://x/a", id="tab-newline"),
        pytest.param("#only", "?", id="fragment-only"),
        pytest.param("   ", "", id="blank"),
    ],
)
def test_significant(value: str, expected: str) -> None:
    assert significant(value) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("\uff21\uff22\uff23.com", "abc.com", id="fullwidth"),
        pytest.param("a\u3002b\uff0ec\uff61d", "a.b.c.d", id="dots"),
        pytest.param("ex\u00adam\u200bple.com", "example.com", id="ignored"),
        pytest.param("fa\u00df.de", "xn--fa-hia.de", id="non-transitional-sharp-s"),
        pytest.param("\u2603.net", "xn--n3h.net", id="symbol"),
        pytest.param("B\u00fccher.DE", "xn--bcher-kva.de", id="case-folded"),
    ],
)
def test_domain_to_ascii(name: str, expected: str) -> None:
    assert domain_to_ascii(name) == expected


def test_a_character_the_mapping_rejects_still_gives_a_name() -> None:
    # U+FFFD is disallowed: browsers reject the host, the gate still reads it.
    name = "x\ufffd.\uff47oogle\u00ad-analytics\uff0ecom"
    assert domain_to_ascii(name).endswith(".google-analytics.com")


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        pytest.param("https://cdn.example/js/", [("https", "cdn.example", "/js/")], id="absolute"),
        pytest.param("//cdn.example", [(None, "cdn.example", "/")], id="scheme-relative"),
        pytest.param("/static/", [(None, None, "/static/")], id="path"),
        pytest.param("", [(None, None, "/")], id="empty"),
        pytest.param("data:,x", [(None, None, "/")], id="no-network-url"),
    ],
)
def test_base_of(href: str, expected: list[tuple[str | None, str | None, str]]) -> None:
    assert base_of(href) == tuple(Base(*b) for b in expected)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("a.js", ("cdn.example", "/js/a.js"), id="file"),
        pytest.param("../a.js", ("cdn.example", "/a.js"), id="parent"),
        pytest.param("/a.js", ("cdn.example", "/a.js"), id="absolute-path"),
        pytest.param("?v=1", ("cdn.example", "/js/x"), id="query"),
        pytest.param("https:a.js", ("cdn.example", "/js/a.js"), id="same-scheme"),
        pytest.param("http:a.js", ("a.js", "/"), id="other-scheme"),
    ],
)
def test_relative_to_a_base(url: str, expected: tuple[str, str]) -> None:
    assert targets(significant(url), base_of("https://cdn.example/js/x")) == (Target(*expected),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"], id="density"),
        pytest.param(" a.jpg, b.jpg 2x", ["a.jpg", "b.jpg"], id="url-ends-in-comma"),
        pytest.param("a.jpg 100w,\n//x/b.jpg 200w", ["a.jpg", "//x/b.jpg"], id="newline"),
        pytest.param("a,b.jpg 1x", ["a,b.jpg"], id="comma-in-url"),
        pytest.param("a.jpg (x, y) 1x, b.jpg", ["a.jpg", "b.jpg"], id="parentheses"),
        pytest.param(",,, ", [], id="empty"),
    ],
)
def test_srcset_urls(value: str, expected: list[str]) -> None:
    assert srcset_urls(value) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("0;url=https://x/a", "https://x/a", id="plain"),
        pytest.param(" 5 , URL = 'https://x/a' rest", "https://x/a", id="quoted"),
        pytest.param("0; https://x/a", "https://x/a", id="no-url-label"),
        pytest.param("1.5 url=x", "x", id="fraction-space"),
        pytest.param("0;ur", "", id="cut-label"),
        pytest.param("5", None, id="reload"),
        pytest.param("soon;url=x", None, id="no-time"),
        pytest.param("0x;url=x", None, id="bad-separator"),
    ],
)
def test_refresh_url(content: str, expected: str | None) -> None:
    assert refresh_url(content) == expected


@given(st.text(max_size=60))
def test_parsing_never_raises(value: str) -> None:
    targets(significant(value), base_of(value))
    srcset_urls(value)
    refresh_url(value)


def test_page_base() -> None:
    assert base_of("?x") == (PAGE,)
