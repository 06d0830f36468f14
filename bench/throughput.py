"""In-process rewriting throughput: the gate against its peers and a plain copy.

Every implementation gets the same chunks (16 KB unless told otherwise) and
the same policy (:mod:`bench.policy`); the time of one document is the
median of several runs after a warm-up. The corpus figure is total bytes
over the sum of the per-page medians.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from statistics import median
from typing import Any

from consentgate import speedups
from consentgate.rewriter import HtmlGate

from . import policy
from .pages import KB, split
from .peers import CopyGate, LolGate, ParserGate, lolhtml_available
from .policy import RewriterFactory
from .timing import medians, paired_ratio, samples

CHUNK = 16 * KB


@dataclass
class Result:
    """One implementation on one set of documents."""

    name: str
    size: int
    seconds: float
    removed: int

    @property
    def mb_per_s(self) -> float:
        """Throughput in MB/s (10**6 bytes)."""
        return self.size / self.seconds / 1e6 if self.seconds else float("inf")


@dataclass
class Comparison:
    """All implementations on one set of documents, keyed by implementation name."""

    label: str
    size: int
    results: dict[str, Result] = field(default_factory=dict)

    def ratio(self, a: str, b: str) -> float | None:
        """How many times faster ``a`` is than ``b``, when both ran."""
        if a not in self.results or b not in self.results:
            return None
        return self.results[a].mb_per_s / self.results[b].mb_per_s


def implementations() -> dict[str, RewriterFactory]:
    """Factories of the gate, its peers and the copy, all on the benchmark policy."""
    rules, allows = policy.rules(), policy.refused().allows
    factories: dict[str, RewriterFactory] = {
        "gate": lambda: HtmlGate(rules, allows, banner=None),
    }
    if speedups.ACCELERATED:  # the pure-Python fallback beside it, in the same run
        from . import ab  # it imports this module

        factories["pure"] = ab.factory(ab.load_pure().__name__)  # type: ignore[dict-item]
    factories["html.parser"] = lambda: ParserGate(rules, allows)
    if lolhtml_available():
        factories["lolhtml"] = lambda: LolGate(rules, allows)
    factories["copy"] = CopyGate
    return factories


def rewrite(factory: RewriterFactory, chunks: Sequence[bytes]) -> bytes:
    """Run one document through a fresh rewriter, returning the whole output."""
    rewriter = factory()
    out = [rewriter.feed(chunk) for chunk in chunks]
    out.append(rewriter.close())
    return b"".join(out)


def _options(quick: bool) -> dict[str, Any]:
    return {"min_runs": 3, "budget": 0.05} if quick else {"min_runs": 5, "budget": 0.25}


def compare(
    label: str,
    documents: Sequence[bytes],
    factories: dict[str, RewriterFactory],
    *,
    quick: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> Comparison:
    """Time every implementation on ``documents``, in turns; sizes and times add up."""
    progress(label)
    comparison = Comparison(label, sum(len(d) for d in documents))
    results = comparison.results = {
        name: Result(name, comparison.size, 0.0, 0) for name in factories
    }
    for data in documents:
        chunks = split(data, CHUNK)
        runs = {name: partial(rewrite, factory, chunks) for name, factory in factories.items()}
        for name, run in runs.items():  # also the warm-up
            results[name].removed += len(data) - len(run())
        for name, seconds in medians(runs, warmup=0, **_options(quick)).items():
            results[name].seconds += seconds
    return comparison


@dataclass
class StreamingResult:
    """The gate on one page: 16 KB chunks against the whole document at once.

    ``chunked`` and ``whole`` are median times; ``ratio`` is chunked throughput over
    whole-document throughput, the median of the rounds' own ratios (the two runs of a
    round are timed back to back, see :func:`~bench.timing.paired_ratio`).
    """

    page: str
    size: int
    chunked: float
    whole: float
    ratio: float


def streaming_options(quick: bool) -> dict[str, Any]:
    """How long to time chunked against whole gating of one page: more rounds than other
    comparisons, as a page takes a millisecond or so and its ratio is judged alone."""
    return {"min_runs": 15, "budget": 0.05} if quick else {"min_runs": 31, "budget": 0.25}


def streaming(
    pages: Sequence[tuple[str, bytes]],
    *,
    min_size: int = 100 * KB,
    quick: bool = False,
) -> list[StreamingResult]:
    """Compare chunked and whole-document gating on every page over ``min_size``."""
    rules, allows = policy.rules(), policy.refused().allows

    def gate() -> HtmlGate:
        return HtmlGate(rules, allows, banner=None)

    results = []
    for name, data in pages:
        if len(data) <= min_size:
            continue
        runs = {
            "chunked": partial(rewrite, gate, split(data, CHUNK)),
            "whole": partial(rewrite, gate, [data]),
        }
        times = samples(runs, **streaming_options(quick))
        chunked, whole = times["chunked"], times["whole"]
        ratio = paired_ratio(whole, chunked)
        results.append(StreamingResult(name, len(data), median(chunked), median(whole), ratio))
    return results
