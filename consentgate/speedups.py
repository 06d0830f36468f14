"""Which implementation of the gate's hot path runs: the compiled scanner or pure Python.

The skippers of :mod:`consentgate.tokens` are regular expressions that pass, token by
token, what the gate need not see. ``consentgate._speedups`` (C, built at install time
where a compiler exists) walks the commonest of those tokens itself and hands each
pattern only the rest, from a token boundary the pattern's own loop would pass: the
patterns stay the one definition of what is skipped, and the compiled walk is proven to
give the same matches by ``tests/test_speedups.py``. Without the extension, or with
``CONSENTGATE_PURE=1`` in the environment when consentgate is first imported, the
patterns run alone.

The searches of the text states a chunk's end can leave the gate in (raw text, script
data, a comment) are fronted the same way: the compiled side finds with ``memchr`` the
first place where one of the pattern's few literal alternatives matches, and the pattern
matches there (a pattern's own search is a byte-by-byte loop, several times slower).

Example::

    >>> import consentgate
    >>> consentgate.accelerated  # True where the compiled scanner is in use
    True
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from types import ModuleType
from typing import Any, Protocol, TypeVar

__all__ = [
    "ACCELERATED",
    "PURE_ENV",
    "LiteralSearch",
    "Searcher",
    "Skipper",
    "TagFinder",
    "compiled",
    "literal_search",
    "searcher",
    "skipper",
    "tag_finder",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: The environment variable that, set to anything but ``""`` or ``"0"``, forces the
#: pure-Python gate (the fallback, and the oracle of the differential tests).
PURE_ENV = "CONSENTGATE_PURE"


class Skipper(Protocol):
    """What the gate calls on a skipper: a compiled pattern, or the scanner fronting it."""

    def finditer(self, string: bytes, pos: int, endpos: int, /) -> Iterator[re.Match[bytes]]:
        """The pattern's matches from ``pos``, each starting where the last one ended.

        The scanner's matches are its own small objects where it decided alone; the gate
        reads them as match objects (``lastindex``, ``start``, ``end``, ``span``), and
        they hold the same numbers. After an empty match it gives no more.
        """
        ...


class Searcher(Protocol):
    """What the gate calls on a search pattern: a compiled pattern, or the finder fronting it."""

    def search(self, string: bytes, pos: int = 0, /) -> re.Match[bytes] | None:
        """The pattern's first match from ``pos`` (its own match object), or None."""
        ...


def _load() -> ModuleType | None:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return None
    try:
        from . import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _speedups  # type: ignore[no-any-return]


_native = _load()
#: Whether the compiled scanner runs (False: the pure-Python gate).
ACCELERATED = _native is not None


#: How the scanner reads a skipper: in SVG/MathML content it leaves every tag to the
#: pattern; at every tag it stops at each; in HTML content it passes the tags the pattern
#: passes and captures what the pattern captures where it stops (a whole script, a quiet
#: tag, any tag).
FOREIGN_CONTENT, ANY_TAG, HTML_CONTENT = 0, 1, 2


def skipper(
    pattern: re.Pattern[bytes],
    mode: int,
    starts: Iterable[str] | None = None,
    ends: Iterable[str] | None = None,
    *,
    quiet: Mapping[str, str] | None = None,
    widgets: Iterable[str] = (),
    classes: tuple[str, ...] = (),
    raw: Iterable[str] = (),
    deferred: Iterable[str] = (),
    voids: Iterable[str] = (),
    comments: bool = True,
) -> Skipper:
    """``pattern``, fronted by the compiled scanner when it runs.

    The arguments describe the pattern (see :func:`consentgate.tokens._skipper`), for the
    scanner to pass what its loop passes and capture what it captures: start tags named
    in ``starts`` and end tags named in ``ends`` stop it (every tag when None); start tags
    named in ``quiet`` and written in lower case are passed when no attribute has the
    mapped name, ``widgets`` when their ``class`` holds none of ``classes``, and the
    ``raw`` elements whole; at ``deferred`` ones the pattern decides. ``voids`` are the
    lower-case start tags it captures apart (groups 5-6). Comments are passed unless
    ``comments`` is false.
    """
    if _native is None:
        return pattern
    scanner: Skipper = _native.Scanner(
        pattern,
        mode,
        None if starts is None else frozenset(starts) | frozenset(widgets),
        None if ends is None else frozenset(ends),
        dict(quiet or {}),
        frozenset(widgets),
        tuple(c.encode() for c in classes),
        frozenset(raw),
        frozenset(deferred),
        frozenset(voids),
        comments,
    )
    return scanner


