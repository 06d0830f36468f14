"""Per-request cost of the ASGI gate, in process, against the bare Starlette app.

The same app answers both: a small Starlette app with a JSON route and the
tiny page of :mod:`bench.overhead`. Each request is one call of the app with a
prepared scope, inside one event loop, its messages consumed and dropped. Bare
and gated loops take turns, so that drifts in the machine's speed hit both
alike; the figures are CPU time per request.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from consentgate.asgi import ConsentGateMiddleware

from . import policy
from .overhead import TINY_PAGE
from .timing import clock

Message = dict[str, Any]


@dataclass(frozen=True)
class AsgiCase:
    """One kind of request."""

    name: str
    path: str
    visitor: str  # "undecided" or "accepted"
    #: Whether the gated answer carries the banner.
    banner: bool


CASES = (
    AsgiCase("pass-through (JSON)", "/data", "accepted", False),
    AsgiCase("tiny HTML, visitor accepted all", "/page", "accepted", False),
    AsgiCase("tiny HTML + banner, undecided", "/page", "undecided", True),
)


@dataclass
class AsgiOverhead:
    """The measured cost of one case, in seconds per request."""

    case: AsgiCase
    bare: float
    gated: float

    @property
    def fraction(self) -> float:
        """Added time as a fraction of the bare app's time."""
        return (self.gated - self.bare) / self.bare


def bare_app() -> Starlette:
    """The minimal Starlette app every case runs against."""

    async def data(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def page(request: Request) -> Response:
        return HTMLResponse(TINY_PAGE)

    return Starlette(routes=[Route("/data", data), Route("/page", page)])


def _scope(case: AsgiCase, gate: ConsentGateMiddleware) -> Message:
    headers = [(b"host", b"localhost"), (b"accept", b"text/html")]
    if case.visitor == "accepted":
        cookie = gate.gate.codec.dumps(policy.accepted())
        headers.append((b"cookie", f"{gate.gate.settings.cookie_name}={cookie}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": case.path,
        "raw_path": case.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _call(app: Any, scope: Message) -> bytes:
    """One request: the whole body sent."""
    sent: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    await app(dict(scope), _receive, send)
    return b"".join(sent)


async def _loop(app: Any, scope: Message, loops: int) -> float:
    start = clock()
    for _ in range(loops):
        await _call(app, scope)
    return (clock() - start) / loops


def measure(case: AsgiCase, *, quick: bool = False) -> AsgiOverhead:
    """Median time per request of ``case``, bare and gated, in alternating rounds."""
    app = bare_app()
    gate = ConsentGateMiddleware(app, policy.settings(inject_banner=True))
    scope = _scope(case, gate)
    return asyncio.run(_measure(case, app, gate, scope, quick))


async def _measure(
    case: AsgiCase, app: Starlette, gate: ConsentGateMiddleware, scope: Message, quick: bool
) -> AsgiOverhead:
    banner = b"consentgate-banner" in await _call(gate, scope)
    if banner != case.banner:
        raise RuntimeError(f"{case.name}: banner {'present' if banner else 'missing'}")
    single = await _loop(app, scope, 200)
    loops = max(50, int(0.02 / single))
    await _loop(app, scope, loops)
    await _loop(gate, scope, loops)
    bare: list[float] = []
    gated: list[float] = []
    for _ in range(7 if quick else 25):
        bare.append(await _loop(app, scope, loops))
        gated.append(await _loop(gate, scope, loops))
    return AsgiOverhead(case, statistics.median(bare), statistics.median(gated))
