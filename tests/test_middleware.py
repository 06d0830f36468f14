"""ConsentGate as a WSGI middleware: what a visitor's browser actually receives."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any
from wsgiref.util import FileWrapper
from wsgiref.validate import validator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client, EnvironBuilder, TestResponse, run_wsgi_app

from consentgate import Category, ConfigError, Consent, ConsentGate
from consentgate.cookies import MAX_EXPIRY_HEADERS
from consentgate.passage import Passage

from .conftest import (
    GTAG,
    PAGE,
    PAGE_ACCEPTED,
    SECRET,
    categories,
    html_app,
    retained_bytes,
)

Gate = Callable[..., ConsentGate]


def decide(client: Client, action: str, *categories: str, **headers: str) -> TestResponse:
    """Post a decision the way the banner's form does."""
    data: dict[str, Any] = {"action": action, "next": "/page?x=1"}
    if categories:
        data["category"] = list(categories)
    return client.post("/consent", data=data, headers=headers)


def consent_cookie(client: Client) -> str:
    cookie = client.get_cookie("consentgate")
    assert cookie is not None
    return cookie.value


# --- the banner and the gating of a page ------------------------------------


def test_undecided_visitor_gets_banner_and_no_tracker(client: Client) -> None:
    page = client.get("/").data
    assert b'id="consentgate-banner"' in page
    assert b"googletagmanager" not in page
    assert b"gtag(" not in page
    assert b'<script src="/static/app.js"></script>' in page
    # At the top of the page, first in the tab order: right after the <body> tag.
    assert page.index(b"<body>") + len(b"<body>") == page.index(b"<style>")
    assert page.index(b"consentgate-banner") < page.index(b"<h1>Hello</h1>")
    assert b'name="next" value="/"' in page


def test_accept_all_lets_trackers_through_byte_for_byte(client: Client) -> None:
    decide(client, "accept_all")
    # Only the Consent Mode default is added, before the first script.
    assert client.get("/").data == PAGE_ACCEPTED


def test_reject_all_removes_trackers_and_banner(client: Client) -> None:
    decide(client, "reject_all")
    page = client.get("/").data
    assert b"consentgate-banner" not in page
    assert b"googletagmanager" not in page
    # Exactly the two gtag elements are cut out; every other byte is the app's.
    assert page == PAGE.replace(GTAG, b"\n\n")


def test_banner_next_field_is_the_current_page(client: Client) -> None:
    page = client.get("/ka2/partners?lang=en&x=<y>").data
    assert b'name="next" value="/ka2/partners?lang=en&amp;x=&lt;y&gt;"' in page


def test_environ_carries_the_consent(make_gate: Gate) -> None:
    seen: list[Consent] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ["consentgate.consent"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    client = Client(make_gate(app))
    client.get("/")
    decide(client, "save", "analytics")
    client.get("/")
    first, last = seen[0], seen[-1]
    assert not first.decided and first.allows("necessary") and not first.allows("analytics")
    assert last.decided and last.allows("analytics")
    assert last.granted == frozenset({"necessary", "analytics"})


# --- the decision endpoint ---------------------------------------------------


def test_decision_redirects_back_with_a_safe_cookie(client: Client) -> None:
    response = decide(client, "accept_all")
    assert response.status_code == 303
    assert response.headers["Location"] == "/page?x=1"
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("consentgate="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    assert "Max-Age=15552000" in cookie


def test_https_request_gets_a_secure_cookie(client: Client) -> None:
    response = client.post(
        "/consent", data={"action": "reject_all"}, base_url="https://site.example"
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_json_answer_for_script_clients(client: Client) -> None:
    response = decide(client, "save", "analytics", "bogus", Accept="application/json")
    assert response.status_code == 200
    state = json.loads(response.data)
    assert state["decided"] is True
    assert state["granted"] == ["necessary", "analytics"]
    assert state["refused"] == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "https://evil.example"}, id="foreign-origin"),
        pytest.param({"Origin": "null"}, id="null-origin"),
        pytest.param({"Referer": "https://evil.example/page"}, id="foreign-referer"),
        pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-site"),
    ],
)
def test_cross_site_post_is_refused_and_changes_nothing(
    client: Client, headers: dict[str, str]
) -> None:
    response = decide(client, "accept_all", **headers)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("consentgate") is None
    assert b"consentgate-banner" in client.get("/").data


def test_same_origin_post_is_accepted(client: Client) -> None:
    response = decide(client, "accept_all", Origin="http://localhost")
    assert response.status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("//evil.example/x", id="scheme-relative"),
        pytest.param("https://evil.example/", id="absolute"),
        pytest.param("/\\evil.example", id="backslash"),
        pytest.param("/%2F%2Fevil.example", id="encoded-slashes"),
        pytest.param("/%5Cevil.example", id="encoded-backslash"),
        pytest.param("%2F%2Fevil.example", id="encoded-no-slash"),
        pytest.param("javascript:alert(1)", id="javascript"),
    ],
)
def test_next_never_leaves_the_site(client: Client, target: str) -> None:
    response = client.post("/consent", data={"action": "reject_all", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"action": "maybe"}, id="unknown-action"),
        pytest.param({}, id="no-action"),
        pytest.param({"action": ["accept_all", "x" * 70000]}, id="oversized"),
    ],
)
def test_bad_posts_get_a_clear_4xx(client: Client, data: dict[str, Any]) -> None:
    response = client.post("/consent", data=data)
    assert 400 <= response.status_code < 500
    assert client.get_cookie("consentgate") is None


