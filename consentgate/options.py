"""The checks of the settings' options, run when a :class:`~consentgate.config.Settings`
is made: each names the option at fault in a :class:`~consentgate.checks.ConfigError`,
and some return the value normalised, as it is then stored.
"""

from __future__ import annotations

import functools
import os
import re
from typing import TYPE_CHECKING, cast

from .checks import ConfigError, check_type, describe, hint, items, require, strings
from .cookies import valid_host
from .i18n import has_catalogue, shipped_languages
from .jurisdiction import GPC_POLICIES, MODES

if TYPE_CHECKING:
    from .config import Settings

_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 6265 token
_ENDPOINT = re.compile(r"/(?!/)[^\s?#\\]*")
_COOKIE_PATH = re.compile(r"/[!-:<-~]*")  # printable ASCII without ';'
_POLICIES = ("allow", "warn", "block")
_UNREADABLE = ("block", "pass")


def origins(value: object) -> tuple[str, ...]:
    """Normalise origins to the form browsers send: lower case, no default port."""
    origins = []
    for i, origin in enumerate(strings(value, "trusted_origins")):
        scheme, sep, host = origin.strip().lower().rstrip("/").partition("://")
        valid = scheme in ("http", "https") and bool(sep and host) and "/" not in host
        require(valid, f"trusted_origins[{i}]", "must be like 'https://www.example.com'", origin)
        origins.append(f"{scheme}://{host.removesuffix(':443' if scheme == 'https' else ':80')}")
    return tuple(origins)


def paths(value: object) -> tuple[str, ...]:
    """Path prefixes, each starting with ``/`` as ``PATH_INFO`` does."""
    paths = strings(value, "exclude_paths")
    for i, path in enumerate(paths):
        require(path.startswith("/"), f"exclude_paths[{i}]", "must start with '/'", path)
    return paths


def header_names(value: object) -> tuple[str, ...]:
    """Request header names, as ``Vary`` lists them."""
    names = tuple(name.strip() for name in strings(value, "region_headers"))
    for i, name in enumerate(names):
        valid = _COOKIE_NAME.fullmatch(name) is not None  # a header name is a token too
        why = "must be a header name such as 'CF-IPCountry'"
        require(valid, f"region_headers[{i}]", why, name)
    return names


def check_jurisdiction(s: Settings) -> None:
    """Check the mode, region and Global Privacy Control options."""
    for key, value, choices in (("mode", s.mode, MODES), ("gpc", s.gpc, GPC_POLICIES)):
        if value not in choices:
            why = f"must be {' or '.join(map(repr, choices))}, got {describe(value)}"
            raise ConfigError(key, why + hint(str(value), choices))
    why = "must be a function of the WSGI environ (Python only, not in TOML)"
    require(s.region is None or callable(s.region), "region", why, s.region)
    why = "lists what a region callback reads, and there is none"
    require(s.region is not None or not s.region_headers, "region_headers", why, s.region_headers)
    check_type(s.gpc_answers_banner, bool, "gpc_answers_banner", "true or false")


def check_languages(s: Settings) -> None:
    """Check ``languages``, ``default_language``, ``locale_dirs`` and the label tables:
    every language needs a catalogue, and every table the default language's text."""
    set_ = functools.partial(object.__setattr__, s)
    listed = items(s.locale_dirs, "locale_dirs", "directories")
    dirs = tuple(os.fspath(d) if isinstance(d, os.PathLike) else d for d in listed)
    for i, directory in enumerate(dirs):
        ok = isinstance(directory, str) and os.path.isdir(directory)
        require(ok, f"locale_dirs[{i}]", "must be a directory", directory)
    set_("locale_dirs", cast(tuple[str, ...], dirs))
    dirs = s.locale_dirs
    languages = strings(s.languages, "languages") or shipped_languages() or ("en",)
    for i, tag in enumerate(languages):
        why = "has no catalogue (shipped or in locale_dirs)"
        require(has_catalogue(tag, dirs), f"languages[{i}]", why, tag)
    set_("languages", tuple(dict.fromkeys(languages)))
    default = s.default_language
    why = f"must be one of languages ({', '.join(languages)})"
    require(default in languages, "default_language", why, default)
    why = f"has no {default!r} text (the default_language)"
    for i, category in enumerate(s.categories):
        for key in ("label", "description"):
            value = getattr(category, key)
            if not isinstance(value, str) and default not in value:
                raise ConfigError(f"categories[{i}].{key}", why)
        for j, spec in enumerate(category.cookies):
            for key in ("purpose", "lifetime"):
                value = getattr(spec, key)
                if not isinstance(value, str) and default not in value:
                    raise ConfigError(f"categories[{i}].cookies[{j}].{key}", why)


