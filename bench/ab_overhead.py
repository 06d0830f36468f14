"""Same-run A/B of the per-response overhead: this tree's gate against another revision's.

``python -m bench.ab_overhead --base REV`` imports ``consentgate/`` of ``REV`` beside
the working tree's package (:func:`bench.ab.load_revision`: compiled as the tree is, with
the tree's compiled catalogues), wraps the overhead benchmark's bare Flask app
(:mod:`bench.overhead`) in both gates, and times the bare app and the two gates in
turns on each case's request. It prints what each gate adds,
in µs of CPU time per request, and head's added time over base's: the machine's load
of the moment weighs on all three alike. A do-nothing middleware that only wraps
``start_response`` (:func:`floor`) is timed in the same turns: what any middleware costs
there, the least a gate can. ``--trivial`` times them around a plain WSGI app with the
same two routes instead, so that the gate's own cost stands out.

The bare app and the floor get the request as it reaches the app through a gate (for the
304 case, the ETag the app gave, not the one the gate tagged), so all four answer alike.
Each round times each of the four once for about 5 ms of CPU, every other round in the
reverse order; what one adds is the median over the rounds of its time less the bare
app's in the same round (paired, so that a moment of load on the shared machine weighs
on both sides of each difference).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import operator
import statistics
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from consentgate import ConsentGate

from . import overhead, policy
from .ab import load_revision
from .report import ratio, table

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: CPU seconds of one timed run of each app in a round: short runs, many rounds.
ROUND_SECONDS = 0.005


def trivial_app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The overhead cases' two routes as plain WSGI, with no framework: timed around it,
    a gate's own cost stands out (``--trivial``)."""
    if environ["PATH_INFO"] == "/data":
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "12")])
        return [b'{"ok": true}']
    etag = f'"{overhead.ETAG}"'
    if environ.get("HTTP_IF_NONE_MATCH") == etag:
        start_response("304 Not Modified", [("ETag", etag)])
        return []
    page = overhead.TINY_PAGE.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(page))),
            ("ETag", etag),
        ],
    )
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [page]


def floor(app: WSGIApplication) -> WSGIApplication:
    """``app`` in a middleware that does nothing but wrap ``start_response``: the least
    any middleware that sees the response's head adds."""

    def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers, exc_info)

        return app(environ, wrapped)

    return middleware


def gate_of(package: ModuleType, app: WSGIApplication) -> WSGIApplication:
    """``app`` wrapped in ``package``'s ConsentGate, on the benchmark's policy (as
    :func:`bench.policy.settings` gives it to this tree's gate)."""
    config = importlib.import_module(f"{package.__name__}.config")
    categories = (
        config.Category("necessary", required=True),
        config.Category("analytics", trackers=policy.TRACKERS),
    )
    gate: WSGIApplication = package.ConsentGate(
        app, config.Settings(secret_key=policy.SECRET_KEY, categories=categories)
    )
    return gate


def compare(base: ModuleType, rounds: int, *, trivial: bool = False) -> list[list[str]]:
    """Rows of the table: per case, the bare time, what the floor and each gate add, head's
    share of the bare time, and head / base.

    :param trivial: time the gates around :func:`trivial_app` instead of the Flask app.
    """
    rows = []
    for case in overhead.CASES:
        app: WSGIApplication = trivial_app if trivial else overhead.bare_app()
        head = ConsentGate(app, policy.settings())
        apps: dict[str, WSGIApplication] = {
            "bare": app,
            "floor": floor(app),
            "base": gate_of(base, app),
            "head": head,
        }
        environ = overhead._environ(case, head, False)  # one secret: one cookie for both
        # What the app sees behind a gate: the bare app answers as it does there.
        plain = overhead._environ(case, head, True)
        if overhead.call(apps["base"], environ) != overhead.call(head, environ):
            print(f"  note: the two gates answer {case.name!r} differently", file=sys.stderr)
        if overhead.call(app, plain)[0] != overhead.call(head, environ)[0]:
            print(f"  note: the bare app answers {case.name!r} otherwise", file=sys.stderr)
        loops = max(20, int(ROUND_SECONDS / overhead._loop(app, plain, 100)()))
        runs = {
            name: overhead._loop(wsgi, plain if name in ("bare", "floor") else environ, loops)
            for name, wsgi in apps.items()
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for turn in range(rounds):
            # Every other round in the reverse order: no app always follows the same one.
            for name in runs if turn % 2 == 0 else reversed(runs):
                times[name].append(runs[name]())
        # What each adds: the median over rounds of its time less the bare app's in the
        # same round, so that the machine's load of the moment cancels out.
        bare = statistics.median(times["bare"]) * 1e6
        floor_t, base_t, head_t = (
            bare + statistics.median(map(operator.sub, times[name], times["bare"])) * 1e6
            for name in ("floor", "base", "head")
        )
        share = ratio((head_t - bare) / (base_t - bare)) if base_t > bare else "-"
        rows.append(
            [
                case.name,
                f"{bare:.1f}",
                f"{floor_t - bare:.2f}",
                f"{base_t - bare:.2f}",
                f"{head_t - bare:.2f}",
                f"{(head_t - bare) / bare:+.1%}",
                share,
            ]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab_overhead", description=__doc__)
    parser.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=61, help="alternating rounds per case")
    parser.add_argument(
        "--trivial", action="store_true", help="around a plain WSGI app instead of Flask"
    )
    args = parser.parse_args(argv)
    logging.getLogger("consentgate").setLevel(logging.ERROR)  # the policy's short key
    with tempfile.TemporaryDirectory() as folder:
        base = load_revision(args.base, Path(folder), catalogues=True)
        rows = compare(base, args.rounds, trivial=args.trivial)
    around = "a plain WSGI app" if args.trivial else "the bare Flask app"
    print(f"Per-response overhead, µs of CPU per request ({args.rounds} rounds, paired medians);")
    print(f"base = {args.base}, head = the working tree, around {around}")
    print("(floor: a middleware that only wraps start_response; head %: head adds / bare)")
    columns = ["response", "bare µs", "floor adds", "base adds", "head adds", "head %"]
    print(table([*columns, "head / base"], rows))


if __name__ == "__main__":
    main()
