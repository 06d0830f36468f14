from __future__ import annotations

from collections.abc import Set
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.categories import Category
from consentgate.config import Settings
from consentgate.consent import Consent
from consentgate.decision import decide, is_cross_site, safe_next, wants_json

NOW = 1_716_000_000


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("/", id="root"),
        pytest.param("/ka2/partnerships?lang=en#top", id="query-and-fragment"),
        pytest.param("/search?q=a+b&next=//x", id="slashes-in-query"),
        pytest.param("/files/my%20report.pdf", id="encoded-space"),
        pytest.param("/search?q=hello%20world", id="encoded-space-in-query"),
        pytest.param("/a%2Fb", id="encoded-slash-inside"),
        pytest.param("/caf%C3%A9", id="encoded-utf8"),
        pytest.param("/café", id="unicode"),
        pytest.param("/a/b/", id="trailing-slash"),
        pytest.param("/.well-known/x", id="dot-prefixed-segment"),
        pytest.param("/#//evil.example", id="slashes-in-fragment"),
    ],
)
def test_safe_next_keeps_paths(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("//evil.example", id="protocol-relative"),
        pytest.param("///evil.example", id="triple-slash"),
        pytest.param("https://evil.example", id="absolute"),
        pytest.param("http:/evil", id="scheme-single-slash"),
        pytest.param("http:evil", id="scheme-no-slash"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("evil.example", id="relative"),
        pytest.param("/\\evil.example", id="backslash"),
        pytest.param("\\\\evil.example", id="double-backslash"),
        pytest.param("/%2F%2Fevil.example", id="encoded-slashes"),
        pytest.param("/%2f/evil.example", id="encoded-slash-lowercase"),
        pytest.param("/%5Cevil.example", id="encoded-backslash"),
        pytest.param("%2F%2Fevil.example", id="fully-encoded"),
        pytest.param("/%252F%252Fevil.example", id="double-encoded-slashes"),
        pytest.param("/%255Cevil.example", id="double-encoded-backslash"),
        pytest.param("/%25252F%25252Fevil.example", id="triple-encoded"),
        pytest.param("/%2525252525252F/evil.example", id="too-many-layers"),
        pytest.param("/\t/evil.example", id="tab"),
        pytest.param("/\n/evil.example", id="newline"),
        pytest.param("/%09/evil.example", id="encoded-tab"),
        pytest.param("/%0d%0aSet-Cookie:x=1", id="encoded-crlf"),
        pytest.param("/ok?x=%0d%0aSet-Cookie:x=1", id="encoded-crlf-in-query"),
        pytest.param(" //evil.example", id="leading-space"),
        pytest.param("/ /evil.example", id="raw-space"),
        pytest.param("/\u3000/evil.example", id="unicode-space"),
        pytest.param("/..//evil.example", id="dot-dot"),
        pytest.param("/./", id="dot"),
        pytest.param("/%2e%2e//evil.example", id="encoded-dot-dot"),
        pytest.param("/a/..", id="trailing-dot-dot"),
        pytest.param("/\x00", id="nul"),
    ],
)
def test_safe_next_refuses_redirects_off_site(value: str | None) -> None:
    assert safe_next(value) == "/"
    assert safe_next(value, default="/home") == "/home"


@given(st.text(alphabet="/\\%2F5Cc.:\t ae?#", max_size=20))
def test_safe_next_result_stays_on_site(value: str) -> None:
    result = safe_next(value)
    assert result in (value, "/")
    layer = result
    for _ in range(5):
        assert urlsplit(urljoin("https://example.com/page", layer)).netloc == "example.com"
        layer = unquote(layer)


