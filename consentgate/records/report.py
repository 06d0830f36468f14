"""How the records commands read times and durations and write what they found.

Pure text in and out (the clock is passed in), so the command line stays thin glue.
"""

from __future__ import annotations

import csv
import json
import re
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from .base import Purged, Record, RecordReader, Stats

#: The formats ``export`` writes.
FORMATS = ("csv", "jsonl")
#: The columns of an export, in order (a record's fields).
COLUMNS = (
    "consent_id",
    "decided_at",
    "action",
    "entry_point",
    "granted",
    "refused",
    "policy_version",
    "notice_digest",
    "language",
    "gpc",
    "mode",
    "ip_prefix",
)
_DURATION = re.compile(r"(\d{1,5})\s*([dwy])")
_UNITS = {"d": "days", "w": "weeks", "y": "years"}


def parse_time(text: str, *, end: bool = False) -> datetime:
    """A date (``2026-03-01``, midnight UTC) or an ISO 8601 time (UTC unless it says).

    :param end: the time that ends the span: a bare date counts in full, so it means the
        midnight after it.
    :raise ValueError: for anything else, with the forms accepted.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use 2026-03-01 or 2026-03-01T12:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    bare_date = len(text.strip()) == len("2026-03-01")
    return moment + timedelta(days=1) if end and bare_date else moment


def older_than(duration: str, now: datetime) -> datetime:
    """The time ``duration`` (``400d``, ``52w``, ``3y``) before ``now``; years are
    calendar years (29 February goes back to 28 February).

    :raise ValueError: for anything else.
    """
    match = _DURATION.fullmatch(duration.strip().lower())
    if not match:
        raise ValueError(f"not a duration: {duration!r} (use days, weeks or years: 400d, 3y)")
    number, unit = int(match[1]), match[2]
    if unit != "y":
        return now - timedelta(**{_UNITS[unit]: number})
    year = max(now.year - number, 1)
    day = 28 if (now.month, now.day) == (2, 29) else now.day
    return now.replace(year=year, day=day)


def format_time(moment: datetime) -> str:
    """A time as people read it in a log: ``2026-03-01 12:00:00 UTC``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "-"


def print_history(store: RecordReader, consent_id: str, out: TextIO) -> bool:
    """Write one visitor's decisions, each notice's text the first time it appears;
    False when there are none."""
    shown: set[str] = set()
    found = False
    for record in store.history(consent_id):
        if not found:
            print(f"Decisions of consent id {consent_id}, oldest first:", file=out)
            found = True
        print(file=out)
        print(f"{format_time(record.decided_at)}  {record.action} ({record.entry_point})", file=out)
        print(f"  granted: {_names(record.granted)}", file=out)
        print(f"  refused: {_names(record.refused)}", file=out)
        extra = f", IP prefix {record.ip_prefix}" if record.ip_prefix else ""
        gpc = ", Global Privacy Control sent" if record.gpc else ""
        details = f"policy version {record.policy_version}, {record.mode}{gpc}{extra}"
        print(f"  {details}", file=out)
        print(f"  notice {record.notice_digest} ({record.language})", end="", file=out)
        if record.notice_digest in shown:
            print(": as above", file=out)
            continue
        shown.add(record.notice_digest)
        notice = store.notice(record.notice_digest)
        text = notice.text if notice else "(not stored)"
        print(":", file=out)
        print(textwrap.indent(text, "    | ", lambda line: True), file=out)
    return found


def _row(record: Record) -> dict[str, Any]:
    return {
        name: value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
        for name, value in ((c, getattr(record, c)) for c in COLUMNS)
    }


def write_export(records: Iterable[Record], form: str, out: TextIO) -> int:
    """Write records one by one as CSV (a header, names space-separated) or JSON Lines
    (names as lists); returns how many."""
    written = 0
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n") if form == "csv" else None
    if writer:
        writer.writeheader()
    for record in records:
        row = _row(record)
        if writer:
            names = {"granted": " ".join(record.granted), "refused": " ".join(record.refused)}
            writer.writerow({**row, **names, "gpc": str(record.gpc).lower()})
        else:
            row.update(granted=list(record.granted), refused=list(record.refused))
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
    return written


def describe_stats(stats: Stats, since: datetime | None, until: datetime | None) -> str:
    """The stats as a short report."""
    span = f"from {format_time(since) if since else 'the first'}"
    span += f" to {format_time(until) if until else 'the last'}"
    lines = [f"{_plural(stats.total, 'decision')} {span}"]
    if stats.total:
        lines += ["", "Per day (UTC):", *(f"  {day}  {n:>8}" for day, n in stats.per_day)]
        width = max(len(a) for a, _ in stats.per_action)
        lines += ["", "Per action:", *(f"  {a:<{width}}  {n:>8}" for a, n in stats.per_action)]
        lines += ["", "Acceptance per category:"]
        width = max((len(c.name) for c in stats.categories), default=0)
        for c in stats.categories:
            counts = f"({c.granted} granted, {c.refused} refused)"
            lines.append(f"  {c.name:<{width}}  {c.rate:6.1%}  {counts}")
    return "\n".join(lines)


def describe_purge(purged: Purged, before: str, *, dry_run: bool) -> str:
    """What a purge deleted, or would delete."""
    verb = "Would delete" if dry_run else "Deleted"
    return (
        f"{verb} {_plural(purged.decisions, 'decision')} taken before {before} and "
        f"{_plural(purged.notices, 'notice')} that no remaining decision points to."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
