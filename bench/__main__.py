"""Run the benchmarks: ``python -m bench [--corpus DIR] [--quick] [--no-e2e]``.

Prints one table per benchmark and a final table of targets with PASS or
FAIL, and writes everything measured to ``bench/results/`` as JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consentgate import speedups

from . import asgi_overhead, e2e, memory, overhead, records, throughput
from .pages import DEFAULT_CORPUS, MB, SIZES, generate_page, load_corpus
from .report import Target, machine, ratio, save, size, table

#: Throughput targets (issue #17): the gate against lol-html and against html.parser.
LOL_TARGET = 1.5
PARSER_TARGET = 15.0
#: Chunked over whole-document throughput, on each real page over 100 KB.
STREAMING_TARGET = 0.85
#: The same, at the median of those pages.
STREAMING_MEDIAN_TARGET = 0.95


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS if DEFAULT_CORPUS.is_dir() else None,
        help="folder of real pages (*.html, recursive); default: ../shared/corpus if present",
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller inputs")
    parser.add_argument("--no-e2e", action="store_true", help="skip the gunicorn + wrk runs")
    parser.add_argument(
        "--records-only", action="store_true", help="only the consent records benchmark"
    )
    return parser.parse_args(argv)


def say(text: str = "") -> None:
    print(text, flush=True)


def progress(text: str) -> None:
    print(f"  ... {text}", file=sys.stderr, flush=True)


def run_throughput(
    corpus: list[tuple[str, bytes]], quick: bool
) -> tuple[list[throughput.Comparison], list[Target]]:
    factories = throughput.implementations()
    sets = [(name, [generate_page(n)]) for name, n in SIZES.items() if not (quick and n > MB)]
    if corpus:
        sets.append((f"corpus ({len(corpus)} pages)", [data for _, data in corpus]))
    comparisons = [
        throughput.compare(label, docs, factories, quick=quick, progress=progress)
        for label, docs in sets
    ]
    names = list(factories)
    rows = []
    for c in comparisons:
        rows.append(
            [c.label, size(c.size)]
            + [c.results[n].mb_per_s for n in names]
            + [ratio(c.ratio("gate", n)) for n in names if n != "gate"]
        )
    say("Rewriting throughput: MB/s (10^6 bytes/s), 16 KB chunks, median of runs")
    say(table(["input", "size"] + names + [f"gate/{n}" for n in names if n != "gate"], rows))
    say()
    say("Bytes removed (same policy, so close to equal; lolhtml keeps <script></script>")
    say("shells of refused inline scripts, html.parser rewrites end tags as </name>)")
    removed = [[c.label] + [c.results[n].removed for n in names] for c in comparisons]
    say(table(["input", *names], removed))
    say()
    targets = []
    for c in comparisons:
        if c.label == "100 KB" or c.label.startswith("corpus"):
            lol, parser = c.ratio("gate", "lolhtml"), c.ratio("gate", "html.parser")
            targets.append(
                Target(
                    f"gate >= {LOL_TARGET}x lolhtml, {c.label}",
                    ratio(lol),
                    None if lol is None else lol >= LOL_TARGET,
                )
            )
            targets.append(
                Target(
                    f"gate >= {PARSER_TARGET:.0f}x html.parser, {c.label}",
                    ratio(parser),
                    None if parser is None else parser >= PARSER_TARGET,
                )
            )
    return comparisons, targets


def run_streaming(
    corpus: list[tuple[str, bytes]], quick: bool
) -> tuple[list[throughput.StreamingResult], list[Target]]:
    results = throughput.streaming(corpus, quick=quick)
    if not results:
        return [], [Target(f"16 KB chunks >= {STREAMING_TARGET}x whole", "no corpus", None)]
    results.sort(key=lambda r: r.ratio)
    failing = [r for r in results if r.ratio < STREAMING_TARGET]
    say(f"Streaming: gate with 16 KB chunks vs whole document, {len(results)} real pages > 100 KB")
    say("(the 8 lowest ratios; every page is in the JSON record)")
    rows = [
        [r.page, size(r.size), r.size / r.chunked / 1e6, r.size / r.whole / 1e6, ratio(r.ratio)]
        for r in results[:8]
    ]
    say(table(["page", "size", "chunked MB/s", "whole MB/s", "ratio"], rows))
    say(
        f"lowest {results[0].ratio:.2f}x, median {results[len(results) // 2].ratio:.2f}x; "
        f"{len(failing)} page(s) under {STREAMING_TARGET}x"
    )
    say()
    measured = f"min {results[0].ratio:.2f}x over {len(results)} pages"
    median = results[len(results) // 2].ratio
    return results, [
        Target(
            f"16 KB chunks >= {STREAMING_MEDIAN_TARGET}x whole, median page",
            f"{median:.2f}x",
            median >= STREAMING_MEDIAN_TARGET,
        ),
        Target(f"16 KB chunks >= {STREAMING_TARGET}x whole, each page", measured, not failing),
    ]


def run_overhead(quick: bool) -> tuple[list[overhead.Overhead], list[Target]]:
    results = []
    for case in overhead.CASES:
        progress(f"overhead: {case.name}")
        results.append(overhead.measure(case, quick=quick))
    say("Per-response overhead, in process (werkzeug environ, app called directly), µs/request")
    rows = [
        [
            r.case.name,
            r.bare * 1e6,
            r.gated * 1e6,
            (r.gated - r.bare) * 1e6,
            f"{r.fraction * 100:+.1f}%",
            f"<= {r.case.target * 100:.0f}%",
        ]
        for r in results
    ]
    say(table(["response", "bare Flask", "gated", "added", "of bare", "target"], rows))
    say()
    targets = [
        Target(
            f"overhead, {r.case.name} <= {r.case.target * 100:.0f}%",
            f"{r.fraction * 100:+.1f}%",
            r.passed,
        )
        for r in results
    ]
    return results, targets


def run_asgi_overhead(quick: bool) -> list[asgi_overhead.AsgiOverhead]:
    """The ASGI gate against the bare Starlette app, in the same run."""
    results = []
    for case in asgi_overhead.CASES:
        progress(f"ASGI overhead: {case.name}")
        results.append(asgi_overhead.measure(case, quick=quick))
    say("Per-request overhead of the ASGI gate, in process (scope prepared, app awaited")
    say("directly in one event loop), µs/request")
    rows = [
        [r.case.name, r.bare * 1e6, r.gated * 1e6, (r.gated - r.bare) * 1e6,
         f"{r.fraction * 100:+.1f}%"]
        for r in results
    ]  # fmt: skip
    say(table(["request", "bare Starlette", "gated", "added", "of bare"], rows))
    say()
    return results


def run_memory(quick: bool) -> tuple[memory.MemoryResult, list[Target]]:
    total = 20 * MB if quick else 100 * MB
    progress(f"memory: streaming {size(total)}")
    result = memory.measure(total)
    say(
        f"Memory: {size(result.size)} HTML streamed through the gate in 16 KB chunks: "
        f"peak +{result.peak / MB:.2f} MB (tracemalloc), {size(result.removed)} removed, "
        f"{result.seconds:.1f} s under tracemalloc"
    )
    say()
    target = Target(
        f"memory, {size(result.size)} streamed < 5 MB", f"{result.peak / MB:.2f} MB", result.passed
    )
    return result, [target]


def run_asgi_memory(quick: bool) -> tuple[memory.MemoryResult, list[Target]]:
    total = 20 * MB if quick else 100 * MB
    progress(f"memory: streaming {size(total)} through the ASGI gate")
    result = memory.measure_asgi(total)
    say(
        f"Memory, ASGI: {size(result.size)} HTML in 16 KB body messages: "
        f"peak +{result.peak / MB:.2f} MB (tracemalloc), {size(result.removed)} removed"
    )
    say()
    target = Target(
        f"memory, ASGI, {size(result.size)} streamed < 5 MB",
        f"{result.peak / MB:.2f} MB",
        result.passed,
    )
    return result, [target]


def run_e2e(quick: bool) -> tuple[e2e.E2EResult | None, list[Target]]:
    what = "static file via gunicorn, gate costs <= 3%"
    reason = e2e.ready()
    if reason is not None:
        say(f"End to end: {reason}")
        say()
        return None, [Target(what, reason, None)]
    progress("end to end: gunicorn + wrk")
    result = e2e.run(quick=quick)
    say("End to end: demo site, gunicorn 2 sync workers, wrk -t2 -c16 -d5s (medians of rounds).")
    say("req/s is wall time; CPU µs/req is what the gunicorn processes used per request.")
    say("Ratios are medians of the per-round ratios; each round runs every load once.")
    rows = []
    for load in e2e.LOADS:
        base = "home, no gate" if load.path == "/" else "static, no gate"
        rounds = ", ".join(f"{r:.2f}" for r in result.ratios(load.name, base))
        rows.append(
            [
                load.name,
                result.rate(load.name),
                ratio(result.ratio(load.name, base)),
                rounds,
                result.cpu_per_request(load.name) * 1e6,
                ratio(result.cpu_ratio(load.name, base)),
            ]
        )
    headers = ["load", "req/s", "vs no gate", "each round", "CPU µs/req", "req/CPU-s vs no gate"]
    say(table(headers, rows))
    for problem in result.problems:
        say(f"  wrk: {problem}")
    say()
    wall = 1 - result.ratio("static, gated", "static, no gate")
    cpu = 1 - result.cpu_ratio("static, gated", "static, no gate")
    return result, [
        Target(what + " (req/s)", f"{wall * 100:+.1f}%", result.static_passed(cpu=False)),
        Target(what + " (req/CPU-s)", f"{cpu * 100:+.1f}%", result.static_passed(cpu=True)),
    ]


def run_records(quick: bool) -> tuple[dict[str, Any], list[Target]]:
    """Decisions with records on SQLite and PostgreSQL against none; page views."""
    progress("records: decisions")
    with records.gates() as gates:
        timed = records.decisions(gates, quick=quick)
    missing = records.missing_postgres()
    say("Decisions: POST /consent in process, time per decision, gates in turns of 100")
    if missing is not None:
        say(f"  PostgreSQL skipped: {missing}")
    base = timed[0]
    p50, p99 = base.percentile(50), base.percentile(99)
    rows = [
        [d.name, len(d.times), d.rate, d.percentile(50) * 1e3, d.percentile(99) * 1e3,
         (d.percentile(50) - p50) * 1e3, (d.percentile(99) - p99) * 1e3,
         d.percentile(50, cpu=True) * 1e3, d.percentile(99, cpu=True) * 1e3]
        for d in timed
    ]  # fmt: skip
    headers = ["records", "decisions", "per s", "p50 ms", "p99 ms", "+p50 ms", "+p99 ms"]
    headers += ["CPU p50 ms", "CPU p99 ms"]
    say(table(headers, rows))
    say()
    added = next(d for d in timed if d.name == "SQLite").percentile(99) - p99
    target_ms = records.SQLITE_P99_TARGET * 1e3
    what = f"recording on SQLite adds <= {target_ms:.0f} ms at p99"
    passed = added <= records.SQLITE_P99_TARGET
    views, targets = run_page_views(quick)
    result = {
        "decisions": [
            {"records": d.name, "times_s": d.times, "cpu_s": d.cpu, "rate": d.rate} for d in timed
        ],
        "page_views": [vars(v) for v in views],
        "postgres_skipped": missing,
    }
    return result, [Target(what, f"{added * 1e3:+.2f} ms", passed), *targets]


def run_page_views(quick: bool) -> tuple[list[records.PageViews], list[Target]]:
    """Page views through a gate with records configured against one without."""
    progress("records: page views")
    with tempfile.TemporaryDirectory() as folder:
        views = records.page_views(f"sqlite:///{folder}/consent.sqlite3", quick=quick)
    say("Page views, tiny HTML page, CPU µs/request: gate without records and with SQLite")
    rows = [
        [v.visitor, v.plain * 1e6, v.recorded * 1e6, f"{v.fraction * 100:+.1f}%",
         "yes" if v.store_untouched else "NO"]
        for v in views
    ]  # fmt: skip
    say(table(["visitor", "no records", "records", "added", "store untouched"], rows))
    say()
    limit = records.PAGE_VIEW_TARGET
    targets = [
        Target(
            f"page view with records, {v.visitor}, <= +{limit:.0%}, store untouched",
            f"{v.fraction * 100:+.1f}%",
            v.fraction <= limit and v.store_untouched,
        )
        for v in views
    ]
    return views, targets


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine()
    say(f"consentgate benchmarks: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}")
    say(f"Gate: {'compiled scanner' if speedups.ACCELERATED else 'pure Python'}")
    load = ", ".join(f"{n:.2f}" for n in info["loadavg"])
    say(f"Load average at start: {load} (in-process figures are CPU time; wrk's are wall time)")
    say()
    corpus: list[tuple[str, bytes]] = []
    if args.corpus is None:
        say("Corpus: ../shared/corpus not found; corpus benchmarks skipped (use --corpus DIR)")
    else:
        corpus = load_corpus(args.corpus)
        say(f"Corpus: {len(corpus)} pages, {size(sum(len(d) for _, d in corpus))}, {args.corpus}")
    say()
    record: dict[str, Any] = {"machine": info, "quick": args.quick}
    targets: list[Target] = []
    if args.records_only:
        record["records"], targets = run_records(args.quick)
        return finish(record, targets)

    comparisons, found = run_throughput(corpus, args.quick)
    targets += found
    record["throughput"] = [
        {
            "input": c.label,
            "bytes": c.size,
            "results": {
                n: {"mb_per_s": r.mb_per_s, "seconds": r.seconds, "removed": r.removed}
                for n, r in c.results.items()
            },
        }
        for c in comparisons
    ]
    streams, found = run_streaming(corpus, args.quick)
    targets += found
    record["streaming"] = [vars(s) | {"ratio": s.ratio} for s in streams]
    costs, found = run_overhead(args.quick)
    targets += found
    record["overhead"] = [
        {"case": r.case.name, "bare_s": r.bare, "gated_s": r.gated, "fraction": r.fraction}
        for r in costs
    ]
    record["asgi_overhead"] = [
        {"case": r.case.name, "bare_s": r.bare, "gated_s": r.gated, "fraction": r.fraction}
        for r in run_asgi_overhead(args.quick)
    ]
    mem, found = run_memory(args.quick)
    targets += found
    record["memory"] = vars(mem)
    asgi_mem, found = run_asgi_memory(args.quick)
    targets += found
    record["asgi_memory"] = vars(asgi_mem)
    if args.no_e2e:
        say("End to end: skipped (--no-e2e)")
        say()
    else:
        result, found = run_e2e(args.quick)
        targets += found
        record["e2e"] = None if result is None else vars(result)

    record["records"], found = run_records(args.quick)
    targets += found
    return finish(record, targets)


def finish(record: dict[str, Any], targets: list[Target]) -> int:
    """Print the targets and the load at the end; write the JSON record."""
    record["loadavg_end"] = os.getloadavg()
    say(f"Load average at end: {', '.join(f'{n:.2f}' for n in record['loadavg_end'])}")
    say()
    say("Targets")
    say(table(["target", "measured", "result"], [[t.what, t.measured, t.verdict] for t in targets]))
    record["targets"] = [vars(t) | {"verdict": t.verdict} for t in targets]
    say()
    say(f"Results written to {save(record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
