from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.cookies import (
    MAX_COOKIE_HEADER,
    MAX_EXPIRY_HEADERS,
    MAX_HOST_LABELS,
    consent_cookie_header,
    cookie_value,
    expiry_headers,
    filter_set_cookies,
    request_cookie_names,
    set_cookie_name,
)

EPOCH = "Expires=Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        pytest.param("_ga=GA1.1.42; Path=/; Max-Age=63072000", "_ga", id="with-attributes"),
        pytest.param("session=abc", "session", id="bare"),
        pytest.param("  _gid = x ; Path=/", "_gid", id="spaces"),
        pytest.param("empty=", "empty", id="empty-value"),
        pytest.param('q="a=b"; Path=/', "q", id="quoted-value-with-equals"),
        pytest.param("novalue; Path=/", "", id="no-equals"),
        pytest.param("=orphan", "", id="empty-name"),
        pytest.param("", "", id="empty-header"),
    ],
)
def test_set_cookie_name(value: str, name: str) -> None:
    assert set_cookie_name(value) == name


def test_filter_drops_rejected_cookies_and_keeps_order() -> None:
    headers = [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "session=1; HttpOnly"),
        ("set-cookie", "_ga=GA1.1; Domain=example.com"),
        ("X-Frame-Options", "DENY"),
        ("SET-COOKIE", "_gid=GA1.2"),
        ("Set-Cookie", "lang=en"),
    ]
    kept, dropped = filter_set_cookies(headers, lambda name: not name.startswith("_g"))
    assert kept == [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "session=1; HttpOnly"),
        ("X-Frame-Options", "DENY"),
        ("Set-Cookie", "lang=en"),
    ]
    assert dropped == ["_ga", "_gid"]
    assert len(headers) == 6


def test_filter_without_set_cookie_returns_headers_as_is() -> None:
    headers = [("Content-Type", "text/html"), ("Content-Length", "12")]
    calls: list[str] = []

    def keep(name: str) -> bool:
        calls.append(name)
        return False

    kept, dropped = filter_set_cookies(headers, keep)
    assert kept is headers
    assert dropped == []
    assert calls == []


def test_filter_keeping_everything_returns_headers_as_is() -> None:
    headers = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    kept, dropped = filter_set_cookies(headers, lambda name: True)
    assert kept is headers
    assert dropped == []


def test_filter_reports_repeated_names() -> None:
    headers = [("Set-Cookie", "_ga=1; Path=/"), ("Set-Cookie", "_ga=2; Domain=example.com")]
    kept, dropped = filter_set_cookies(headers, lambda name: False)
    assert kept == []
    assert dropped == ["_ga", "_ga"]


@pytest.mark.parametrize(
    ("header", "names"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("a=1; b=2", ["a", "b"], id="two"),
        pytest.param("_ga=GA1.1; _ga=GA1.2; x=", ["_ga", "x"], id="repeated-and-empty"),
        pytest.param('q="a;b"; r=1', ["q", "r"], id="quoted-semicolon"),
        pytest.param("caf\xc3\xa9=1", ["café"], id="utf8-through-latin1"),
        pytest.param("a=\xff\xfe; b=2", ["a", "b"], id="invalid-utf8-value"),
        pytest.param(";;  ;a=1;", ["a"], id="stray-semicolons"),
    ],
)
def test_request_cookie_names(header: str, names: list[str]) -> None:
    assert request_cookie_names(header) == names


