"""The record flow on the real stores: SQLite, and PostgreSQL on a throw-away cluster.

The same behaviour on both: decisions read back in order with the notice shown, a
store that cannot be reached is a 503 without a cookie, and through a real
multi-threaded server every cookie a client got has its record, even when the
database dies mid-run and comes back.
"""

from __future__ import annotations

import http.client
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import pytest
import waitress
from werkzeug.test import Client

from consentgate import ConsentGate, ui

from . import pgcluster
from .conftest import SECRET, categories, html_app
from .recordstores import StoredRecords, reading

#: Client threads and decisions each, for the runs through a real server.
CLIENTS = 8
DECISIONS = 500
#: Server threads: at least one per client, so every client is served at once.
SERVER_THREADS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/records/consent.sqlite3"
    return cast(str, request.getfixturevalue("postgres_url"))


def gate_for(url: str, **options: Any) -> ConsentGate:
    return ConsentGate(
        html_app(), secret_key=SECRET, categories=categories(), records=url, **options
    )


def test_a_visitors_decisions_read_back_in_order_with_the_notice(store_url: str) -> None:
    gate = gate_for(store_url)
    client = Client(gate)
    form = {"next": "/", "entry_point": "banner"}
    assert client.post("/consent", data={**form, "action": "accept_all"}).status_code == 303
    withdraw = {"action": "save", "entry_point": "preferences", "next": "/"}
    assert client.post("/consent", data=withdraw).status_code == 303
    api = client.post(
        "/consent", data={"action": "accept_all"}, headers={"Accept": "application/json"}
    )
    consent_id = api.get_json()["consent_id"]
    gate.recorder.close()
    with reading(store_url) as reader:
        history = list(reader.history(consent_id))
        notice = reader.notice(history[0].notice_digest)
    assert [(r.action, r.entry_point) for r in history] == [
        ("accept_all", "banner"),
        ("withdraw", "preferences"),
        ("accept_all", "api"),
    ]
    assert [r.refused for r in history] == [(), ("analytics",), ()]
    assert history[0].decided_at <= history[1].decided_at <= history[2].decided_at
    assert notice is not None and notice.text == ui.banner_notice(gate.settings).text


