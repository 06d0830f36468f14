"""Settings: every option checked, read from TOML, built from Python."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest

from consentgate.catalogue import CookieSpec
from consentgate.categories import Category
from consentgate.checks import ConfigError
from consentgate.config import (
    Settings,
    build_settings,
    load_config,
    secret_warnings,
)

SECRET = "test-secret-key-0123456789abcdef"


def minimal(**options: Any) -> dict[str, Any]:
    """Plain settings data with one required and one optional category."""
    data: dict[str, Any] = {
        "secret_key": SECRET,
        "categories": [{"name": "necessary", "required": True}, {"name": "analytics"}],
    }
    data.update(options)
    return data


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consent.toml"
    path.write_text(text, encoding="utf-8")
    return path


# Settings


def test_settings_defaults() -> None:
    settings = Settings.from_mapping(minimal())
    assert settings.secret_key == (SECRET.encode(),)
    assert settings.cookie_name == "consentgate"
    assert settings.max_age_days == 180
    assert settings.max_age == 180 * 24 * 60 * 60
    assert settings.policy_version == "1"
    assert settings.endpoint == "/consent"
    assert settings.privacy_url == "/privacy"
    assert settings.secure is None
    assert settings.undeclared_cookies == "allow"
    assert settings.inject_banner is True
    assert settings.max_buffer == 1 << 20
    assert settings.unreadable == "block"
    assert settings.max_inflated == 64 << 20
    assert settings.trusted_origins == ()
    assert settings.cookie_domain is None


def test_the_documented_example_type_checks() -> None:
    """The example of the README and of ``Settings``: lists and a str key, as users write
    them. ``make lint`` runs mypy --strict on this module, so the constructors' types
    must accept them; the fields still hold tuples and bytes."""
    settings = Settings(
        secret_key=SECRET,
        categories=[Category("necessary", required=True), Category("stats", trackers=["matomo"])],
        exclude_paths=["/admin/"],
    )
    stats = Category("stats", cookies=["_pk_id*", {"name": "tz", "provider": "This site"}])
    assert settings.secret_key == (SECRET.encode(),)
    assert isinstance(settings.categories, tuple)
    assert settings.exclude_paths == ("/admin/",)
    assert [spec.name for spec in stats.cookies] == ["_pk_id*", "tz"]


@pytest.mark.parametrize("cls", [Settings, Category])
def test_the_typed_constructor_lists_every_field(cls: type[Any]) -> None:
    """The ``__init__`` declared for type checkers names every field, in order, with a
    default where the field has one (the dataclass's own constructor is the one that runs)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    init = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    declared = [arg.arg for arg in init.args.args[1:]]
    fields = dataclasses.fields(cls)
    assert declared == [f.name for f in fields]
    optional = [f.name for f in fields if f.default is not dataclasses.MISSING]
    assert declared[len(declared) - len(init.args.defaults) :] == optional


def test_settings_helpers() -> None:
    settings = Settings(
        secret_key=SECRET,
        categories=(
            Category("necessary", required=True),
            Category("marketing"),
            Category("analytics"),
        ),
    )
    assert settings.required_names == frozenset({"necessary"})
    assert settings.optional_names == ("marketing", "analytics")
    assert settings.names == frozenset({"necessary", "marketing", "analytics"})
    assert settings.category("analytics") is settings.categories[2]
    assert settings.category("nope") is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("key", (b"key",), id="str"),
        pytest.param(b"key", (b"key",), id="bytes"),
        pytest.param(["old", b"new"], (b"old", b"new"), id="rotation-keeps-order"),
        pytest.param(("k\u00e9y",), ("k\u00e9y".encode(),), id="utf-8"),
    ],
)
def test_secret_key_forms(given: Any, expected: tuple[bytes, ...]) -> None:
    assert Settings(secret_key=given, categories=(Category("a"),)).secret_key == expected


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("", id="empty"),
        pytest.param([], id="no-keys"),
        pytest.param(["good", ""], id="one-empty"),
        pytest.param(12345, id="number"),
        pytest.param({"key": "hunter2"}, id="table"),
    ],
)
def test_bad_secret_key_is_refused_without_showing_it(given: Any) -> None:
    with pytest.raises(ConfigError) as info:
        Settings(secret_key=given, categories=(Category("a"),))
    assert info.value.key == "secret_key"
    assert "hunter2" not in str(info.value) and "good" not in str(info.value)


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param("s3cr3t-value-0123456789abcdef", id="one"),
        pytest.param(["0ld-s3cr3t-value", b"n3w-s3cr3t-value"], id="rotation"),
    ],
)
def test_repr_never_shows_the_secret_key(keys: Any) -> None:
    settings = Settings(secret_key=keys, categories=(Category("a"),))
    for text in (repr(settings), str(settings), f"{settings!r}"):
        assert "s3cr3t" not in text
        assert "categories=" in text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("example.org", "example.org", id="plain"),
        pytest.param(" .Example.ORG. ", "example.org", id="dots-and-case"),
        pytest.param("shop.example.co.uk", "shop.example.co.uk", id="deeper"),
    ],
)
def test_cookie_domain_is_normalised(given: str, expected: str) -> None:
    assert Settings.from_mapping(minimal(cookie_domain=given)).cookie_domain == expected


