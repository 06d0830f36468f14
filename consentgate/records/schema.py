"""The records schema: numbered migrations in one place, for SQLite and PostgreSQL.

A store calls :func:`migrate` inside a transaction that no other process can enter at
the same time (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an advisory lock), so two workers
starting at once apply each step exactly once. ``consentgate_schema`` lists the steps
applied. A new step is appended to :data:`MIGRATIONS`; an applied one is never edited.

Decisions are append-only: the database refuses ``UPDATE``, and ``DELETE`` only for rows
older than the cutoff that :func:`~consentgate.records.sql.SQLStore.purge` announces in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]

#: The key of the PostgreSQL advisory lock that serialises migrations (any fixed number).
ADVISORY_LOCK = 0x636F6E73  # "cons"
#: The message the database raises when something tries to change a record.
APPEND_ONLY = "consentgate decisions are append-only"


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use (sqlite3's and psycopg's both fit)."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True)
class Migration:
    """One numbered step: the statements for each dialect, run in order."""

    version: int
    summary: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


_SQLITE_V1 = (
    """CREATE TABLE consentgate_notices (
        digest TEXT PRIMARY KEY,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        first_seen TEXT NOT NULL
    )""",
    """CREATE TABLE consentgate_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        consent_id TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        action TEXT NOT NULL,
        entry_point TEXT NOT NULL,
        granted TEXT NOT NULL,
        refused TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        notice_digest TEXT NOT NULL REFERENCES consentgate_notices (digest),
        language TEXT NOT NULL,
        gpc INTEGER NOT NULL,
        mode TEXT NOT NULL,
        ip_prefix TEXT
    )""",
    "CREATE INDEX consentgate_decisions_consent ON consentgate_decisions (consent_id, id)",
    "CREATE INDEX consentgate_decisions_time ON consentgate_decisions (decided_at)",
    "CREATE INDEX consentgate_decisions_notice ON consentgate_decisions (notice_digest)",
    # Purge writes its cutoff here inside its own transaction; no one else ever sees a row.
    "CREATE TABLE consentgate_purge (before TEXT NOT NULL)",
    f"""CREATE TRIGGER consentgate_decisions_no_update
        BEFORE UPDATE ON consentgate_decisions
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER consentgate_decisions_no_delete
        BEFORE DELETE ON consentgate_decisions
        WHEN NOT EXISTS (SELECT 1 FROM consentgate_purge WHERE OLD.decided_at < before)
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}: delete only through purge'); END""",
    f"""CREATE TRIGGER consentgate_notices_no_update
        BEFORE UPDATE ON consentgate_notices
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
)

_POSTGRESQL_V1 = (
    """CREATE TABLE consentgate_notices (
        digest TEXT PRIMARY KEY,
        language TEXT NOT NULL,
        text TEXT NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE consentgate_decisions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        consent_id TEXT NOT NULL,
        decided_at TIMESTAMPTZ NOT NULL,
        action TEXT NOT NULL,
        entry_point TEXT NOT NULL,
        granted TEXT NOT NULL,
        refused TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        notice_digest TEXT NOT NULL REFERENCES consentgate_notices (digest),
        language TEXT NOT NULL,
        gpc BOOLEAN NOT NULL,
        mode TEXT NOT NULL,
        ip_prefix TEXT
    )""",
    "CREATE INDEX consentgate_decisions_consent ON consentgate_decisions (consent_id, id)",
    "CREATE INDEX consentgate_decisions_time ON consentgate_decisions (decided_at)",
    "CREATE INDEX consentgate_decisions_notice ON consentgate_decisions (notice_digest)",
    # Purge sets consentgate.purge_before for its own transaction (set_config(..., true)).
    f"""CREATE FUNCTION consentgate_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    f"""CREATE FUNCTION consentgate_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.decided_at < NULLIF(current_setting('consentgate.purge_before', true), '')
                            ::timestamptz THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{APPEND_ONLY}: delete only through purge'
            USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER consentgate_decisions_no_update
        BEFORE UPDATE ON consentgate_decisions
        FOR EACH ROW EXECUTE FUNCTION consentgate_refuse_change()""",
    """CREATE TRIGGER consentgate_decisions_no_delete
        BEFORE DELETE ON consentgate_decisions
        FOR EACH ROW EXECUTE FUNCTION consentgate_purge_only()""",
    """CREATE TRIGGER consentgate_decisions_no_truncate
        BEFORE TRUNCATE ON consentgate_decisions
        FOR EACH STATEMENT EXECUTE FUNCTION consentgate_refuse_change()""",
    """CREATE TRIGGER consentgate_notices_no_update
        BEFORE UPDATE ON consentgate_notices
        FOR EACH ROW EXECUTE FUNCTION consentgate_refuse_change()""",
)

#: Every step, in order. Append new ones; never edit one that has shipped.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "notices and append-only decisions", _SQLITE_V1, _POSTGRESQL_V1),
)

_VERSION_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS consentgate_schema "
    "(version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at TEXT NOT NULL)",
    "postgresql": "CREATE TABLE IF NOT EXISTS consentgate_schema "
    "(version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
}
_RECORD_STEP = {
    "sqlite": "INSERT INTO consentgate_schema VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
    "postgresql": "INSERT INTO consentgate_schema VALUES (%s, %s, now())",
}


def latest() -> int:
    """The version a fully migrated database has."""
    return MIGRATIONS[-1].version


def migrate(cursor: Cursor, dialect: Dialect) -> int:
    """Apply the steps this database lacks; returns how many were applied.

    Call it inside a transaction that serialises migrations (see the module's docstring):
    on any error the caller rolls back, and the database is as it was.
    """
    if dialect == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
    cursor.execute(_VERSION_TABLE[dialect])
    cursor.execute("SELECT COALESCE(MAX(version), 0) FROM consentgate_schema")
    current: int = cursor.fetchone()[0]
    steps = [m for m in MIGRATIONS if m.version > current]
    for step in steps:
        for statement in step.sqlite if dialect == "sqlite" else step.postgresql:
            cursor.execute(statement)
        cursor.execute(_RECORD_STEP[dialect], (step.version, step.summary))
    return len(steps)
