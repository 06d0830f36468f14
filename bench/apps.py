"""App factories for the end-to-end benchmark, served by gunicorn.

``gunicorn 'bench.apps:demo(gated=False)'`` serves the demo site without the
gate: the same Flask app, pages and templates, with the middleware the
extension put around ``app.wsgi_app`` taken off again. Without the gate the
extension's template helpers and banner hook see no consent in the environ
and do nothing, so the two apps differ by exactly the gate's work.
"""

from __future__ import annotations

from flask import Flask

from consentgate import ConsentGate

from .policy import SECRET_KEY


def demo(gated: bool = True) -> Flask:
    """The KA2 demo site, with or without its consent gate."""
    from demo_site import create_app

    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET_KEY})
    if not gated:
        app.wsgi_app = gate_of(app).app  # type: ignore[method-assign,assignment]
    return app


def gate_of(app: Flask) -> ConsentGate:
    """The gate the Flask extension installed on ``app``."""
    gate: ConsentGate = app.extensions["consentgate"]
    return gate
