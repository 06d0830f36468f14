"""Bytecodes a gate runs per request, this tree's against another revision's.

``python -m bench.opcount --base REV`` runs each overhead case's request
(:mod:`bench.overhead`) once through the plain WSGI app of ``bench.ab_overhead --trivial``,
bare and inside each gate, under :func:`sys.settrace` with opcode events, and prints what
each gate adds: bytecodes executed and Python functions called. Unlike a timing, the count
does not depend on the machine's load, so it shows a change of a few per cent at once; it
weighs every bytecode alike, which a timing does not (a C call may cost tens of them).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from consentgate import ConsentGate

from . import overhead, policy
from .ab import load_revision
from .ab_overhead import gate_of, trivial_app
from .report import table

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment


def count(app: WSGIApplication, environ: WSGIEnvironment) -> tuple[int, int]:
    """Bytecodes executed and Python functions called by one request (after one untraced
    request, so that every cache is warm)."""
    overhead.call(app, environ)
    counts = [0, 0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            counts[0] += 1
        return local

    def called(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        counts[1] += 1
        return local

    sys.settrace(called)
    try:
        overhead.call(app, environ)
    finally:
        sys.settrace(None)
    return counts[0], counts[1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.opcount", description=__doc__)
    parser.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    args = parser.parse_args(argv)
    logging.getLogger("consentgate").setLevel(logging.ERROR)  # the policy's short key
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        base = load_revision(args.base, Path(folder), catalogues=True)
        for case in overhead.CASES:
            head = ConsentGate(trivial_app, policy.settings())
            environ = overhead._environ(case, head, False)
            bare = count(trivial_app, overhead._environ(case, head, True))
            base_n = count(gate_of(base, trivial_app), environ)
            head_n = count(head, environ)
            ops, calls = ([n[i] - bare[i] for n in (base_n, head_n)] for i in (0, 1))
            rows.append([case.name, *map(str, ops), f"{ops[1] / ops[0]:.2f}x", *map(str, calls)])
    print(f"Bytecodes and Python calls each gate adds per request; base = {args.base}")
    columns = ["response", "base ops", "head ops", "head / base", "base calls", "head calls"]
    print(table(columns, rows))


if __name__ == "__main__":
    main()
