"""The benchmarks' timing helpers: rounds in turns, and ratios taken round by round."""

from __future__ import annotations

import pytest

from bench.timing import medians, paired_ratio, samples


def test_rounds_time_each_run_in_the_same_order() -> None:
    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    found = samples(runs, min_runs=3, budget=0, warmup=1)
    assert calls == list("abcabcabcabc")
    assert [len(times) for times in found.values()] == [3, 3, 3]


def test_medians_are_the_samples_medians() -> None:
    found = medians({"a": lambda: None}, min_runs=3, budget=0, warmup=0)
    assert list(found) == ["a"] and found["a"] >= 0


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        pytest.param([1.0, 2.0, 3.0], [2.0, 2.0, 2.0], 1.0, id="median-of-ratios"),
        # Two rounds under load: the medians' ratio would be 2, from runs of two rounds.
        pytest.param([1.0, 4.0, 4.0], [2.0, 2.0, 8.0], 0.5, id="round-by-round"),
    ],
)
def test_paired_ratio(numerator: list[float], denominator: list[float], expected: float) -> None:
    assert paired_ratio(numerator, denominator) == pytest.approx(expected)
