"""The scan's results as a terminal table, as JSON, and its progress while it runs.

One table per visitor state: each cookie, storage key and request with its category
and how many pages showed it, problems flagged; then the findings, each once.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import IO, Any

from .classify import Classifier
from .model import STATES, Finding, Observation, ScanResult, State

#: How each problem is flagged in the tables and named in the findings.
LABELS = {
    "ungranted": "NOT GRANTED",
    "undeclared": "UNDECLARED",
    "stale": "STALE",
}
#: What each problem means, for the findings list.
MEANINGS = {
    "ungranted": "set or loaded for a visitor who had not granted its category",
    "undeclared": "no category declares it",
    "stale": "declared, but no visitor held it on any page scanned",
}
_HEAD = ("KIND", "NAME", "WHERE", "CATEGORY", "PAGES", "PROBLEM")
#: Columns longer than this are cut with an ellipsis in the terminal (JSON has all).
_WIDTH = 48


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of a state's table: a thing seen, on how many pages, and its problem."""

    kind: str
    name: str
    where: str
    category: str
    pages: int
    problem: str


def shown(seen: Observation) -> bool:
    """Whether a table lists it: all but the site's own requests that no category claims
    (its pages, styles and images), which the JSON report still has."""
    return seen.kind != "request" or seen.third_party or seen.category is not None


def rows(result: ScanResult, classifier: Classifier, state: State) -> list[Row]:
    """What visitors in ``state`` held and sent, one row per thing, problems first."""
    grouped: dict[tuple[str, str, str | None], list[Observation]] = {}
    for one in result.observations:
        if one.state == state and shown(one):
            grouped.setdefault((one.kind, one.name, one.category), []).append(one)
    table = []
    for (kind, name, category), seen in grouped.items():
        problem = classifier.problem(seen[0])
        table.append(
            Row(
                kind,
                name,
                seen[0].where,
                category or "-",
                len({o.page for o in seen}),
                LABELS[problem] if problem else "",
            )
        )
    return sorted(table, key=lambda r: (not r.problem, r.kind, r.name))


def _cell(text: str) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)  # no terminal escapes
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def table(lines: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart."""
    cells = [[_cell(c) for c in line] for line in lines]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def text_report(result: ScanResult, classifier: Classifier, code: int) -> str:
    """The whole report for a terminal."""
    out = [f"Scanned {len(result.pages)} page(s) as {len(STATES)} visitors each."]
    for state in STATES:
        found = rows(result, classifier, state)
        out.append(f"\nVisitor: {state} ({describe_state(state)})")
        if not found:
            out.append("  nothing set or loaded")
            continue
        lines = [_HEAD] + [
            (r.kind, r.name, r.where, r.category, str(r.pages), r.problem) for r in found
        ]
        out.append("\n".join("  " + line for line in table(lines).splitlines()))
    for visit in result.errors:
        out.append(f"\nCould not scan {visit.page} as {visit.state}: {visit.error}")
    out.append("\n" + findings_text(result.findings))
    out.append(f"\nExit code {code}.")
    return "\n".join(out)


def describe_state(state: State) -> str:
    """A visitor state in words."""
    return {
        "undecided": "no choice made yet",
        "refused": "refused everything optional",
        "accepted": "accepted everything",
    }[state]


def findings_text(findings: Sequence[Finding]) -> str:
    """The findings as a list, each once, or a line saying there are none."""
    if not findings:
        return "No findings: every visitor got only what they had granted, all declared."
    out = [f"{len(findings)} finding(s):"]
    for f in findings:
        category = f" ({f.category})" if f.category else ""
        where = f" as {', '.join(f.states)} on {', '.join(f.pages)}" if f.pages else ""
        out.append(f"  {LABELS[f.problem]:<12} {f.kind} {f.name}{category}{where}")
        out.append(f"  {'':<12} {MEANINGS[f.problem]}")
    return "\n".join(out)


def json_report(result: ScanResult, code: int, suggestions: str | None = None) -> str:
    """The visits, observations and findings as JSON, for other tools.

    :param suggestions: The ``--suggest`` TOML, kept in the document as ``"suggestions"``
        so the output stays one JSON value.
    """
    data: dict[str, Any] = {
        "pages": list(result.pages),
        "exit_code": code,
        "findings": [dataclasses.asdict(f) for f in result.findings],
        "observations": [dataclasses.asdict(o) for o in result.observations],
        "errors": [{"page": v.page, "state": v.state, "error": v.error} for v in result.errors],
    }
    if suggestions is not None:
        data["suggestions"] = suggestions
    return json.dumps(data, indent=2)


class ProgressBar:
    """A one-line progress bar on a terminal; nothing when the stream is not one."""

    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self._stream, self._width = stream, width
        self._on = stream.isatty()

    def __call__(self, done: int, total: int, url: str) -> None:
        if not self._on:
            return
        filled = self._width * done // max(total, 1)
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r[{bar}] {done}/{total} {_cell(url)[:40]:<40}")
        self._stream.flush()

    def finish(self) -> None:
        if self._on:
            self._stream.write("\r" + " " * (self._width + 56) + "\r")
            self._stream.flush()
