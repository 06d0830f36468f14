"""Stores for the record-flow tests: one that keeps records in memory, one that fails.

The real stores (SQLite, PostgreSQL) are tested through the same flows in
``test_recording_stores.py``; these two let the endpoint's behaviour be checked
without a database.
"""

from __future__ import annotations

import threading

from consentgate.records import Notice, Record, StoreUnavailable


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
