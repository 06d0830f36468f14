"""Caches bounded by the bytes they hold as well as by their entries.

The gate caches answers keyed by what clients send (``Cookie`` headers, URLs,
paths). An entry count alone lets a client pin memory with a few large keys,
so each cache here also counts bytes: an entry too large for its share is
computed but not kept, and a cache that would grow past either limit is
emptied first, which is cheap and keeps a hit a plain ``dict`` lookup.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: An entry may take at most this fraction of a cache's bytes (1/N): so a
#: cache always holds many entries, however large the keys clients send.
ENTRY_SHARE = 64
#: What :meth:`SizedCache.put` finds for a key it does not hold.
_ABSENT = object()
#: Keys longer than this are stored as a digest (see :func:`short_key`).
MAX_KEY_LENGTH = 1024


def short_key(text: str) -> str | bytes:
    """``text`` itself when short, else a 16-byte BLAKE2b digest of it.

    A digest keeps a cache entry small whatever the client sent; short keys,
    the common case, skip the hashing. A ``str`` never equals ``bytes``, so
    the two kinds of key cannot collide.
    """
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def default_size(key: object, value: object) -> int:
    """What an entry holds, in bytes: key and value as :func:`sys.getsizeof` sees
    them, and what tuples in them hold (named tuples, tuples of names)."""
    return _size(key) + _size(value)


def _size(item: object) -> int:
    size = sys.getsizeof(item)
    if isinstance(item, tuple):
        size += sum(map(_size, item))
    return size


class SizedCache(dict[K, V]):
    """A ``dict`` that holds at most ``max_entries`` entries and ``max_bytes`` bytes.

    Read it like a dict; add with :meth:`put`, which does the counting.
    ``nbytes`` is what the entries hold by ``size(key, value)``.

    :param max_entries: Most entries kept.
    :param max_bytes: Most bytes kept; an entry over ``max_bytes // ENTRY_SHARE``
        is never kept.
    :param size: Bytes an entry holds, by default :func:`default_size`.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        size: Callable[[K, V], int] = default_size,
    ) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = size
        self.nbytes = 0

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` if it fits; return ``value`` either way."""
        size = self.size(key, value)
        if size > self.max_bytes // ENTRY_SHARE:
            return value
        # One call, not a look then a pop: another thread may empty the cache in between.
        old = self.pop(key, _ABSENT)
        if old is not _ABSENT:
            self.nbytes -= self.size(key, old)  # type: ignore[arg-type]
        if len(self) >= self.max_entries or self.nbytes + size > self.max_bytes:
            self.clear()
        self[key] = value
        self.nbytes += size
        return value

    def clear(self) -> None:
        """Drop every entry."""
        super().clear()
        self.nbytes = 0


class Memo(SizedCache[K, V]):
    """``func`` with its answers kept in a :class:`SizedCache`: ``memo[key]`` is ``func(key)``.

    A hit costs what a ``dict`` lookup does (there is no Python call on the
    way); a miss calls ``func`` and keeps the answer if it fits.

    .. code-block:: python

        lengths = Memo(len, max_entries=100, max_bytes=64 * 1024)
        lengths["abc"]  # 3, computed once
    """

    def __init__(
        self,
        func: Callable[[K], V],
        *,
        max_entries: int,
        max_bytes: int,
        size: Callable[[K, V], int] = default_size,
    ) -> None:
        super().__init__(max_entries=max_entries, max_bytes=max_bytes, size=size)
        self.func = func

    def __missing__(self, key: K) -> V:
        return self.put(key, self.func(key))
