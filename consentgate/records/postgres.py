"""Consent records in PostgreSQL (psycopg 3 and its pool), for sites served by many hosts.

Install with ``pip install consentgate[postgres]``. Each process opens its own pool on
first use (a pool never crosses ``fork``). Timeouts are short, so an unreachable database
answers :class:`~consentgate.records.StoreUnavailable` within a few seconds instead of
hanging a worker, and every connection is checked as it leaves the pool, so after the
database restarts the broken ones are replaced and the store recovers by itself. A pool
waits longer and longer between its attempts to reconnect (1, 2, 4, 8 s); a request that
found none in time has the store start a fresh pool, which tries at once, so the records
are back within about a second of the database.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .base import StoreUnavailable
from .schema import migrate
from .sql import SQLStore

#: Seconds to establish a connection (libpq's ``connect_timeout``; 2 is its minimum).
CONNECT_TIMEOUT = 2
#: Seconds a request waits for a pooled connection before the store answers unavailable.
POOL_TIMEOUT = 3.0
#: Seconds a statement may run for the gate (the site owner's commands have no limit).
STATEMENT_TIMEOUT = 5.0
#: Least seconds between two fresh pools started after requests found no connection.
RENEW_INTERVAL = 1.0
#: Most connections one process keeps to the database.
POOL_SIZE = 10
#: Rows an export or history fetches at a time (through a server-side cursor).
BATCH = 500
_PASSWORD_PARAMETER = re.compile(r"(password\s*=\s*)[^&\s]*", re.IGNORECASE)


class PostgresStore(SQLStore):
    """Records in the PostgreSQL database at ``url`` (``postgresql://user@host/db``).

    :param admin: for the site owner's commands: no statement time limit (long exports
        and purges) and a small pool.
    """

    dialect = "postgresql"
    day_expression = "to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"

    def __init__(
        self,
        url: str,
        *,
        admin: bool = False,
    ) -> None:
        self.url = url
        self.statement_timeout = None if admin else STATEMENT_TIMEOUT
        self.pool_size = 2 if admin else POOL_SIZE
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pid = 0
        # A pool inherited across fork is kept, never closed: closing it would end the
        # parent's sessions, whose sockets the child shares.
        self._inherited: list[ConnectionPool] = []
        self._migrated = False
        self._renewed_at = 0.0

    def __repr__(self) -> str:
        return f"PostgresStore({_redacted(self.url)!r})"

    def _configure(self, connection: psycopg.Connection[Any]) -> None:
        milliseconds = round((self.statement_timeout or 0) * 1000)
        connection.execute(
            "SELECT set_config('statement_timeout', %s, false)", (f"{milliseconds}",)
        )
        connection.commit()

    def _connections(self) -> ConnectionPool:
        """This process's pool, opened (and the schema migrated) on first use."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                if self._pool is not None:
                    self._inherited.append(self._pool)
                    self._migrated = False
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    open=False,
                    timeout=POOL_TIMEOUT,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "consentgate"},
                    configure=self._configure,
                    check=ConnectionPool.check_connection,
                    name="consentgate-records",
                )
                self._pool.open(wait=False)
                self._pid = os.getpid()
            pool = self._pool
        if not self._migrated:
            with pool.connection() as connection, connection.transaction():
                migrate(connection.cursor(), "postgresql")
            self._migrated = True
        return pool

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        if isinstance(error, PoolTimeout):
            self._renew()
        return StoreUnavailable(f"consent records in {_redacted(self.url)}: {error}")

    @contextmanager
    def _transaction(self, *, write: bool = True, commit: bool = True) -> Iterator[Any]:
        try:
            pool = self._connections()
            with pool.connection() as connection, connection.transaction(force_rollback=not commit):
                yield connection.cursor()
        except psycopg.Error as error:
            raise self._unavailable(error) from error

    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        try:
            pool = self._connections()
            with (
                pool.connection() as connection,
                connection.transaction(),
                connection.cursor(name="consentgate_read") as cursor,
            ):
                cursor.itersize = BATCH
                cursor.execute(sql, params)
                yield from cursor
        except psycopg.Error as error:
            raise self._unavailable(error) from error

    def _allow_purge(self, cursor: Any, cutoff: Any) -> None:
        # For this transaction only: the append-only trigger lets older rows go.
        cursor.execute(
            "SELECT set_config('consentgate.purge_before', %s, true)", (cutoff.isoformat(),)
        )

    def _renew(self) -> None:
        """Drop this process's pool after a request found no connection in time, at most
        once per :data:`RENEW_INTERVAL`: the next request opens a fresh one, which connects
        at once instead of at the old pool's next, ever later, attempt."""
        now = time.monotonic()
        with self._lock:
            pool = self._pool
            if pool is None or self._pid != os.getpid() or now - self._renewed_at < RENEW_INTERVAL:
                return
            self._pool, self._renewed_at = None, now
        pool.close(timeout=0)  # connections still out are closed as they come back

    def close(self) -> None:
        """Close this process's pool; the next use opens a new one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()


def _redacted(url: str) -> str:
    """``url`` without its password (``user:secret@`` or ``?password=secret``), for
    messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if sep and at and ":" in credentials:
        url = f"{scheme}://{credentials.partition(':')[0]}:***@{host}"
    return _PASSWORD_PARAMETER.sub(r"\1***", url)
