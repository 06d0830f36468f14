"""A standalone HTML page of the scan's results, for a site owner to read and keep.

One file, its style inline, no script and nothing loaded from anywhere. Every value
the pages scanned could control (names, URLs, errors) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .classify import Classifier
from .model import STATES, ScanResult
from .report import LABELS, MEANINGS, describe_state, rows

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
 color:#1b1b1b}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ccc;vertical-align:top}
td{overflow-wrap:anywhere}td:first-child,th{white-space:nowrap}
.problem{background:#fde8e8}.problem td:last-child{color:#a00;font-weight:bold}
.ok{color:#05612a}.bad{color:#a00}
"""


def _table(head: Sequence[str], body: Sequence[tuple[Sequence[str], bool]]) -> str:
    cells = "".join(f"<th scope=col>{escape(h)}</th>" for h in head)
    lines = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
    for row, flagged in body:
        klass = ' class="problem"' if flagged else ""
        lines.append(f"<tr{klass}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def html_report(result: ScanResult, classifier: Classifier, code: int, about: str = "") -> str:
    """The report as one HTML document.

    :param about: A line on what was scanned, when and against which configuration.
    """
    verdict = (
        '<p class="ok">No findings: every visitor got only what they had granted, all declared.</p>'
        if not result.findings
        else f'<p class="bad">{len(result.findings)} finding(s); exit code {code}.</p>'
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Cookie consent scan</title><style>{_STYLE}</style></head><body>",
        "<h1>Cookie consent scan</h1>",
        f"<p>{escape(about)}</p>" if about else "",
        verdict,
        "<h2>Pages scanned</h2><ul>",
        *(f"<li>{escape(page)}</li>" for page in result.pages),
        "</ul>",
        *_findings(result),
        *_errors(result),
    ]
    for state in STATES:
        parts.append(f"<h2>Visitor: {escape(state)} ({escape(describe_state(state))})</h2>")
        found = rows(result, classifier, state)
        body = [
            ((r.kind, r.name, r.where, r.category, str(r.pages), r.problem), bool(r.problem))
            for r in found
        ]
        head = ("Kind", "Name", "Where", "Category", "Pages", "Problem")
        parts.append(_table(head, body) if body else "<p>Nothing set or loaded.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _findings(result: ScanResult) -> list[str]:
    if not result.findings:
        return []
    head = ("Problem", "Kind", "Name", "Category", "Visitors", "Pages", "Meaning")
    body = [
        (
            (
                LABELS[f.problem],
                f.kind,
                f.name,
                f.category or "-",
                ", ".join(f.states),
                ", ".join(f.pages),
                MEANINGS[f.problem],
            ),
            True,
        )
        for f in result.findings
    ]
    return ["<h2>Findings</h2>", _table(head, body)]


def _errors(result: ScanResult) -> list[str]:
    if not result.errors:
        return []
    items = [
        f"<li>{escape(v.page)} as {escape(v.state)}: {escape(v.error)}</li>" for v in result.errors
    ]
    return ["<h2>Pages that could not be scanned</h2><ul>", *items, "</ul>"]
