"""The tracker catalogue: the built-in trackers and framework presets, and the cookie
descriptions they are made of.

The catalogue is package data (``trackers.toml``, ``presets.toml``), read once and
checked as strictly as a site's own configuration: a mistake in it fails every start
rather than leave a tracker ungated.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .checks import (
    ConfigError,
    check_keys,
    check_type,
    describe,
    hint,
    items,
    keyword_errors,
    require,
    strings,
)
from .cookies import valid_host
from .i18n import Texts, check_table

if TYPE_CHECKING:
    from .categories import Category

_D = TypeVar("_D", "CookieSpec", "Category")

#: What a category's name looks like: it is used in the consent cookie and in forms.
CATEGORY_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_COOKIE_GLOB = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z?\[\]]+")
#: Google Consent Mode v2's consent types, in the order its documentation lists them.
CONSENT_TYPES = (
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
)
#: What a regular expression has and a source pattern never does: anchors, groups,
#: classes, alternation, escapes, ``.*``, or a ``*`` other than ``*/`` or ``*.`` up front.
_REGEX_LIKE = re.compile(r"[\^()\[\]{}|\\]|\$$|\.[*+]|(?<!^)\*|^\*(?![./])")


def coerce(cls: type[_D], value: object, key: str) -> _D:
    """Build ``cls`` from a table (or a bare name), with error keys under ``key``."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str) and cls is CookieSpec:
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a table, got {describe(value)}")
    check_keys(value, tuple(f.name for f in dataclasses.fields(cls)), f"{key}.")
    if "name" not in value:
        raise ConfigError(f"{key}.name", "is required")
    try:
        return cls(**value)
    except ConfigError as error:
        raise ConfigError(f"{key}.{error.key}", error.why) from None


@keyword_errors
@dataclass(frozen=True)
class CookieSpec:
    """A cookie that a category may set, as the cookie table describes it.

    :param name: The exact cookie name, or an :mod:`fnmatch` glob such as ``_ga_*``.
    :param provider: Who sets or reads it (``"Google"``, ``"This site"``); ``purpose``
        says in one line what it is for, ``lifetime`` how long it lasts (``"2 years"``).
        A site's purpose and lifetime may each be a table of translations
        (``{"en": "2 years", "de": "2 Jahre"}``), as a category's label; the built-in
        cookies' are translated by the package (:mod:`consentgate.cookie_texts`).
    :param domain: The other site whose domain it is set on (``"youtube.com"``), for a
        cookie an embed or tracker keeps there: it is listed in the cookie table, but never
        matched against your site's own cookies, among which it can never be. So a common
        name such as ``player`` or ``lang`` cannot catch a cookie of your site's.
    """

    name: str
    provider: str = ""
    purpose: str | Mapping[str, str] = ""
    lifetime: str | Mapping[str, str] = ""
    domain: str = ""

    def __post_init__(self) -> None:
        valid = isinstance(self.name, str) and _COOKIE_GLOB.fullmatch(self.name) is not None
        require(valid, "name", "must be a cookie name or a glob such as '_ga_*'", self.name)
        check_type(self.provider, str, "provider", "a string")
        for key in ("purpose", "lifetime"):
            if getattr(self, key) != "":
                set_texts(self, key)
        if self.domain != "":
            valid = isinstance(self.domain, str) and valid_host(self.domain) == self.domain
            why = "must be a lower-case domain name such as 'youtube.com'"
            require(valid, "domain", why, self.domain)


def set_texts(owner: Category | CookieSpec, key: str) -> None:
    """Check a label or description, or a cookie's purpose or lifetime (a string or a
    table of translations) and keep a table as a read-only
    :class:`~consentgate.i18n.Texts`."""
    value = getattr(owner, key)
    try:
        check_table(value, key)
    except ValueError as error:
        raise ConfigError(key, str(error)) from None
    if not isinstance(value, str):
        object.__setattr__(owner, key, Texts(value))


def consent_types(value: object) -> tuple[str, ...]:
    """Google Consent Mode v2 types, each one of :data:`CONSENT_TYPES`."""
    types = strings(value, "consent_types")
    for i, name in enumerate(types):
        if name not in CONSENT_TYPES:
            why = f"must be a Google Consent Mode v2 type, got {name!r}"
            raise ConfigError(f"consent_types[{i}]", why + hint(name, CONSENT_TYPES))
    return types


def check_source(source: str, key: str) -> None:
    """Refuse a regular expression given as a source pattern: it would match nothing."""
    if _REGEX_LIKE.search(source.removeprefix("https://").removeprefix("http://")):
        why = (
            "is a URL pattern, not a regular expression: write 'host.example' (with its "
            "subdomains), 'host.example/path', '/path' (this site) or '*/file.js' (any host)"
        )
        raise ConfigError(key, f"{why}, got {source!r}")


#: What an embed's placeholder offers to load ("Load this video"): ``Embed.kind``.
EMBED_KINDS = ("video", "map", "post", "audio", "calendar", "form")
_CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HTTPS_URL = re.compile(r"https://[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?")


