"""Serve a WSGI app on a free port of 127.0.0.1 for as long as a scan (or a test) runs.

``consentgate scan --wsgi demo_site:create_app()`` scans an app without deploying it;
the browser tests serve their sites the same way.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

#: Where :func:`_remembering` keeps the app's response iterable in the environ.
_BODY = "consentgate.serve.body"


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """Close the response's iterable when the browser hung up before the end.

        Werkzeug skips ``close()`` when the connection drops while it drains the
        request, which PEP 3333 requires; a file the app was sending stayed open.
        """
        close = getattr((environ or {}).get(_BODY), "close", None)
        if close is not None:
            close()


def _remembering(app: Any) -> Any:
    """``app``, keeping each response's iterable in its environ for the handler."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        body = app(environ, start_response)
        environ[_BODY] = body
        return body

    return wsgi


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve ``app`` with Werkzeug's threaded server on a free port of 127.0.0.1.

    Yields the base URL (``http://127.0.0.1:PORT``); the server is shut down on exit.
    """
    server = make_server(
        "127.0.0.1", 0, _remembering(app), threaded=True, request_handler=_QuietHandler
    )
    # A short poll interval lets shutdown() return quickly.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def load_app(spec: str) -> Any:
    """The WSGI app that ``module:name`` names, or that ``module:factory()`` returns.

    The module is looked for in the working directory first, as ``flask --app`` does.

    :raise ValueError: naming what is wrong with ``spec``.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, attr = spec.partition(":")
    call = attr.endswith("()")
    attr = attr.removesuffix("()")
    if not module_name or not attr.isidentifier():
        raise ValueError(f"{spec!r} is not MODULE:APP or MODULE:FACTORY()")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name!r}: {error}") from None
    app = getattr(module, attr, None)
    if app is None:
        raise ValueError(f"{module_name!r} has no {attr!r}")
    if call:
        try:
            app = app()
        except Exception as error:
            raise ValueError(f"{spec} failed: {error}") from error
    if not callable(app):
        raise ValueError(f"{spec} is not a WSGI app")
    return app
