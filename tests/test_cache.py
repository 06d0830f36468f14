"""Caches bounded by bytes: what they keep, and that they never grow past their limits."""

from __future__ import annotations

import pytest

from consentgate.cache import (
    ENTRY_SHARE,
    MAX_KEY_LENGTH,
    Memo,
    SizedCache,
    default_size,
    short_key,
)


def by_length(key: str, value: str) -> int:
    return len(key) + len(value)


def test_put_counts_bytes_and_returns_the_value() -> None:
    cache: SizedCache[str, str] = SizedCache(max_entries=10, max_bytes=6400, size=by_length)
    assert cache.put("a", "xy") == "xy"
    cache.put("b", "z")
    assert cache == {"a": "xy", "b": "z"}
    assert cache.nbytes == 5


def test_replacing_a_key_counts_it_once() -> None:
    cache: SizedCache[str, str] = SizedCache(max_entries=10, max_bytes=6400, size=by_length)
    cache.put("a", "xyz")
    cache.put("a", "x")
    assert cache == {"a": "x"}
    assert cache.nbytes == 2


@pytest.mark.parametrize(
    ("max_entries", "max_bytes"),
    [
        pytest.param(3, 6400, id="entries"),
        pytest.param(100, 64 * 30, id="bytes"),
    ],
)
def test_a_full_cache_starts_over(max_entries: int, max_bytes: int) -> None:
    cache: SizedCache[str, str] = SizedCache(
        max_entries=max_entries, max_bytes=max_bytes, size=by_length
    )
    for i in range(1000):
        cache.put(f"{i:04}", "v" * 20)
        assert len(cache) <= max_entries
        assert cache.nbytes <= max_bytes
        assert f"{i:04}" in cache
        assert cache.nbytes == sum(by_length(k, v) for k, v in cache.items())


def test_an_entry_over_its_share_is_not_kept() -> None:
    cache: SizedCache[str, str] = SizedCache(max_entries=10, max_bytes=6400, size=by_length)
    cache.put("small", "v")
    big = "v" * (6400 // ENTRY_SHARE)
    assert cache.put("big", big) is big
    assert "big" not in cache and "small" in cache


def test_memo_computes_each_key_once_and_skips_what_does_not_fit() -> None:
    calls: list[str] = []

    def upper(key: str) -> str:
        calls.append(key)
        return key.upper()

    memo = Memo(upper, max_entries=10, max_bytes=6400, size=by_length)
    assert [memo["ab"], memo["ab"], memo["cd"]] == ["AB", "AB", "CD"]
    huge = "x" * 6400
    assert memo[huge] == huge.upper() and memo[huge] == huge.upper()
    assert calls == ["ab", "cd", huge, huge]
    assert set(memo) == {"ab", "cd"}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("consentgate=abc; _ga=GA1.1", id="typical"),
        pytest.param("x" * MAX_KEY_LENGTH, id="at-the-limit"),
    ],
)
def test_short_keys_are_kept_as_they_are(text: str) -> None:
    assert short_key(text) == text


def test_long_keys_become_distinct_small_digests() -> None:
    keys = {short_key("x" * MAX_KEY_LENGTH + suffix) for suffix in ("a", "b", "\udcff", "\xe9")}
    assert len(keys) == 4
    assert all(isinstance(key, bytes) and len(key) == 16 for key in keys)


def test_default_size_counts_what_tuples_hold() -> None:
    names = tuple("n" * 1000 for _ in range(10))
    assert default_size("key", (names, "tag")) > 10 * 1000
