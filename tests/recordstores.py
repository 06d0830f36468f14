"""Stores for the record-flow tests: in memory, a real store read back, one that fails.

:class:`MemoryStore` and :class:`StoredRecords` show the same ``records`` and ``notices``,
so one test runs unchanged on memory, SQLite and PostgreSQL; ``target`` is what the
gate's ``records`` option is given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from consentgate.records import Notice, Record, StoreUnavailable, open_store


class MemoryStore:
    """Keeps every appended record, and each notice's text once per digest."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.notices: dict[str, str] = {}
        self.closed = False
        self._lock = threading.Lock()

    def append(self, record: Record, notice: Notice) -> None:
        with self._lock:
            self.notices.setdefault(notice.digest, notice.text)
            self.records.append(record)

    def close(self) -> None:
        self.closed = True

    @property
    def target(self) -> MemoryStore:
        return self


@contextmanager
def reading(url: str) -> Iterator[Any]:
    """The store at ``url`` as the site owner's tools read it (a RecordReader)."""
    store = open_store(url, admin=True)
    try:
        yield store
    finally:
        store.close()


class StoredRecords:
    """What a real store at ``url`` holds, read back through its reader on each access."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def target(self) -> str:
        return self.url

    @property
    def records(self) -> list[Record]:
        """Every record, in the order they were decided."""
        now, far = datetime.now(UTC), timedelta(days=3650)
        with reading(self.url) as reader:
            return list(reader.export(now - far, now + far))

    @property
    def notices(self) -> Mapping[str, str]:
        """The text of each notice the records point to, by digest."""
        with reading(self.url) as reader:
            found = {r.notice_digest: reader.notice(r.notice_digest) for r in self.records}
        return {digest: notice.text for digest, notice in found.items() if notice is not None}


class FailingStore:
    """A store whose every append fails with ``error`` (StoreUnavailable by default)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or StoreUnavailable("connection refused")
        self.calls = 0

    def append(self, record: Record, notice: Notice) -> None:
        self.calls += 1
        raise self.error

    def close(self) -> None:
        pass
