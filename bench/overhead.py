"""Per-response cost of the gate, in process, against the bare Flask app.

Each case builds its WSGI environ once with werkzeug's test builder, then
calls the app directly in a tight loop (a copy of the environ per call),
consuming and closing the response iterable. Bare and gated loops take
turns, so that drifts in the machine's speed hit both alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as BaseResponse

from consentgate import ConsentGate

from . import policy
from .timing import clock

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

TINY_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Hello</title>'
    "</head>\n<body><h1>Hello</h1><p>A tiny page.</p></body></html>\n"
)
ETAG = "v1"


def bare_app() -> Flask:
    """The minimal Flask app every case runs against."""
    app = Flask("bench_overhead")

    @app.get("/data")
    def data() -> dict[str, Any]:
        return {"ok": True}

    @app.route("/page", methods=["GET", "HEAD"])
    def page() -> BaseResponse:
        response = Response(TINY_PAGE, mimetype="text/html")
        response.set_etag(ETAG)
        return response.make_conditional(request)

    return app


@dataclass(frozen=True)
class Case:
    """One kind of request, with the target its overhead is held to."""

    name: str
    method: str
    path: str
    visitor: str  # "undecided" or "accepted"
    conditional: bool
    target: float  # overhead limit, as a fraction of the bare time
    expect: str  # expected status line prefix


#: A German-speaking visitor's header, as a browser sends it.
ACCEPT_LANGUAGE = "de-AT,de;q=0.9,en-US;q=0.8,en;q=0.7"

CASES = (
    Case("non-HTML (JSON)", "GET", "/data", "accepted", False, 0.05, "200"),
    Case("HEAD of an HTML page", "HEAD", "/page", "accepted", False, 0.05, "200"),
    Case("304 Not Modified", "GET", "/page", "accepted", True, 0.05, "304"),
    # Rewritten: a visitor who accepted all still gets the Consent Mode default script.
    Case("tiny HTML + Consent Mode, accepted", "GET", "/page", "accepted", False, 0.20, "200"),
    Case("tiny HTML + banner, undecided", "GET", "/page", "undecided", False, 0.20, "200"),
)


@dataclass
class Overhead:
    """The measured cost of one case."""

    case: Case
    bare: float  # seconds per request
    gated: float

    @property
    def fraction(self) -> float:
        """Added time as a fraction of the bare app's time."""
        return (self.gated - self.bare) / self.bare

    @property
    def passed(self) -> bool:
        """Whether the overhead is within the case's target."""
        return self.fraction <= self.case.target


def call(app: WSGIApplication, environ: WSGIEnvironment) -> tuple[str, bytes]:
    """One request: status line and the whole body; the iterable is closed."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = app(dict(environ), start_response)
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0], data


def _environ(case: Case, gate: ConsentGate, bare: bool) -> WSGIEnvironment:
    # What a browser sends: the gate negotiates the banner's language from it.
    headers: dict[str, str] = {"Accept-Language": ACCEPT_LANGUAGE}
    if case.visitor == "accepted":
        cookie = gate.codec.dumps(policy.accepted())
        headers["Cookie"] = f"{gate.settings.cookie_name}={cookie}"
    if case.conditional:
        # A browser sends back the ETag it was given: the gate tags the ETags
        # of the pages it rewrites with the consent state.
        etag = f'"{ETAG}"' if bare else _served_etag(gate, headers)
        headers["If-None-Match"] = etag
    builder = EnvironBuilder(path=case.path, method=case.method, headers=list(headers.items()))
    try:
        environ: WSGIEnvironment = builder.get_environ()
    finally:
        builder.close()
    return environ


def _served_etag(gate: ConsentGate, headers: dict[str, str]) -> str:
    builder = EnvironBuilder(path="/page", headers=list(headers.items()))
    found: list[str] = []

    def start_response(line: str, response: list[tuple[str, str]], exc_info: Any = None) -> Any:
        found.extend(v for k, v in response if k.lower() == "etag")
        return lambda data: None

    body = gate(builder.get_environ(), start_response)
    b"".join(body)
    builder.close()
    return found[0]


def _loop(app: WSGIApplication, environ: WSGIEnvironment, loops: int) -> Callable[[], float]:
    def run() -> float:
        start = clock()
        for _ in range(loops):
            call(app, environ)
        return (clock() - start) / loops

    return run


def measure(case: Case, *, quick: bool = False) -> Overhead:
    """Median time per request of ``case``, bare and gated, in alternating rounds."""
    app = bare_app()
    gate = ConsentGate(app, policy.settings())
    bare_env, gated_env = _environ(case, gate, True), _environ(case, gate, False)
    for wsgi_app, environ in ((app, bare_env), (gate, gated_env)):
        status, _ = call(wsgi_app, environ)
        if not status.startswith(case.expect):
            raise RuntimeError(f"{case.name}: expected {case.expect}, got {status}")
    banner = b"consentgate-banner" in call(gate, gated_env)[1]
    if banner != (case.visitor == "undecided" and case.method == "GET"):
        raise RuntimeError(f"{case.name}: banner {'present' if banner else 'missing'}")
    single = _loop(app, bare_env, 200)()
    loops = max(50, int(0.02 / single))
    bare_run, gated_run = _loop(app, bare_env, loops), _loop(gate, gated_env, loops)
    bare_run(), gated_run()
    bare: list[float] = []
    gated: list[float] = []
    for _ in range(7 if quick else 25):
        bare.append(bare_run())
        gated.append(gated_run())
    return Overhead(case, statistics.median(bare), statistics.median(gated))


def run_all(*, quick: bool = False, cases: Iterable[Case] = CASES) -> list[Overhead]:
    """Measure every case."""
    return [measure(case, quick=quick) for case in cases]