def test_policy_version_int_becomes_str() -> None:
    assert Settings.from_mapping(minimal(policy_version=3)).policy_version == "3"


def test_trusted_origins_are_normalised_as_browsers_send_them() -> None:
    settings = Settings.from_mapping(
        minimal(trusted_origins=["HTTPS://WWW.Example.com:443/", "http://localhost:8000"])
    )
    assert settings.trusted_origins == ("https://www.example.com", "http://localhost:8000")


def test_declared_cookies_lists_the_consent_cookie_under_the_first_required_category() -> None:
    settings = Settings(
        secret_key=SECRET,
        categories=(
            Category("analytics", cookies=["visits"]),
            Category("necessary", required=True, cookies=["session"]),
            Category("security", required=True),
        ),
        cookie_name="cg",
        max_age_days=90,
    )
    rows = [(category.name, spec.name) for category, spec in settings.declared_cookies()]
    assert rows == [("analytics", "visits"), ("necessary", "cg"), ("necessary", "session")]
    consent = settings.declared_cookies()[1][1]
    assert consent == CookieSpec("cg", "This site", "Remembers your cookie choices", "90 days")


def test_declared_cookies_without_a_required_category() -> None:
    settings = Settings(secret_key=SECRET, categories=(Category("ads", cookies=["x"]),))
    assert [spec.name for _, spec in settings.declared_cookies()] == ["x"]


def test_replace_validates_again() -> None:
    settings = Settings.from_mapping(minimal())
    assert settings.replace(cookie_name="cg").cookie_name == "cg"
    with pytest.raises(ConfigError, match=r"^max_age_days: "):
        settings.replace(max_age_days=0)
    assert dataclasses.replace(settings, endpoint="/cookies").endpoint == "/cookies"


