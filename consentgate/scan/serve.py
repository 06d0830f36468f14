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


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve ``app`` with Werkzeug's threaded server on a free port of 127.0.0.1.

    Yields the base URL (``http://127.0.0.1:PORT``); the server is shut down on exit.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
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
