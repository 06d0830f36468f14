"""ConsentGateMiddleware: the ASGI 3 adapter of the gate (Starlette, FastAPI, Quart,
Litestar, Django under an ASGI server).

The same settings, behaviour and guarantees as the WSGI
:class:`~consentgate.ConsentGate`, from the same core: the request is read as
the CGI mapping the core speaks (:func:`environ_from_scope`), the decision
endpoint is answered by the one endpoint implementation, and each
``http.response.body`` message goes through a
:class:`~consentgate.passage.Passage` as it comes, so a streamed page is
never held whole. Websocket and lifespan scopes pass through untouched.

.. code-block:: python

    from fastapi import Depends, FastAPI
    from consentgate import Consent, load_config
    from consentgate.asgi import ConsentGateMiddleware, consent

    app = FastAPI()
    app.add_middleware(ConsentGateMiddleware, config=load_config("consent.toml"))

    @app.get("/")
    def home(visitor: Consent = Depends(consent)) -> dict[str, bool]:
        return {"analytics": visitor.allows("analytics")}
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from .config import Settings
from .endpoint import FormRequest
from .gate import Environ, Gate
from .i18n import LANGUAGE_KEY as I18N_LANGUAGE_KEY
from .passage import Head, Passage

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from .consent import Consent
else:  # the helper reads any object with a ``scope``; FastAPI needs the real class
    try:
        from starlette.requests import HTTPConnection
    except ImportError:  # pragma: no cover - Starlette is not needed to run the gate
        HTTPConnection = object

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Scope key of the visitor's :class:`~consentgate.Consent` (also ``scope["state"]``).
CONSENT_KEY = "consentgate.consent"
#: Scope key of the request as the gate read it: keys an app sets there
#: (``consentgate.csp_nonce``, ``consentgate.banner_placed``...) tell the gate.
ENVIRON_KEY = "consentgate.environ"
#: Scope key of the language the app chose for the consent UI (as in a WSGI environ);
#: while answering, the app may set it in ``scope["consentgate.environ"]`` instead.
LANGUAGE_KEY = I18N_LANGUAGE_KEY
#: Request headers the core may rewrite for the app, and their CGI names.
_REWRITTEN = {b"accept-encoding": "HTTP_ACCEPT_ENCODING", b"if-none-match": "HTTP_IF_NONE_MATCH"}
#: Server extensions that send a file without its bytes passing here: withheld from the
#: app, since a gated page must be read.
_BYPASSING = ("http.response.pathsend", "http.response.zerocopy")
#: Distinct header names whose CGI variable is remembered (a client cannot grow it further).
_CGI_NAMES_KEPT = 256
_CGI_NAMES: dict[bytes, str] = {}


class ConsentGateMiddleware:
    """Wrap an ASGI app so that what a visitor did not accept never reaches them.

    :param app: the ASGI 3 application to wrap.
    :param config: settings, e.g. from :func:`~consentgate.load_config`, or a mapping
        of options as a TOML file has them; a mistake raises
        :class:`~consentgate.ConfigError` naming the option.
    :param serve_endpoint: answer the decision endpoint here.
    :param options: any :class:`~consentgate.config.Settings` field; with
        ``config`` they override it.

    The visitor's consent is in ``scope["consentgate.consent"]`` and
    ``scope["state"]["consentgate"]`` (Starlette's ``request.state.consentgate``);
    :func:`consent` reads it.
    """

    def __init__(
        self,
        app: ASGIApp,
        /,  # as Starlette's add_middleware() types its factories: the options take any name
        config: Settings | Mapping[str, Any] | None = None,
        *,
        serve_endpoint: bool = True,
        **options: Any,
    ) -> None:
        self.app = app
        #: The protocol-free gate: settings, rules, codec and caches.
        self.gate = Gate(config, serve_endpoint=serve_endpoint, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        environ = environ_from_scope(scope)
        if LANGUAGE_KEY in scope:  # the app's choice, from a middleware before this one
            environ[LANGUAGE_KEY] = scope[LANGUAGE_KEY]
        before = _rewritable(environ)
        passage = self.gate.admit(environ)
        if passage is None:
            await self._endpoint(environ, receive, send)
            return
        scope = _app_scope(scope, environ, _rewritable(environ) != before)
        sender = _Sender(passage, receive, send)
        await self.app(scope, sender.receive, sender.send)

    async def _endpoint(self, environ: Environ, receive: Receive, send: Send) -> None:
        """Answer the decision endpoint with the one endpoint implementation; its
        body is read up to the endpoint's limit (413 beyond), never further."""
        body = await _read_body(receive, FormRequest.max_content_length + 1)
        if body is None:  # the client went away
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        gate = self.gate
        if gate.recorder.active:  # the store's I/O stays off the event loop
            head, chunks = await _in_thread(_answer, gate, environ)
        else:
            head, chunks = _answer(gate, environ)
        await send(_start_message(head, {}))
        await send({"type": "http.response.body", "body": b"".join(chunks)})


class _Sender:
    """The app's ``send`` for one response: its messages go through the passage.

    The app's ``receive`` passes here too, so that once the client is gone
    (``http.disconnect``) the rest of the body is dropped, not gated for no one.
    """

    __slots__ = ("done", "passage", "receive_on", "send_on", "start_message")

    def __init__(self, passage: Passage, receive: Receive, send: Send) -> None:
        self.passage = passage
        self.receive_on = receive
        self.send_on = send
        #: The app's ``http.response.start``, whose other keys (``trailers``) a held
        #: head keeps.
        self.start_message: Message = {}
        #: Whether nothing more of the body is sent: its last message went out,
        #: or the client left.
        self.done = False

    async def receive(self) -> Message:
        message = await self.receive_on()
        if message["type"] == "http.disconnect":
            self.done = True
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            await self._start(message)
        elif kind != "http.response.body":
            await self.send_on(message)  # trailers and messages of extensions
        elif self.done:
            return  # refused or cut: the rest of the app's body is dropped
        elif self.passage.passes:
            self.done = not message.get("more_body", False)
            await self.send_on(message)
        else:
            await self._body(message.get("body", b""), message.get("more_body", False))

    async def _start(self, message: Message) -> None:
        self.start_message = message
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]]
        head = self.passage.start(str(message["status"]), headers)
        if head is not None:
            same = head[1] is headers
            await self.send_on(message if same else _start_message(head, message))
        if self.passage.ended:  # refused with 502: its page, and nothing of the app's
            self.done = True
            await self._send_body(self.passage.finish().body, more=False)

    async def _body(self, chunk: bytes, more: bool) -> None:
        passage = self.passage
        head, out = passage.feed(chunk)
        if head is not None:
            await self.send_on(_start_message(head, self.start_message))
        if more and not passage.ended:
            if out:
                await self._send_body(out, more=True)
            return
        self.done = True
        head, tail = passage.finish()
        if head is not None:
            await self.send_on(_start_message(head, self.start_message))
        await self._send_body(out + tail, more=False)

    async def _send_body(self, body: bytes, *, more: bool) -> None:
        await self.send_on({"type": "http.response.body", "body": body, "more_body": more})