@pytest.mark.parametrize(
    ("options", "key", "why"),
    [
        pytest.param(
            {"cookie_name": "my cookie"}, "cookie_name", "valid cookie name", id="cookie-name"
        ),
        pytest.param({"max_age_days": 0}, "max_age_days", "1 to 400", id="max-age-zero"),
        pytest.param(
            {"max_age_days": 401}, "max_age_days", "1 to 400", id="max-age-over-browser-cap"
        ),
        pytest.param({"max_age_days": "180"}, "max_age_days", "whole number", id="max-age-str"),
        pytest.param({"max_age_days": True}, "max_age_days", "whole number", id="max-age-bool"),
        pytest.param({"policy_version": ""}, "policy_version", "non-empty", id="policy-version"),
        pytest.param({"endpoint": "consent"}, "endpoint", "path", id="endpoint-relative"),
        pytest.param(
            {"endpoint": "//evil.example"}, "endpoint", "path", id="endpoint-network-path"
        ),
        pytest.param({"endpoint": "/consent?x=1"}, "endpoint", "path", id="endpoint-query"),
        pytest.param({"privacy_url": ""}, "privacy_url", "empty", id="privacy-url"),
        pytest.param({"secure": "yes"}, "secure", "true, false or None", id="secure"),
        pytest.param(
            {"undeclared_cookies": "blok"},
            "undeclared_cookies",
            "did you mean 'block'?",
            id="policy-typo",
        ),
        pytest.param({"inject_banner": 1}, "inject_banner", "true or false", id="inject-banner"),
        pytest.param({"max_buffer": 100}, "max_buffer", "at least 1024", id="max-buffer"),
        pytest.param({"unreadable": "pas"}, "unreadable", "did you mean 'pass'?", id="unreadable"),
        pytest.param({"max_inflated": 1000}, "max_inflated", "at least 1 MiB", id="max-inflated"),
        pytest.param(
            {"trusted_origins": "https://a.example"}, "trusted_origins", "list", id="origins-str"
        ),
        pytest.param(
            {"trusted_origins": ["www.example.com"]},
            "trusted_origins[0]",
            "https://",
            id="origin-no-scheme",
        ),
        pytest.param(
            {"trusted_origins": ["https://a.example/path"]},
            "trusted_origins[0]",
            "https://",
            id="origin-path",
        ),
        pytest.param({"cookie_domain": 3}, "cookie_domain", "domain name", id="domain-int"),
        pytest.param(
            {"cookie_domain": "example.org:443"}, "cookie_domain", "no port", id="domain-port"
        ),
        pytest.param({"cookie_domain": "localhost"}, "cookie_domain", "domain", id="domain-tld"),
        pytest.param({"cookie_domain": "b\u00fccher.de"}, "cookie_domain", "punycode", id="idn"),
        pytest.param({"cookie_domain": "10.0.0.1"}, "cookie_domain", "domain", id="domain-ip"),
        pytest.param(
            {"cookie_domain": "a" * 64 + ".org"}, "cookie_domain", "domain", id="domain-long"
        ),
        pytest.param({"categories": []}, "categories", "at least one", id="no-categories"),
        pytest.param({"categories": "necessary"}, "categories", "list", id="categories-str"),
        pytest.param(
            {"categories": [{"name": "a"}, {"name": "a"}]},
            "categories[1].name",
            "duplicate",
            id="duplicate",
        ),
    ],
)
def test_bad_option_names_the_key(options: dict[str, Any], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(minimal(**options))
    assert info.value.key == key
    assert why in info.value.why


@pytest.mark.parametrize(
    ("categories", "key", "why"),
    [
        pytest.param(
            [{"name": "a", "trakers": []}],
            "categories[0].trakers",
            "did you mean 'trackers'?",
            id="category-key-typo",
        ),
        pytest.param(
            [{"label": "A"}], "categories[0].name", "required", id="category-without-name"
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "required": "yes"}],
            "categories[1].required",
            "true or false",
            id="required-str",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "trackers": ["matomoo"]}],
            "categories[1].trackers[0]",
            "did you mean 'matomo'?",
            id="tracker-typo",
        ),
        pytest.param(
            [{"name": "a", "cookies": [{"name": "x", "purpse": "y"}]}],
            "categories[0].cookies[0].purpse",
            "did you mean 'purpose'?",
            id="cookie-key-typo",
        ),
        pytest.param(
            [{"name": "a"}, {"name": "b", "cookies": ["ok", {"name": "bad name"}]}],
            "categories[1].cookies[1].name",
            "cookie name",
            id="cookie-name",
        ),
        pytest.param(
            [{"name": "a", "cookies": [{"purpose": "y"}]}],
            "categories[0].cookies[0].name",
            "required",
            id="cookie-without-name",
        ),
        pytest.param(
            [{"name": "a", "sources": ["ok.example", ""]}],
            "categories[0].sources[1]",
            "non-empty",
            id="empty-source",
        ),
        pytest.param(["necessary"], "categories[0]", "table", id="category-as-str"),
        pytest.param(
            [{"name": "a", "cookies": [{"name": "x", "lifetime": 2}]}],
            "categories[0].cookies[0].lifetime",
            "a string",
            id="cookie-lifetime-number",
        ),
        pytest.param([{"name": "a", "label": 5}], "categories[0].label", "a string", id="label"),
        pytest.param(
            [{"name": "a", "cookies": [7]}], "categories[0].cookies[0]", "table", id="cookie-7"
        ),
    ],
)
def test_error_keys_are_paths_into_the_data(categories: list[Any], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(minimal(categories=categories))
    assert info.value.key == key
    assert why in info.value.why


def test_unknown_option_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(minimal(cookie_nmae="cg"), where="app.config")
    assert str(info.value) == (
        "cookie_nmae: unknown option; did you mean 'cookie_name'? (in app.config)"
    )


def test_unknown_option_without_a_near_miss_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_mapping(minimal(colour="blue"))
    assert info.value.key == "colour"
    assert "cookie_name" in info.value.why and "trusted_origins" in info.value.why


def test_from_mapping_accepts_category_objects() -> None:
    category = Category("ads", trackers=["meta-pixel"])
    settings = Settings.from_mapping({"secret_key": SECRET, "categories": [category]})
    assert settings.categories == (category,)


def test_settings_refuses_tables_as_categories() -> None:
    with pytest.raises(ConfigError, match=r"^categories\[0\]: must be a Category"):
        Settings(secret_key=SECRET, categories=({"name": "a"},))  # type: ignore[arg-type]


@pytest.mark.parametrize("missing", ["secret_key", "categories"])
def test_required_options(missing: str) -> None:
    data = minimal()
    del data[missing]
    with pytest.raises(ConfigError, match=f"^{missing}: is required"):
        Settings.from_mapping(data)


# load_config


EXAMPLE = """\
secret_key_env = "CONSENTGATE_SECRET_KEY"
policy_version = "2024-05"

[[categories]]
name = "necessary"
required = true

[[categories]]
name = "analytics"
trackers = ["google-analytics", "matomo"]
cookies = [
    "_my_*",
    { name = "visits", provider = "This site", purpose = "Counts visits", lifetime = "1 year" },
]
"""


def test_load_config_reads_the_documented_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTGATE_SECRET_KEY", "old-key, new-key")
    settings = load_config(write(tmp_path, EXAMPLE))
    assert settings.secret_key == (b"old-key", b"new-key"), "the last key signs"
    assert settings.policy_version == "2024-05"
    assert settings.required_names == frozenset({"necessary"})
    analytics = settings.category("analytics")
    assert analytics is not None
    names = [spec.name for spec in analytics.cookies]
    assert names[:2] == ["_my_*", "visits"]
    assert {"_ga", "_pk_id.*"} <= set(names)
    assert analytics.cookies[1] == CookieSpec("visits", "This site", "Counts visits", "1 year")


def test_load_config_accepts_a_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, f'secret_key = "{SECRET}"\n[[categories]]\nname = "necessary"\n')
    assert load_config(str(path)).categories[0].name == "necessary"


