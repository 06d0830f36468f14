"""Small timing helpers shared by the benchmarks.

In-process timings use the process's CPU time, not wall time: the machine
may be shared, and CPU time does not count the moments another process had
the CPU. Wall time would fold the neighbours' load into every figure.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping

#: The clock of every in-process measurement.
clock = time.process_time


def _timed(run: Callable[[], object]) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        run()
        return clock() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def samples(
    runs: Mapping[str, Callable[[], object]],
    *,
    min_runs: int = 5,
    budget: float = 0.3,
    warmup: int = 1,
    max_runs: int = 1000,
) -> dict[str, list[float]]:
    """CPU times, in seconds, of each of ``runs``, one per round, timed in turns.

    Every callable runs ``warmup`` times untimed; then rounds time each of
    them once, in turn, so that a change in the machine's load (it may be
    shared) affects all of them alike. Rounds go on until there are at
    least ``min_runs`` and ``budget`` seconds were spent per callable on
    average. The order stays the same from round to round: a run timed
    right after another of its own kind (as a reversed order would have at
    every other round's start) finds the caches as it left them, and a side
    of an A/B comparison would gain from it. The garbage collector is
    paused while a run is timed.
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    found: dict[str, list[float]] = {name: [] for name in runs}
    spent = 0.0
    rounds = 0
    while rounds < max_runs and (rounds < min_runs or spent < budget * len(runs)):
        for name, run in runs.items():
            elapsed = _timed(run)
            found[name].append(elapsed)
            spent += elapsed
        rounds += 1
    return found


def medians(
    runs: Mapping[str, Callable[[], object]],
    *,
    min_runs: int = 5,
    budget: float = 0.3,
    warmup: int = 1,
    max_runs: int = 1000,
) -> dict[str, float]:
    """Median CPU time, in seconds, of each of ``runs``, timed in turns (:func:`samples`)."""
    found = samples(runs, min_runs=min_runs, budget=budget, warmup=warmup, max_runs=max_runs)
    return {name: statistics.median(times) for name, times in found.items()}


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """The median, over the rounds of :func:`samples`, of one run's time over another's.

    Each round's two runs saw nearly the same load, so their ratio swings less from one
    benchmark to the next than the ratio of the two medians, which may come from rounds
    under different loads.
    """
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))
