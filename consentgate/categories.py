"""A consent category: a purpose the visitor accepts or refuses, and what belongs to it.

A category gathers its own cookies, sources and inline signatures with those of the
catalogue entries it names (:mod:`consentgate.catalogue`), checked when it is built.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .catalogue import (
    CATEGORY_NAME,
    CookieSpec,
    Tracker,
    check_source,
    coerce,
    consent_types,
    entries,
    set_texts,
)
from .checks import (
    ConfigError,
    check_type,
    describe,
    hint,
    items,
    keyword_errors,
    require,
    strings,
)

GoogleConsentMode = Literal["basic", "advanced"]
_CONSENT_MODES = ("basic", "advanced")


@keyword_errors
@dataclass(frozen=True)
class Category:
    """A purpose the visitor can accept or refuse, and what belongs to it.

    Lists may be any iterable and are stored as tuples. The cookies, sources
    and inline signatures of ``trackers`` are merged in after the explicit ones,
    so ``Category("analytics", trackers=["google-analytics"])`` is enough.

    :param name: ``[a-z0-9][a-z0-9_-]{0,31}``; used in the consent cookie and forms.
    :param required: Always granted (strictly necessary cookies).
    :param label: Shown in the banner (default ``name.capitalize()``), above ``description``.
        Either may be a string or a table of translations, ``{"en": "...", "fr": "..."}``,
        which must hold the ``default_language``'s (:func:`~consentgate.messages.category_label`).
    :param cookies: Cookie names, globs, :class:`CookieSpec` objects or tables.
    :param sources: URL patterns for ``src``/``href``: ``host.tld`` (and its
        subdomains), ``host.tld/path``, ``/path`` (same site), ``*/file.js`` (any host).
    :param inline: Strings that identify an inline script (case-sensitive).
    :param trackers: Ids from the built-in tracker catalogue.
    :param presets: Frameworks whose own cookies belong here: ``"django"``, ``"flask"``.
    :param consent_types: Google Consent Mode types this category grants (``ad_storage``,
        ``analytics_storage`` ...), added to those of its ``trackers``.
    :param google_consent_mode: ``"basic"``: the category's tags are removed while it is
        refused; ``"advanced"``: they stay and run with its consent types ``denied``
        (only Google trackers may then be listed in ``trackers``).
    :param gpc: Refused in opt-out mode for a browser that sends Global Privacy
        Control (``Sec-GPC: 1``). None (the default) is true for every optional
        category and false for required ones, which can never be refused.
    :param youtube_nocookie: Load its YouTube embeds from ``www.youtube-nocookie.com``,
        which stores nothing until the video plays (they stay gated all the same).
    """

    name: str
    required: bool = False
    label: str | Mapping[str, str] = ""
    description: str | Mapping[str, str] = ""
    cookies: tuple[CookieSpec, ...] = ()
    sources: tuple[str, ...] = ()
    inline: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()
    presets: tuple[str, ...] = ()
    consent_types: tuple[str, ...] = ()
    google_consent_mode: GoogleConsentMode = "basic"
    gpc: bool | None = None
    youtube_nocookie: bool = False

    if TYPE_CHECKING:
        # What the constructor accepts; the fields above are what it stores (the
        # dataclass's own __init__ runs, this only types it).
        def __init__(
            self,
            name: str,
            required: bool = ...,
            label: str | Mapping[str, str] = ...,
            description: str | Mapping[str, str] = ...,
            cookies: Iterable[str | CookieSpec | Mapping[str, object]] = ...,
            sources: Iterable[str] = ...,
            inline: Iterable[str] = ...,
            trackers: Iterable[str] = ...,
            presets: Iterable[str] = ...,
            consent_types: Iterable[str] = ...,
            google_consent_mode: GoogleConsentMode = ...,
            gpc: bool | None = ...,
            youtube_nocookie: bool = ...,
        ) -> None: ...

    def __post_init__(self) -> None:
        valid = isinstance(self.name, str) and CATEGORY_NAME.fullmatch(self.name) is not None
        require(valid, "name", "must match [a-z0-9][a-z0-9_-]{0,31}", self.name)
        check_type(self.required, bool, "required", "true or false")
        check_type(self.gpc, (bool, type(None)), "gpc", "true, false or None")
        why = "must be false for a required category: the signal cannot refuse it"
        require(not (self.required and self.gpc), "gpc", why, self.gpc)
        check_type(self.youtube_nocookie, bool, "youtube_nocookie", "true or false")
        for key in ("label", "description"):
            set_texts(self, key)
        listed = items(self.cookies, "cookies", "cookie names or tables")
        cookies = [coerce(CookieSpec, c, f"cookies[{i}]") for i, c in enumerate(listed)]
        sources = [s.strip() for s in strings(self.sources, "sources")]
        for i, source in enumerate(sources):
            check_source(source, f"sources[{i}]")
        inline = list(strings(self.inline, "inline"))
        trackers = strings(self.trackers, "trackers")
        presets = strings(self.presets, "presets")
        granted = list(consent_types(self.consent_types))
        catalogued = entries(trackers, "trackers")
        _check_consent_mode(self.google_consent_mode, catalogued)
        for tracker in (*catalogued, *entries(presets, "presets")):
            cookies.extend(tracker.cookies)
            sources.extend(tracker.sources)
            inline.extend(tracker.inline)
            granted.extend(tracker.consent_types)
        by_name: dict[str, CookieSpec] = {}
        for spec in cookies:
            by_name.setdefault(spec.name, spec)  # an explicit description wins
        set_ = functools.partial(object.__setattr__, self)
        set_("label", self.label or self.name.capitalize())
        set_("gpc", not self.required if self.gpc is None else self.gpc)
        set_("cookies", tuple(by_name.values()))
        set_("sources", tuple(dict.fromkeys(sources)))
        set_("inline", tuple(dict.fromkeys(inline)))
        set_("trackers", tuple(dict.fromkeys(trackers)))
        set_("presets", tuple(dict.fromkeys(presets)))
        set_("consent_types", tuple(dict.fromkeys(granted)))

    @property
    def google(self) -> bool:
        """Whether a Google tag belongs here: the category lists a tracker Google provides
        (Tag Manager maps no consent type), or maps a consent type and lists sources or
        inline signatures of its own (a required category that only maps
        ``security_storage`` holds no tag)."""
        own = bool(self.consent_types) and bool(self.sources or self.inline)
        trackers = entries(self.trackers, "trackers")
        # An embed by Google (YouTube, Maps) is content, not a tag that reads Consent Mode.
        return own or any(t.provider == "Google" and t.embed is None for t in trackers)


def _check_consent_mode(mode: object, trackers: list[Tracker]) -> None:
    """``"basic"`` or ``"advanced"``; advanced keeps every tag of the category for a
    visitor who refused it, so it may hold Google's trackers only."""
    if mode not in _CONSENT_MODES:
        why = f"must be 'basic' or 'advanced', got {describe(mode)}"
        raise ConfigError("google_consent_mode", why + hint(str(mode), _CONSENT_MODES))
    for i, tracker in enumerate(trackers):
        if mode == "advanced" and tracker.provider != "Google":
            why = (
                f"{tracker.id!r} is not a Google tracker: advanced Consent Mode keeps the "
                "category's tags for visitors who refused it; move it to a basic category"
            )
            raise ConfigError(f"trackers[{i}]", why)
        if mode == "advanced" and tracker.embed is not None:
            why = (
                f"{tracker.id!r} is an embed, which does not read Consent Mode: advanced "
                "mode would load it for visitors who refused it; move it to a basic category"
            )
            raise ConfigError(f"trackers[{i}]", why)
