"""A Flask site that Flask-Compress compresses on its defaults, behind the gate.

``test_compressed.py`` serves it with gunicorn: ``compressed_site:create_app()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask_compress import Compress

from consentgate.flask import FlaskConsent

SECRET = "compressed-site-secret-0123456789abcdef"
PARAGRAPHS = "".join(f"<p>Paragraph {i} of a page long enough to compress.</p>" for i in range(30))
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title>\n'
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>\n'
    "<script>window.dataLayer = window.dataLayer || [];\n"
    "function gtag(){dataLayer.push(arguments);}\n"
    "gtag('js', new Date()); gtag('config', 'G-TEST');</script>\n"
    f"</head><body><h1>News</h1>{PARAGRAPHS}</body></html>\n"
)


def create_app() -> Flask:
    """The site: Flask-Compress with no settings, then the consentgate extension."""
    app = Flask(__name__)
    app.config.update(
        CONSENTGATE_SECRET_KEY=SECRET,
        CONSENTGATE_CATEGORIES=[
            {"name": "necessary", "required": True},
            {"name": "analytics", "trackers": ["google-analytics"]},
        ],
    )
    Compress(app)
    FlaskConsent(app)

    @app.get("/")
    def home() -> str:
        return PAGE

    app.wsgi_app = _echo_accept_encoding(app.wsgi_app)  # type: ignore[method-assign]
    return app


def _echo_accept_encoding(wsgi_app: Any) -> Any:
    """Tell the test what the browser asked for, before the gate narrows it."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sent = environ.get("HTTP_ACCEPT_ENCODING", "")

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Accept-Encoding-Sent", sent)], exc_info)

        return wsgi_app(environ, start)  # type: ignore[no-any-return]

    return app