def test_preferences_page_shows_what_the_cookie_holds(client: Client) -> None:
    page = client.get("/consent").data
    assert b'name="category" value="analytics">' in page
    decide(client, "save", "analytics")
    page = client.get("/consent").data
    assert b'name="category" value="analytics" checked>' in page
    assert b'name="action" value="save"' in page
    decide(client, "reject_all")
    assert b'value="analytics" checked' not in client.get("/consent").data


def test_endpoint_refuses_other_methods(client: Client) -> None:
    response = client.put("/consent")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_endpoint_path_is_configurable(make_gate: Gate) -> None:
    client = Client(make_gate(endpoint="/privacy/choices"))
    assert b'action="/privacy/choices"' in client.get("/").data
    response = client.post("/privacy/choices", data={"action": "accept_all"})
    assert response.status_code == 303
    assert client.post("/consent", data={"action": "accept_all"}).status_code == 200


# --- the cookie --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("x" * 5000, id="oversized"),
        pytest.param("\u00e9\u00e9.\u00e9", id="non-ascii"),
    ],
)
def test_broken_cookie_means_undecided(client: Client, value: str) -> None:
    # Sent raw: a browser-side client would refuse to store some of these.
    response = client.get("/", headers={"Cookie": f"consentgate={value}"})
    assert response.status_code == 200
    assert b"consentgate-banner" in response.data


def test_tampered_cookie_means_undecided(client: Client) -> None:
    decide(client, "reject_all")
    value = consent_cookie(client)
    client.set_cookie("consentgate", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert b"consentgate-banner" in client.get("/").data


def test_foreign_key_cookie_means_undecided(client: Client) -> None:
    forged = URLSafeSerializer("another-key", salt="consentgate").dumps(
        ["1", "analytics", 1_900_000_000, "x"]
    )
    client.set_cookie("consentgate", forged)
    assert b"consentgate-banner" in client.get("/").data


def test_expired_cookie_asks_again(make_gate: Gate) -> None:
    gate = make_gate()
    client = Client(gate)
    decide(client, "reject_all")
    assert b"consentgate-banner" not in client.get("/").data
    start = gate.clock()
    gate.clock = lambda: start + 181 * 86400
    assert b"consentgate-banner" in client.get("/").data


def test_a_long_cookie_header_is_read_alike_and_expires(make_gate: Gate) -> None:
    """A Cookie header too long to be its own cache key is kept under its digest: read
    the same on every request, and asked again once the choice expires."""
    gate = make_gate()
    client = Client(gate)
    decide(client, "reject_all")
    client.set_cookie("padding", "p" * 3000)
    for _ in range(3):
        assert b"consentgate-banner" not in client.get("/").data
    start = gate.clock()
    gate.clock = lambda: start + 181 * 86400
    assert b"consentgate-banner" in client.get("/").data


def test_rotated_key_still_honours_old_cookies(make_gate: Gate) -> None:
    old = make_gate()
    client = Client(old)
    decide(client, "reject_all")
    new = make_gate(secret_key=[SECRET, "the-new-key-fedcba9876543210"])
    new_client = Client(new)
    new_client.set_cookie("consentgate", consent_cookie(client))
    assert b"consentgate-banner" not in new_client.get("/").data


def test_new_policy_version_asks_again(make_gate: Gate) -> None:
    client = Client(make_gate())
    decide(client, "accept_all")
    later = Client(make_gate(policy_version="2"))
    later.set_cookie("consentgate", consent_cookie(client))
    assert b"consentgate-banner" in later.get("/").data


# --- cookies set by the app --------------------------------------------------


def cookie_app(*cookies: str) -> Any:
    return html_app(b"<p>x</p>", [("Set-Cookie", f"{c}=1; Path=/") for c in cookies])


def set_cookie_names(response: TestResponse) -> set[str]:
    return {v.split("=", 1)[0] for v in response.headers.getlist("Set-Cookie")}


def test_set_cookie_of_refused_category_is_dropped(make_gate: Gate) -> None:
    client = Client(make_gate(cookie_app("_ga", "session", "visits", "other")))
    assert set_cookie_names(client.get("/")) == {"session", "other"}
    decide(client, "accept_all")
    assert {"_ga", "visits"} <= set_cookie_names(client.get("/"))


@pytest.mark.parametrize("policy", ["warn", "block"])
def test_undeclared_cookies_warn_once_or_block(
    make_gate: Gate, caplog: pytest.LogCaptureFixture, policy: str
) -> None:
    client = Client(make_gate(cookie_app("mystery"), undeclared_cookies=policy))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        first = client.get("/")
        client.get("/")
    assert ("mystery" in set_cookie_names(first)) is (policy == "warn")
    messages = [r.getMessage() for r in caplog.records if "mystery" in r.getMessage()]
    assert len(messages) == 1


def test_withdrawal_expires_cookies_left_from_before(client: Client) -> None:
    decide(client, "accept_all")
    client.set_cookie("_ga", "GA1.1.123", domain="localhost")
    client.set_cookie("session", "abc", domain="localhost")
    response = decide(client, "reject_all")
    expired = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("_ga=")]
    assert expired and all("Max-Age=0" in v for v in expired)
    assert client.get_cookie("_ga") is None
    assert client.get_cookie("session") is not None


def test_refused_cookies_are_expired_on_any_later_response(client: Client) -> None:
    decide(client, "reject_all")
    client.set_cookie("_ga_ABC", "1", domain="localhost")
    response = client.get("/")
    assert any(v.startswith("_ga_ABC=;") for v in response.headers.getlist("Set-Cookie"))