def consent(request: HTTPConnection) -> Consent:
    """The visitor's consent for this request, as the gate read it.

    A Starlette helper and a FastAPI dependency: ``Depends(consent)``. Raises
    :exc:`LookupError` when the request did not pass through
    :class:`ConsentGateMiddleware` (a set-up mistake, not a visitor's).
    """
    try:
        found: Consent = request.scope[CONSENT_KEY]
    except KeyError:
        raise LookupError(
            "no consent on this request: add consentgate.asgi.ConsentGateMiddleware "
            "to the app (websocket scopes pass through it without one)"
        ) from None
    return found


def script_tags(request: HTTPConnection) -> str:
    """The JavaScript API's tags (``window.consentgate``: the visitor's state and the
    script, with the CSP nonce) for a page the app writes itself; put them in its
    ``<head>``. Once per page: later calls, and the banner, then add nothing.
    Mark the result safe in the template (Jinja2: ``{{ script_tags(request) | safe }}``).
    """
    consent(request)  # the same LookupError without the gate
    environ: Environ = request.scope[ENVIRON_KEY]
    gate: Gate = environ["consentgate.gate"]
    return gate.place_script(environ)


def environ_from_scope(scope: Scope) -> Environ:
    """The CGI mapping of an HTTP scope, as a WSGI server would give it.

    Strings carry the raw bytes as Latin-1 (PEP 3333); a header sent more than
    once is joined with ``", "`` (``Cookie`` with ``"; "``). The body is not read:
    the endpoint puts what it reads in ``wsgi.input``.
    """
    root = scope.get("root_path", "")
    path = scope.get("path", "/")
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: Environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0] if client else "",
        "wsgi.url_scheme": scope.get("scheme", "http"),
    }
    repeated: dict[str, list[str]] = {}
    for raw_name, raw_value in scope["headers"]:
        name = _CGI_NAMES.get(raw_name) or _cgi_name(raw_name)
        value = raw_value.decode("latin-1")
        if name in environ:  # joined once at the end: linear however many repeats
            repeated.setdefault(name, [environ[name]]).append(value)
        else:
            environ[name] = value
    for name, values in repeated.items():
        environ[name] = ("; " if name == "HTTP_COOKIE" else ", ").join(values)
    return environ