@pytest.mark.parametrize(
    ("header", "names"),
    [
        pytest.param("_ga=1" + ";" * 1_000_000 + "_gid=1", ["_ga"], id="semicolons"),
        pytest.param("_ga=" + "v" * 1_000_000 + "; _gid=1", ["_ga"], id="huge-first-value"),
        pytest.param(
            "; ".join(f"_ga_{i}=1" for i in range(100_000)),
            [f"_ga_{i}" for i in range(1_400)],
            id="many-names",
        ),
    ],
)
def test_request_cookie_names_reads_a_bounded_prefix(header: str, names: list[str]) -> None:
    found = request_cookie_names(header)
    assert found[: len(names)] == names
    assert len(found) < 2_000 and sum(map(len, found)) < MAX_COOKIE_HEADER


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("consentgate=abc.def", "abc.def", id="alone"),
        pytest.param("_ga=1; consentgate=abc.def; b=2", "abc.def", id="middle"),
        pytest.param("_ga=1;consentgate=abc.def", "abc.def", id="no-space"),
        pytest.param("consentgate=first; consentgate=second", "first", id="first-wins"),
        pytest.param("consentgate=", "", id="empty"),
        pytest.param('consentgate="a\\"b"', 'a"b', id="quoted"),
        pytest.param("xconsentgate=1", None, id="longer-name-before"),
        pytest.param("consentgate_old=1", None, id="longer-name-after"),
        pytest.param("a=consentgate", None, id="name-as-a-value"),
        pytest.param("", None, id="no-header"),
        pytest.param("a=1; b=2", None, id="absent"),
    ],
)
def test_cookie_value(header: str, value: str | None) -> None:
    assert cookie_value(header, "consentgate") == value


def _domains(headers: list[tuple[str, str]]) -> list[str | None]:
    out: list[str | None] = []

    for key, value in headers:
        assert key == "Set-Cookie"
        assert "Max-Age=0" in value
        assert EPOCH in value
        assert "Path=/" in value
        parts = dict(
            part.partition("=")[::2] for part in value.split("; ") if part.startswith("Domain")
        )
        out.append(parts.get("Domain"))

    return out


@pytest.mark.parametrize(
    ("host", "domains"),
    [
        pytest.param("example.com", [None, "example.com"], id="registrable"),
        pytest.param(
            "www.ka2.example.com",
            [None, "www.ka2.example.com", "ka2.example.com", "example.com"],
            id="subdomain",
        ),
        pytest.param("WWW.Example.COM:8443", [None, "www.example.com", "example.com"], id="port"),
        pytest.param("example.com.", [None, "example.com"], id="trailing-dot"),
        pytest.param("localhost:5000", [None], id="localhost"),
        pytest.param("127.0.0.1:8000", [None], id="ipv4"),
        pytest.param("[::1]:8000", [None], id="ipv6"),
        pytest.param("a..b", [None], id="malformed"),
        pytest.param("evil.com;x=1", [None], id="injection"),
        pytest.param("", [None], id="no-host"),
    ],
)
def test_expiry_headers_cover_host_and_parent_domains(host: str, domains: list[str | None]) -> None:
    headers = expiry_headers(["_ga"], host).headers
    assert all(value.startswith("_ga=;") for _, value in headers)
    assert _domains(headers) == domains


def test_expiry_headers_per_name_and_deduplicated() -> None:
    headers = expiry_headers(["_ga", "_gid", "_ga"], "example.com").headers
    assert [value.partition("=")[0] for _, value in headers] == ["_ga", "_ga", "_gid", "_gid"]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("bad name", id="space"),
        pytest.param("a\r\nX-Injected: 1", id="crlf"),
        pytest.param("café", id="non-ascii"),
        pytest.param("", id="empty"),
    ],
)
def test_expiry_headers_skip_unsafe_names(name: str) -> None:
    assert expiry_headers([name], "example.com") == ([], 0)


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("a" * 65536, id="64k-label"),
        pytest.param("a." * 32768 + "example.com", id="64k-of-labels"),
        pytest.param(".".join("abcdefghijklmnopqrstuvwxyz") + ".example.com", id="28-labels"),
        pytest.param("a" * 64 + ".example.com", id="label-over-63"),
        pytest.param(("a" * 63 + ".") * 4 + "com", id="name-over-253"),
        pytest.param("b\u00fccher.example", id="non-ascii"),
        pytest.param("\u212aa.example", id="kelvin-lowers-to-ascii"),
        pytest.param("xn--.example", id="idna-invalid"),
        pytest.param("a..example.com", id="empty-label"),
        pytest.param("[::1", id="unclosed-bracket"),
        pytest.param("[fe80::1%eth0]:8080", id="ipv6-zone"),
        pytest.param("example.com:99999999999", id="huge-port"),
        pytest.param("example.com:80:80", id="two-ports"),
        pytest.param("exa mple.com", id="space"),
        pytest.param("-a.example.com", id="leading-hyphen"),
        pytest.param("0x7f.1", id="hex-ip"),
    ],
)
def test_expiry_headers_for_a_hostile_host_are_host_only(host: str) -> None:
    expiry = expiry_headers(["_ga", "_gid"], host)
    assert _domains(expiry.headers) == [None, None]
    assert expiry.deferred == 0