def expired(response: TestResponse) -> list[tuple[str, str | None]]:
    """(name, Domain) of each expiry header in the response."""
    out = []
    for value in response.headers.getlist("Set-Cookie"):
        if "Max-Age=0" in value:
            attributes = dict(p.partition("=")[::2] for p in value.split("; ")[1:])
            out.append((value.partition("=")[0], attributes.get("Domain")))
    return out


def test_cookie_domain_bounds_expiry_and_scopes_the_consent_cookie(make_gate: Gate) -> None:
    client = Client(make_gate(cookie_domain="example.org"))
    base = "http://www.shop.example.org"
    client.set_cookie("_ga", "1", domain="example.org", origin_only=False)
    response = client.post("/consent", data={"action": "reject_all"}, base_url=base)
    cookies = response.headers.getlist("Set-Cookie")
    consent = next(v for v in cookies if v.startswith("consentgate=") and "Max-Age=0" not in v)
    assert "Domain=example.org" in consent.split("; ")
    assert expired(response) == [
        ("consentgate", None),
        ("_ga", None),
        ("_ga", "www.shop.example.org"),
        ("_ga", "shop.example.org"),
        ("_ga", "example.org"),
    ]


def test_cookie_domain_retires_a_host_only_consent_cookie(make_gate: Gate) -> None:
    base = "http://www.example.org"
    old = Client(make_gate())
    decide(old, "accept_all")
    client = Client(make_gate(cookie_domain="example.org"))
    client.set_cookie("consentgate", consent_cookie(old), domain="www.example.org")
    response = client.post("/consent", data={"action": "reject_all"}, base_url=base)
    # Browsers send the older host-only cookie first: it would shadow the new choice.
    assert ("consentgate", None) in expired(response)
    assert client.get_cookie("consentgate", domain="www.example.org") is None
    stored = client.get_cookie("consentgate", domain="example.org")
    assert stored is not None
    assert b"googletagmanager" not in client.get("/", base_url=base).data


def test_many_refused_cookies_are_expired_over_several_responses(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(make_gate())
    decide(client, "reject_all")
    names = [f"_ga_{i}" for i in range(120)]
    for name in names:
        client.set_cookie(name, "1", domain="a.example.com")
    seen: list[str] = []
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        for _ in range(60):
            response = client.get("/?token=s3cret", base_url="http://a.example.com")
            assert response.status_code == 200
            assert len(response.headers.getlist("Set-Cookie")) <= MAX_EXPIRY_HEADERS
            seen.extend(name for name, domain in expired(response) if domain is None)
            if not expired(response):
                break
    assert sorted(seen) == sorted(names)
    assert all(client.get_cookie(name, domain="a.example.com") is None for name in names)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "later responses" in messages[0]
    assert "s3cret" not in messages[0]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        pytest.param("/account/reset", "(/account/reset)", id="short"),
        pytest.param("/" + "p" * 5000, "(/" + "p" * 199 + "...)", id="long"),
    ],
)
def test_log_lines_name_the_path_without_query_and_bounded(
    make_gate: Gate, caplog: pytest.LogCaptureFixture, path: str, logged: str
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "x-opaque")])
        return [b"\x1b\x00"]

    with caplog.at_level(logging.WARNING, logger="consentgate"):
        Client(make_gate(app)).get(path, query_string="token=s3cr3t&email=a%40b.example")
    messages = [r.getMessage() for r in caplog.records if r.name == "consentgate"]
    assert messages
    for message in messages:
        assert logged in message
        assert "s3cr3t" not in message and "token" not in message
        assert len(message) < 400


def test_unique_large_cookies_and_urls_pin_bounded_memory(make_gate: Gate) -> None:
    gate = make_gate()

    def visit() -> None:
        for i in range(120):
            environ = EnvironBuilder(path=f"/{i}", query_string="q=" + "x" * 200_000).get_environ()
            environ["HTTP_COOKIE"] = f"_ga_{i}=" + "v" * 200_000 + f"; visits={i}"
            _, status, _ = run_wsgi_app(gate, environ, buffered=True)
            assert status == "200 OK"

    # 120 requests hold about 100 MB of headers; what stays must not grow with them.
    assert retained_bytes(visit) < 16 << 20


GA_COOKIES = "; ".join(f"_ga_{i}=GA1.1.{i}" for i in range(120))


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param(
            {"HTTP_HOST": "a." * 500 + "example.com", "HTTP_COOKIE": GA_COOKIES}, id="1k-host"
        ),
        pytest.param({"HTTP_HOST": "a" * 65536, "HTTP_COOKIE": "_ga=1"}, id="64k-host"),
        pytest.param(
            {"HTTP_HOST": "a" * 64 + ".example.com", "HTTP_COOKIE": "_ga=1"}, id="label-64"
        ),
        pytest.param(
            {"HTTP_HOST": "b\xc3\xbccher.example", "HTTP_COOKIE": "_ga=1"}, id="utf8-host"
        ),
        pytest.param({"HTTP_HOST": "xn--.example:80", "HTTP_COOKIE": "_ga=1"}, id="idna-invalid"),
        pytest.param({"HTTP_HOST": "[::1]:8080", "HTTP_COOKIE": "_ga=1"}, id="ipv6"),
        pytest.param({"HTTP_HOST": "example.com:x", "HTTP_COOKIE": "_ga=1"}, id="bad-port"),
        pytest.param({"HTTP_HOST": "", "SERVER_NAME": "", "HTTP_COOKIE": "_ga=1"}, id="no-host"),
        pytest.param({"HTTP_COOKIE": "; ".join(f"c{i}=v" for i in range(20000))}, id="20k-cookies"),
        pytest.param({"HTTP_COOKIE": "_ga=" + "v" * 1_000_000}, id="1mb-cookie"),
        pytest.param({"QUERY_STRING": "q=" + "x" * 1_000_000}, id="1mb-query"),
        pytest.param({"HTTP_ACCEPT": "text/html," * 100_000}, id="1mb-accept"),
        pytest.param({"PATH_INFO": "/\xff" * 10_000}, id="undecodable-path"),
    ],
)
def test_hostile_requests_get_a_normal_page(make_gate: Gate, environ: dict[str, str]) -> None:
    request = EnvironBuilder(path="/").get_environ()
    request.update(environ)
    body, status, headers = run_wsgi_app(make_gate(), request, buffered=True)
    page = b"".join(body)
    assert status == "200 OK"
    assert b"<h1>Hello</h1>" in page and b"googletagmanager" not in page
    assert b'id="consentgate-banner"' in page
    assert len(headers.getlist("Set-Cookie")) <= MAX_EXPIRY_HEADERS
    assert len(headers) <= MAX_EXPIRY_HEADERS + 5


