"""The HTML gate's fixed cost on a tiny page: ``python -m bench.tiny [--base REV]``.

:class:`~consentgate.rewriter.HtmlGate` alone, a fresh gate per page, on
:data:`bench.overhead.TINY_PAGE` (feed, then close), in four cases: nothing to
insert, the banner, the markup meant to run first (the Consent Mode default), both.
What the gate costs there is construction, one feed and close, and finding where
the insertions go; a large page hides it, a tiny one is mostly that.

With ``--base``, the gate of another revision (extracted from git and compiled as
this tree's is, by :func:`bench.ab.load_revision`) is timed in the same rounds, in
turns, and each case gets the ratio base / this tree. Each figure is the median CPU time
of one page, from rounds of 500 pages.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from . import policy
from .ab import BASE_NAME, load_revision
from .overhead import TINY_PAGE
from .report import ratio, table
from .timing import medians

#: Pages gated per timed run (a single page is too short to time).
PAGES = 500
#: A banner of the usual size (the built-in one is about 2 KB).
BANNER = b'<div id="consentgate-banner">' + b"x" * 2000 + b"</div>"
#: The Consent Mode default's shape.
FIRST = b"<script>window.dataLayer=window.dataLayer||[];gtag('consent','default',{})</script>"
#: The cases: what is inserted.
CASES = {
    "nothing inserted": {},
    "banner": {"banner": BANNER},
    "first (Consent Mode default)": {"first": FIRST},
    "banner and first": {"banner": BANNER, "first": FIRST},
}


def pages(package: str, options: dict[str, bytes]) -> Callable[[], bytes]:
    """A run of :data:`PAGES` tiny pages through fresh gates of ``package``."""
    config, rewriter, rules = (
        importlib.import_module(f"{package}.{name}") for name in ("config", "rewriter", "rules")
    )
    compiled = rules.Rules(
        (
            config.Category("necessary", required=True),
            config.Category("analytics", trackers=policy.TRACKERS),
        )
    )
    allows, page, gate = policy.refused().allows, TINY_PAGE.encode(), rewriter.HtmlGate

    def run() -> bytes:
        for _ in range(PAGES):
            g = gate(compiled, allows, max_buffer=1 << 20, **options)
            out = g.feed(page) + g.close()
        return out

    return run


def compare(packages: dict[str, str]) -> list[list[str]]:
    """Rows: per case, µs per page of each side (and base / head with two)."""
    rows = []
    for label, options in CASES.items():
        runs = {side: pages(package, options) for side, package in packages.items()}
        if len({run() for run in runs.values()}) > 1:
            raise SystemExit(f"the outputs differ: {label}")
        times = medians(runs, min_runs=15, budget=0.3)
        row = [label, *(f"{times[side] / PAGES * 1e6:.1f}" for side in packages)]
        if "base" in times:
            row.append(ratio(times["base"] / times["head"]))
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tiny", description=__doc__)
    parser.add_argument("--base", help="a revision to compare with (git rev)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        packages = {"head": "consentgate"}
        if args.base is not None:
            load_revision(args.base, Path(folder))
            packages = {"base": BASE_NAME, **packages}
        rows = compare(packages)
    headers = ["case", *(f"{side} µs" for side in packages)]
    if len(packages) > 1:
        headers.append("head speed / base")
    print(f"HtmlGate on the tiny page ({len(TINY_PAGE)} bytes), feed + close, CPU µs per page")
    print(table(headers, rows))


if __name__ == "__main__":
    main()
