"""The gate's adapters behind one interface, for the shared behavioural suite.

A case in ``test_adapters.py`` describes its app without a protocol (a
:data:`Handler` turns what the app :class:`Seen` into a :class:`Reply`) and
talks to it through a :class:`GateClient`. Each :class:`Adapter` builds the
app in its own protocol, wraps it in its own gate and drives it with its own
test client. Another adapter joins the suite by appending to :data:`ADAPTERS`.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

import httpx
import uvicorn
from werkzeug.test import Client

from consentgate import ConsentGate
from consentgate.asgi import ConsentGateMiddleware
from consentgate.consent import Consent

from .conftest import PAGE, SECRET, categories, setup_django

README = Path(__file__).resolve().parents[1] / "README.md"
#: The content type of :data:`~tests.conftest.PAGE`.
HTML = ("Content-Type", "text/html; charset=utf-8")


@dataclass
class Seen:
    """What the app saw of a request, whatever the protocol."""

    method: str
    #: The path inside the app (without the mount prefix), and the query string.
    path: str
    query: str
    #: Request headers by lower-case name.
    headers: dict[str, str]
    #: The consent the gate put on the request (None: none was put there).
    consent: Consent | None


@dataclass
class Reply:
    """What the app answers: sent as these chunks (one body message each)."""

    body: bytes | list[bytes] = PAGE
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [HTML])

    def chunks(self) -> list[bytes]:
        return [self.body] if isinstance(self.body, bytes) else self.body


Handler = Callable[[Seen], Reply]


@dataclass
class Answer:
    """A response as the visitor's browser gets it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The header's value (repeated ones joined with ``", "``), or None."""
        values = self.all(name)
        return ", ".join(values) if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class GateClient(Protocol):
    """A browser-like client of one gated app: it keeps the cookies it is given."""

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str | list[str]] | None = None,
        body: bytes | None = None,
    ) -> Answer: ...

    def set_cookie(self, name: str, value: str) -> None:
        """Hold a cookie for the site, as if an earlier response had set it."""

    def close(self) -> None: ...


class Adapter(Protocol):
    """One way of putting the gate in front of an app."""

    name: str

    def client(self, handler: Handler, root_path: str, options: dict[str, Any]) -> GateClient:
        """A client of ``handler``'s app behind this adapter's gate, mounted at
        ``root_path``, the gate built with ``options``."""
        ...


def gate_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the suite's secret and categories unless given."""
    return {"secret_key": SECRET, "categories": categories(), **options}


# --- WSGI ---------------------------------------------------------------------


def wsgi_app(handler: Handler) -> Any:
    """``handler`` as a WSGI app yielding its reply's chunks."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        seen = Seen(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            headers,
            environ.get("consentgate.consent"),
        )
        reply = handler(seen)
        start_response(f"{reply.status} X", reply.headers)
        yield from reply.chunks()

    return app


class WsgiClient:
    """Werkzeug's test client in front of :class:`~consentgate.ConsentGate`."""

    def __init__(self, handler: Handler, root_path: str, options: dict[str, Any]) -> None:
        self.gate = ConsentGate(wsgi_app(handler), **gate_options(options))
        self.client = Client(self.gate)
        self.root_path = root_path

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str | list[str]] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        response = self.client.open(
            path,
            method=method,
            headers=dict(headers or {}),
            data=form if form is not None else body,
            base_url="http://localhost" + self.root_path,
        )
        answer = Answer(response.status_code, list(response.headers.items()), response.data)
        response.close()
        return answer

    def set_cookie(self, name: str, value: str) -> None:
        self.client.set_cookie(name, value)

    def close(self) -> None:
        """Nothing to release."""


class WsgiAdapter:
    name = "wsgi"

    def client(self, handler: Handler, root_path: str, options: dict[str, Any]) -> GateClient:
        return WsgiClient(handler, root_path, options)


# --- ASGI ---------------------------------------------------------------------


