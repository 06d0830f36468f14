"""Category: what a purpose holds, merged with the catalogue entries it names."""

from __future__ import annotations

from typing import Any

import pytest

from consentgate.catalogue import CookieSpec, tracker_catalogue
from consentgate.categories import Category
from consentgate.checks import ConfigError


def test_category_defaults() -> None:
    category = Category("analytics")
    assert category.label == "Analytics"
    assert category.required is False
    assert (category.cookies, category.sources, category.inline, category.trackers) == (
        (),
        (),
        (),
        (),
    )


def test_category_normalises_lists_to_tuples() -> None:
    category = Category(
        "stats",
        cookies=["visits", CookieSpec("seen", purpose="x"), {"name": "_my_*", "lifetime": "1 day"}],
        sources=[" stats.example.com ", "/js/stats.js"],
        inline=["myStats.track("],
    )
    assert category.cookies == (
        CookieSpec("visits"),
        CookieSpec("seen", purpose="x"),
        CookieSpec("_my_*", lifetime="1 day"),
    )
    assert category.sources == ("stats.example.com", "/js/stats.js")
    assert category.inline == ("myStats.track(",)


@pytest.mark.parametrize(
    "field", ["cookies", "sources", "inline", "trackers"], ids=lambda field: field
)
def test_category_refuses_a_bare_string_instead_of_a_list(field: str) -> None:
    options: dict[str, Any] = {field: "google-analytics"}
    with pytest.raises(ConfigError) as info:
        Category("analytics", **options)
    assert info.value.key == field
    assert "must be a list" in info.value.why


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("Analytics", id="upper-case"),
        pytest.param("-ads", id="leading-dash"),
        pytest.param("my ads", id="space"),
        pytest.param("a" * 33, id="too-long"),
        pytest.param(7, id="not-a-string"),
    ],
)
def test_category_name_is_checked(name: Any) -> None:
    with pytest.raises(ConfigError) as info:
        Category(name)
    assert info.value.key == "name"


@pytest.mark.parametrize("name", ["a", "ads", "third_party", "social-media", "a" * 32, "2fa"])
def test_category_name_accepts(name: str) -> None:
    assert Category(name).name == name


def test_trackers_merge_cookies_sources_and_signatures_after_the_explicit_ones() -> None:
    category = Category(
        "analytics",
        cookies=[{"name": "_ga", "purpose": "Our own words", "lifetime": "1 year"}, "visits"],
        sources=["stats.example.com"],
        trackers=["google-analytics", "matomo", "google-analytics"],
    )
    names = [spec.name for spec in category.cookies]
    assert names[:2] == ["_ga", "visits"]
    assert len(names) == len(set(names)), "duplicates are dropped"
    assert {"_ga_*", "_gid", "__utma", "_pk_id.*", "_pk_ses.*"} <= set(names)
    assert category.cookies[0].purpose == "Our own words", "the explicit description wins"
    assert category.sources[0] == "stats.example.com"
    assert {"google-analytics.com", "matomo.cloud"} <= set(category.sources)
    assert {"gtag(", "_paq.push"} <= set(category.inline)
    assert category.trackers == ("google-analytics", "matomo")


def test_tracker_cookies_carry_provider_purpose_and_lifetime() -> None:
    cookies = {spec.name: spec for spec in Category("a", trackers=["google-analytics"]).cookies}
    assert cookies["_ga"] == CookieSpec(
        "_ga", "Google", "Distinguishes visitors with a random client ID", "2 years"
    )
    assert cookies["_gid"].lifetime == "24 hours"


def test_unknown_tracker_is_named_with_a_suggestion_and_the_known_ids() -> None:
    with pytest.raises(ConfigError) as info:
        Category("analytics", trackers=["matomo", "gogle-analytics"])
    error = info.value
    assert error.key == "trackers[1]"
    assert "'gogle-analytics'" in error.why
    assert "did you mean 'google-analytics'?" in error.why
    assert all(tracker_id in error.why for tracker_id in tracker_catalogue())


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(r"^https://stats\.example\.com/", id="anchored-escaped"),
        pytest.param("stats.example.com/.*", id="dot-star"),
        pytest.param("(stats|pixel).example.com", id="alternation"),
        pytest.param("stats.example.com/js/[a-z]+.js", id="class"),
        pytest.param("stats.example.com/*.js", id="glob-in-path"),
    ],
)
def test_source_that_looks_like_a_regular_expression_is_refused(source: str) -> None:
    with pytest.raises(ConfigError, match="not a regular expression") as caught:
        Category("analytics", sources=["ok.example", source])
    assert caught.value.key == "sources[1]"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("stats.example.com", id="host"),
        pytest.param("*.stats.example.com", id="star-dot-host"),
        pytest.param("https://stats.example.com/js/a+b.js?v=1", id="pasted-url"),
        pytest.param("*/matomo.js", id="any-host"),
        pytest.param("/js/stats.js", id="same-site"),
    ],
)
def test_source_patterns_as_documented_are_accepted(source: str) -> None:
    assert Category("analytics", sources=[source]).sources == (source,)


def test_unknown_preset_is_named_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown preset 'djnago'; did you mean 'django'"):
        Category("necessary", required=True, presets=["djnago"])
