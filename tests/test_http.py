"""Response heads: the quick look that lets most responses pass, against the full plan."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentgate import http
from consentgate.http import (
    PASSES,
    PLANS,
    TAGS,
    ResponsePlan,
    plan_response,
    quick_look,
    tag_etags,
)

NAMES = (
    *("Content-Type", "content-type", "Set-Cookie", "SET-COOKIE", "Link", "Refresh"),
    *("Content-Length", "Content-Encoding", "ETag", "Vary", "Content-Language", "X-Other"),
)
VALUES = (
    *("text/html", "TEXT/HTML; charset=utf-8", "application/xhtml+xml", "application/json"),
    *("text/plain", "session=1", "_ga=GA1", '"v1"', "gzip", "Cookie", "de", ""),
    "<https://www.google-analytics.com/analytics.js>; rel=preload",
    "0; url=https://example.org/",
)
STATUSES = ("200 OK", "204 No Content", "304 Not Modified", "101 Switching Protocols", "404 X")
heads = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)), max_size=6)


@given(st.sampled_from(STATUSES), heads, st.booleans(), st.booleans())
def test_the_quick_look_says_what_the_full_plan_does(
    status: str, headers: list[tuple[str, str]], conditional: bool, refuses: bool
) -> None:
    """The quick look may send a response to the full plan for nothing, never the
    reverse: what it lets pass, the plan would have passed as it is, and the 304s it
    tags, the plan would have tagged alike and left at that."""
    look = quick_look(status, headers, conditional)
    if look == PLANS:
        return
    plan = plan_response(
        {"REQUEST_METHOD": "GET"},
        status,
        list(headers),
        keep_cookie=lambda name: False,
        expire=(),
        tag="-cg0",
        conditional=conditional,
        keep_load=(lambda tag, attrs: False) if refuses else None,
        negotiated=lambda environ: "de",
    )
    if look == PASSES:
        assert plan is None
    else:
        assert look == TAGS
        assert plan == ResponsePlan(tag_etags(headers, "-cg0"))


def test_pages_cookies_and_tagged_304s_get_more_than_a_pass() -> None:
    html = [("Content-Type", "text/html; charset=utf-8")]
    etag = [("ETag", '"v1"')]
    assert quick_look("200 OK", [("Content-Type", "application/json")], False) == PASSES
    assert quick_look("204 No Content", html, False) == PASSES
    assert quick_look("200 OK", html, False) == PLANS
    assert quick_look("200 OK", [("Set-Cookie", "a=1")], False) == PLANS
    assert quick_look("200 OK", [("link", "</x.js>; rel=preload")], False) == PLANS
    assert quick_look("304 Not Modified", etag, True) == TAGS
    assert quick_look("304 Not Modified", [*etag, *html], True) == TAGS
    assert quick_look("304 Not Modified", [*etag, ("Set-Cookie", "a=1")], True) == PLANS
    assert quick_look("304 Not Modified", etag, False) == PASSES
    assert tag_etags([*etag, *html], "-cg0") == [("ETag", '"v1-cg0"'), *html]


def test_the_quick_looks_names_are_kept_within_bounds() -> None:
    """Header names are remembered as the app spells them, so a name the app builds from
    what clients send cannot grow the cache past its bounds, and is read alike."""
    many = [(f"X-Echo-{i}", "1") for i in range(2 * http._MAX_LOOKS)]
    long = [("X-" + "a" * http._MAX_LOOK_NAME, "1"), ("sEt-CoOkIe", "a=1")]
    assert quick_look("200 OK", many, False) == PASSES
    assert quick_look("200 OK", many + long, False) == PLANS
    assert len(http._LOOKS) <= http._MAX_LOOKS
    assert all(len(name) <= http._MAX_LOOK_NAME for name in http._LOOKS)
    assert quick_look("200 OK", [("sEt-CoOkIe", "a=1")], False) == PLANS  # read again, alike


def plan_page(headers: list[tuple[str, str]], language: str | None) -> list[tuple[str, str]]:
    """The headers of a gated page for a visitor with state tag ``-cg0``."""
    plan = plan_response(
        {"REQUEST_METHOD": "GET"},
        "200 OK",
        headers,
        keep_cookie=lambda name: True,
        expire=(),
        tag="-cg0",
        conditional=False,
        negotiated=lambda environ: language,
    )
    assert plan is not None and plan.encoding == ()
    return plan.headers


def test_a_gated_pages_headers_keep_their_order_with_vary_and_language_last() -> None:
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Vary", "Accept-Encoding"),
        ("Content-Language", "en"),
        ("Content-Length", "120"),
        ("ETag", '"v1"'),
        ("Last-Modified", "Wed, 02 Dec 2026 08:00:00 GMT"),
        ("vary", "cookie"),
        ("Content-Language", "DE"),
        ("X-Frame-Options", "DENY"),
    ]
    assert plan_page(headers, "de") == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("ETag", '"v1-cg0"'),
        ("X-Frame-Options", "DENY"),
        ("Content-Language", "en, DE"),  # "de" is listed already
        ("Vary", "Accept-Encoding, cookie, Accept-Language"),
    ]
    assert plan_page(headers, None) == [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Language", "en"),
        ("ETag", '"v1-cg0"'),
        ("Content-Language", "DE"),
        ("X-Frame-Options", "DENY"),
        ("Vary", "Accept-Encoding, cookie"),
    ]
    assert plan_page([("Content-Type", "text/html"), ("Vary", "*")], "fr") == [
        ("Content-Type", "text/html"),
        ("Content-Language", "fr"),
        ("Vary", "*"),
    ]
