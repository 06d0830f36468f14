"""What the gate writes into pages: the banner (or opt-out notice) with its style, the
JavaScript API's tags and the Google Consent Mode default.

Each depends on a few values only (the path, the request's mode and GPC signal, the
language, the consent, the mount prefix), so it is rendered once and kept in a bounded
cache (:class:`~consentgate.cache.Memo`): a hit costs a dictionary lookup, which matters
as every page for an undecided visitor carries the banner. A response with a Content
Security Policy nonce gets the tags written afresh around the kept form, since the
nonce changes with every response. Pure: the gate reads the request and passes the
values in (:meth:`~consentgate.gate.Gate.banner_for` and its neighbours).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from . import ui
from .cache import Memo, SizedCache
from .config import Settings
from .consent import Consent
from .paths import path_and_query
from .script import consent_state, state_json, state_tags

#: Distinct (path, state, language) whose banner is kept, and the bytes they may hold.
BANNER_CACHE = 1024
BANNER_CACHE_BYTES = 8 << 20
#: Distinct consent states (with the mount prefix) whose API tags and Consent Mode
#: element are kept, and the bytes each cache may hold.
STATE_CACHE = 4096
STATE_CACHE_BYTES = 4 << 20

#: A banner's key: ``SCRIPT_NAME``, ``PATH_INFO`` and ``QUERY_STRING`` as the server gave
#: them (a hit needs no quoting), the mode, whether GPC is honoured, the language.
BannerKey: TypeAlias = tuple[str, str, str, str, bool, str]
#: What the API's tags depend on: the consent, the mode, GPC honoured, the mount prefix.
TagsKey: TypeAlias = tuple[Consent, str, bool, str]


class Inserts:
    """The gate's additions to pages for one configuration, rendered once and kept.

    :param settings: the gate's settings.
    :param prefix_of: the mount prefix to write for a ``SCRIPT_NAME``
        (:meth:`~consentgate.gate.Gate.mount_prefix`, which refuses unsafe ones).
    """

    def __init__(self, settings: Settings, prefix_of: Callable[[str], str]) -> None:
        self.settings = settings
        self.prefix_of = prefix_of
        #: Banner key -> the banner's form (no style: that carries the nonce).
        self._forms = Memo(self._form, max_entries=BANNER_CACHE, max_bytes=BANNER_CACHE_BYTES)
        #: Banner key -> the consent and, for it, the style, the form and the API's tags,
        #: without a nonce. Only an undecided visitor gets a banner, so a key meets one
        #: consent (per mode and GPC, which the key holds) and seldom another: kept so, a
        #: hit compares the consent by identity instead of hashing it (a Python call).
        self._banners: SizedCache[BannerKey, tuple[Consent, bytes]] = SizedCache(
            max_entries=BANNER_CACHE, max_bytes=BANNER_CACHE_BYTES
        )
        #: (consent, mode, GPC) -> the state as the pages' JSON, for the API's tags.
        self._states = Memo(self._state, max_entries=STATE_CACHE, max_bytes=STATE_CACHE_BYTES)
        #: Tags key -> the API's tags without a nonce.
        self._tags: Memo[TagsKey, str] = Memo(
            self._render_tags, max_entries=STATE_CACHE, max_bytes=STATE_CACHE_BYTES
        )
        #: A Consent Mode snippet -> its ``<script>`` element without a nonce.
        self._mode_tags: Memo[str, bytes] = Memo(
            _script_element, max_entries=STATE_CACHE, max_bytes=STATE_CACHE_BYTES
        )

    def banner(self, key: BannerKey, consent: Consent, nonce: str) -> bytes:
        """The banner with its style and the API's tags for ``consent``; ``nonce`` is the
        CSP nonce attribute (:func:`~consentgate.csp.nonce_attr`) or ``""``."""
        if not nonce:  # the whole insertion is the same for the next such response
            hit = self._banners.get(key)
            if hit is not None and (hit[0] is consent or hit[0] == consent):
                return hit[1]
            return self._banners.put(key, (consent, self._banner(key, consent)))[1]
        script_name, _, _, mode, gpc, _ = key
        tags = self.script_tags((consent, mode, gpc, self.prefix_of(script_name)), nonce)
        return self.form(key, nonce) + tags.encode("utf-8")

    def form(self, key: BannerKey, nonce: str) -> bytes:
        """The banner with its style (carrying ``nonce``), without the API's tags."""
        return ui.style_tag(nonce) + self._forms[key]

    def script_tags(self, key: TagsKey, nonce: str) -> str:
        """The JavaScript API's two tags (:func:`~consentgate.script.state_tags`)."""
        return self._render_tags(key, nonce) if nonce else self._tags[key]

    def consent_mode(self, script: str, nonce: str) -> bytes:
        """The Consent Mode snippet ``script`` as an inline ``<script>`` element."""
        return f"<script{nonce}>{script}</script>".encode() if nonce else self._mode_tags[script]

    def _banner(self, key: BannerKey, consent: Consent) -> bytes:
        script_name, _, _, mode, gpc, _ = key
        # Rendered, not taken from _forms: that cache serves responses with a nonce.
        form = self._form(key)
        tags = self._tags[(consent, mode, gpc, self.prefix_of(script_name))]
        return ui.style_tag() + form + tags.encode("utf-8")

    def _form(self, key: BannerKey) -> bytes:
        script_name, path_info, query, mode, gpc, lang = key
        next_url = path_and_query("", path_info, query)
        prefix = self.prefix_of(script_name)
        if mode == "opt-out":
            form = ui.notice_form(self.settings, next_url, prefix, gpc=gpc, language=lang)
            return form.encode("utf-8")
        return ui.banner_form(self.settings, next_url, prefix, lang).encode("utf-8")

    def _state(self, key: tuple[Consent, str, bool]) -> str:
        consent, mode, gpc = key
        return state_json(consent_state(consent, self.settings, gpc=gpc, mode=mode))

    def _render_tags(self, key: TagsKey, nonce: str = "") -> str:
        consent, mode, gpc, prefix = key
        return state_tags(self._states[(consent, mode, gpc)], prefix, self.settings.endpoint, nonce)


def _script_element(script: str) -> bytes:
    """``script`` as an inline ``<script>`` element (one without a CSP nonce)."""
    return f"<script>{script}</script>".encode()