@pytest.mark.parametrize(
    ("host", "domains"),
    [
        pytest.param("example.org", [None, "example.org"], id="the-domain"),
        pytest.param(
            "www.shop.example.org:8443",
            [None, "www.shop.example.org", "shop.example.org", "example.org"],
            id="subdomain",
        ),
        pytest.param("WWW.Example.ORG", [None, "www.example.org", "example.org"], id="case"),
        pytest.param("evil.example", [None, "example.org"], id="other-site"),
        pytest.param("notexample.org", [None, "example.org"], id="suffix-not-a-parent"),
        pytest.param("a." * 300 + "example.org", [None, "example.org"], id="hostile"),
        pytest.param("127.0.0.1", [None, "example.org"], id="ip"),
    ],
)
def test_expiry_headers_stay_within_the_cookie_domain(host: str, domains: list[str | None]) -> None:
    headers = expiry_headers(["_ga"], host, domain="example.org").headers
    assert _domains(headers) == domains


@given(st.text(max_size=300), st.sampled_from([None, "example.org"]))
def test_expiry_headers_never_raise_whatever_the_host(host: str, domain: str | None) -> None:
    expiry = expiry_headers(["_ga"], host, domain=domain)
    assert 1 <= len(expiry.headers) <= MAX_HOST_LABELS


def test_expiry_headers_are_capped_and_the_rest_deferred() -> None:
    names = [f"_ga_{i}" for i in range(120)]
    host = "a." * 4 + "example.com"
    expiry = expiry_headers(names, host)
    assert 0 < len(expiry.headers) <= MAX_EXPIRY_HEADERS
    # Whole names only: each covered name gets every domain, in the order given.
    covered = list(dict.fromkeys(v.partition("=")[0] for _, v in expiry.headers))
    assert covered == names[: len(covered)]
    assert len(expiry.headers) == len(covered) * 6
    assert expiry.deferred == len(names) - len(covered)


def test_consent_cookie_header() -> None:
    key, value = consent_cookie_header("consentgate", "abc.def", max_age=86400, secure=False, now=0)
    assert key == "Set-Cookie"
    attributes = value.split("; ")
    assert attributes[0] == "consentgate=abc.def"
    assert set(attributes[1:]) == {
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=86400",
        "Expires=Fri, 02 Jan 1970 00:00:00 GMT",
    }


def test_consent_cookie_header_secure() -> None:
    _, value = consent_cookie_header("consentgate", "v", max_age=60, secure=True, now=0)
    assert "Secure" in value.split("; ")


def test_consent_cookie_header_with_a_domain() -> None:
    _, value = consent_cookie_header(
        "consentgate", "v", max_age=60, secure=False, now=0, domain="example.org"
    )
    assert "Domain=example.org" in value.split("; ")


def test_consent_cookie_header_without_now_still_expires() -> None:
    _, value = consent_cookie_header("consentgate", "v", max_age=60, secure=False)
    assert "Expires=" in value
    assert "Max-Age=60" in value
