"""``python -m consentgate records``: the site owner's view of the consent records.

``show CONSENT_ID`` (one visitor's history with the notice they saw), ``export`` (CSV or
JSON Lines, streamed), ``stats`` and ``purge``. The store comes from ``--records URL`` or
the ``records`` key of ``--config consent.toml``; only that key (and ``max_age_days``) is
read, so an admin shell needs no signing secret. ``flask consent records`` runs the same
commands through :func:`main`, with the store of the app's settings.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..checks import ConfigError
from ..config import Settings, read_toml
from . import RecordReader, StoreUnavailable, open_store, sqlite_url
from .report import (
    FORMATS,
    describe_purge,
    describe_stats,
    format_time,
    older_than,
    parse_time,
    print_history,
    write_export,
)

#: Exit codes: done; the store failed or there was nothing to show; a usage mistake.
OK, FAILED, USAGE = 0, 1, 2
DESCRIPTION = """\
The consent records: what each visitor decided, when, and the notice they saw.
--config reads only the records and max_age_days keys of the file, so no signing
secret is needed."""
EXAMPLES = """\
examples:
  python -m consentgate records --config consent.toml show 3f9c2a0b...
  python -m consentgate records --config consent.toml export --since 2026-01-01 --format csv
  python -m consentgate records --records sqlite:///consent.sqlite3 stats --since 2026-11-01
  python -m consentgate records --config consent.toml purge --older-than 6y --dry-run"""


@dataclass(frozen=True)
class Source:
    """Where the records are, and how long a decision stays in effect."""

    records: object
    max_age_days: int = Settings.max_age_days


def add_parser(subparsers: Any) -> None:
    """Add the ``records`` command to ``python -m consentgate``."""
    parser = subparsers.add_parser(
        "records",
        help="show, export, count or purge the consent records",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", metavar="FILE", help="the site's TOML file (its records key)")
    where.add_argument("--records", metavar="URL", help="sqlite:///path or postgresql://...")
    _add_commands(parser)
    parser.set_defaults(run=run)


def _add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="records_command", metavar="COMMAND", required=True)
    show = commands.add_parser("show", help="one visitor's decisions, with the notice shown")
    show.add_argument("consent_id", metavar="CONSENT_ID")
    export = commands.add_parser("export", help="decisions between two times, as CSV or JSONL")
    export.add_argument("--since", required=True, type=_since, metavar="DATE")
    export.add_argument("--until", type=_until, metavar="DATE", help="a date counts in full")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--output", metavar="FILE", help="write here instead of to stdout")
    stats = commands.add_parser("stats", help="decisions per day, acceptance per category")
    stats.add_argument("--since", type=_since, metavar="DATE")
    stats.add_argument("--until", type=_until, metavar="DATE", help="a date counts in full")
    purge = commands.add_parser("purge", help="delete records older than a duration")
    purge.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 400d, 52w, 3y")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")


def _time_argument(*, end: bool) -> Callable[[str], datetime]:
    """An argparse type: a time, or a one-line usage error saying the forms accepted."""

    def parse(text: str) -> datetime:
        try:
            return parse_time(text, end=end)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


_since, _until = _time_argument(end=False), _time_argument(end=True)


def run(args: argparse.Namespace) -> int:
    """Run a parsed ``python -m consentgate records ...`` command; returns the exit code."""
    # The pool's own retry warnings would bury the one line of error this prints.
    logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
    logging.getLogger("psycopg.pool").propagate = False
    try:
        source = Source(args.records) if args.records else _read_config(args.config)
    except ConfigError as error:
        return _fail(f"error: {error}", USAGE)
    return execute(args, source)


def main(argv: Sequence[str], records: object, max_age_days: int, prog: str) -> int:
    """Parse and run ``argv`` (``show ID``, ``export ...``) against ``records``: for
    adapters such as ``flask consent records`` that already know the store."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION.partition("\n")[0])
    _add_commands(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse has printed the usage or the help
        return int(exit.code or 0)
    return execute(args, Source(records, max_age_days))


def _read_config(path: str) -> Source:
    """The ``records`` and ``max_age_days`` keys of a TOML file, nothing else."""
    data = read_toml(path)
    if not isinstance(data.get("records"), str):
        raise ConfigError("records", f"must be set to a store URL in {path}")
    max_age = data.get("max_age_days", Settings.max_age_days)
    if not isinstance(max_age, int) or isinstance(max_age, bool):
        raise ConfigError("max_age_days", f"must be a whole number of days in {path}")
    return Source(data["records"], max_age)


def execute(args: argparse.Namespace, source: Source) -> int:
    """Open the store, run the command, close the store; errors become exit codes."""
    try:
        store = _open(source.records)
    except ConfigError as error:
        return _fail(f"error: {error}", USAGE)
    try:
        return COMMANDS[args.records_command](store, args, source)
    except StoreUnavailable as error:
        return _fail(f"error: the records cannot be read: {error}", FAILED)
    except BrokenPipeError:  # piped into head, say: the reader has all it wants
        # As the Python docs advise: no second error when stdout is flushed at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FAILED
    except OSError as error:
        return _fail(f"error: {error.filename or ''}: {error.strerror}", FAILED)
    finally:
        if source.records is not store:  # a store the app passed in stays open
            store.close()


def _open(records: object) -> Any:
    if records is None:
        raise ConfigError("records", "is not set: no decisions are recorded")
    if isinstance(records, str) and records.startswith("sqlite:"):
        path = sqlite_url(records)[0]
        if not os.path.exists(path):  # never create an empty database by mistake
            raise ConfigError("records", f"no records database at {os.path.abspath(path)}")
    store = open_store(records, admin=True)  # type: ignore[arg-type]
    if not isinstance(store, RecordReader):
        why = f"{type(store).__name__} cannot be read (it lacks the RecordReader methods)"
        raise ConfigError("records", why)
    return store


def _show(store: RecordReader, args: argparse.Namespace, source: Source) -> int:
    if print_history(store, args.consent_id, sys.stdout):
        return OK
    return _fail(f"no decisions recorded for consent id {args.consent_id!r}", FAILED)


def _export(store: RecordReader, args: argparse.Namespace, source: Source) -> int:
    until = args.until or datetime.now(UTC)
    records = store.export(args.since, until)
    if args.output is None:
        write_export(records, args.format, sys.stdout)
        return OK
    # Written beside the target and renamed, so a failed export never leaves half a file.
    partial = f"{args.output}.partial"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            written = write_export(records, args.format, out)
        os.replace(partial, args.output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    print(f"{written} decision(s) written to {args.output}", file=sys.stderr)
    return OK


def _stats(store: RecordReader, args: argparse.Namespace, source: Source) -> int:
    stats = store.stats(args.since, args.until)
    print(describe_stats(stats, args.since, args.until))
    return OK


def _purge(store: RecordReader, args: argparse.Namespace, source: Source) -> int:
    now = datetime.now(UTC)
    try:
        before = older_than(args.older_than, now)
    except ValueError as error:
        return _fail(f"error: --older-than: {error}", USAGE)
    if (now - before).days < source.max_age_days:
        why = (
            f"--older-than {args.older_than} would delete decisions still in effect: "
            f"a choice lasts {source.max_age_days} days (max_age_days)"
        )
        return _fail(f"error: {why}", USAGE)
    purged = store.purge(before, dry_run=args.dry_run)
    print(describe_purge(purged, format_time(before), dry_run=args.dry_run))
    return OK


COMMANDS: dict[str, Callable[[RecordReader, argparse.Namespace, Source], int]] = {
    "show": _show,
    "export": _export,
    "stats": _stats,
    "purge": _purge,
}


def _fail(message: str, code: int) -> int:
    print(f"consentgate records: {message}", file=sys.stderr)
    return code
