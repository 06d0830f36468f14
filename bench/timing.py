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
    alternate: bool = False,
) -> dict[str, list[float]]:
    """CPU times, in seconds, of each of ``runs``, one per round, timed in turns.

    Every callable runs ``warmup`` times untimed; then rounds time each of
    them once, in turn, so that a change in the machine's load (it may be
    shared) affects all of them alike. Rounds go on until there are at
    least ``min_runs`` and ``budget`` seconds were spent per callable on
    average. With ``alternate``, every other round takes them in reverse
    order, so that none always runs right after the same other one. The
    garbage collector is paused while a run is timed.
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    found: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs.items())
    spent = 0.0
    rounds = 0
    while rounds < max_runs and (rounds < min_runs or spent < budget * len(runs)):
        for name, run in order[::-1] if alternate and rounds % 2 else order:
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