def searcher(pattern: re.Pattern[bytes], alternatives: Iterable[tuple[bytes, bool]]) -> Searcher:
    """``pattern``, fronted by a compiled finder when the scanner runs.

    ``alternatives`` describe every match of the pattern: each a literal in lower case
    that does not start with a letter (its letters match in either case), and whether a
    byte that ends a tag name follows it. A match starts exactly where one of them
    matches; the finder jumps there and lets the pattern match, so the pattern decides
    the groups (``tests/test_speedups.py`` proves the two searches find the same).
    """
    if _native is None:
        return pattern
    finder: Searcher = _native.Finder(pattern, tuple(alternatives))
    return finder


def compiled(name: str, fallback: _F, *bound: object) -> _F:
    """The compiled function ``name``, with ``bound`` as its first arguments, when the
    scanner runs; else ``fallback``, the reference it follows step for step."""
    if _native is None:
        return fallback
    function: _F = partial(getattr(_native, name), *bound)  # type: ignore[assignment]
    return function


class TagFinder(Protocol):
    """Where a candidate pattern (:data:`consentgate.tokens.BODY_START` and its kin)
    first matches: the compiled search, or the pattern's own."""

    @property
    def pattern(self) -> re.Pattern[bytes]:
        """The pattern it stands for."""
        ...

    def find(self, buf: bytes, pos: int, /) -> int:
        """Where the pattern's first match in ``buf`` from ``pos`` starts; ``len(buf)``
        if there is none."""
        ...


class _TagSearch:
    """A candidate pattern searched by the regex engine: the fallback, and the oracle of
    the differential tests."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self._search = pattern.search

    def find(self, buf: bytes, pos: int, /) -> int:
        found = self._search(buf, pos)
        return len(buf) if found is None else found.start()


def tag_finder(pattern: re.Pattern[bytes], passed: Iterable[str], ends: Iterable[str]) -> TagFinder:
    """``pattern``'s search, compiled when the scanner runs.

    ``pattern`` must match ``<`` and a start tag whose (lower-case) name is not in
    ``passed``, or ``</`` and an end tag whose name is in ``ends``, each followed by what
    ends a tag name (a start tag's name may run to the end of the buffer instead). The
    regex engine tries its lookahead at every ``<``; the compiled search looks each name
    up once, several times faster on a page's head.
    """
    if _native is None:
        return _TagSearch(pattern)
    found: TagFinder = _native.TagFinder(pattern, frozenset(passed), frozenset(ends))
    return found


class LiteralSearch(Protocol):
    """The compiled search for a set of byte strings (see :func:`literal_search`)."""

    def find(self, text: bytes, /) -> int:
        """The rank of the leftmost literal in ``text`` (the least of those starting
        there), or -1. A literal starting with an ``ident`` byte does not count right
        after one."""
        ...

    def look(self, text: bytes, /) -> int:
        """Translate ``text`` (``delete`` bytes removed, then ``table`` applied) and search
        it: 1 if a literal is in it, plus 2 if byte 1 is and 4 if byte 3 is."""
        ...


def literal_search(
    literals: Sequence[bytes],
    ranks: Sequence[int],
    *,
    ident: bytes = bytes(256),
    table: bytes = bytes(range(256)),
    delete: bytes = b"",
) -> LiteralSearch | None:
    """The compiled search for ``literals`` (non-empty), or None where it does not run.

    :mod:`consentgate.rules` uses it for what its regular expressions find, as fast as
    a look at each byte: inline signatures (``ranks`` their categories, ``ident`` a table
    of identifier bytes) and the hosts and paths of source patterns in a start tag.
    """
    if _native is None:
        return None
    search: LiteralSearch = _native.Literals(tuple(literals), tuple(ranks), ident, table, delete)
    return search