def asgi_app(handler: Handler) -> Any:
    """``handler`` as an ASGI app sending one body message per chunk."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        path = scope["path"][len(scope.get("root_path", "")) :]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope["query_string"].decode("latin-1")
        seen = Seen(scope["method"], path, query, headers, scope.get("consentgate.consent"))
        reply = handler(seen)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        for chunk in reply.chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


class AsgiClient:
    """httpx's ASGI transport, in process, in front of
    :class:`~consentgate.asgi.ConsentGateMiddleware`."""

    def __init__(self, handler: Handler, root_path: str, options: dict[str, Any]) -> None:
        self.middleware = ConsentGateMiddleware(asgi_app(handler), **gate_options(options))
        self.gate = self.middleware.gate
        transport = httpx.ASGITransport(app=self.middleware, root_path=root_path)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://localhost")
        # As Werkzeug's client: no Accept-Encoding unless a case sends one.
        del self.client.headers["Accept-Encoding"]
        self.root_path = root_path
        self.loop = asyncio.new_event_loop()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str | list[str]] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        request = self.client.build_request(
            method, self.root_path + path, headers=dict(headers or {}), data=form, content=body
        )
        return self.loop.run_until_complete(self._send(request))

    async def _send(self, request: httpx.Request) -> Answer:
        response = await self.client.send(request, stream=True)
        try:
            # The bytes as sent: httpx would decode a compressed body.
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        return Answer(response.status_code, list(response.headers.multi_items()), body)

    def set_cookie(self, name: str, value: str) -> None:
        self.client.cookies.set(name, value)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


class AsgiAdapter:
    name = "asgi"

    def client(self, handler: Handler, root_path: str, options: dict[str, Any]) -> GateClient:
        return AsgiClient(handler, root_path, options)


# --- Django -------------------------------------------------------------------


def django_view(handler: Handler, asynchronous: bool = False) -> Any:
    """``handler`` as a Django view: a streamed response for a reply of several chunks,
    from an async iterator when ``asynchronous`` (as under ASGI Django)."""
    from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
    from django.http.response import HttpResponseBase

    from consentgate.django.responses import RawCookie

    def view(request: HttpRequest) -> HttpResponseBase:
        meta = request.META
        headers = {k[5:].replace("_", "-").lower(): v for k, v in meta.items() if k[:5] == "HTTP_"}
        seen = Seen(
            meta["REQUEST_METHOD"],
            meta.get("PATH_INFO", ""),
            meta.get("QUERY_STRING", ""),
            headers,
            meta.get("consentgate.consent"),
        )
        reply = handler(seen)
        chunks = reply.chunks()
        response: HttpResponseBase = (
            HttpResponse(chunks[0] if chunks else b"", status=reply.status)
            if isinstance(reply.body, bytes)
            else StreamingHttpResponse(
                _async_chunks(chunks) if asynchronous else iter(chunks), status=reply.status
            )
        )
        del response["Content-Type"]  # only the reply's own headers
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                cookie = RawCookie(value)
                response.cookies[cookie.key] = cookie
            else:
                response[name] = value
        return response

    return view


async def _async_chunks(chunks: list[bytes]) -> Any:
    for chunk in chunks:
        yield chunk


class _UrlConf:
    """A URLconf of its own for one client (Django caches resolvers by URLconf)."""

    def __init__(self, urlpatterns: list[Any]) -> None:
        self.urlpatterns = urlpatterns


class DjangoClient:
    """Django's test client in front of :class:`~consentgate.django.middleware.
    ConsentGateMiddleware`, the gate built from ``settings.CONSENTGATE``."""

    def __init__(
        self,
        handler: Handler,
        root_path: str,
        options: dict[str, Any],
        asynchronous: bool = False,
    ) -> None:
        from django.test import Client, override_settings
        from django.urls import include, path, re_path

        from consentgate.django.conf import current

        urls = _UrlConf(
            [
                path("", include("consentgate.django.urls")),
                re_path(r"", django_view(handler, asynchronous)),
            ]
        )
        self.settings = override_settings(
            CONSENTGATE=gate_options(options),
            MIDDLEWARE=["consentgate.django.middleware.ConsentGateMiddleware"],
            ROOT_URLCONF=urls,
        )
        self.settings.enable()
        self.gate = current().gate
        self.client = Client(SCRIPT_NAME=root_path)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str | list[str]] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")
        data = urlencode(form, doseq=True).encode() if form is not None else body or b""
        response = self.client.generic(
            method, path, data, content_type=content_type, headers=headers
        )
        sent = list(response.items())
        sent += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
        # django-stubs types the test client's response as one that never streams.
        data = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        response.close()
        return Answer(response.status_code, sent, data)

    def set_cookie(self, name: str, value: str) -> None:
        self.client.cookies[name] = value

    def close(self) -> None:
        self.settings.disable()


class DjangoAsgiClient(AsgiClient):
    """httpx's ASGI transport in front of Django's ASGI handler: the middleware's async
    path, as under uvicorn (Django's own AsyncClient would put a WSGI-style path in
    the scope)."""

    def __init__(self, handler: Handler, root_path: str, options: dict[str, Any]) -> None:
        from django.core.handlers.asgi import ASGIHandler

        self.django = DjangoClient(handler, root_path, options, asynchronous=True)
        self.gate = self.django.gate
        # django-stubs types the scope as a dict, httpx passes a MutableMapping: both are dicts.
        transport = httpx.ASGITransport(app=ASGIHandler(), root_path=root_path)  # type: ignore[arg-type]
        self.client = httpx.AsyncClient(transport=transport, base_url="http://localhost")
        del self.client.headers["Accept-Encoding"]
        self.root_path = root_path
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        super().close()
        self.django.close()


class DjangoAdapter:
    def __init__(self, name: str, client: type[DjangoClient | DjangoAsgiClient]) -> None:
        self.name = name
        self.client_class = client

    def client(self, handler: Handler, root_path: str, options: dict[str, Any]) -> GateClient:
        setup_django()
        return self.client_class(handler, root_path, options)


#: Every adapter the shared suite runs against.
ADAPTERS: list[Adapter] = [
    WsgiAdapter(),
    AsgiAdapter(),
    DjangoAdapter("django", DjangoClient),
    DjangoAdapter("django-asgi", DjangoAsgiClient),
]


# --- ASGI apps for real -----------------------------------------------------------


@contextmanager
def uvicorn_served(app: Any, lifespan: Literal["auto", "on", "off"] = "on") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port of 127.0.0.1 (its lifespan run,
    unless ``lifespan="off"``: Django has none); yields the base URL, and stops the
    server on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def readme_module(name: str) -> types.ModuleType:
    """The README's ASGI code block that starts with ``# name``, run as a module."""
    text = README.read_text("utf-8")
    section = text[text.index("## Quick start: ASGI apps") : text.index("## Configuration")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    (code,) = [b for b in blocks if b.startswith(f"# {name}\n")]
    module = types.ModuleType(name.removesuffix(".py"))
    exec(compile(code, str(README), "exec"), module.__dict__)
    return module
