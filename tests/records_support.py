"""Helpers for the records tests: sample records, raw database access, a worker script."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from consentgate.records import Notice, Record, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOTICE = Notice("en", "We use cookies.\nAnalytics: count visits so we can improve the site.")
NOTICE_FR = Notice("fr", "Nous utilisons des cookies.\nMesure d'audience : compter les visites.")


def record(
    consent_id: str = "c1",
    at: datetime = T0,
    *,
    granted: tuple[str, ...] = ("analytics", "necessary"),
    refused: tuple[str, ...] = (),
    action: str = "accept_all",
    notice: Notice = NOTICE,
    **fields: Any,
) -> Record:
    """A banner decision taken at ``at`` under ``notice``."""
    return Record(
        consent_id,
        at,
        action,
        fields.pop("entry_point", "banner"),
        granted,
        refused,
        fields.pop("policy_version", "1"),
        notice.digest,
        notice.language,
        **fields,
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)


@contextmanager
def raw(url: str) -> Iterator[Any]:
    """A plain DB-API connection to the store's database, around the store, autocommitting."""
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(sqlite_url(url)[0], isolation_level=None)) as connection:
            yield connection
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            yield connection


def count(url: str, table: str) -> int:
    """Rows in one of the store's tables (a fixed name from the test, never input)."""
    with raw(url) as connection:
        rows: int = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        return rows


WORKER = """
import sys
from consentgate.records import open_store
from tests.records_support import NOTICE, record
store = open_store(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.append(record(f"{sys.argv[2]}-{i}"), NOTICE)
store.close()
"""


def run_workers(url: str, processes: int, appends: int) -> list[subprocess.CompletedProcess[str]]:
    """Start ``processes`` Python processes at once, each appending ``appends`` records
    (ids ``w<n>-<i>``) to the store at ``url``; waits for all of them."""
    command = [sys.executable, "-c", WORKER, url]
    started = [
        subprocess.Popen(
            [*command, f"w{n}", str(appends)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for n in range(processes)
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done
