"""What only the ASGI adapter has: scopes other than HTTP, the consent helpers for
Starlette and FastAPI, disconnects, a real uvicorn server, its memory bound and the
README's quick starts. The behaviour it shares with WSGI is in ``test_adapters.py``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from bench.memory import LIMIT, measure_asgi
from bench.pages import MB
from consentgate import Consent
from consentgate.asgi import ConsentGateMiddleware, consent, script_tags
from consentgate.records import RecordReader

from .adapters import readme_module, uvicorn_served
from .conftest import GTAG, PAGE, PAGE_ACCEPTED, SECRET, categories

BANNER = b'id="consentgate-banner"'
OPTIONS: dict[str, Any] = {"secret_key": SECRET, "categories": categories()}
Message = MutableMapping[str, Any]


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def call(app: Any, scope: Message, incoming: list[Message]) -> list[Message]:
    """Call ``app`` with ``scope``; ``incoming`` are the messages ``receive`` gives
    (then it waits for ever, as a server does); returns what it sent."""
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def http_scope(path: str = "/", method: str = "GET", headers: Any = (), **extra: Any) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
        **extra,
    }


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


# --- other scopes ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_other_scopes_pass_through_untouched(kind: str) -> None:
    got: list[tuple[Any, Any, Any]] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        got.append((scope, receive, send))

    scope: Message = {"type": kind, "headers": [(b"cookie", b"consentgate=x")]}

    async def receive() -> Message:
        return {"type": f"{kind}.connect"}

    async def send(message: Message) -> None:
        """Nothing."""

    run(ConsentGateMiddleware(app, **OPTIONS)(scope, receive, send))
    assert got == [(scope, receive, send)] and got[0][0] is scope
    assert "consentgate.consent" not in scope


# --- the consent in the app -------------------------------------------------------


def test_starlette_reads_the_consent_from_the_helper_and_request_state() -> None:
    async def home(request: Request) -> PlainTextResponse:
        found = consent(request)
        assert request.state.consentgate is found
        return PlainTextResponse(f"decided={found.decided} analytics={found.allows('analytics')}")

    app = Starlette(
        routes=[Route("/", home)], middleware=[Middleware(ConsentGateMiddleware, **OPTIONS)]
    )

    async def visit() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            before = (await client.get("/")).text
            await client.post("/consent", data={"action": "accept_all"})
            return [before, (await client.get("/")).text]

    assert run(visit()) == ["decided=False analytics=False", "decided=True analytics=True"]


def test_fastapi_takes_the_consent_as_a_dependency() -> None:
    app = FastAPI()
    app.add_middleware(ConsentGateMiddleware, **OPTIONS)

    @app.get("/")
    def home(visitor: Annotated[Consent, Depends(consent)]) -> dict[str, bool]:
        return {"decided": visitor.decided}

    async def visit() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            before = (await client.get("/")).json()
            await client.post("/consent", data={"action": "reject_all"})
            return [before, (await client.get("/")).json()]

    assert run(visit()) == [{"decided": False}, {"decided": True}]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("consentgate.banner_placed", True, id="banner-placed"),
        pytest.param("consentgate.csp_nonce", "r4nd0m", id="csp-nonce"),
    ],
)
def test_the_app_tells_the_gate_through_the_environ_in_its_scope(key: str, value: Any) -> None:
    async def app(scope: Message, receive: Any, send: Any) -> None:
        scope["consentgate.environ"][key] = value
        await HTMLResponse(PAGE)(scope, receive, send)

    body = body_of(run(call(ConsentGateMiddleware(app, **OPTIONS), http_scope(), [])))
    assert b"googletagmanager" not in body
    if key == "consentgate.banner_placed":
        assert BANNER not in body
    else:
        assert BANNER in body and b'<style nonce="r4nd0m">' in body


def test_a_page_places_the_javascript_api_once() -> None:
    async def home(request: Request) -> HTMLResponse:
        tags = script_tags(request) + script_tags(request)  # the second adds nothing
        return HTMLResponse(f"<!DOCTYPE html><head>{tags}</head><body><p>Hi</p>")

    app = Starlette(
        routes=[Route("/", home)], middleware=[Middleware(ConsentGateMiddleware, **OPTIONS)]
    )

    async def visit() -> list[bytes]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            before = (await client.get("/")).content
            await client.post("/consent", data={"action": "reject_all"})
            return [before, (await client.get("/")).content]

    before, after = run(visit())
    assert before.count(b'id="consentgate-state"') == after.count(b'id="consentgate-state"') == 1
    assert BANNER in before and BANNER not in after
    assert b'"decided": true' in after or b'"decided":true' in after


def test_the_helper_says_when_the_gate_is_missing() -> None:
    request = Request(http_scope())
    with pytest.raises(LookupError, match="ConsentGateMiddleware"):
        consent(request)


#: Runs the gate on a plain ASGI app with Starlette, FastAPI, httpx and anyio unimportable.
WITHOUT_FRAMEWORKS = """
import asyncio, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("starlette", "fastapi", "httpx", "anyio"):
            raise ImportError(name)

