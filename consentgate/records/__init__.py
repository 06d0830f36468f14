"""Proof of consent: one appended record per decision, in a store behind a small protocol.

The gate needs only :class:`RecordStore`'s ``append``: a record is committed before the
decision's cookie is set, and a store that cannot commit raises :class:`StoreUnavailable`.
The site owner's tools read through :class:`RecordReader`. :func:`open_store` turns the
``records`` option into a store: SQLite (:mod:`.sqlite`) or PostgreSQL (:mod:`.postgres`).
"""

from __future__ import annotations

from urllib.parse import unquote

from ..checks import ConfigError
from .base import CategoryCount as CategoryCount
from .base import Notice as Notice
from .base import Purged as Purged
from .base import Record as Record
from .base import RecordReader as RecordReader
from .base import RecordStore as RecordStore
from .base import Stats as Stats
from .base import StoreUnavailable as StoreUnavailable

__all__ = [
    "CategoryCount",
    "Notice",
    "Purged",
    "Record",
    "RecordReader",
    "RecordStore",
    "Stats",
    "StoreUnavailable",
    "open_store",
    "sqlite_url",
]


def sqlite_url(url: str) -> tuple[str, str]:
    """The file of a ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` URL, and
    its ``synchronous`` mode: ``FULL`` unless the URL ends ``?synchronous=normal``.

    :raise ConfigError: for a URL without a file (or ``:memory:``, which keeps nothing),
        or with another query.
    """
    scheme, sep, rest = url.partition(":///")
    rest, _, query = rest.partition("?")
    path = unquote(rest)
    why = "must be 'sqlite:///relative/path' or 'sqlite:////absolute/path'"
    if scheme != "sqlite" or not sep or not path or "#" in url:
        raise ConfigError("records", f"{why}, got {url!r}")
    if path == ":memory:":
        raise ConfigError("records", "an in-memory SQLite database keeps nothing: give a file")
    options = {"": "FULL", "synchronous=full": "FULL", "synchronous=normal": "NORMAL"}
    if query.lower() not in options:
        why = "takes only '?synchronous=normal' (or '=full', the default) after the path"
        raise ConfigError("records", f"{why}, got {url!r}")
    return path, options[query.lower()]


def open_store(records: str | RecordStore, *, admin: bool = False) -> RecordStore:
    """The store the ``records`` option names: a URL, or a :class:`RecordStore` as it is.

    ``sqlite:///consent.sqlite3`` (relative to the working directory; four slashes for
    an absolute path) or ``postgresql://user@host/db`` (also ``postgres://``). Nothing is
    opened until the first record or read.

    :param admin: for the site owner's commands, which may wait where the gate must not
        (no statement time limit on PostgreSQL, a longer lock wait on SQLite).
    :raise ConfigError: for a URL of an unknown form, or PostgreSQL without psycopg.
    """
    if not isinstance(records, str):
        return records
    scheme = records.partition("://")[0]
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        path, synchronous = sqlite_url(records)
        return SQLiteStore(path, admin=admin, synchronous=synchronous)
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStore
        except ImportError as error:
            why = f"needs psycopg 3 and psycopg_pool: pip install 'consentgate[postgres]' ({error})"
            raise ConfigError("records", why) from None
        return PostgresStore(records, admin=admin)
    why = "must be 'sqlite:///path', 'postgresql://...', a RecordStore or None"
    raise ConfigError("records", f"{why}, got {records!r}")