def cookie_domain(value: object) -> str | None:
    """The domain as cookies name it: lower case, without a leading or trailing dot."""
    if value is None:
        return None
    check_type(value, str, "cookie_domain", "a domain name such as 'example.org'")
    domain = valid_host(cast(str, value).strip().lstrip("."))
    valid = domain is not None and ":" not in cast(str, value)
    why = "must be a domain name such as 'example.org' (ASCII: punycode for IDNs; no port)"
    require(valid, "cookie_domain", why, value)
    return domain


def check_options(s: Settings) -> None:
    """Check the scalar fields, which are stored as given."""
    name, days, path, policy = s.cookie_name, s.max_age_days, s.endpoint, s.undeclared_cookies
    valid_name = isinstance(name, str) and _COOKIE_NAME.fullmatch(name) is not None
    require(valid_name, "cookie_name", "must be a valid cookie name", name)
    check_type(days, int, "max_age_days", "a whole number of days")
    require(1 <= days <= 400, "max_age_days", "must be 1 to 400 (the browsers' limit)", days)
    valid_path = isinstance(path, str) and _ENDPOINT.fullmatch(path) is not None
    require(valid_path, "endpoint", "must be a path such as '/consent'", path)
    valid_version = isinstance(s.policy_version, str) and bool(s.policy_version.strip())
    require(valid_version, "policy_version", "must be a non-empty string", s.policy_version)
    check_type(s.privacy_url, str, "privacy_url", "a string")
    require(bool(s.privacy_url.strip()), "privacy_url", "must not be empty", s.privacy_url)
    check_type(s.secure, (bool, type(None)), "secure", "true, false or None")
    valid_cookie_path = s.cookie_path is None or (
        isinstance(s.cookie_path, str) and _COOKIE_PATH.fullmatch(s.cookie_path) is not None
    )
    require(valid_cookie_path, "cookie_path", "must be a path such as '/app'", s.cookie_path)
    if policy not in _POLICIES:
        why = f"must be 'allow', 'warn' or 'block', got {describe(policy)}"
        raise ConfigError("undeclared_cookies", why + hint(str(policy), _POLICIES))
    check_type(s.inject_banner, bool, "inject_banner", "true or false")
    check_type(s.inject_script, bool, "inject_script", "true or false")
    check_type(s.max_buffer, int, "max_buffer", "a number of bytes")
    require(s.max_buffer >= 1024, "max_buffer", "must be at least 1024 bytes", s.max_buffer)
    if s.unreadable not in _UNREADABLE:
        why = f"must be 'block' or 'pass', got {describe(s.unreadable)}"
        raise ConfigError("unreadable", why + hint(str(s.unreadable), _UNREADABLE))
    check_type(s.max_inflated, int, "max_inflated", "a number of bytes")
    require(s.max_inflated >= 1 << 20, "max_inflated", "must be at least 1 MiB", s.max_inflated)
    _check_records(s.records)
    require(
        s.on_decision is None or callable(s.on_decision),
        "on_decision",
        "must be callable",
        s.on_decision,
    )
    check_type(s.record_ip_prefix, bool, "record_ip_prefix", "true or false")
    for key in ("consent_mode", "ads_data_redaction", "url_passthrough"):
        check_type(getattr(s, key), bool, key, "true or false")
    check_type(s.load_once_seconds, int, "load_once_seconds", "a number of seconds")
    valid_seconds = 10 <= s.load_once_seconds <= 3600
    require(valid_seconds, "load_once_seconds", "must be 10 to 3600", s.load_once_seconds)


#: URL schemes of the record stores that ship with the gate.
RECORD_SCHEMES = ("sqlite", "postgresql", "postgres")


def _check_records(records: object) -> None:
    """A store URL of a known scheme, an object with ``append``, or None."""
    if records is None or (
        not isinstance(records, str) and callable(getattr(records, "append", None))
    ):
        return
    scheme = records.partition("://")[0] if isinstance(records, str) and "://" in records else ""
    why = "must be 'sqlite:///path', 'postgresql://...', a RecordStore or None"
    require(scheme in RECORD_SCHEMES, "records", why, records)
