"""Same-run A/B of the Flask extension's pages against another revision.

``python -m bench.flask_ab --base REV`` imports ``consentgate/`` of ``REV`` beside the
working tree's (as :mod:`bench.ab` does, compiled as this tree is, its catalogues
compiled too), sets up one Flask app with each, and times whole requests in turns: a
tiny page whose banner the extension renders from the app's templates (an undecided
visitor), the same page for a visitor who accepted all, and the preferences page. Each
side's body must be the same, byte for byte; the ratio is this tree's speed over
``REV``'s in this one run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from werkzeug.test import EnvironBuilder

from .ab import BASE_NAME, load_revision
from .report import ratio, table
from .timing import medians

PAGE = (
    '<!DOCTYPE html><html lang="en"><head><title>Hi</title></head>'
    "<body><h1>Hi</h1><p>A tiny page.</p></body></html>"
)
#: Requests per timed run.
BATCH = 20


def site(package: str) -> tuple[Flask, str]:
    """A Flask app with the extension of ``package``, and an accepting visitor's cookie."""
    extension = importlib.import_module(f"{package}.flask")
    consent = importlib.import_module(f"{package}.consent")
    app = Flask(f"bench_{package}")
    app.config.update(
        CONSENTGATE_SECRET_KEY="bench-secret-key-0123456789abcdef",
        CONSENTGATE_CATEGORIES=[
            {"name": "necessary", "required": True},
            {"name": "analytics", "trackers": ["google-analytics"]},
        ],
    )
    template = app.jinja_env.from_string(PAGE)
    app.add_url_rule("/page", "page", lambda: render_template(template))
    extension.FlaskConsent(app)
    granted = frozenset({"necessary", "analytics"})
    accepted = consent.Consent(granted, decided=True, decided_at=int(time.time()))
    return app, app.extensions["consentgate"].codec.dumps(accepted)


def request(app: Flask, environ: dict[str, Any]) -> bytes:
    """One request through the app's whole WSGI stack: its body."""
    body = app.wsgi_app(dict(environ), lambda status, headers, exc_info=None: None)
    try:
        return b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()


def batch(app: Flask, environ: dict[str, Any]) -> None:
    for _ in range(BATCH):
        request(app, environ)


CASES: dict[str, Callable[[str], dict[str, Any]]] = {
    "page + banner, undecided": lambda cookie: EnvironBuilder("/page").get_environ(),
    "page, accepted all": lambda cookie: EnvironBuilder(
        "/page", headers={"Cookie": f"consentgate={cookie}"}
    ).get_environ(),
    "preferences page": lambda cookie: EnvironBuilder("/consent").get_environ(),
}


def compare(sites: dict[str, tuple[Flask, str]]) -> list[list[str]]:
    """Rows of the table: per case, each side's µs per request and the ratio."""
    rows = []
    for label, make in CASES.items():
        runs = {}
        bodies = set()
        for side, (app, cookie) in sites.items():
            environ = make(cookie)
            bodies.add(request(app, environ))
            runs[side] = partial(batch, app, environ)
        if len(bodies) > 1:
            print(f"  note: the bodies differ for {label}", file=sys.stderr)
        times = medians(runs, min_runs=9, budget=0.5)
        base, head = (times[side] / BATCH * 1e6 for side in ("base", "head"))
        rows.append([label, f"{base:.0f}", f"{head:.0f}", ratio(base / head)])
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flask_ab", description=__doc__)
    parser.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        load_revision(args.base, Path(folder))
        setup = importlib.import_module("setup")
        setup.compile_catalogues(Path(folder) / "consentgate" / "locale")
        sites = {"base": site(BASE_NAME), "head": site("consentgate")}
        rows = compare(sites)
    print("Flask extension, CPU µs per request (median of runs in turns);")
    print(f"base = {args.base}, head = the working tree")
    print(table(["request", "base µs", "head µs", "head speed / base"], rows))


if __name__ == "__main__":
    main()
