"""ConfigError, and the checks every configuration module raises it with."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from consentgate.catalogue import CookieSpec
from consentgate.categories import Category
from consentgate.checks import ConfigError, check_type, hint, items, strings
from consentgate.config import Settings

from .conftest import SECRET


def test_config_error_names_the_key() -> None:
    error = ConfigError("categories[1].name", "is required")
    assert str(error) == "categories[1].name: is required"
    assert (error.key, error.why) == ("categories[1].name", "is required")
    assert isinstance(error, ValueError)


def test_config_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ConfigError("endpoint", "must be a path")))
    assert str(error) == "endpoint: must be a path"
    assert error.key == "endpoint"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("google-analytics", id="string"),
        pytest.param(b"google-analytics", id="bytes"),
        pytest.param({"name": "google-analytics"}, id="table"),
        pytest.param(3, id="number"),
    ],
)
def test_a_list_is_never_a_string_or_a_table(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^trackers: must be a list of ids, got "):
        items(value, "trackers", "ids")


def test_lists_keep_their_order_as_tuples() -> None:
    assert items(["b", "a"], "trackers", "ids") == ("b", "a")
    assert strings(iter(["b", "a"]), "trackers") == ("b", "a")


def test_an_empty_string_in_a_list_is_named_by_its_index() -> None:
    with pytest.raises(ConfigError, match=r"^inline\[1\]: must be a non-empty string, got str"):
        strings(["gtag(", " "], "inline")


def test_true_is_not_a_number() -> None:
    check_type(3, int, "max_buffer", "a number")
    with pytest.raises(ConfigError, match=r"^max_buffer: must be a number, got bool True$"):
        check_type(True, int, "max_buffer", "a number")


def test_a_hint_offers_only_a_close_match() -> None:
    assert hint("trakers", ("trackers", "presets")) == "; did you mean 'trackers'?"
    assert hint("colour", ("trackers", "presets")) == ""


# Mistakes mypy refuses too (hence the ignores): these are for callers it does not check.
@pytest.mark.parametrize(
    ("build", "key", "why"),
    [
        pytest.param(
            lambda: Category("analytics", tracker=["matomo"]),  # type: ignore[call-arg]
            "tracker",
            "'trackers'",
            id="category",
        ),
        pytest.param(
            lambda: CookieSpec("x", lifetme="1 day"),  # type: ignore[call-arg]
            "lifetme",
            "'lifetime'",
            id="cookie",
        ),
        pytest.param(
            lambda: Settings(categories=[]),  # type: ignore[call-arg]
            "secret_key",
            "is required",
            id="no-secret",
        ),
        pytest.param(
            lambda: Settings(secret_key=SECRET, categories=[], endpont="/c"),  # type: ignore[call-arg]
            "endpont",
            "'endpoint'",
            id="settings-typo",
        ),
    ],
)
def test_constructor_mistakes_name_the_field(build: Any, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()
    assert caught.value.key == key and why in caught.value.why