def test_secret_key_env_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTGATE_SECRET_KEY", raising=False)
    path = write(tmp_path, EXAMPLE)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "secret_key_env"
    assert "CONSENTGATE_SECRET_KEY" in info.value.why
    assert str(path) in info.value.why


def test_secret_key_and_secret_key_env_together_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONSENTGATE_SECRET_KEY", "k")
    with pytest.raises(ConfigError, match=r"^secret_key_env: "):
        Settings.from_mapping(minimal(secret_key_env="CONSENTGATE_SECRET_KEY"))


def test_typo_in_the_file_names_key_suggestion_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace("policy_version", "policy_verison"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "policy_verison"
    assert "did you mean 'policy_version'?" in info.value.why
    assert str(path) in str(info.value)


def test_typo_in_a_category_of_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTGATE_SECRET_KEY", SECRET)
    path = write(tmp_path, EXAMPLE.replace("trackers =", "tracker ="))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "categories[1].tracker"
    assert "did you mean 'trackers'?" in info.value.why


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param('secret_key = "x"\npolicy_version = \n', 2, id="missing-value"),
        pytest.param('secret_key = "x"\n\n[[categories]\nname = "a"\n', 3, id="unclosed-table"),
        pytest.param('secret_key = "x"\nsecret_key = "y"\n', 2, id="duplicate-key"),
        pytest.param('secret_key = "x"\ncookie_name = "a\n', 2, id="unterminated-string"),
        pytest.param('x = 1\ntrackers = ["matomo" "plausible"]\n', 2, id="missing-comma"),
        pytest.param("x = 1\n\n\nrequired = yes\n", 4, id="bare-word"),
    ],
)
def test_bad_toml_names_the_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == str(path)
    assert "invalid TOML" in info.value.why
    assert f"line {line}" in info.value.why


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == str(path)
    assert "cannot read" in info.value.why


def test_load_config_overrides_supply_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTGATE_SECRET_KEY", raising=False)
    settings = load_config(write(tmp_path, EXAMPLE), secret_key="from-the-app", cookie_name="cg")
    assert settings.secret_key == (b"from-the-app",)
    assert settings.cookie_name == "cg"
    assert settings.policy_version == "2024-05", "the file's other values stay"


# Mistakes made through the Python API, and weak secrets