def unreachable(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the database's folder should be")
        return f"sqlite:///{blocker}/consent.sqlite3"
    return f"postgresql://postgres@127.0.0.1:{pgcluster.free_port()}/nowhere"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_unreachable_store_is_a_503_without_a_cookie(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("psycopg")
    client = Client(gate_for(unreachable(kind, tmp_path)))
    response = client.post("/consent", data={"action": "accept_all", "next": "/"})
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers
    assert response.headers["Retry-After"] and response.headers["Cache-Control"] == "no-store"
    assert "store failed" in caplog.text


@dataclass
class Outcome:
    """What one client saw: the consent each accepted decision's cookie holds, and
    the decisions refused with 503 (with no cookie)."""

    accepted: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    refused: list[tuple[str, ...]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def waitress_serving(app: Any) -> Iterator[str]:
    """``app`` behind waitress with :data:`SERVER_THREADS` threads on a free port."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=SERVER_THREADS)
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            # close() from this thread ends sockets under the loop's select(): its end.
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        closing.set()
        server.close()
        thread.join(10)


CHOICES = [
    ("accept_all", ()),
    ("reject_all", ()),
    ("save", ("analytics",)),
    ("save", ()),
]


def run_client(base: str, gate: ConsentGate, seed: int, outcome: Outcome) -> None:
    """Take :data:`DECISIONS` decisions as one visitor, noting each answer's cookie.

    One kept-alive connection and the cookie sent back by hand, as a browser does:
    a full HTTP library would cost more CPU than the server under test.
    """
    host, port = urlsplit(base).hostname or "", urlsplit(base).port
    connection = http.client.HTTPConnection(host, port, timeout=30)
    rng = random.Random(seed)
    name = gate.settings.cookie_name
    cookie = ""
    for _ in range(DECISIONS):
        action, chosen = rng.choice(CHOICES)
        body = urlencode(
            {"action": action, "category": chosen, "next": "/", "entry_point": "banner"},
            doseq=True,
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie:
            headers["Cookie"] = f"{name}={cookie}"
        connection.request("POST", "/consent", body, headers)
        response = connection.getresponse()
        response.read()
        set_cookie = response.getheader("Set-Cookie")
        if response.status == 303 and set_cookie and set_cookie.startswith(f"{name}="):
            cookie = set_cookie.partition("=")[2].partition(";")[0]
            consent = gate.codec.loads(cookie, time.time())
            outcome.accepted.append((consent.consent_id, tuple(sorted(consent.granted)), action))
        elif response.status == 503 and set_cookie is None:
            outcome.refused.append((action, *chosen))
        else:
            outcome.errors.append(f"{response.status} {response.getheaders()}")
    connection.close()


def run_clients(
    base: str, gate: ConsentGate, during: Callable[[list[Outcome]], None] | None = None
) -> list[Outcome]:
    """Run :data:`CLIENTS` visitors at once; ``during`` runs meanwhile, given their outcomes."""
    outcomes = [Outcome() for _ in range(CLIENTS)]
    threads = [
        threading.Thread(target=run_client, args=(base, gate, seed, outcome))
        for seed, outcome in enumerate(outcomes)
    ]
    for thread in threads:
        thread.start()
    if during is not None:
        during(outcomes)
    for thread in threads:
        thread.join(120)
    return outcomes


def test_every_cookie_has_its_record_through_a_real_server(store_url: str) -> None:
    gate = gate_for(store_url)
    with waitress_serving(gate) as base:
        outcomes = run_clients(base, gate)
    gate.recorder.close()
    assert [o.errors for o in outcomes] == [[]] * CLIENTS
    assert [len(o.accepted) for o in outcomes] == [DECISIONS] * CLIENTS
    records = StoredRecords(store_url).records
    assert len(records) == CLIENTS * DECISIONS
    with reading(store_url) as reader:
        for outcome in outcomes:
            ids = {consent_id for consent_id, _, _ in outcome.accepted}
            assert len(ids) == 1  # one visitor, one id, kept across 500 decisions
            history = list(reader.history(ids.pop()))
            assert [r.granted for r in history] == [granted for _, granted, _ in outcome.accepted]
    assert len({r.consent_id for r in records}) == CLIENTS


def test_a_database_that_dies_mid_run_loses_no_decision(
    pg_cluster: pgcluster.PgCluster, postgres_url: str
) -> None:
    gate = gate_for(postgres_url)

    def outage(outcomes: list[Outcome]) -> None:
        # Down once a quarter of the decisions are in, up again once some were refused.
        wait_for(lambda: sum(len(o.accepted) for o in outcomes) >= CLIENTS * DECISIONS // 4)
        pg_cluster.stop(mode="immediate")
        wait_for(lambda: any(o.refused for o in outcomes))
        pg_cluster.start()

    with waitress_serving(gate) as base:
        outcomes = run_clients(base, gate, during=outage)
    gate.recorder.close()
    assert [o.errors for o in outcomes] == [[]] * CLIENTS
    accepted = sum(len(o.accepted) for o in outcomes)
    refused = sum(len(o.refused) for o in outcomes)
    assert accepted + refused == CLIENTS * DECISIONS
    assert refused > 0, "the outage came after the run: nothing was tested"
    assert accepted > refused, "the store did not recover after the restart"
    with reading(postgres_url) as reader:
        for outcome in outcomes:
            consent_id = outcome.accepted[0][0]
            history = [r.granted for r in reader.history(consent_id)]
            # Every cookie's record is there, in order; a record whose commit the
            # outage cut off before its answer (a 503) may be there too, no more.
            expected = iter(history)
            assert all(any(g == granted for g in expected) for _, granted, _ in outcome.accepted)
            assert len(history) <= len(outcome.accepted) + len(outcome.refused)
    assert accepted <= len(StoredRecords(postgres_url).records) <= CLIENTS * DECISIONS


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Poll ``condition`` until it holds (or the time is up, which the asserts then show)."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# Python 3.12+ warns about fork in a process with threads (the pool's); that is the point.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_worker_forked_after_a_decision_records_through_its_own_connection(
    store_url: str,
) -> None:
    """As under ``gunicorn --preload``: the gate is built (and here has even recorded)
    in the parent; each forked worker must record through a connection of its own."""
    gate = gate_for(store_url)
    accept = {"action": "accept_all", "next": "/"}
    assert Client(gate).post("/consent", data=accept).status_code == 303
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:  # the worker: three decisions, then out without pytest's teardown
            codes = [Client(gate).post("/consent", data=accept).status_code for _ in range(3)]
            os._exit(0 if codes == [303] * 3 else 1)
        children.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in children]
    assert Client(gate).post("/consent", data=accept).status_code == 303  # parent still works
    gate.recorder.close()
    assert [os.waitstatus_to_exitcode(status) for status in statuses] == [0, 0]
    assert len(StoredRecords(store_url).records) == 1 + 2 * 3 + 1