SITE = {"host": "example.com", "scheme": "https"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, False, id="no-headers"),
        pytest.param({"origin": "https://example.com"}, False, id="same-origin"),
        pytest.param({"origin": "HTTPS://Example.COM"}, False, id="same-origin-case"),
        pytest.param({"origin": "https://example.com:443"}, False, id="same-origin-default-port"),
        pytest.param({"origin": "https://evil.example"}, True, id="other-site"),
        pytest.param({"origin": "http://example.com"}, True, id="other-scheme"),
        pytest.param({"origin": "https://example.com:8443"}, True, id="other-port"),
        pytest.param({"origin": "https://sub.example.com"}, True, id="subdomain"),
        pytest.param({"origin": "https://example.com.evil.example"}, True, id="suffix-trick"),
        pytest.param({"origin": "https://example.com@evil.example"}, True, id="userinfo-trick"),
        pytest.param({"origin": "null"}, True, id="null-origin"),
        pytest.param({"origin": "garbage"}, True, id="unparsable-origin"),
        pytest.param({"origin": "https://[::1"}, True, id="broken-ipv6-origin"),
        pytest.param(
            {"origin": "https://example.com", "referer": "https://evil.example/"},
            False,
            id="origin-wins-over-referer",
        ),
        pytest.param({"referer": "https://evil.example/page"}, True, id="referer-other-site"),
        pytest.param({"referer": "https://example.com/privacy?x=1"}, False, id="referer-same"),
        pytest.param({"referer": "not a url"}, True, id="referer-unparsable"),
        pytest.param({"sec_fetch_site": "cross-site"}, True, id="fetch-cross-site"),
        pytest.param(
            {"sec_fetch_site": "cross-site", "origin": "https://example.com"},
            True,
            id="fetch-cross-site-wins",
        ),
        pytest.param({"sec_fetch_site": "same-origin"}, False, id="fetch-same-origin"),
        pytest.param({"sec_fetch_site": "same-site"}, False, id="fetch-same-site"),
        pytest.param({"sec_fetch_site": "none"}, False, id="fetch-none"),
        pytest.param(
            {"sec_fetch_site": "same-origin", "origin": "https://example.com"},
            False,
            id="fetch-same-origin-with-origin",
        ),
        pytest.param(
            {"sec_fetch_site": "same-site", "origin": "https://www.example.com"},
            False,
            id="trusted-sibling",
        ),
        pytest.param(
            {"referer": "https://www.example.com/form"}, False, id="trusted-sibling-referer"
        ),
        pytest.param(
            {"sec_fetch_site": "same-site", "origin": "https://shop.example.com"},
            True,
            id="untrusted-sibling",
        ),
    ],
)
def test_is_cross_site(headers: dict[str, str], expected: bool) -> None:
    result = is_cross_site(
        host=SITE["host"],
        scheme=SITE["scheme"],
        origin=headers.get("origin"),
        referer=headers.get("referer"),
        sec_fetch_site=headers.get("sec_fetch_site"),
        trusted_origins=("https://www.example.com",),
    )
    assert result is expected


@pytest.mark.parametrize(
    ("host", "scheme", "origin", "expected"),
    [
        pytest.param("localhost:5000", "http", "http://localhost:5000", False, id="dev-server"),
        pytest.param("localhost:5000", "http", "http://localhost:5001", True, id="other-port"),
        pytest.param("example.com:80", "http", "http://example.com", False, id="explicit-port"),
        pytest.param("[::1]:8000", "http", "http://[::1]:8000", False, id="ipv6"),
        pytest.param("", "https", "https://example.com", True, id="no-host"),
    ],
)
def test_is_cross_site_hosts(host: str, scheme: str, origin: str, expected: bool) -> None:
    result = is_cross_site(
        host=host, scheme=scheme, origin=origin, referer=None, sec_fetch_site=None
    )
    assert result is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"referer": "https://example.com/" + "a" * 4000}, False, id="long-referer"),
        pytest.param({"referer": "https://example.com/" + "a" * 5000}, True, id="referer-4k"),
        pytest.param({"origin": "https://example.com" + " " * 5000}, True, id="origin-4k"),
        pytest.param({"origin": "https://example.com", "host": "a" * 5000}, True, id="host-4k"),
    ],
)
def test_is_cross_site_reads_no_header_longer_than_browsers_send(
    headers: dict[str, str], expected: bool
) -> None:
    result = is_cross_site(
        host=headers.get("host", "example.com"),
        scheme="https",
        origin=headers.get("origin"),
        referer=headers.get("referer"),
        sec_fetch_site=None,
    )
    assert result is expected