@dataclass(frozen=True)
class Embed:
    """How a tracker shows up as page content (a video, a map, a post) rather than unseen.

    A gate replaces such an element with a placeholder that offers to load it.

    :param kind: What the content is, one of :data:`EMBED_KINDS`; the placeholder says
        "Load this <kind>".
    :param widget_classes: Class names of the ``blockquote`` or ``div`` that the
        provider's script turns into the embed (``twitter-tweet``): that element stands for
        the embed, and is replaced while the script is removed.
    """

    kind: str
    widget_classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tracker:
    """A known third-party tracker: where it loads from, its snippet and its cookies.

    :param privacy_url: the provider's privacy policy, linked from the cookie table.
    :param consent_types: Google Consent Mode types (``analytics_storage``, ``ad_storage`` ...)
        that a category using this tracker grants.
    :param embed: How it shows as content, for trackers that are embeds (None otherwise).
    :param category: The category sites usually put it in (``"analytics"``), as
        ``consentgate scan --suggest`` proposes it.
    """

    id: str
    name: str
    provider: str
    sources: tuple[str, ...]
    inline: tuple[str, ...]
    cookies: tuple[CookieSpec, ...]
    privacy_url: str = ""
    consent_types: tuple[str, ...] = ()
    embed: Embed | None = None
    category: str = ""


def entries(ids: tuple[str, ...], field: str) -> list[Tracker]:
    """The catalogue entries that ``ids`` name; an unknown id is an error with a hint."""
    catalogue = tracker_catalogue() if field == "trackers" else preset_catalogue()
    what = "tracker" if field == "trackers" else "preset"
    for i, entry_id in enumerate(ids):
        if entry_id not in catalogue:
            known = f"{hint(entry_id, catalogue)} (known: {', '.join(catalogue)})"
            raise ConfigError(f"{field}[{i}]", f"unknown {what} {entry_id!r}{known}")
    return [catalogue[entry_id] for entry_id in ids]


def tracker_catalogue() -> Mapping[str, Tracker]:
    """The built-in trackers by id, read once from the package's ``trackers.toml``."""
    return _catalogue("trackers.toml")


def preset_catalogue() -> Mapping[str, Tracker]:
    """The frameworks' own cookies by framework, from the package's ``presets.toml``."""
    return _catalogue("presets.toml")


@functools.cache
def _catalogue(filename: str) -> Mapping[str, Tracker]:
    text = importlib.resources.files("consentgate").joinpath(filename).read_text("utf-8")
    catalogue = {}
    for tracker_id, entry in tomllib.loads(text).items():
        try:
            catalogue[tracker_id] = _tracker(tracker_id, entry)
        except ConfigError as error:
            raise ConfigError(f"{filename} [{tracker_id}].{error.key}", error.why) from None
    return types.MappingProxyType(catalogue)


#: What a catalogue entry must have, then what it may have.
_TRACKER_REQUIRED = ("name", "provider", "sources", "inline", "cookies")
_TRACKER_KEYS = (*_TRACKER_REQUIRED, "privacy_url", "consent_types", "embed", "category")


def _tracker(tracker_id: str, entry: Mapping[str, Any]) -> Tracker:
    """One catalogue entry, checked as strictly as a site's own category: a mistake in
    the package's data must fail every start, not leave a tracker ungated."""
    check_keys(entry, _TRACKER_KEYS, "")
    for key in _TRACKER_REQUIRED:
        if key not in entry:
            raise ConfigError(key, "is required")
    for key in ("name", "provider"):
        valid = isinstance(entry[key], str) and bool(entry[key].strip())
        require(valid, key, "must be a non-empty string", entry[key])
    listed = items(entry["cookies"], "cookies", "cookie tables")
    # A cookie's provider defaults to the tracker's.
    tables = [{"provider": entry["provider"], **cast(dict[str, Any], c)} for c in listed]
    cookies = [coerce(CookieSpec, c, f"cookies[{i}]") for i, c in enumerate(tables)]
    return Tracker(
        tracker_id,
        entry["name"],
        entry["provider"],
        _catalogue_sources(entry["sources"]),
        strings(entry["inline"], "inline"),
        tuple(cookies),
        _privacy_url(entry.get("privacy_url", "")),
        consent_types(entry.get("consent_types", ())),
        _embed(entry["embed"]) if "embed" in entry else None,
        _suggested_category(entry.get("category", "")),
    )


def _suggested_category(value: object) -> str:
    """The category a catalogue entry suggests: a valid category name, or none."""
    valid = value == "" or (isinstance(value, str) and CATEGORY_NAME.fullmatch(value) is not None)
    require(valid, "category", "must be a category name such as 'analytics'", value)
    return cast(str, value)


def _catalogue_sources(value: object) -> tuple[str, ...]:
    """Source patterns written as the catalogue writes them: a lower-case host first."""
    sources = strings(value, "sources")
    for i, source in enumerate(sources):
        check_source(source, f"sources[{i}]")
        host = source.partition("/")[0]
        valid = source.startswith(("/", "*/")) or valid_host(host) == host
        require(valid, f"sources[{i}]", "must start with a lower-case host name", source)
    return sources


def _privacy_url(value: object) -> str:
    """A provider's policy: an https URL (the cookie table links it), or empty."""
    valid = value == "" or (isinstance(value, str) and _HTTPS_URL.fullmatch(value) is not None)
    require(valid, "privacy_url", "must be an https:// URL", value)
    return cast(str, value)


def _embed(value: object) -> Embed:
    """The ``embed`` table of a catalogue entry."""
    if not isinstance(value, Mapping):
        raise ConfigError("embed", f"must be a table, got {describe(value)}")
    check_keys(value, ("kind", "widget_classes"), "embed.")
    kind = value.get("kind")
    why = f"must be one of {', '.join(EMBED_KINDS)}{hint(str(kind), EMBED_KINDS)}"
    require(kind in EMBED_KINDS, "embed.kind", why, kind)
    classes = strings(value.get("widget_classes", ()), "embed.widget_classes")
    for i, name in enumerate(classes):
        valid = _CLASS_NAME.fullmatch(name) is not None
        require(valid, f"embed.widget_classes[{i}]", "must be one class name", name)
    return Embed(cast(str, kind), classes)
