"""One behavioural suite for every adapter: WSGI, ASGI and Django give a visitor the
same gate.

Each case runs once per adapter in :data:`tests.adapters.ADAPTERS`, through that
adapter's own test client (Werkzeug's for WSGI, httpx's ASGI transport for ASGI,
Django's test client, and httpx's ASGI transport to Django's ASGI handler, for the
Django middleware's sync and async paths).
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import brotli
import pytest
from backports import zstd

from consentgate.encoding import readable_accept_encoding

from .adapters import ADAPTERS, HTML, Adapter, Answer, GateClient, Handler, Reply, Seen
from .conftest import GTAG, PAGE, PAGE_ACCEPTED

Serve = Callable[..., GateClient]
#: :data:`PAGE` as a visitor who refused analytics gets it.
GATED = PAGE.replace(GTAG, b"\n\n")
BANNER = b'id="consentgate-banner"'
NOT_CHECKED = b"could not be checked"


def replying(reply: Reply) -> Handler:
    """An app that answers every request with ``reply``."""
    return lambda seen: reply


def recording(seen: list[Seen], reply: Reply | None = None) -> Handler:
    """An app that notes each request it sees in ``seen`` and answers ``reply``."""

    def app(request: Seen) -> Reply:
        seen.append(request)
        return reply or Reply()

    return app


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.fixture(params=ADAPTERS, ids=lambda adapter: adapter.name)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    found: Adapter = request.param
    return found


@pytest.fixture
def serve(adapter: Adapter) -> Iterator[Serve]:
    """Build a client of an app behind this adapter's gate; closed after the test."""
    clients: list[GateClient] = []

    def build(handler: Handler | None = None, root_path: str = "", **options: Any) -> GateClient:
        client = adapter.client(handler or replying(Reply()), root_path, options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def decide(client: GateClient, action: str, *categories: str, **headers: str) -> Answer:
    """Post a decision the way the banner's form does."""
    form: dict[str, Any] = {"action": action, "next": "/page?x=1"}
    if categories:
        form["category"] = list(categories)
    return client.request("POST", "/consent", form=form, headers=headers)


# --- pages ----------------------------------------------------------------------


def test_an_undecided_visitor_gets_the_banner_and_no_tracker(serve: Serve) -> None:
    answer = serve().request("GET", "/")
    assert answer.status == 200
    assert BANNER in answer.body and b"googletagmanager" not in answer.body
    assert b"<h1>Hello</h1>" in answer.body
    assert answer.header("Content-Length") in (None, str(len(answer.body)))
    assert "Cookie" in (answer.header("Vary") or "")


def test_an_accepting_visitor_gets_the_page_with_its_consent_mode_default(serve: Serve) -> None:
    client = serve()
    decided = decide(client, "accept_all")
    assert decided.status == 303 and decided.header("Location") == "/page?x=1"
    assert any(v.startswith("consentgate=") for v in decided.all("Set-Cookie"))
    assert client.request("GET", "/").body == PAGE_ACCEPTED


@pytest.mark.parametrize("size", [1, 7, 100_000])
def test_a_streamed_page_is_gated_however_it_is_split(serve: Serve, size: int) -> None:
    client = serve(replying(Reply(chunked(PAGE, size))))
    decide(client, "reject_all")
    assert client.request("GET", "/").body == GATED


def test_the_app_reads_the_visitors_consent(serve: Serve) -> None:
    seen: list[Seen] = []
    client = serve(recording(seen))
    client.request("GET", "/")
    decide(client, "save", "analytics")
    client.request("GET", "/")
    before, after = seen[0].consent, seen[-1].consent
    assert before is not None and not before.decided
    assert after is not None and after.decided and after.allows("analytics")


def test_a_page_that_needs_nothing_cut_reaches_an_accepting_visitor_whole(serve: Serve) -> None:
    client = serve(replying(Reply(b"<p>plain</p>")), consent_mode=False)
    decide(client, "accept_all")
    assert client.request("GET", "/").body == b"<p>plain</p>"


def test_other_content_passes_untouched(serve: Serve) -> None:
    body = b'{"html": "<script src=https://www.googletagmanager.com/gtag/js></script>"}'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    answer = serve(replying(Reply(body, headers=headers))).request("GET", "/api")
    assert answer.body == body and answer.header("Content-Length") == str(len(body))
    assert BANNER not in answer.body


def test_a_head_request_gets_the_headers_of_the_page(serve: Serve) -> None:
    client = serve(lambda seen: Reply(b"" if seen.method == "HEAD" else PAGE))
    head, get = client.request("HEAD", "/"), client.request("GET", "/")
    assert head.status == 200 and head.body == b""
    assert head.header("Vary") == get.header("Vary") == "Cookie, Accept-Language"
    assert head.header("Content-Length") is None


def test_an_excluded_path_gets_no_banner(serve: Serve) -> None:
    client = serve(exclude_paths=["/admin/"])
    assert BANNER not in client.request("GET", "/admin/users").body
    assert BANNER in client.request("GET", "/users").body


def test_the_app_never_sees_a_load_once_token(serve: Serve) -> None:
    seen: list[Seen] = []
    serve(recording(seen)).request("GET", "/page?x=1&consentgate_load=forged&y=%C3%A9")
    assert (seen[0].path, seen[0].query) == ("/page", "x=1&y=%C3%A9")


def test_the_banner_brings_the_visitor_back_to_a_non_ascii_path(serve: Serve) -> None:
    seen: list[Seen] = []
    answer = serve(recording(seen)).request("GET", "/caf%C3%A9?q=%E2%9C%93")
    assert b'name="next" value="/caf%C3%A9?q=%E2%9C%93"' in answer.body
    assert seen[0].query == "q=%E2%9C%93"


def test_a_mounted_app_writes_its_prefix_into_the_banner_and_redirects(serve: Serve) -> None:
    client = serve(root_path="/app")
    page = client.request("GET", "/")
    assert b'action="/app/consent"' in page.body
    decided = decide(client, "reject_all")
    assert decided.status == 303 and decided.header("Location") == "/app/page?x=1"


# --- cookies ----------------------------------------------------------------------


def test_set_cookie_of_a_refused_category_is_dropped(serve: Serve) -> None:
    headers = [HTML, ("Set-Cookie", "visits=1; Path=/"), ("Set-Cookie", "session=s; Path=/")]
    client = serve(replying(Reply(headers=headers)))
    cookies = client.request("GET", "/").all("Set-Cookie")
    assert [c.split("=")[0] for c in cookies] == ["session"]
    decide(client, "accept_all")
    cookies = client.request("GET", "/").all("Set-Cookie")
    assert sorted(c.split("=")[0] for c in cookies) == ["session", "visits"]


def test_a_refused_cookie_the_browser_holds_is_expired(serve: Serve) -> None:
    client = serve()
    decide(client, "reject_all")
    client.set_cookie("visits", "1")
    cookies = client.request("GET", "/").all("Set-Cookie")
    assert any(c.startswith("visits=;") and "Max-Age=0" in c for c in cookies)


def test_a_link_header_to_a_refused_tracker_is_dropped(serve: Serve) -> None:
    tracker = "<https://www.googletagmanager.com/gtag/js?id=G-TEST>; rel=preload; as=script"
    own = "</static/app.css>; rel=preload; as=style"
    headers = [HTML, ("Link", tracker), ("Link", own)]
    client = serve(replying(Reply(headers=headers)))
    decide(client, "reject_all")
    assert client.request("GET", "/").all("Link") == [own]


# --- the endpoint ---------------------------------------------------------------------


def test_the_preferences_page_is_served(serve: Serve) -> None:
    answer = serve().request("GET", "/consent")
    assert answer.status == 200 and (answer.header("Content-Type") or "").startswith("text/html")
    assert b'name="action"' in answer.body and answer.header("Cache-Control") == "no-store"


def test_a_script_gets_json(serve: Serve) -> None:
    client = serve()
    answer = decide(client, "save", "analytics", Accept="application/json")
    assert answer.status == 200
    state = json.loads(answer.body)
    assert state["granted"] == ["necessary", "analytics"] and state["refused"] == []
    again = json.loads(
        client.request("GET", "/consent", headers={"Accept": "application/json"}).body
    )
    assert again["granted"] == ["necessary", "analytics"]


def test_a_cross_site_post_is_refused_and_changes_nothing(serve: Serve) -> None:
    answer = decide(serve(), "accept_all", Origin="https://evil.example")
    assert answer.status == 403 and answer.all("Set-Cookie") == []


def test_an_oversized_post_is_refused(serve: Serve) -> None:
    body = b"action=accept_all&pad=" + b"x" * 17_000
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = serve().request("POST", "/consent", body=body, headers=headers)
    assert answer.status == 413 and answer.all("Set-Cookie") == []


# --- caching ---------------------------------------------------------------------


def etag_app(request: Seen) -> Reply:
    """A page with an ETag that answers 304 when the browser holds it."""
    if request.headers.get("if-none-match") == '"v1"':
        return Reply(b"", status=304, headers=[("ETag", '"v1"')])
    return Reply(headers=[HTML, ("ETag", '"v1"')])


def test_a_304_is_only_for_the_consent_the_page_was_rendered_for(serve: Serve) -> None:
    client = serve(etag_app)
    etag = client.request("GET", "/").header("ETag")
    assert etag is not None and etag != '"v1"'
    again = client.request("GET", "/", headers={"If-None-Match": etag})
    assert again.status == 304 and again.header("ETag") == etag
    decide(client, "accept_all")
    after = client.request("GET", "/", headers={"If-None-Match": etag})
    assert after.status == 200 and after.body == PAGE_ACCEPTED


# --- compressed and unreadable pages -------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "encode", "decode"),
    [
        pytest.param("gzip", gzip.compress, gzip.decompress, id="gzip"),
        pytest.param("br", brotli.compress, brotli.decompress, id="brotli"),
        pytest.param("zstd", zstd.compress, zstd.decompress, id="zstd"),
    ],
)
def test_a_compressed_page_is_gated_and_compressed_again(
    serve: Serve, coding: str, encode: Callable[[bytes], bytes], decode: Callable[[bytes], bytes]
) -> None:
    headers = [HTML, ("Content-Encoding", coding)]
    client = serve(replying(Reply(chunked(encode(PAGE), 50), headers=headers)))
    decide(client, "reject_all")
    answer = client.request("GET", "/", headers={"Accept-Encoding": coding})
    assert answer.header("Content-Encoding") == coding
    assert decode(answer.body) == GATED