# --- HTTP correctness --------------------------------------------------------


class Closing:
    """An app iterable that records whether close() was called."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("content_type", ["text/html", "image/png"])
def test_close_is_always_forwarded(make_gate: Gate, content_type: str) -> None:
    body = Closing([b"<p>a</p>", b"<p>b</p>"])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Closing:
        start_response("200 OK", [("Content-Type", content_type)])
        return body

    run_wsgi_app(make_gate(app), EnvironBuilder().get_environ(), buffered=True)
    assert body.closed


def test_non_html_returns_the_apps_own_iterable(make_gate: Gate) -> None:
    body = Closing([b"\x89PNG..."])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Closing:
        start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", "7")])
        return body

    result = make_gate(app)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *a: lambda data: None
    )
    assert result is body


def test_a_gated_body_is_its_passage(make_gate: Gate) -> None:
    """One object per response: the passage :meth:`Gate.admit` builds is also the
    response's ``start_response`` and, for a gated page, its iterable."""
    body = Closing([b"<p>a</p>"])

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Closing:
        start_response("200 OK", [("Content-Type", "text/html")])
        return body

    result = make_gate(app)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, lambda *a: lambda data: None
    )
    assert isinstance(result, Passage)
    assert b"<p>a</p>" in b"".join(result)
    result.close()  # type: ignore[attr-defined]
    assert body.closed


def test_file_wrapper_passes_through(make_gate: Gate, tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"\x00\x01binary" * 100)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](path.open("rb"))

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.file_wrapper": FileWrapper}
    result = make_gate(app)(environ, lambda *a: lambda data: None)
    assert isinstance(result, FileWrapper)
    assert b"".join(result) == path.read_bytes()
    result.close()


def test_rewritten_response_fixes_headers(client: Client) -> None:
    response = client.get("/")
    assert "Content-Length" not in response.headers or int(
        response.headers["Content-Length"]
    ) == len(response.data)
    assert "Cookie" in response.headers["Vary"]


def test_head_gets_the_headers_get_would_get(client: Client) -> None:
    head, get = client.head("/"), client.get("/")
    assert head.status_code == 200
    assert "Content-Length" not in head.headers and "Content-Length" not in get.headers
    assert head.headers["Vary"] == get.headers["Vary"] == "Cookie, Accept-Language"
    assert head.headers["Content-Language"] == get.headers["Content-Language"] == "en"


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_bodiless_statuses_pass_through(make_gate: Gate, status: str) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(status, [("Content-Type", "text/html")])
        return []

    response = Client(make_gate(app)).get("/")
    assert response.status == status
    assert response.data == b""


