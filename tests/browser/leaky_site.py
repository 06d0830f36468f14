"""A site behind the gate whose owner's configuration misses what its pages do.

Planted, and nothing else wrong:

- a script from another site (``localhost`` against the pages' ``127.0.0.1``) that no
  category declares, which keeps a ``sessionStorage`` key no category declares and
  embeds a frame of its own site that keeps a ``localStorage`` key there;
- an inline script that sets ``fixture_stats``, an analytics cookie, before any consent;
- a ``Set-Cookie`` of ``_hjSessionUser_42``, which no category declares (Hotjar's, as
  the built-in catalogue knows);
- ``legacy_id``, declared in ``leaky.toml`` but never set.

``tracker.js`` from the other site is declared (analytics) and gated properly. ``/busy``,
linked from nowhere, is a page whose script never yields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from consentgate import ConsentGate, load_config

#: The configuration the scan checks the site against.
CONFIG = Path(__file__).with_name("leaky.toml")
SECRET = "leaky-site-test-secret-0123456789abcdef"

_HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leaky</title>
<script src="{other}/widget.js"></script>
<script src="{other}/tracker.js"></script>
<script>document.cookie = "fixture_stats=1; path=/; max-age=3600";</script>
</head><body><h1>Leaky</h1>
<a href="/second">Second page</a> <a href="/second#top">Top of it</a>
<a href="/consent">Cookie settings</a> <a href="/report.pdf">Report</a>
<a href="{other}/elsewhere">Elsewhere</a>
</body></html>
"""
#: Linked from nowhere: once loaded, its script keeps the page busy forever.
_BUSY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Busy</title>
<script>addEventListener("load", () => setTimeout(() => { for (;;) {} }, 0));</script>
</head><body><h1>Busy</h1></body></html>
"""
_SECOND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Second</title></head>
<body><h1 id="top">Second</h1><a href="/">Home</a></body></html>
"""
#: The other site's files: an undeclared widget that embeds a frame of its site, which
#: keeps a key there; a script declared as analytics.
FILES = {
    "/widget.js": (
        "text/javascript",
        'sessionStorage.setItem("widget_state", "1");'
        'const frame = document.createElement("iframe");'
        'frame.src = new URL("/frame", document.currentScript.src).href;'
        "document.documentElement.append(frame);",
    ),
    "/frame": ("text/html", '<script>localStorage.setItem("widget_frame", "1");</script>'),
    "/tracker.js": ("text/javascript", 'localStorage.setItem("fixture_stats", "1");'),
}


def leaky_site(other: str) -> ConsentGate:
    """The site, loading scripts from ``other`` (a base URL of another host)."""

    @Request.application
    def app(request: Request) -> Response:
        if request.path == "/":
            response = Response(_HOME.format(other=other), mimetype="text/html")
            response.set_cookie("_hjSessionUser_42", "abc")
            return response
        if request.path == "/second":
            return Response(_SECOND, mimetype="text/html")
        if request.path == "/busy":
            return Response(_BUSY, mimetype="text/html")
        if request.path == "/report.pdf":
            return Response(b"%PDF-1.4\n", mimetype="application/pdf")
        return Response("Not found", status=404)

    return ConsentGate(app, load_config(CONFIG, secret_key=SECRET))


def other_site() -> Any:
    """The second site: the widget, its frame, and a tracker."""

    @Request.application
    def app(request: Request) -> Response:
        if request.path not in FILES:
            return Response("Not found", status=404)
        mimetype, body = FILES[request.path]
        return Response(body, mimetype=mimetype)

    return app
