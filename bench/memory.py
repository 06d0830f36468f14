"""Peak memory of a 100 MB HTML response streamed through the gate.

A generator app yields the page in 16 KB chunks (a WSGI iterable, or one
``http.response.body`` message each for ASGI); the gated response is
consumed chunk by chunk and thrown away, as a server would send it.
:mod:`tracemalloc` reports the peak above what was allocated before the
request started.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.test import EnvironBuilder

from consentgate import ConsentGate
from consentgate.asgi import ConsentGateMiddleware

from . import policy
from .pages import MB, StreamedPage

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: Target for the peak increase.
LIMIT = 5 * MB


@dataclass
class MemoryResult:
    """Peak memory of one streamed response."""

    size: int
    peak: int
    seconds: float
    removed: int

    @property
    def passed(self) -> bool:
        """Whether the peak increase is under :data:`LIMIT`."""
        return self.peak < LIMIT


def _streaming_app(page: StreamedPage) -> Any:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return iter(page)

    return app


def measure(total: int = 100 * MB) -> MemoryResult:
    """Stream ``total`` bytes of HTML through the gate for a visitor who refused analytics."""
    page = StreamedPage(total)
    gate = ConsentGate(_streaming_app(page), policy.settings())
    cookie = gate.codec.dumps(policy.refused())
    builder = EnvironBuilder(path="/", headers=[("Cookie", f"consentgate={cookie}")])
    environ = builder.get_environ()
    builder.close()
    size_in = page.size

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started = time.perf_counter()
        body = gate(environ, start_response)
        size_out = 0
        try:
            for chunk in body:
                size_out += len(chunk)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return MemoryResult(size_in, peak, seconds, size_in - size_out)


def _streaming_asgi_app(page: StreamedPage) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in page:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def measure_asgi(total: int = 100 * MB) -> MemoryResult:
    """Stream ``total`` bytes of HTML through the ASGI gate for a visitor who refused
    analytics; each message the gate sends is counted and dropped."""
    page = StreamedPage(total)
    gate = ConsentGateMiddleware(_streaming_asgi_app(page), policy.settings())
    cookie = gate.gate.codec.dumps(policy.refused())
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"cookie", f"consentgate={cookie}".encode())],
    }
    size_out = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        nonlocal size_out
        size_out += len(message.get("body", b""))

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started = time.perf_counter()
        asyncio.run(gate(scope, receive, send))
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    return MemoryResult(page.size, peak, seconds, page.size - size_out)
