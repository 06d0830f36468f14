"""The error every configuration mistake raises, and the checks that raise it.

Each check names the option it refused as a path into the data
(``categories[1].cookies[0].name``), so a mistake in a TOML file or a Python call is
found from the message alone. The settings, their categories and the tracker catalogue
are all checked with these.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

_T = TypeVar("_T")


class ConfigError(ValueError):
    """A configuration value is missing, misspelt, of the wrong type or out of range.

    :param key: Where, as a path such as ``categories[1].cookies[0].name``.
    :param why: What is wrong, with the fix when there is an obvious one.
    """

    def __init__(self, key: str, why: str) -> None:
        super().__init__(key, why)
        self.key, self.why = key, why

    def __str__(self) -> str:
        return f"{self.key}: {self.why}"


def describe(value: object) -> str:
    return f"{type(value).__name__} {reprlib.repr(value)}"


def hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def require(ok: bool, key: str, why: str, value: object) -> None:
    if not ok:
        raise ConfigError(key, f"{why}, got {describe(value)}")


def check_type(value: object, kind: type | tuple[type, ...], key: str, what: str) -> None:
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is int)
    require(ok, key, f"must be {what}", value)


def check_keys(data: Mapping[Any, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in allowed:
            close = hint(str(key), allowed) or f" (known: {', '.join(allowed)})"
            raise ConfigError(f"{path}{key}", f"unknown option{close}")


def items(value: object, key: str, what: str) -> tuple[object, ...]:
    """Turn a list into a tuple; a bare string or table is refused, not iterated."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigError(key, f"must be a list of {what}, got {describe(value)}")
    return tuple(value)


def strings(value: object, key: str) -> tuple[str, ...]:
    values = items(value, key, "strings")
    for i, item in enumerate(values):
        valid = isinstance(item, str) and bool(item.strip())
        require(valid, f"{key}[{i}]", "must be a non-empty string", item)
    return cast(tuple[str, ...], values)


def keyword_errors(cls: type[_T]) -> type[_T]:
    """Make a dataclass's constructor name the field in a :class:`ConfigError` for a
    mistyped keyword (with the close match) or a missing required field, rather than
    raise the ``TypeError`` that says neither."""
    init = cls.__init__
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = tuple(f.name for f in fields)
    required = [f.name for f in fields if f.default is dataclasses.MISSING]

    @functools.wraps(init)
    def checked_init(self: object, *args: Any, **kwargs: Any) -> None:
        check_keys(kwargs, names, "")
        given = {*names[: len(args)], *kwargs}
        for name in required:
            if name not in given:
                raise ConfigError(name, "is required")
        init(self, *args, **kwargs)

    setattr(cls, "__init__", checked_init)  # noqa: B010 (mypy refuses assigning a method)
    return cls