sys.meta_path.insert(0, Refuse())
from consentgate.asgi import ConsentGateMiddleware

async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"<p>hi</p>"})

sent = []
async def send(message):
    sent.append(message)

async def receive():
    return {"type": "http.request"}

categories = [{"name": "necessary", "required": True}, {"name": "analytics"}]
gate = ConsentGateMiddleware(app, secret_key="x" * 32, categories=categories)
asyncio.run(gate({"type": "http", "method": "GET", "path": "/", "headers": []}, receive, send))
assert b"consentgate-banner" in sent[-1]["body"], sent
"""


def test_the_middleware_needs_no_framework_at_run_time() -> None:
    subprocess.run([sys.executable, "-c", WITHOUT_FRAMEWORKS], check=True)


# --- bodies and disconnects ---------------------------------------------------------


def test_a_decision_is_recorded_before_it_is_answered(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/consent.sqlite3"
    gate = ConsentGateMiddleware(PlainTextResponse("app"), records=store, **OPTIONS)
    form = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"origin", b"http://localhost"),
    ]
    body = {"type": "http.request", "body": b"action=accept_all&next=/"}
    sent = run(call(gate, http_scope("/consent", "POST", form), [body]))
    assert sent[0]["status"] == 303
    opened = gate.gate.recorder.store()
    assert isinstance(opened, RecordReader)
    assert opened.stats().total == 1
    gate.gate.recorder.close()


def test_a_chunked_post_over_the_limit_is_refused_unread() -> None:
    pieces: list[Message] = [{"type": "http.request", "body": b"x" * 4096, "more_body": True}] * 100
    scope = http_scope(
        "/consent", "POST", [(b"content-type", b"application/x-www-form-urlencoded")]
    )
    sent = run(call(ConsentGateMiddleware(PlainTextResponse("app"), **OPTIONS), scope, pieces))
    assert sent[0]["status"] == 413
    assert not any(name == b"set-cookie" for name, _ in sent[0]["headers"])


def test_a_client_gone_before_its_post_arrived_gets_nothing() -> None:
    scope = http_scope("/consent", "POST")
    disconnect: list[Message] = [{"type": "http.disconnect"}]
    assert (
        run(call(ConsentGateMiddleware(PlainTextResponse("app"), **OPTIONS), scope, disconnect))
        == []
    )


def test_a_disconnect_ends_an_endless_stream() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"<!DOCTYPE html><title>x</title>" + GTAG
        while True:
            yield b"<p>more</p>" * 100
            await asyncio.sleep(0)

    app = ConsentGateMiddleware(StreamingResponse(endless(), media_type="text/html"), **OPTIONS)
    # Starlette's response listens for the disconnect (ASGI spec 2.3) and stops.
    incoming: list[Message] = [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]
    sent = run(call(app, http_scope(), incoming))  # returns: the stream ended
    assert b"googletagmanager" not in body_of(sent)
    assert not any(m.get("more_body") is False for m in sent[1:])


def test_a_disconnect_seen_by_the_app_stops_the_gating() -> None:
    async def app(scope: Message, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE[:100], "more_body": True})
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.body", "body": PAGE[100:], "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    sent = run(
        call(ConsentGateMiddleware(app, **OPTIONS), http_scope(), [{"type": "http.disconnect"}])
    )
    assert BANNER not in body_of(sent) and b"<h1>Hello</h1>" not in body_of(sent)


def test_repeated_headers_are_read_as_one() -> None:
    gate = ConsentGateMiddleware(HTMLResponse(PAGE), **OPTIONS)
    accepted = Consent(
        frozenset({"necessary", "analytics"}),
        decided=True,
        version=gate.gate.settings.policy_version,
        decided_at=int(time.time()),
    )
    cookie = gate.gate.codec.dumps(accepted)
    headers = [(b"cookie", b"visits=1"), (b"cookie", f"consentgate={cookie}".encode())]
    headers += [(b"x-filler", b"x")] * 5000
    assert body_of(run(call(gate, http_scope(headers=headers), []))) == PAGE_ACCEPTED


def test_file_sending_extensions_are_withheld_from_the_app() -> None:
    seen: list[Message] = []

    async def app(scope: Message, receive: Any, send: Any) -> None:
        seen.append(scope)
        await PlainTextResponse("ok")(scope, receive, send)

    extensions: dict[str, dict[str, Any]] = {
        "http.response.pathsend": {},
        "http.response.trailers": {},
    }
    run(call(ConsentGateMiddleware(app, **OPTIONS), http_scope(extensions=extensions), []))
    assert seen[0]["extensions"] == {"http.response.trailers": {}}


def test_a_100_mb_stream_stays_under_5_mb() -> None:
    result = measure_asgi(100 * MB)
    assert result.size >= 100 * MB and result.removed > 0
    assert result.peak < LIMIT, f"peak +{result.peak / MB:.2f} MB"


# --- a real server --------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[Callable[[Any], str]]:
    """Serve ASGI apps with uvicorn on free ports of 127.0.0.1; stopped after the test."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(uvicorn_served(app))