def test_the_app_is_asked_for_codings_the_gate_reads(serve: Serve) -> None:
    seen: list[Seen] = []
    sent = "gzip, compress, x-unknown;q=0.5"
    serve(recording(seen)).request("GET", "/", headers={"Accept-Encoding": sent})
    assert seen[0].headers["accept-encoding"] == readable_accept_encoding(sent)


def test_an_unreadable_page_is_a_502(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    headers = [("Content-Type", "text/html; charset=UTF-16")]
    client = serve(replying(Reply(chunked(PAGE, 50), headers=headers)))
    with caplog.at_level(logging.ERROR, logger="consentgate"):
        answer = client.request("GET", "/")
    assert answer.status == 502 and NOT_CHECKED in answer.body
    assert b"googletagmanager" not in answer.body
    assert answer.header("Cache-Control") == "no-store"
    assert any("answered 502" in r.getMessage() for r in caplog.records)


def test_a_page_found_unreadable_late_ends_there(serve: Serve) -> None:
    page = PAGE + b"\x1b(J" + GTAG
    client = serve(replying(Reply(chunked(page, len(PAGE) + 1))))
    decide(client, "reject_all")
    answer = client.request("GET", "/")
    assert answer.status == 200
    assert answer.body.startswith(GATED) and b"googletagmanager" not in answer.body