def test_error_pages_are_gated_too(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/html")])
        return [PAGE]

    response = Client(make_gate(app)).get("/")
    assert response.status_code == 404
    assert b"googletagmanager" not in response.data


def test_etag_never_revalidates_across_consent_states(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("HTTP_IF_NONE_MATCH") == '"v1"':
            start_response("304 Not Modified", [("ETag", '"v1"')])
            return []
        start_response("200 OK", [("Content-Type", "text/html"), ("ETag", '"v1"')])
        return [PAGE]

    client = Client(make_gate(app))
    undecided_etag = client.get("/").headers["ETag"]
    assert undecided_etag != '"v1"'
    again = client.get("/", headers={"If-None-Match": undecided_etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == undecided_etag
    decide(client, "accept_all")
    after = client.get("/", headers={"If-None-Match": undecided_etag})
    assert after.status_code == 200
    assert b"googletagmanager" in after.data


def test_an_over_long_if_none_match_gets_the_full_page(make_gate: Gate) -> None:
    seen: list[str | None] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ.get("HTTP_IF_NONE_MATCH"))
        start_response("200 OK", [("Content-Type", "text/html"), ("ETag", '"v1"')])
        return [PAGE]

    client = Client(make_gate(app))
    etag = client.get("/").headers["ETag"]
    # Thousands of tagged ETags would each be read; none of them is.
    response = client.get("/", headers={"If-None-Match": ", ".join([etag] * 1000)})
    assert response.status_code == 200
    assert seen == [None, None]


@pytest.mark.parametrize("etag", ['"v1"', 'W/"v1"', '""'], ids=["strong", "weak", "empty"])
def test_a_304_carries_the_etag_the_page_was_served_with(make_gate: Gate, etag: str) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            start_response("304 Not Modified", [("ETag", etag)])
            return []
        start_response("200 OK", [("Content-Type", "text/html"), ("ETag", etag)])
        return [PAGE]

    client = Client(make_gate(app))
    served = client.get("/").headers["ETag"]
    assert served != etag and served.endswith('"') and served.startswith(etag[:-1])
    again = client.get("/", headers={"If-None-Match": served})
    assert again.status_code == 304
    assert again.headers["ETag"] == served


def test_last_modified_is_dropped_from_gated_pages(make_gate: Gate) -> None:
    app = html_app(headers=[("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")])
    assert "Last-Modified" not in Client(make_gate(app)).get("/").headers


def test_write_callable_output_is_gated(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(PAGE[:100])
        return [PAGE[100:]]

    assert b"googletagmanager" not in Client(make_gate(app)).get("/").data


def test_lazy_generator_app_is_gated(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html")])
        for i in range(0, len(PAGE), 7):
            yield PAGE[i : i + 7]

    page = Client(make_gate(app)).get("/").data
    assert b"googletagmanager" not in page
    assert b"consentgate-banner" in page


LONG_SCRIPT = b"<script>" + b"var x = 1;\n" * 200 + b"</script>\n"


def chunks_app(*chunks: bytes) -> Any:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return list(chunks)

    return app


def test_held_beyond_max_buffer_before_any_byte_is_a_502(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(make_gate(chunks_app(LONG_SCRIPT, PAGE), max_buffer=1024))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 502 and b"googletagmanager" not in response.data
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "max_buffer" in caplog.records[0].getMessage()


def test_held_beyond_max_buffer_later_ends_the_page(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    head = b"<!DOCTYPE html><title>Long</title><p>Read on.</p>\n"
    client = Client(make_gate(chunks_app(head, LONG_SCRIPT, PAGE), max_buffer=1024))
    decide(client, "reject_all")
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 200 and response.data == head
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "dropped" in caplog.records[0].getMessage()


def test_held_beyond_max_buffer_passes_when_unreadable_is_pass(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    app = chunks_app(LONG_SCRIPT, PAGE)
    client = Client(make_gate(app, max_buffer=1024, unreadable="pass"))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 200 and response.data == LONG_SCRIPT + PAGE
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_write_callable_page_held_beyond_max_buffer_ends(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(b"<p>First.</p>")
        write(LONG_SCRIPT)
        return [PAGE]

    response = Client(make_gate(app, max_buffer=1024)).get("/")
    assert response.data.endswith(b"<p>First.</p>")  # after the banner, placed before it


def test_write_callable_page_held_beyond_max_buffer_at_once_is_one_502(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/html")])
        write(LONG_SCRIPT)
        write(PAGE)
        return [PAGE]

    response = Client(make_gate(app, max_buffer=1024)).get("/")
    assert response.status_code == 502
    assert response.data.count(b"<title>") == 1 and b"googletagmanager" not in response.data


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "text/plain", "application/json"]
)
def test_stack_passes_wsgiref_validate(make_gate: Gate, content_type: str) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type), ("Set-Cookie", "_ga=1")])
        return [PAGE]

    # wsgiref's WSGIWarning is turned into an error by the pytest configuration.
    client = Client(validator(make_gate(validator(app))))
    requests = [
        ("GET", "/", {}, 200),
        ("POST", "/consent", {"action": "accept_all"}, 303),
        ("GET", "/consent", {}, 200),
        ("GET", "/", {}, 200),
        ("HEAD", "/", {}, 200),
    ]
    for method, path, data, status in requests:
        with client.open(path, method=method, data=data) as response:
            assert response.status_code == status


def test_preferences_page_gets_no_second_banner_form(client: Client) -> None:
    page = client.get("/consent").data
    assert page.count(b'id="consentgate-banner"') == 1
    assert page.count(b"<form") == 1


def test_behind_a_proxy_with_proxyfix(make_gate: Gate) -> None:
    client = Client(ProxyFix(make_gate(), x_proto=1, x_host=1))
    response = client.post(
        "/consent",
        data={"action": "reject_all"},
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "www.example.org",
            "Origin": "https://www.example.org",
        },
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"<p>plain</p></body>", b"<p>plain</p></body>", id="nothing-to-do"),
        pytest.param(
            b'<script type="text/plain" data-consent="analytics" src="/a.js"></script>',
            b'<script data-consent="analytics" src="/a.js"></script>',
            id="activated",
        ),
        pytest.param(
            b'<p>x</p><img data-consent="marketing" src="/px.gif"><p>y</p>',
            b"<p>x</p><p>y</p>",
            id="unknown-category-still-cut",
        ),
    ],
)
def test_visitor_who_granted_everything(make_gate: Gate, body: bytes, expected: bytes) -> None:
    client = Client(make_gate(html_app(body), consent_mode=False))
    decide(client, "accept_all")
    assert client.get("/").data == expected


def test_undecided_visitor_gets_the_banner_when_every_category_is_required(
    make_gate: Gate,
) -> None:
    # Such a visitor is granted everything, yet still has a banner due.
    gate = make_gate(
        html_app(b"<p>plain</p></body>"), categories=[Category("necessary", required=True)]
    )
    page = Client(gate).get("/").data
    assert b'id="consentgate-banner"' in page


def test_banner_comes_back_to_the_raw_path_percent_encoded(make_gate: Gate) -> None:
    environ = EnvironBuilder(path="/", query_string="q=a%20b").get_environ()
    environ["PATH_INFO"] = "/caf\xc3\xa9 menu"  # raw UTF-8 bytes, as a server hands them over
    body, _, _ = run_wsgi_app(make_gate(), environ, buffered=True)
    assert b'name="next" value="/caf%C3%A9%20menu?q=a%20b"' in b"".join(body)


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param("\xff\xfe=\xff; consentgate=\xff\xfe", id="not-utf8"),
        pytest.param('consentgate="a\\"b"', id="quoted-escape"),
        pytest.param("=;;;==; consentgate", id="no-value"),
        pytest.param("_ga=\x00; consentgate=" + "A" * 10000, id="nul-and-huge"),
        pytest.param("consentgate=a.b.c; consentgate=d", id="twice"),
    ],
)
def test_hostile_cookie_headers_get_the_undecided_page(make_gate: Gate, cookie: str) -> None:
    environ = EnvironBuilder(path="/").get_environ()
    environ["HTTP_COOKIE"] = cookie  # raw, as a server hands it over
    body, status, _ = run_wsgi_app(make_gate(), environ, buffered=True)
    assert status == "200 OK"
    assert b'id="consentgate-banner"' in b"".join(body)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        pytest.param(
            b"action=accept_all&next=%ff%fe",
            "application/x-www-form-urlencoded",
            "303 SEE OTHER",
            id="undecodable-next",
        ),
        pytest.param(
            b"\xff\xfe\x00garbage",
            "multipart/form-data; boundary=x",
            "400 BAD REQUEST",
            id="broken-multipart",
        ),
        pytest.param(
            b"action=save&category=" + b"&category=".join([b"x"] * 500),
            "application/x-www-form-urlencoded",
            "303 SEE OTHER",
            id="many-unknown-categories",
        ),
        pytest.param(
            b"action=accept_all&next=/" + b"a" * 17000,
            "application/x-www-form-urlencoded",
            "413 REQUEST ENTITY TOO LARGE",
            id="body-over-16k",
        ),
        pytest.param(
            b"action=accept_all&x=\xff\xfe",
            "application/x-www-form-urlencoded",
            "400 BAD REQUEST",
            id="raw-non-utf8",
        ),
        pytest.param(b'{"action": "accept_all"}', "application/json", "400 BAD REQUEST", id="json"),
        pytest.param(b"action=accept_all", "text/plain", "400 BAD REQUEST", id="text-plain"),
        pytest.param(
            b"--x\r\nContent-Disposition: form-data; name=action\r\n\r\naccept_all\r\n--x--",
            "multipart/form-data; boundary=x",
            "303 SEE OTHER",
            id="multipart",
        ),
        pytest.param(
            b"--x\r\nContent-Disposition: form-data; name=next\r\n\r\n" + b"a" * 17000,
            "multipart/form-data; boundary=x",
            "413 REQUEST ENTITY TOO LARGE",
            id="multipart-over-16k",
        ),
    ],
)
def test_hostile_posts_never_500(
    make_gate: Gate, data: bytes, content_type: str, status: str
) -> None:
    environ = EnvironBuilder(
        path="/consent", method="POST", data=data, content_type=content_type
    ).get_environ()
    _, answer, _ = run_wsgi_app(make_gate(), environ, buffered=True)
    assert answer == status


