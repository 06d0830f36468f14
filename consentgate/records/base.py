"""The record of one decision, the notice it was taken under, and the store protocol."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


class StoreUnavailable(Exception):
    """The store could not commit (or read): the decision must not take effect."""


@dataclass(frozen=True)
class Notice:
    """The exact wording a visitor was shown: banner text, category labels and
    descriptions, in the language shown. Stored once per :attr:`digest`."""

    language: str
    text: str

    @property
    def digest(self) -> str:
        """SHA-256 of the UTF-8 text, in hex: what a record points to."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """One decision, as it is appended and never changed.

    :param consent_id: the visitor's id, kept across their later decisions.
    :param decided_at: when the decision was taken, timezone-aware UTC.
    :param action: ``accept_all``, ``reject_all``, ``save``, ``load_once`` ...
    :param entry_point: where it was taken: ``banner``, ``preferences``, ``api``,
        ``placeholder``, ``gpc`` ...
    :param granted: optional and required categories granted, sorted.
    :param refused: categories refused, sorted.
    :param policy_version: the settings' ``policy_version`` at the time.
    :param notice_digest: :attr:`Notice.digest` of the wording shown.
    :param language: the language the notice was shown in.
    :param gpc: whether the browser sent ``Sec-GPC: 1``.
    :param mode: ``opt-in`` or ``opt-out``, the mode in effect.
    :param ip_prefix: a truncated address, only when the site opted in; else None.
    """

    consent_id: str
    decided_at: datetime
    action: str
    entry_point: str
    granted: tuple[str, ...]
    refused: tuple[str, ...]
    policy_version: str
    notice_digest: str
    language: str = "en"
    gpc: bool = False
    mode: str = "opt-in"
    ip_prefix: str | None = None


class RecordStore(Protocol):
    """Where records go. ``append`` returns only once the record and its notice
    are durable; anything else raises :class:`StoreUnavailable`, and then nothing
    of the record may remain."""

    def append(self, record: Record, notice: Notice) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CategoryCount:
    """How often one category was granted and refused in a span of decisions."""

    name: str
    granted: int
    refused: int

    @property
    def rate(self) -> float:
        """The share of decisions about this category that granted it (0.0 to 1.0)."""
        asked = self.granted + self.refused
        return self.granted / asked if asked else 0.0


@dataclass(frozen=True)
class Stats:
    """Decisions in a span of time: per UTC day, per action, per category.

    :param total: decisions in the span.
    :param per_day: ``("2026-12-01", count)`` pairs, oldest first.
    :param per_action: ``(action, count)`` pairs, most frequent first.
    :param categories: per category, by name.
    """

    total: int
    per_day: tuple[tuple[str, int], ...]
    per_action: tuple[tuple[str, int], ...]
    categories: tuple[CategoryCount, ...]


@dataclass(frozen=True)
class Purged:
    """What a purge deleted (or, in a dry run, would delete)."""

    decisions: int
    notices: int


@runtime_checkable
class RecordReader(Protocol):
    """The read side of a store, for the site owner's tools (``python -m consentgate
    records``). Every method raises :class:`StoreUnavailable` when the store cannot answer.
    Iterators stream: a table is never held in memory whole."""

    def history(self, consent_id: str) -> Iterator[Record]:
        """Every decision of one visitor, oldest first."""
        ...

    def notice(self, digest: str) -> Notice | None:
        """The notice stored under ``digest``, or None."""
        ...

    def export(self, since: datetime, until: datetime) -> Iterator[Record]:
        """Decisions taken at or after ``since`` and before ``until``, oldest first."""
        ...

    def stats(self, since: datetime | None = None, until: datetime | None = None) -> Stats:
        """Counts of the decisions in the span (all of them by default)."""
        ...

    def purge(self, before: datetime, *, dry_run: bool = False) -> Purged:
        """Delete decisions taken before ``before``, then the notices no decision points
        to any more; ``dry_run`` counts them and deletes nothing."""
        ...
