"""Same-run A/B: this tree's gate against the gate of another revision.

``python -m bench.ab --base REV`` extracts ``consentgate/`` of ``REV`` from
git into a temporary folder, imports it beside the working tree's package
(under another name), and times both gates in turns on the same documents,
chunks and policy. A change is judged by the ratio in this one run, so the
machine's load of the moment weighs on both sides alike. Where the working tree
runs the compiled scanner, the base revision's is built too (the side without it
would run pure).

``--streaming`` compares instead how each side streams: on every corpus page over
100 KB, the gate in 16 KB chunks against the whole document, both sides in turns;
it prints each side's ratio per page, lowest and median.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from io import BytesIO
from pathlib import Path
from types import ModuleType

from consentgate import speedups
from consentgate.speedups import PURE_ENV

from . import policy
from .pages import DEFAULT_CORPUS, KB, MB, generate_page, load_corpus, split
from .report import ratio, table
from .throughput import CHUNK, rewrite, streaming_options
from .timing import medians, paired_ratio, samples

ROOT = Path(__file__).resolve().parents[1]
#: The package name the base revision is imported under.
BASE_NAME = "consentgate_base"
#: The name the working tree's package is imported under, pure (see :func:`load_pure`).
PURE_NAME = "consentgate_pure"


def build_speedups(into: Path) -> None:
    """Build the compiled scanner of the ``consentgate/`` under ``into``, in place."""
    from setuptools import Distribution, Extension

    source = into / "consentgate" / "_speedups.c"
    if not source.exists():
        return
    extension = Extension("consentgate._speedups", [str(source)])
    build = Distribution({"ext_modules": [extension]}).get_command_obj("build_ext")
    build.build_lib, build.build_temp = str(into), str(into / "build")
    build.ensure_finalized()
    build.run()


def load_revision(rev: str, into: Path, *, catalogues: bool = False) -> ModuleType:
    """Import ``consentgate/`` as it was at ``rev`` under :data:`BASE_NAME`, compiled as
    the working tree's is.

    :param catalogues: copy in the working tree's compiled catalogues (git holds only
        their sources), so that pages come in the visitor's language as the tree's do.
    """
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "consentgate"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    if speedups.ACCELERATED:
        build_speedups(into)
    if catalogues:
        for path in ROOT.glob("consentgate/locale/*/*/*.mo"):
            shutil.copy(path, into / path.relative_to(ROOT))
    init = into / "consentgate" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        BASE_NAME, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[BASE_NAME] = module
    spec.loader.exec_module(module)
    return module


def load_pure() -> ModuleType:
    """Import the working tree's ``consentgate/`` again, under :data:`PURE_NAME`, with the
    compiled scanner switched off: the pure-Python gate beside the compiled one."""
    init = ROOT / "consentgate" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        PURE_NAME, init, submodule_search_locations=[str(init.parent)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PURE_NAME] = module
    before = os.environ.get(PURE_ENV)
    os.environ[PURE_ENV] = "1"
    try:
        spec.loader.exec_module(module)
    finally:
        if before is None:
            del os.environ[PURE_ENV]
        else:
            os.environ[PURE_ENV] = before
    return module


def factory(package: str) -> Callable[[], object]:
    """A gate factory of the package called ``package``, on the benchmark's policy."""
    config, rewriter, rules = (
        importlib.import_module(f"{package}.{name}") for name in ("config", "rewriter", "rules")
    )
    categories = (
        config.Category("necessary", required=True),
        config.Category("analytics", trackers=policy.TRACKERS),
    )
    compiled = rules.Rules(categories)
    allows = policy.refused().allows
    return lambda: rewriter.HtmlGate(compiled, allows, banner=None)


def documents(corpus: Path | None) -> list[tuple[str, list[bytes]]]:
    """The generated pages and the corpus, as named sets of documents."""
    sets = [(name, [generate_page(n)]) for name, n in (("100 KB", 100 * KB), ("1 MB", MB))]
    if corpus is not None and corpus.is_dir():
        pages = load_corpus(corpus)
        sets.append((f"corpus ({len(pages)} pages)", [data for _, data in pages]))
    return sets


def compare(
    sets: Sequence[tuple[str, list[bytes]]], gates: dict[str, Callable[[], object]], chunk: int
) -> list[list[str]]:
    """Rows of the table: per set, each side's seconds and the ratio head/base."""
    rows = []
    for label, docs in sets:
        total = dict.fromkeys(gates, 0.0)
        for data in docs:
            chunks = split(data, chunk)
            runs = {name: partial(rewrite, make, chunks) for name, make in gates.items()}
            outputs = {name: run() for name, run in runs.items()}
            if len(set(outputs.values())) > 1:
                print(f"  note: outputs differ on a document of {label}", file=sys.stderr)
            for name, seconds in medians(runs, warmup=0, min_runs=5, budget=0.2).items():
                total[name] += seconds
        speed = total["base"] / total["head"] if total["head"] else None
        rows.append([label, f"{total['base'] * 1e3:.1f}", f"{total['head'] * 1e3:.1f}"])
        rows[-1].append(ratio(speed))
    return rows


def streaming(
    pages: Sequence[tuple[str, bytes]], gates: dict[str, Callable[[], object]]
) -> list[list[object]]:
    """Rows of the streaming table: per page over 100 KB, each side's chunked / whole
    ratio (16 KB chunks), all four runs timed in turns (as :func:`.throughput.streaming`
    times its two); then the lowest and median."""
    rows: list[list[object]] = []
    ratios: dict[str, list[float]] = {name: [] for name in gates}
    for page, data in pages:
        if len(data) <= 100 * KB:
            continue
        runs = {}
        for name, make in gates.items():
            runs[f"{name} chunked"] = partial(rewrite, make, split(data, CHUNK))
            runs[f"{name} whole"] = partial(rewrite, make, [data])
        seconds = samples(runs, **streaming_options(quick=True))
        for name in gates:
            ratios[name].append(paired_ratio(seconds[f"{name} whole"], seconds[f"{name} chunked"]))
        rows.append([page, len(data) // KB, *(ratios[name][-1] for name in gates)])
    for label, pick in (("lowest", min), ("median", statistics.median_low)):
        rows.append([label, None, *(pick(ratios[name]) for name in gates)])
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="chunk size in bytes")
    parser.add_argument("--streaming", action="store_true", help="16 KB chunks / whole, per page")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        load_revision(args.base, Path(folder))
        gates = {"base": factory(BASE_NAME), "head": factory("consentgate")}
        if args.streaming:
            pages = streaming(load_corpus(args.corpus), gates)
            print(f"Streaming: 16 KB chunks / whole-document speed; base = {args.base}")
            print(table(["page", "KB", "base", "head"], pages))
            return
        rows = compare(documents(args.corpus), gates, args.chunk)
    print(f"Gate CPU time, ms (median per document, summed), {args.chunk} B chunks;")
    print(f"base = {args.base}, head = the working tree")
    print(table(["input", "base ms", "head ms", "head speed / base"], rows))


if __name__ == "__main__":
    main()