def _cgi_name(raw_name: bytes) -> str:
    """The CGI variable of a header (``HTTP_ACCEPT_LANGUAGE``); the first
    :data:`_CGI_NAMES_KEPT` names seen are remembered, as most requests repeat them."""
    name = raw_name.decode("latin-1").upper().replace("-", "_")
    if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = "HTTP_" + name
    if len(_CGI_NAMES) < _CGI_NAMES_KEPT:
        _CGI_NAMES[raw_name] = name
    return name


def _rewritable(environ: Environ) -> tuple[str | None, ...]:
    """What :meth:`Gate.admit` may rewrite for the app: the query and two headers."""
    get = environ.get
    return get("QUERY_STRING"), get("HTTP_ACCEPT_ENCODING"), get("HTTP_IF_NONE_MATCH")


def _app_scope(scope: Scope, environ: Environ, rewritten: bool) -> Scope:
    """The scope the app sees: the consent in it and, when :meth:`Gate.admit` changed
    the query or headers, those changes; never the incoming scope itself."""
    scope = dict(scope)
    consent = environ[CONSENT_KEY]
    scope[CONSENT_KEY] = consent
    scope[ENVIRON_KEY] = environ
    scope.setdefault("state", {})["consentgate"] = consent
    extensions = scope.get("extensions")
    if extensions and any(name in extensions for name in _BYPASSING):
        scope["extensions"] = {k: v for k, v in extensions.items() if k not in _BYPASSING}
    if rewritten:
        scope["query_string"] = environ.get("QUERY_STRING", "").encode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _REWRITTEN]
        for raw_name, key in _REWRITTEN.items():
            if key in environ:
                headers.append((raw_name, environ[key].encode("latin-1")))
        scope["headers"] = headers
    return scope


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request's body, at most ``limit`` bytes of it; None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)[:limit]


async def _in_thread(
    answer: Callable[[Gate, Environ], tuple[Head, list[bytes]]], gate: Gate, environ: Environ
) -> tuple[Head, list[bytes]]:
    """``answer(gate, environ)`` in asyncio's default thread pool; under another event
    loop (trio), where there is none to ask, in this thread."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return answer(gate, environ)
    return await loop.run_in_executor(None, answer, gate, environ)


def _answer(gate: Gate, environ: Environ) -> tuple[Head, list[bytes]]:
    """Run the endpoint's werkzeug response as WSGI does: its head and body."""
    heads: list[Head] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        heads.append((status, headers))
        return _nowhere

    response = gate.endpoint(environ)
    chunks = list(response(environ, start_response))
    return heads[0], chunks


def _start_message(head: Head, message: Message) -> Message:
    """An ``http.response.start`` message for ``head`` (other keys of ``message`` kept)."""
    status, headers = head
    return {
        **message,
        "type": "http.response.start",
        "status": int(status[:3]),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }


def _nowhere(data: bytes) -> None:
    """The ``write`` callable given to the endpoint's response (which never uses it)."""