@pytest.mark.parametrize(
    ("config", "options", "key", "why"),
    [
        pytest.param(None, {"categories": []}, "secret_key", "is required", id="no-secret"),
        pytest.param(
            None, minimal(cookie_nmae="x"), "cookie_nmae", "did you mean 'cookie_name'", id="typo"
        ),
        pytest.param(
            minimal(), {"polcy_version": "2"}, "polcy_version", "did you mean", id="dict-typo"
        ),
        pytest.param(
            "consent.toml",
            {},
            "config",
            "must be Settings (from load_config) or a mapping",
            id="path-instead-of-settings",
        ),
    ],
)
def test_python_api_mistakes_name_the_option(
    config: Any, options: dict[str, Any], key: str, why: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build_settings(config, options)
    assert caught.value.key == key and why in caught.value.why


def test_a_dict_works_as_config() -> None:
    settings = build_settings(minimal(), {"policy_version": "2"})
    assert settings.policy_version == "2" and settings.optional_names == ("analytics",)


def test_options_replace_fields_of_settings_and_typos_name_the_option() -> None:
    settings = Settings.from_mapping(minimal())
    assert build_settings(settings, {"cookie_name": "c"}).cookie_name == "c"
    with pytest.raises(ConfigError, match="did you mean 'max_age_days'"):
        build_settings(settings, {"max_age_day": 3})


@pytest.mark.parametrize(
    ("keys", "warnings"),
    [
        pytest.param(SECRET, [], id="long-random"),
        pytest.param("change-me", ["secret_key is an example value"], id="example"),
        pytest.param("short", ["secret_key is shorter than 32 bytes"], id="short"),
        pytest.param(
            ["short", SECRET], ["secret_key[0] is shorter than 32 bytes"], id="rotation-list"
        ),
    ],
)
def test_weak_secrets_are_reported(keys: Any, warnings: list[str]) -> None:
    found = secret_warnings(Settings.from_mapping(minimal(secret_key=keys)))
    assert [w.partition(":")[0] for w in found] == warnings


@pytest.mark.parametrize(
    ("paths", "key"),
    [
        pytest.param("/admin/", "exclude_paths", id="bare-string"),
        pytest.param(["admin/"], "exclude_paths[0]", id="relative"),
    ],
)
def test_exclude_paths_are_checked(paths: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_mapping(minimal(exclude_paths=paths))
    assert caught.value.key == key


# --- modes, region and Global Privacy Control ---------------------------------


def jurisdiction_settings(**options: Any) -> Settings:
    return Settings(secret_key=SECRET, categories=[Category("necessary", required=True)], **options)


def test_gpc_refuses_every_optional_category_by_default() -> None:
    settings = Settings(
        secret_key=SECRET,
        categories=[
            Category("necessary", required=True),
            Category("analytics"),
            Category("fonts", gpc=False),
        ],
    )
    assert settings.gpc_names == {"analytics"}
    assert settings.mode == "opt-in" and settings.gpc == "honour"
    assert not settings.gpc_answers_banner and settings.region is None


def test_a_required_category_cannot_be_refused_by_the_signal() -> None:
    with pytest.raises(ConfigError) as caught:
        necessary = {"name": "necessary", "required": True, "gpc": True}
        Settings.from_mapping({"secret_key": SECRET, "categories": [necessary]})
    assert caught.value.key == "categories[0].gpc"


@pytest.mark.parametrize(
    ("options", "key", "words"),
    [
        pytest.param({"mode": "optout"}, "mode", "did you mean 'opt-out'", id="mode"),
        pytest.param({"gpc": "honoured"}, "gpc", "did you mean 'honour'", id="gpc"),
        pytest.param({"gpc_answers_banner": "yes"}, "gpc_answers_banner", "true or false", id="ab"),
        pytest.param({"region": "cf-ipcountry"}, "region", "Python only", id="region"),
        pytest.param(
            {"region_headers": ["CF-IPCountry"]}, "region_headers", "there is none", id="lonely"
        ),
        pytest.param(
            {"region": lambda e: "opt-in", "region_headers": ["CF IPCountry"]},
            "region_headers[0]",
            "header name",
            id="header",
        ),
    ],
)
def test_jurisdiction_mistakes_name_the_option(
    options: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        jurisdiction_settings(**options)
    assert caught.value.key == key
    assert words in caught.value.why


def test_gpc_takes_the_us_spelling() -> None:
    assert jurisdiction_settings(gpc="honor").gpc == "honour"


def test_modes_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "consent.toml"
    path.write_text(
        f'secret_key = "{SECRET}"\nmode = "opt-out"\ngpc = "ignore"\n'
        '[[categories]]\nname = "necessary"\nrequired = true\n'
        '[[categories]]\nname = "fonts"\ngpc = false\n'
    )
    settings = load_config(path)
    assert (settings.mode, settings.gpc, settings.gpc_names) == ("opt-out", "ignore", frozenset())