def test_uvicorn_streams_a_gated_page_and_runs_the_apps_lifespan(served: Any) -> None:
    started: list[bool] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started.append(True)
        yield

    async def page(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(PAGE), 10):
                yield PAGE[i : i + 10]

        return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")

    app = Starlette(
        routes=[Route("/", page)],
        middleware=[Middleware(ConsentGateMiddleware, **OPTIONS)],
        lifespan=lifespan,
    )
    base = served(app)
    assert started == [True]
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "identity"}) as client:
        first = client.get("/")
        assert first.status_code == 200 and first.headers.get("transfer-encoding") == "chunked"
        assert BANNER in first.content and b"googletagmanager" not in first.content
        decided = client.post("/consent", data={"action": "accept_all"}, follow_redirects=False)
        assert decided.status_code == 303
        assert client.get("/").content == PAGE_ACCEPTED


# --- the README -------------------------------------------------------------------------


def test_the_readme_fastapi_quick_start_gates_under_uvicorn(served: Any) -> None:
    base = served(readme_module("main.py").app)
    with httpx.Client(base_url=base) as client:
        page = client.get("/")
        assert BANNER in page.content and b"googletagmanager" not in page.content
        client.post("/consent", data={"action": "accept_all"})
        page = client.get("/")
        assert b"googletagmanager" in page.content and b"Thank you" in page.content


def test_the_readme_starlette_quick_start_reads_the_consent() -> None:
    app = readme_module("app.py").app

    async def visit() -> list[bytes]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            before = (await client.get("/")).content
            await client.post("/consent", data={"action": "reject_all"})
            return [before, (await client.get("/")).content]

    before, after = run(visit())
    assert BANNER in before and b"Visits counted: no" in before
    assert BANNER not in after and b"Visits counted: no" in after