@pytest.mark.parametrize(
    "spoof",
    [
        pytest.param(b'<div id="consentgate-banner">a comment</div>', id="element-with-the-id"),
        pytest.param(b"<template><body></body></template>", id="body-in-template"),
        pytest.param(b"<svg><body></body></svg>", id="body-in-svg"),
    ],
)
def test_markup_in_the_page_cannot_hide_the_banner(make_gate: Gate, spoof: bytes) -> None:
    body = b"<!DOCTYPE html><html><head><title>t</title></head><body><h1>News</h1>"
    body += spoof + b"<p>text</p></body></html>"
    page = Client(make_gate(html_app(body))).get("/").data
    assert page.count(b'<section id="consentgate-banner"') == 1
    assert page.index(b"<body>") < page.index(b"<section id=") < page.index(b"<h1>News</h1>")


def test_only_the_app_says_it_placed_the_banner(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["consentgate.banner_placed"] = True
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<body><p>my own banner</p></body>"]

    page = Client(make_gate(app)).get("/").data
    assert page == b"<body><p>my own banner</p></body>"


@pytest.mark.parametrize(
    ("dest", "banner"),
    [
        pytest.param("document", True, id="page"),
        pytest.param("iframe", True, id="framed-page"),
        pytest.param("empty", False, id="fragment-for-a-script"),
    ],
)
def test_a_fragment_fetched_by_a_script_gets_no_banner(
    make_gate: Gate, dest: str, banner: bool
) -> None:
    client = Client(make_gate(html_app(b"<li>new item</li>")))
    page = client.get("/", headers={"Sec-Fetch-Dest": dest}).data
    assert (b"consentgate-banner" in page) is banner
    assert page.endswith(b"<li>new item</li>")


# --- random token soup through the whole middleware ------------------------------

_FILLER = b'<p class="intro">Some text, <a href="/x">a link</a>.</p>\n' * 80  # past 4 KB
_HELD = b"var a = b < c && d-- > e; // <!-- x --> '<p>'\n" * 800  # past a 32 KB search block
_SOUP = st.sampled_from(
    [
        b"<body>", b"</body>", b"<p>", b"</p>", b"<div title=\"<a b='<i>\">", b"<a href=x/>",
        b"<", b"</", b"<!", b"<!--", b"-->", b"--!>", b"<?x>", b"<![CDATA[", b"]]>", b"=", b"'",
        b'"', b" a='", b" b=\"", b" c=d", b">", b"/>", b"\n", b"x", b"text ",
        b"<script>", b"</script>", b"<script>gtag('js')</script>", b"<SCRIPT SRC=/app.js>",
        b"<script async src=https://www.googletagmanager.com/gtag/js?id=G-1></script>",
        b"<img src=https://www.google-analytics.com/collect>", b"<iframe>", b"</iframe>",
        b"<noscript>", b"</noscript>", b"<template>", b"</template>", b"<textarea>",
        b"<style>", b"</style>", b"<title>", b"</title>", b"<svg>", b"</svg>",
        b"<svg><script>gtag(1)</script></svg>", b"<math><mi>", b"<foreignObject>",
        b'<div id="consentgate-banner">', b"<plaintext>", b"&amp;",
        b"<script>" + _HELD + b"gtag(1)</script>", b"<script>" + _HELD + b"</script>",
        b"<<script>" + _HELD + b"gtag(1)</script>", _FILLER, _FILLER + b"<div title=\"<a b='<i>\">",
    ]
)  # fmt: skip
_VISITORS = ("undecided", "reject_all", "accept_all")


def _soup_app(chunks: list[bytes]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        yield from chunks

    return app


def _visitor_cookies() -> dict[str, str]:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=_fuzz_categories())
    cookies = {"undecided": ""}
    for action in _VISITORS[1:]:
        client = Client(gate)
        decide(client, action)
        cookies[action] = "consentgate=" + consent_cookie(client)
    return cookies


def _fuzz_categories() -> list[Category]:
    return [
        Category("necessary", required=True),
        Category("analytics", trackers=["google-analytics", "google-tag-manager"]),
    ]


def _through_gate(gate: ConsentGate, chunks: list[bytes], cookie: str) -> bytes:
    gate.app = _soup_app(chunks)
    environ = EnvironBuilder(path="/", headers=[("Cookie", cookie)] if cookie else [])
    body, status, _ = run_wsgi_app(gate, environ.get_environ(), buffered=True)
    assert status == "200 OK"
    return b"".join(body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_SOUP, max_size=24),
    cuts=st.lists(st.integers(min_value=0, max_value=80_000), max_size=10),
    small=st.integers(min_value=1, max_value=9000),
)
@example(parts=[_FILLER + b'<div title="<a b=\'<i>">'], cuts=[], small=9000)  # raised
@example(parts=[b"<<script>" + _HELD + b"gtag(1)</script>", b"x"], cuts=[], small=5000)
def test_token_soup_through_the_middleware(parts: list[bytes], cuts: list[int], small: int) -> None:
    """No input raises, and every visitor gets the same page however the app splits it."""
    doc = b"".join(parts)
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=_fuzz_categories())
    points = sorted({c % (len(doc) + 1) for c in cuts} | {0, len(doc)})
    splits = [
        [doc],
        [doc[a:b] for a, b in pairwise(points)],
        [doc[i : i + small] for i in range(0, len(doc), small)],
    ]
    for visitor, cookie in _COOKIES.items():
        pages = {_through_gate(gate, chunks, cookie) for chunks in splits}
        assert len(pages) == 1, visitor


