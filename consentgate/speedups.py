"""Which implementation of the gate's hot path runs: the compiled scanner or pure Python.

The skippers of :mod:`consentgate.tokens` are regular expressions that pass, token by
token, what the gate need not see. ``consentgate._speedups`` (C, built at install time
where a compiler exists) walks the commonest of those tokens itself and hands each
pattern only the rest, from a token boundary the pattern's own loop would pass: the
patterns stay the one definition of what is skipped, and the compiled walk is proven to
give the same matches by ``tests/test_speedups.py``. Without the extension, or with
``CONSENTGATE_PURE=1`` in the environment when consentgate is first imported, the
patterns run alone.

Example::

    >>> import consentgate
    >>> consentgate.accelerated  # True where the compiled scanner is in use
    True
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from types import ModuleType
from typing import Protocol

__all__ = ["ACCELERATED", "PURE_ENV", "Skipper", "skipper"]

#: The environment variable that, set to anything but ``""`` or ``"0"``, forces the
#: pure-Python gate (the fallback, and the oracle of the differential tests).
PURE_ENV = "CONSENTGATE_PURE"


class Skipper(Protocol):
    """What the gate calls on a skipper: a compiled pattern, or the scanner fronting it."""

    def finditer(self, string: bytes, pos: int, endpos: int, /) -> Iterator[re.Match[bytes]]:
        """The pattern's matches from ``pos``, each starting where the last one ended."""
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


def skipper(
    pattern: re.Pattern[bytes],
    starts: Iterable[str] | None,
    ends: Iterable[str] | None,
    *,
    quiet: Mapping[str, str] | None = None,
    widgets: Iterable[str] = (),
    classes: tuple[str, ...] = (),
    comments: bool = True,
) -> Skipper:
    """``pattern``, fronted by the compiled scanner when it runs.

    The arguments describe what the pattern's main loop passes, for the scanner to
    pass the same: tags named in neither ``starts`` nor ``ends`` (every tag stops when
    None), start tags named in ``quiet`` written in lower case whose attributes hold
    none named by the mapped name, ``widgets`` start tags whose ``class`` value holds
    none of ``classes``, and comments unless ``comments`` is false. Describing less than
    the pattern passes is safe (the scanner stops sooner); describing more is not.
    """
    if _native is None:
        return pattern
    scanner: Skipper = _native.Scanner(
        pattern,
        None if starts is None else frozenset(starts) | frozenset(widgets),
        None if ends is None else frozenset(ends),
        dict(quiet or {}),
        frozenset(widgets),
        tuple(c.encode() for c in classes),
        comments,
    )
    return scanner