def test_trusted_origin_may_end_in_a_slash() -> None:
    result = is_cross_site(
        host="example.com",
        scheme="https",
        origin="https://www.example.com",
        referer=None,
        sec_fetch_site="same-site",
        trusted_origins=("https://www.example.com/",),
    )
    assert result is False


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(None, False, id="missing"),
        pytest.param("", False, id="empty"),
        pytest.param("*/*", False, id="anything"),
        pytest.param("application/json", True, id="json"),
        pytest.param("application/json, text/plain, */*", True, id="fetch-style"),
        pytest.param("text/html,application/xhtml+xml,*/*;q=0.8", False, id="browser"),
        pytest.param("text/html;q=0.5, application/json", True, id="json-preferred"),
        pytest.param("application/json;q=0.5, text/html", False, id="html-preferred"),
        pytest.param("text/html, application/json", False, id="tie"),
        pytest.param("garbage;;;", False, id="garbage"),
        pytest.param("application/json, " + "x/y;q=0.1, " * 200, False, id="over-long-is-not-read"),
    ],
)
def test_wants_json(accept: str | None, expected: bool) -> None:
    assert wants_json(accept) is expected


@pytest.fixture
def settings() -> Settings:
    return Settings(
        secret_key=(b"key",),
        categories=(
            Category("necessary", required=True),
            Category("preferences"),
            Category("analytics"),
            Category("marketing"),
        ),
        policy_version="2024-05",
    )


@pytest.mark.parametrize(
    ("action", "categories", "granted"),
    [
        pytest.param(
            "accept_all",
            [],
            {"necessary", "preferences", "analytics", "marketing"},
            id="accept-all",
        ),
        pytest.param("reject_all", ["analytics"], {"necessary"}, id="reject-all-ignores-list"),
        pytest.param("save", [], {"necessary"}, id="save-nothing"),
        pytest.param("save", ["analytics"], {"necessary", "analytics"}, id="save-one"),
        pytest.param(
            "save",
            ["analytics", "unknown", "necessary", "analytics"],
            {"necessary", "analytics"},
            id="save-ignores-unknown-and-repeats",
        ),
    ],
)
def test_decide(action: str, categories: list[str], granted: set[str], settings: Settings) -> None:
    consent = decide(action, categories, settings, now=NOW, consent_id="abc")
    assert consent == Consent(
        granted=frozenset(granted),
        decided=True,
        version="2024-05",
        decided_at=NOW,
        consent_id="abc",
    )


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("accept", id="unknown"),
        pytest.param("ACCEPT_ALL", id="wrong-case"),
    ],
)
def test_decide_unknown_action(action: str | None, settings: Settings) -> None:
    assert decide(action, ["analytics"], settings, now=NOW, consent_id="abc") is None


@pytest.mark.parametrize(
    ("action", "mode", "granted"),
    [
        pytest.param("opt_out", "opt-out", {"necessary"}, id="opt-out"),
        pytest.param("opt_out", "opt-in", {"necessary"}, id="opt-out-is-a-refusal-anywhere"),
        pytest.param(
            "acknowledge",
            "opt-out",
            {"necessary", "preferences", "analytics", "marketing"},
            id="acknowledge-keeps-opt-out-defaults",
        ),
        pytest.param("acknowledge", "opt-in", None, id="acknowledge-is-no-consent"),
    ],
)
def test_decide_in_a_mode(
    action: str, mode: str, granted: Set[str] | None, settings: Settings
) -> None:
    consent = decide(action, [], settings, now=NOW, consent_id="abc", mode=mode)
    if granted is None:
        assert consent is None
    else:
        assert consent is not None
        assert (consent.granted, consent.mode) == (granted, mode)
