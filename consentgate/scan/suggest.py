"""Suggest configuration for the undeclared cookies that the built-in catalogue knows.

``consentgate scan --suggest`` prints TOML to paste into ``consent.toml``: per
suggested category, the tracker ids to add and each cookie found with its provider,
purpose and lifetime as the catalogue gives them.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping

from ..catalogue import CookieSpec, Tracker, preset_catalogue, tracker_catalogue
from .model import Finding


def known_cookie(name: str) -> tuple[Tracker, CookieSpec] | None:
    """The catalogue entry (trackers, then framework presets) whose cookie matches ``name``.

    An exact name wins over a glob, so ``_hjid`` is not taken for ``_hj*``.
    """
    entries = [*tracker_catalogue().values(), *preset_catalogue().values()]
    exact = [(t, s) for t in entries for s in t.cookies if s.name == name]
    globbed = [(t, s) for t in entries for s in t.cookies if fnmatch.fnmatchcase(name, s.name)]
    return next(iter(exact + globbed), None)


def suggestions(findings: Iterable[Finding]) -> str:
    """TOML declaring the undeclared cookies and storage keys that the catalogue knows."""
    names = sorted({f.name for f in findings if f.problem == "undeclared" and f.kind != "request"})
    groups: dict[str, dict[str, Tracker]] = {}
    specs: dict[str, dict[str, tuple[CookieSpec, str]]] = {}
    unknown = []
    for name in names:
        match = known_cookie(name)
        if match is None:
            unknown.append(name)
            continue
        tracker, spec = match
        category = tracker.category or "analytics"
        groups.setdefault(category, {})[tracker.id] = tracker
        specs.setdefault(category, {}).setdefault(spec.name, (spec, name))
    if not groups and not unknown:
        return "# Nothing to suggest: every cookie the scan saw is declared.\n"
    out = ["# Cookies the scan found that no category declares, as the catalogue knows them."]
    out.append("# Merge each table into your category of that name (or the one you use).")
    for category in sorted(groups):
        out += _category_toml(category, groups[category], specs[category])
    if unknown:
        out.append("\n# Not in the catalogue: declare these yourself (name, provider, purpose):")
        out += [f"#   {_string(name)}" for name in unknown]
    return "\n".join(out) + "\n"


def _category_toml(
    category: str, trackers: Mapping[str, Tracker], specs: Mapping[str, tuple[CookieSpec, str]]
) -> list[str]:
    out = ["", "[[categories]]", f"name = {_string(category)}"]
    out.append(f"trackers = [{', '.join(_string(t) for t in trackers)}]")
    names = ", ".join(f"{t.name} ({t.provider})" for t in trackers.values())
    out[-1] += f"  # {names}"
    out.append("cookies = [")
    for spec, seen in specs.values():
        fields = ", ".join(
            f"{key} = {_string(getattr(spec, key))}"
            for key in ("name", "provider", "purpose", "lifetime")
        )
        out.append(f"    {{ {fields} }},  # seen: {_string(seen)}")
    out.append("]")
    return out


def _string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, with ``\\uXXXX`` for the rest)."""
    return json.dumps(value)
