"""What the SQLite and PostgreSQL stores share: the queries, and rows to records and back.

A backend subclasses :class:`SQLStore` and supplies a transaction, a streaming read and
how its database holds a time; everything else (appending, history, export, stats,
purge) is written once here. SQL parameters are always bound, never formatted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from .base import CategoryCount, Notice, Purged, Record, Stats
from .schema import Cursor, Dialect

_COLUMNS = (
    "consent_id, decided_at, action, entry_point, granted, refused, policy_version, "
    "notice_digest, language, gpc, mode, ip_prefix"
)
_INSERT_NOTICE = (
    "INSERT INTO consentgate_notices (digest, language, text, first_seen) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (digest) DO NOTHING"
)
_INSERT_DECISION = (
    f"INSERT INTO consentgate_decisions ({_COLUMNS}) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_HISTORY = (
    f"SELECT {_COLUMNS} FROM consentgate_decisions WHERE consent_id = %s ORDER BY decided_at, id"
)
_NOTICE = "SELECT language, text FROM consentgate_notices WHERE digest = %s"
_SPAN = "decided_at >= %s AND decided_at < %s"
_EXPORT = f"SELECT {_COLUMNS} FROM consentgate_decisions WHERE {_SPAN} ORDER BY decided_at, id"
_BY_ACTION = f"SELECT action, COUNT(*) FROM consentgate_decisions WHERE {_SPAN} GROUP BY action"
# The distinct choices are few (at most 2 ** categories): the per-category sums are
# made from them in Python, whatever the number of decisions.
_BY_CHOICE = (
    f"SELECT granted, refused, COUNT(*) FROM consentgate_decisions WHERE {_SPAN} "
    "GROUP BY granted, refused"
)
_PURGE_DECISIONS = "DELETE FROM consentgate_decisions WHERE decided_at < %s"
_PURGE_NOTICES = (
    "DELETE FROM consentgate_notices WHERE NOT EXISTS (SELECT 1 FROM consentgate_decisions "
    "WHERE consentgate_decisions.notice_digest = consentgate_notices.digest)"
)
#: Bounds of an open span: far enough out for any record.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is refused, as it could mean any zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a record time must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _names(value: str) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


class SQLStore:
    """A :class:`~consentgate.records.RecordStore` and
    :class:`~consentgate.records.RecordReader` on a SQL database; see the backends."""

    dialect: Dialect
    #: The SQL expression of a decision's UTC day, as ``YYYY-MM-DD``.
    day_expression: str

    def _transaction(
        self, *, write: bool = True, commit: bool = True
    ) -> AbstractContextManager[Cursor]:
        """A cursor in a transaction, committed on exit (rolled back instead when not
        ``commit``) and rolled back on any error; a database error comes out as
        :class:`~consentgate.records.StoreUnavailable`. ``write=False`` promises reads
        only, so a backend need not lock out writers."""
        raise NotImplementedError

    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of a query, fetched in batches as they are consumed."""
        raise NotImplementedError

    def _query(self, sql: str) -> str:
        """``sql`` in the placeholder style of the driver (``%s`` as written here)."""
        return sql

    def _time_param(self, moment: datetime) -> Any:
        """How a UTC time is bound as a parameter."""
        return moment

    def _time_value(self, value: Any) -> datetime:
        """A time read back from the database, in UTC."""
        return utc(value)

    def append(self, record: Record, notice: Notice) -> None:
        """Store the notice if its digest is new, then the record, in one transaction."""
        if record.notice_digest != notice.digest:
            raise ValueError("record.notice_digest is not the digest of the notice given")
        decided_at = self._time_param(utc(record.decided_at))
        with self._transaction() as cursor:
            cursor.execute(
                self._query(_INSERT_NOTICE),
                (notice.digest, notice.language, notice.text, decided_at),
            )
            cursor.execute(self._query(_INSERT_DECISION), self._row(record, decided_at))

    def _row(self, record: Record, decided_at: Any) -> tuple[Any, ...]:
        return (
            record.consent_id,
            decided_at,
            record.action,
            record.entry_point,
            " ".join(record.granted),
            " ".join(record.refused),
            record.policy_version,
            record.notice_digest,
            record.language,
            record.gpc,
            record.mode,
            record.ip_prefix,
        )

    def _record(self, row: Sequence[Any]) -> Record:
        consent_id, decided_at, action, entry_point, granted, refused, *rest = row
        policy_version, digest, language, gpc, mode, ip_prefix = rest
        return Record(
            consent_id,
            self._time_value(decided_at),
            action,
            entry_point,
            _names(granted),
            _names(refused),
            policy_version,
            digest,
            language,
            bool(gpc),
            mode,
            ip_prefix,
        )

    def history(self, consent_id: str) -> Iterator[Record]:
        """Every decision of one visitor, oldest first."""
        return map(self._record, self._stream(self._query(_HISTORY), (consent_id,)))

    def notice(self, digest: str) -> Notice | None:
        """The notice stored under ``digest``, or None."""
        with self._transaction(write=False) as cursor:
            cursor.execute(self._query(_NOTICE), (digest,))
            row = cursor.fetchone()
        return Notice(row[0], row[1]) if row else None

    def _span(self, since: datetime | None, until: datetime | None) -> tuple[Any, Any]:
        return (
            self._time_param(utc(since or _EARLIEST)),
            self._time_param(utc(until or _LATEST)),
        )

    def export(self, since: datetime, until: datetime) -> Iterator[Record]:
        """Decisions taken at or after ``since`` and before ``until``, oldest first."""
        return map(self._record, self._stream(self._query(_EXPORT), self._span(since, until)))

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> Stats:
        """Counts of the decisions in the span (all of them by default)."""
        span = self._span(since, until)
        per_day_sql = (
            f"SELECT {self.day_expression}, COUNT(*) FROM consentgate_decisions "
            f"WHERE {_SPAN} GROUP BY 1 ORDER BY 1"
        )
        with self._transaction(write=False) as cursor:
            cursor.execute(self._query(per_day_sql), span)
            per_day = tuple((str(day), int(n)) for day, n in cursor.fetchall())
            cursor.execute(self._query(_BY_ACTION), span)
            per_action = tuple(sorted(cursor.fetchall(), key=lambda row: (-row[1], row[0])))
            cursor.execute(self._query(_BY_CHOICE), span)
            choices = cursor.fetchall()
        granted: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for granted_names, refused_names, count in choices:
            granted.update(dict.fromkeys(_names(granted_names), count))
            refused.update(dict.fromkeys(_names(refused_names), count))
        categories = tuple(
            CategoryCount(name, granted[name], refused[name]) for name in sorted(granted | refused)
        )
        total = sum(n for _, n in per_day)
        return Stats(total, per_day, tuple((a, int(n)) for a, n in per_action), categories)

    def purge(self, before: datetime, *, dry_run: bool = False) -> Purged:
        """Delete decisions taken before ``before``, then the notices no decision points
        to any more; ``dry_run`` counts them and deletes nothing."""
        cutoff = self._time_param(utc(before))
        with self._transaction(commit=not dry_run) as cursor:
            self._allow_purge(cursor, cutoff)
            cursor.execute(self._query(_PURGE_DECISIONS), (cutoff,))
            decisions = cursor.rowcount
            cursor.execute(self._query(_PURGE_NOTICES))
            notices = cursor.rowcount
            self._end_purge(cursor)
        return Purged(decisions, notices)

    def _allow_purge(self, cursor: Cursor, cutoff: Any) -> None:
        """Tell the append-only trigger, for this transaction only, what may go."""
        raise NotImplementedError

    def _end_purge(self, cursor: Cursor) -> None:
        """Undo :meth:`_allow_purge` before the transaction ends, where it is needed."""