_COOKIES = _visitor_cookies()


@pytest.mark.parametrize(
    ("terminated", "size", "status"),
    [
        pytest.param(True, 100, "303 SEE OTHER", id="small"),
        pytest.param(True, 17000, "413 REQUEST ENTITY TOO LARGE", id="over-16k"),
        pytest.param(True, 10_000_000, "413 REQUEST ENTITY TOO LARGE", id="10mb"),
        # A server that does not end the stream leaves no safe way to read it.
        pytest.param(False, 100, "400 BAD REQUEST", id="unterminated"),
    ],
)
def test_chunked_posts_are_bounded(
    make_gate: Gate, terminated: bool, size: int, status: str
) -> None:
    environ = EnvironBuilder(path="/consent", method="POST").get_environ()
    body = b"action=accept_all&next=/" + b"a" * size
    environ.pop("CONTENT_LENGTH", None)
    environ.update(
        {"wsgi.input": io.BytesIO(body), "CONTENT_TYPE": "application/x-www-form-urlencoded"}
    )
    if terminated:
        environ["wsgi.input_terminated"] = True
    _, answer, _ = run_wsgi_app(make_gate(), environ, buffered=True)
    assert answer == status


def test_an_over_long_accept_gets_the_redirect(client: Client) -> None:
    accept = "application/json, " + "x/y;q=0.1, " * 100_000
    response = decide(client, "accept_all", Accept=accept)
    assert response.status_code == 303
    assert client.get_cookie("consentgate") is not None


# --- mistakes in setting the gate up ----------------------------------------


