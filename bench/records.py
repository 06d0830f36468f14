"""What recording decisions costs: decisions with records on SQLite and on PostgreSQL
against decisions without records, and page views with records configured against
without (they never touch the store).

Decisions are posted to the gate's endpoint in process (a werkzeug environ built once,
a fresh body stream per call). Each decision is timed on the wall clock, since a
commit waits for the disk or the database rather than using CPU, and in the thread's
CPU time, which the neighbours' load does not inflate; the gates take turns in rounds,
so a change in the machine's load hits all of them alike. Page views are
timed in CPU time, like :mod:`bench.overhead`.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.test import EnvironBuilder

from consentgate import ConsentGate

from . import policy
from .overhead import bare_app, call
from .timing import clock

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Decisions per gate, in rounds of ROUND that take turns across the gates.
DECISIONS = 2000
QUICK_DECISIONS = 400
ROUND = 100
#: The target: recording on SQLite adds at most this to a decision's p99, in seconds.
SQLITE_P99_TARGET = 0.001
#: The target: a page view with records configured costs at most this much more.
PAGE_VIEW_TARGET = 0.02
FORM = b"action=accept_all&next=%2F&entry_point=banner"


@dataclass
class Decisions:
    """Per-decision times of one gate, in seconds: wall clock and this thread's CPU."""

    name: str
    times: list[float]
    cpu: list[float]

    @property
    def rate(self) -> float:
        """Decisions per second, one after another."""
        return len(self.times) / sum(self.times)

    def percentile(self, p: float, *, cpu: bool = False) -> float:
        """The ``p``-th percentile time (nearest rank), wall clock or CPU."""
        ordered = sorted(self.cpu if cpu else self.times)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class PageViews:
    """CPU time per page view of one visitor, without and with records configured."""

    visitor: str
    plain: float
    recorded: float
    store_untouched: bool

    @property
    def fraction(self) -> float:
        return (self.recorded - self.plain) / self.plain


def _decision_environ() -> WSGIEnvironment:
    builder = EnvironBuilder(
        path="/consent",
        method="POST",
        data=FORM,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "text/html"},
    )
    try:
        environ: WSGIEnvironment = builder.get_environ()
    finally:
        builder.close()
    return environ


def _decide(gate: ConsentGate, environ: WSGIEnvironment) -> tuple[float, float]:
    """One decision's wall and CPU time; it must be answered 303 with a cookie."""
    fresh = dict(environ)
    fresh["wsgi.input"] = io.BytesIO(FORM)
    start, start_cpu = time.perf_counter(), time.thread_time()
    status, _ = call(gate, fresh)
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - start_cpu
    if not status.startswith("303"):
        raise RuntimeError(f"a decision was answered {status}")
    return elapsed, cpu


def decisions(gates: dict[str, ConsentGate], *, quick: bool = False) -> list[Decisions]:
    """Time decisions on each gate, in turns of :data:`ROUND`."""
    environ = _decision_environ()
    for gate in gates.values():  # warm up: open the store, migrate, fill caches
        for _ in range(20):
            _decide(gate, environ)
    found = {name: Decisions(name, [], []) for name in gates}
    for _ in range((QUICK_DECISIONS if quick else DECISIONS) // ROUND):
        for name, gate in gates.items():
            for _ in range(ROUND):
                wall, cpu = _decide(gate, environ)
                found[name].times.append(wall)
                found[name].cpu.append(cpu)
    return list(found.values())


def _page_time(gate: ConsentGate, environ: WSGIEnvironment, loops: int) -> Callable[[], float]:
    def run() -> float:
        start = clock()
        for _ in range(loops):
            call(gate, environ)
        return (clock() - start) / loops

    return run


def page_views(records: str, *, quick: bool = False) -> list[PageViews]:
    """CPU time of a tiny HTML page through a gate without and with ``records``, for an
    undecided visitor (banner) and one who accepted; the store must stay unopened."""
    results = []
    for visitor in ("undecided", "accepted"):
        plain = ConsentGate(bare_app(), policy.settings())
        recorded = ConsentGate(bare_app(), policy.settings(), records=records)
        headers = []
        if visitor == "accepted":
            cookie = plain.codec.dumps(policy.accepted())
            headers.append(("Cookie", f"{plain.settings.cookie_name}={cookie}"))
        builder = EnvironBuilder(path="/page", headers=headers)
        environ: WSGIEnvironment = builder.get_environ()
        builder.close()
        runs = [_page_time(gate, environ, 200) for gate in (plain, recorded)]
        samples: list[list[float]] = [[], []]
        for _ in range(7 if quick else 25):
            for i, run in enumerate(runs):
                samples[i].append(run())
        untouched = not Path(records.removeprefix("sqlite:///")).exists()
        medians = [statistics.median(s) for s in samples]
        results.append(PageViews(visitor, medians[0], medians[1], untouched))
    return results


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on a throw-away cluster (the tests' helper), removed
    at the end; check :func:`missing_postgres` first."""
    from tests import pgcluster

    with pgcluster.running_cluster() as cluster:
        yield cluster.create_database("bench")


def missing_postgres() -> str | None:
    """Why the PostgreSQL column is skipped, or None."""
    try:
        from tests import pgcluster
    except ImportError:
        return "tests/pgcluster.py not importable (run from the repository)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (pip install -e '.[postgres]')"
    return pgcluster.missing_reason()


@contextmanager
def gates() -> Iterator[dict[str, ConsentGate]]:
    """The gates compared: no records, SQLite in a temporary folder (as shipped, and
    with ``synchronous=normal``), PostgreSQL on a throw-away cluster."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        sqlite = f"sqlite:///{folder}/consent.sqlite3"
        found = {
            "no records": ConsentGate(bare_app(), policy.settings()),
            "SQLite": ConsentGate(bare_app(), policy.settings(), records=sqlite),
            # Synced at checkpoints rather than at each commit: safe from a crash of the
            # app, not from a power cut (the README's trade-off), so measured apart.
            "SQLite, synchronous=normal": ConsentGate(
                bare_app(), policy.settings(), records=f"{sqlite}.normal?synchronous=normal"
            ),
        }
        url = stack.enter_context(postgres_url()) if missing_postgres() is None else None
        if url is not None:
            found["PostgreSQL"] = ConsentGate(bare_app(), policy.settings(), records=url)
        try:
            yield found
        finally:
            for gate in found.values():
                gate.recorder.close()
