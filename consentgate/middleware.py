"""ConsentGate: the WSGI adapter of the gate.

It reads the visitor's signed choice (as the request's mode and Global Privacy
Control signal make it count, :mod:`~consentgate.jurisdiction`), answers the
decision endpoint, filters the app's ``Set-Cookie`` headers, expires refused
cookies, and streams HTML responses through the rewriter; all of that is the
protocol-free core (:class:`~consentgate.gate.Gate`,
:class:`~consentgate.passage.Passage`). This module only speaks PEP 3333:
``start_response``, the ``write`` callable, the response iterable and its
``close()``. Responses that need no rewriting are handed back untouched, so
``wsgi.file_wrapper`` keeps its fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .config import Settings
from .gate import Gate
from .passage import Head, Passage
from .paths import app_path as app_path
from .paths import current_path as current_path
from .paths import log_path as log_path

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .gate import Visitor


class _Body(Passage):
    """One response as PEP 3333 has it: ``start_response`` and the body's iterable.

    The passage itself, so that a request costs one object: :meth:`Gate.admit`
    builds it (:attr:`ConsentGate.passage_type`). The app's iterable is handed
    back itself when the body passes untouched; otherwise this object, as the
    response's iterable, streams it through the passage and forwards ``close()``.
    """

    __slots__ = ("_exc_info", "_sent", "_write", "app_iter", "outer_start_response")

    def __init__(
        self,
        gate: Gate,
        environ: WSGIEnvironment,
        visitor: Visitor,
        conditional: bool,
        tag: str | None = None,
    ) -> None:
        Passage.__init__(self, gate, environ, visitor, conditional, tag)
        #: The server's ``start_response``, set by :meth:`ConsentGate.__call__`.
        self.outer_start_response: StartResponse = _no_server
        self.app_iter: Iterable[bytes] = ()
        #: Whether the headers went out (the server's ``write`` is known).
        self._sent = False
        self._exc_info: Any = None
        self._write: Callable[[bytes], object] = _nowhere

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        self._exc_info = exc_info
        head = self.start(status, headers)
        if head is not None:  # the head goes now (what _send does, on every request's path)
            self._write = self.outer_start_response(*head, exc_info)
            self._sent = True
        return _nowhere if self.ended else self.write

    def write(self, data: bytes) -> None:
        """The ``write`` callable of PEP 3333, for apps that push their body."""
        head, out = self.feed(data)
        if head is not None:
            self._send(head)
        if out:
            self._write(out)

    def __iter__(self) -> Iterator[bytes]:
        if not self.ended:
            for chunk in self.app_iter:
                head, out = self.feed(chunk)
                if head is not None:
                    self._send(head)
                # PEP 3333: yield even when the gate holds everything back.
                if self._sent:
                    yield out
                if self.ended:
                    return
        head, out = self.finish()
        if head is not None:
            self._send(head)
        yield out

    def close(self) -> None:
        """Close the app's iterable, as PEP 3333 asks of every middleware."""
        close = getattr(self.app_iter, "close", None)
        if close is not None:
            close()

    def _send(self, head: Head) -> None:
        """Give the server the response's headers."""
        self._write = self.outer_start_response(*head, self._exc_info)
        self._sent = True


class ConsentGate(Gate):
    """Wrap a WSGI app so that what a visitor did not accept never reaches them.

    :param app: the WSGI application to wrap.
    :param config: settings, e.g. from :func:`~consentgate.load_config`, or a mapping
        of options as a TOML file has them; a mistake raises
        :class:`~consentgate.ConfigError` naming the option.
    :param serve_endpoint: answer the decision endpoint here; the Flask
        extension turns this off and serves it from a blueprint.
    :param options: any :class:`~consentgate.config.Settings` field; with
        ``config`` they override it.

    .. code-block:: python

        app = ConsentGate(app, secret_key="...", categories=[
            Category("necessary", required=True),
            Category("analytics", trackers=["google-analytics"]),
        ])
    """

    #: What :meth:`~consentgate.gate.Gate.admit` builds for a response: the passage
    #: that is also its ``start_response`` and iterable.
    passage_type = _Body

    def __init__(
        self,
        app: WSGIApplication,
        config: Settings | Mapping[str, Any] | None = None,
        *,
        serve_endpoint: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(config, serve_endpoint=serve_endpoint, **options)
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # A _Body, as passage_type says (mypy cannot see it through admit).
        body: _Body | None = self.admit(environ)  # type: ignore[assignment]
        if body is None:
            return self.endpoint(environ)(environ, start_response)
        body.outer_start_response = start_response
        app_iter = self.app(environ, body.start_response)
        if body._sent and body.plan is None and not body.ended:  # the head went, untouched
            return app_iter  # so wsgi.file_wrapper keeps its fast path
        body.app_iter = app_iter
        return body


def _nowhere(data: bytes) -> None:
    """The ``write`` callable given for a refused response: its body is not sent."""


def _no_server(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    """The server's ``start_response`` until :meth:`ConsentGate.__call__` sets it."""
    raise RuntimeError("no start_response was given")