@pytest.mark.parametrize(
    ("args", "options", "key"),
    [
        pytest.param(
            (), {"categories": [Category("necessary", required=True)]}, "secret_key", id="no-secret"
        ),
        pytest.param(
            (),
            {"secret_key": SECRET, "categories": [], "cookie_nmae": "c"},
            "cookie_nmae",
            id="mistyped-keyword",
        ),
        pytest.param(({"secret_key": SECRET},), {}, "categories", id="dict-without-categories"),
    ],
)
def test_setup_mistakes_raise_config_errors(
    args: tuple[Any, ...], options: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ConsentGate(html_app(), *args, **options)
    assert caught.value.key == key


def test_a_dict_of_options_configures_the_gate() -> None:
    config = {"secret_key": SECRET, "categories": [{"name": "necessary", "required": True}]}
    assert b"consentgate-banner" in Client(ConsentGate(html_app(), config)).get("/").data


def test_example_secret_is_logged_at_start(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        make_gate(secret_key="change-me")
    assert [r.getMessage().partition(":")[0] for r in caplog.records] == [
        "secret_key is an example value"
    ]


def test_unknown_data_consent_is_logged_once_per_value_and_cut(
    make_gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    page = (
        b"<body><script data-consent='analytcs' src='/a.js'></script>"
        b"<img data-consent='analytcs' src='/p.gif'><img data-consent='ads' src='/b.gif'>"
        b"<p>kept</p></body>"
    )
    client = Client(make_gate(html_app(page), consent_mode=False))
    decide(client, "accept_all")
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        first, second = client.get("/").data, client.get("/").data
    assert first == second == b"<body><p>kept</p></body>"
    named = [
        r.getMessage().split("'")[1] for r in caplog.records if "data-consent" in r.getMessage()
    ]
    assert named == ["analytcs", "ads"]


def test_banner_with_only_required_categories_names_no_empty_purpose() -> None:
    gate = ConsentGate(
        html_app(), secret_key=SECRET, categories=[Category("necessary", required=True)]
    )
    page = Client(gate).get("/").data
    assert b"consentgate-banner" in page
    assert b"also use ." not in page and b"no optional purposes" not in page
    assert b"only necessary cookies" in page


def test_category_added_later_is_asked_about(make_gate: Gate) -> None:
    client = Client(make_gate())
    decide(client, "accept_all")
    cookie = consent_cookie(client)
    extended = [*categories(), Category("marketing", trackers=["meta-pixel"])]
    later = Client(make_gate(categories=extended))
    later.set_cookie("consentgate", cookie)
    page = later.get("/").data
    assert b'id="consentgate-banner"' in page and b"googletagmanager" not in page
    # Under the configuration it was given for, the same cookie still counts.
    same = Client(make_gate())
    same.set_cookie("consentgate", cookie)
    assert same.get("/").data == PAGE_ACCEPTED


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        pytest.param({"Origin": "https://localhost"}, True, id="https-behind-a-proxy"),
        pytest.param(
            {"Origin": "https://www.example.com", "Sec-Fetch-Site": "same-origin"},
            True,
            id="host-hidden-by-a-proxy",
        ),
        pytest.param({"Origin": "https://evil.example"}, False, id="another-site"),
        pytest.param(
            {"Origin": "https://localhost", "Sec-Fetch-Site": "cross-site"},
            False,
            id="cross-site-over-https",
        ),
    ],
)
def test_post_refused_behind_a_proxy_says_how_to_fix_it(
    client: Client, headers: dict[str, str], hint: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = decide(client, "accept_all", **headers)
        decide(client, "accept_all", **headers)
    assert response.status_code == 403 and client.get_cookie("consentgate") is None
    text = response.get_data(as_text=True)
    assert ("ProxyFix" in text and "trusted_origins" in text) is hint
    assert len([r for r in caplog.records if "ProxyFix" in r.getMessage()]) == int(hint)


def test_excluded_paths_get_no_banner_but_are_still_gated(make_gate: Gate) -> None:
    client = Client(make_gate(exclude_paths=["/admin/"]))
    admin = client.get("/admin/login/").data
    assert b"consentgate-banner" not in admin and b"googletagmanager" not in admin
    assert b"consentgate-banner" in client.get("/administrator").data


@pytest.mark.parametrize(
    ("presets", "kept"),
    [
        pytest.param(["django"], ["sessionid", "csrftoken", "messages"], id="django"),
        pytest.param(["flask"], ["session"], id="flask"),
        pytest.param([], [], id="none"),
    ],
)
def test_framework_presets_keep_sign_in_cookies_when_undeclared_are_blocked(
    make_gate: Gate, presets: list[str], kept: list[str]
) -> None:
    names = ["sessionid", "csrftoken", "messages", "session"]
    app = html_app(headers=[("Set-Cookie", f"{name}=1; Path=/") for name in names])
    gate = make_gate(
        app,
        undeclared_cookies="block",
        categories=[Category("necessary", required=True, presets=presets), categories()[1]],
    )
    response = Client(gate).get("/")
    assert sorted(c.partition("=")[0] for c in response.headers.getlist("Set-Cookie")) == sorted(
        kept
    )
    declared = {spec.name for _, spec in gate.settings.declared_cookies()}
    assert {"consentgate", *kept} <= declared


# --- response headers that load ---------------------------------------------

GA = "https://www.google-analytics.com/analytics.js"


@pytest.mark.parametrize(
    ("header", "kept_for_refusal"),
    [
        pytest.param(("Link", f"<{GA}>; rel=preload; as=script"), False, id="link-preload"),
        pytest.param(
            ("Link", f"</app.css>; rel=preload; as=style, <{GA}>; rel=prefetch"),
            False,
            id="link-list",
        ),
        pytest.param(
            ("Link", "<https:www.google-analytics.com/x>; rel=preconnect"),
            False,
            id="link-browser-form",
        ),
        pytest.param(("Refresh", f"0; url={GA}"), False, id="refresh"),
        pytest.param(("Refresh", f"5;URL='{GA}'"), False, id="refresh-quoted"),
        pytest.param(("Link", "</app.css>; rel=preload; as=style"), True, id="own-link"),
        pytest.param(("Refresh", "30"), True, id="own-refresh"),
        pytest.param(("Link", "<" + "/a" * 5000 + ">; rel=preload"), False, id="over-long"),
    ],
)
@pytest.mark.parametrize("content_type", ["text/html", "application/json"])
def test_headers_that_load_a_refused_tracker_are_dropped(
    make_gate: Gate, header: tuple[str, str], kept_for_refusal: bool, content_type: str
) -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type), header])
        return [b"{}"]

    gate = make_gate(app)
    undecided = Client(gate)
    assert (header[1] in undecided.get("/").headers.getlist(header[0])) is kept_for_refusal
    accepted = Client(gate)
    decide(accepted, "accept_all")
    assert header[1] in accepted.get("/").headers.getlist(header[0])
