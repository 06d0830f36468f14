"""The record stores, one suite run on SQLite and on PostgreSQL (a throw-away cluster)."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consentgate.checks import ConfigError
from consentgate.records import (
    CategoryCount,
    Notice,
    RecordReader,
    RecordStore,
    StoreUnavailable,
    open_store,
    sqlite_url,
)
from consentgate.records.schema import MIGRATIONS, latest, migrate

from .records_support import NOTICE, NOTICE_FR, T0, count, days, raw, record, run_workers


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/records/consent.sqlite3"
    postgres_url: str = request.getfixturevalue("postgres_url")
    return postgres_url


@pytest.fixture
def store(url: str) -> Iterator[Any]:
    opened = open_store(url)
    yield opened
    opened.close()


def test_records_read_back_in_order_with_their_notice(store: Any) -> None:
    refused: dict[str, Any] = {
        "granted": ("necessary",),
        "refused": ("analytics",),
        "notice": NOTICE_FR,
    }
    later = record("c1", T0 + days(1), **refused)
    store.append(later, NOTICE_FR)  # appended first, decided later
    first = record("c1", T0)
    store.append(first, NOTICE)
    store.append(record("c2", T0 + days(2), gpc=True, ip_prefix="203.0.113.0/24"), NOTICE)
    assert list(store.history("c1")) == [first, later]
    [other] = store.history("c2")
    assert (other.gpc, other.ip_prefix, other.decided_at) == (True, "203.0.113.0/24", T0 + days(2))
    assert list(store.history("nobody")) == []
    assert store.notice(NOTICE_FR.digest) == NOTICE_FR
    assert store.notice("0" * 64) is None


def test_times_come_back_in_utc_whatever_zone_they_were_given_in(store: Any) -> None:
    from datetime import timezone

    paris = T0.astimezone(timezone(days(1 / 24)))
    store.append(record("c1", paris), NOTICE)
    [back] = store.history("c1")
    assert back.decided_at == T0 and back.decided_at.utcoffset() == days(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append(record("c1", T0.replace(tzinfo=None)), NOTICE)


def test_a_notice_is_stored_once_per_digest(store: Any, url: str) -> None:
    for i in range(5):
        store.append(record(f"c{i}", T0 + days(i)), NOTICE)
    store.append(record("c9", T0, notice=NOTICE_FR), NOTICE_FR)
    assert count(url, "consentgate_notices") == 2
    assert count(url, "consentgate_decisions") == 6


def test_a_record_must_point_to_the_notice_given(store: Any, url: str) -> None:
    store.append(record("c1"), NOTICE)
    with pytest.raises(ValueError, match="digest"):
        store.append(record("c2", notice=NOTICE_FR), NOTICE)
    assert count(url, "consentgate_decisions") == 1


def test_export_is_a_stream_between_two_times(store: Any) -> None:
    for i in range(5):
        store.append(record(f"c{i}", T0 + days(i)), NOTICE)
    exported = store.export(T0 + days(1), T0 + days(3))
    assert iter(exported) is exported  # a lazy iterator, not a list
    assert [r.consent_id for r in exported] == ["c1", "c2"]  # since included, until not


def test_many_records_export_in_batches(store: Any) -> None:
    for i in range(520):  # more than one fetch batch
        store.append(record(f"c{i:04}", T0), NOTICE)
    ids = [r.consent_id for r in store.export(T0, T0 + days(1))]
    assert ids == [f"c{i:04}" for i in range(520)]


def test_stats_count_days_actions_and_categories(store: Any) -> None:
    store.append(record("a", T0), NOTICE)
    store.append(record("b", T0 + days(0.1)), NOTICE)
    refuse: dict[str, Any] = {
        "granted": ("necessary",),
        "refused": ("analytics",),
        "action": "reject_all",
    }
    store.append(record("c", T0 + days(1), **refuse), NOTICE)
    store.append(record("d", T0 + days(9)), NOTICE)
    stats = store.stats(T0, T0 + days(2))
    assert stats.total == 3
    assert stats.per_day == (("2026-03-01", 2), ("2026-03-02", 1))
    assert stats.per_action == (("accept_all", 2), ("reject_all", 1))
    analytics, necessary = stats.categories
    assert analytics == CategoryCount("analytics", 2, 1)
    assert analytics.rate == pytest.approx(2 / 3)
    assert necessary.rate == 1.0
    assert store.stats().total == 4


def test_purge_deletes_old_records_and_the_notices_left_unused(store: Any, url: str) -> None:
    store.append(record("old", T0, notice=NOTICE_FR), NOTICE_FR)
    store.append(record("old", T0 + days(1)), NOTICE)
    store.append(record("new", T0 + days(30)), NOTICE)
    dry = store.purge(T0 + days(10), dry_run=True)
    assert (dry.decisions, dry.notices) == (2, 1)
    assert count(url, "consentgate_decisions") == 3  # a dry run deletes nothing
    done = store.purge(T0 + days(10))
    assert (done.decisions, done.notices) == (2, 1)
    assert [r.consent_id for r in store.export(T0, T0 + days(99))] == ["new"]
    assert store.notice(NOTICE_FR.digest) is None and store.notice(NOTICE.digest) == NOTICE
    store.append(
        record("again", T0 + days(31), notice=NOTICE_FR), NOTICE_FR
    )  # a purged notice comes back
    assert store.notice(NOTICE_FR.digest) == NOTICE_FR


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE consentgate_decisions SET action = 'reject_all'", id="update"),
        pytest.param("DELETE FROM consentgate_decisions", id="delete"),
        pytest.param("TRUNCATE consentgate_decisions", id="truncate"),
        pytest.param("UPDATE consentgate_notices SET text = 'other'", id="update-notice"),
    ],
)
def test_the_database_refuses_to_change_a_record(store: Any, url: str, statement: str) -> None:
    if statement.startswith("TRUNCATE") and url.startswith("sqlite"):
        pytest.skip("SQLite has no TRUNCATE")
    store.append(record("c1"), NOTICE)
    with raw(url) as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(statement)
    assert list(store.history("c1")) == [record("c1")]
    assert store.notice(NOTICE.digest) == NOTICE


def test_a_failure_inside_append_leaves_nothing(store: Any, url: str) -> None:
    broken = record("c1", action=None)  # type: ignore[arg-type]  # NOT NULL fails
    with pytest.raises(StoreUnavailable):
        store.append(broken, NOTICE)
    assert count(url, "consentgate_decisions") == 0
    assert count(url, "consentgate_notices") == 0  # its notice was rolled back too
    store.append(record("c1"), NOTICE)  # and the store still works
    assert count(url, "consentgate_decisions") == 1


def test_migrations_apply_once_and_are_idempotent(store: Any, url: str) -> None:
    store.append(record("c1"), NOTICE)
    store.close()
    again = open_store(url)
    again.append(record("c2"), NOTICE)  # opening an up-to-date store changes nothing
    again.close()
    with raw(url) as connection:
        versions = connection.execute("SELECT version FROM consentgate_schema").fetchall()
        assert [v for (v,) in versions] == [m.version for m in MIGRATIONS]
        if url.startswith("sqlite"):
            connection.execute("BEGIN IMMEDIATE")
            assert migrate(connection.cursor(), "sqlite") == 0
            connection.execute("ROLLBACK")
    assert latest() == MIGRATIONS[-1].version


def test_processes_starting_at_once_migrate_once_and_lose_nothing(url: str) -> None:
    done = run_workers(url, processes=4, appends=50)
    assert [p.returncode for p in done] == [0] * 4, [p.stderr for p in done]
    assert count(url, "consentgate_schema") == len(MIGRATIONS)
    assert count(url, "consentgate_decisions") == 200
    assert count(url, "consentgate_notices") == 1


def test_threads_appending_at_once_lose_nothing(store: Any, url: str) -> None:
    errors: list[BaseException] = []

    def append_many(n: int) -> None:
        try:
            for i in range(40):
                store.append(record(f"t{n}-{i}"), NOTICE)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=append_many, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(url, "consentgate_decisions") == 320


def test_stores_follow_both_protocols(store: Any) -> None:
    assert callable(store.append) and callable(store.close)
    assert isinstance(store, RecordReader)


def test_an_unreachable_store_raises_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    stores = [
        open_store(f"sqlite:///{tmp_path}/file/consent.sqlite3"),
        # Nothing listens there: the store answers within its timeouts, never hangs.
        open_store(f"postgresql://postgres@127.0.0.1:{_closed_port()}/none"),
    ]
    for unreachable in stores:
        assert isinstance(unreachable, RecordReader)
        with pytest.raises(StoreUnavailable):
            unreachable.append(record("c1"), NOTICE)
        with pytest.raises(StoreUnavailable):
            unreachable.stats()
        unreachable.close()


def test_a_corrupt_sqlite_file_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "consent.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = open_store(f"sqlite:///{path}")
    with pytest.raises(StoreUnavailable, match=r"consent\.sqlite3"):
        store.append(record("c1"), NOTICE)
    store.close()


def test_postgres_store_recovers_after_the_database_restarts(
    pg_cluster: Any, postgres_url: str
) -> None:
    store = open_store(postgres_url)
    assert isinstance(store, RecordReader)
    store.append(record("before"), NOTICE)
    pg_cluster.stop("immediate")
    try:
        with pytest.raises(StoreUnavailable):
            store.append(record("during"), NOTICE)
    finally:
        pg_cluster.start()
    store.append(record("after"), NOTICE)
    assert [r.consent_id for r in store.export(T0, T0 + days(1))] == ["before", "after"]
    store.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_a_thread_per_request_leaves_no_connection_open(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/consent.sqlite3")
    store.append(record("warm-up"), NOTICE)
    before = len(os.listdir("/proc/self/fd"))
    for n in range(30):  # as a server that starts a thread per request does
        thread = threading.Thread(target=store.append, args=(record(f"c{n}"), NOTICE))
        thread.start()
        thread.join()
    assert len(os.listdir("/proc/self/fd")) <= before + 3
    assert count(f"sqlite:///{tmp_path}/consent.sqlite3", "consentgate_decisions") == 31
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# Python 3.12+ warns about fork in a process with threads (the pool's); that is the point.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_store_works_in_a_child_after_fork_and_the_parent_keeps_working(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, RecordReader)
    store.append(record("parent"), NOTICE)  # connections open before the fork, as in
    pid = os.fork()  # a server that loads the app, then forks its workers
    if pid == 0:
        code = 1
        try:
            store.append(record("child"), NOTICE)
            code = 0
        finally:
            os._exit(code)  # no atexit, no finalizers: the parent's connections stay
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.append(record("parent-again"), NOTICE)  # the child closed nothing of ours
    assert [r.consent_id for r in store.history("child")] == ["child"]
    assert count(url, "consentgate_decisions") == 3
    store.close()


@pytest.mark.parametrize(
    ("records", "path"),
    [
        pytest.param("sqlite:///consent.sqlite3", "consent.sqlite3", id="relative"),
        pytest.param("sqlite:///instance/c.db", "instance/c.db", id="relative-dir"),
        pytest.param("sqlite:////var/lib/c.db", "/var/lib/c.db", id="absolute"),
        pytest.param("sqlite:///my%20site/c.db", "my site/c.db", id="escaped"),
    ],
)
def test_sqlite_urls_name_a_file(records: str, path: str) -> None:
    assert sqlite_url(records) == (path, "FULL")
    assert sqlite_url(records + "?synchronous=normal") == (path, "NORMAL")


@pytest.mark.parametrize(
    "records",
    [
        "sqlite://",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite:///c.db?mode=ro",
        "sqlite:///c.db?synchronous=off",
        "mysql://x/y",
    ],
)
def test_bad_store_urls_are_configuration_errors(records: str) -> None:
    with pytest.raises(ConfigError, match="records"):
        open_store(records)


def test_postgres_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "consentgate.records.postgres", raising=False)
    with pytest.raises(ConfigError, match=r"consentgate\[postgres\]"):
        open_store("postgresql://db.example/consent")


def test_a_store_object_is_used_as_it_is() -> None:
    class Memory:
        def append(self, record: Any, notice: Notice) -> None: ...

        def close(self) -> None: ...

    mine: RecordStore = Memory()
    assert open_store(mine) is mine


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://consent:hunter2@db.example/site",
        "postgresql://consent@db.example/site?sslmode=require&password=hunter2",
    ],
)
def test_a_postgres_password_never_shows(url: str) -> None:
    store = open_store(url)
    assert "hunter2" not in repr(store)
    assert "hunter2" not in str(store._unavailable(OSError("down")))  # type: ignore[attr-defined]


def _closed_port() -> int:
    from .pgcluster import free_port

    return free_port()


@pytest.mark.parametrize(
    ("query", "synchronous"), [pytest.param("", 2, id="full"), ("?synchronous=normal", 1)]
)
def test_sqlite_keeps_its_promises_on_durability(
    tmp_path: Path, query: str, synchronous: int
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/c.sqlite3{query}")
    store.append(record("c1"), NOTICE)
    connection = store._connection()  # type: ignore[attr-defined]
    assert isinstance(connection, sqlite3.Connection)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (synchronous,)
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    store.close()
