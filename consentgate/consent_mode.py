"""Google Consent Mode v2: the consent state a page's Google tags start with.

Google's tags (gtag.js, Tag Manager) read their consent state from commands queued on
``window.dataLayer`` before they load. A client-side banner can only queue a ``default``
and later an ``update``, and tags that fire in between see the default. The gate knows
the visitor's choice before the page leaves the server, so it writes the one true
state as the default, ahead of every script of the page, and no update is ever needed
(hence no ``wait_for_update``):

.. code-block:: javascript

    window.dataLayer = window.dataLayer || [];
    (function () {
      function gtag() { dataLayer.push(arguments); }
      gtag("consent", "default", {"ad_storage": "denied", ..., "analytics_storage": "granted"});
      gtag("set", "ads_data_redaction", true);   // when configured
      gtag("set", "url_passthrough", true);      // when configured
    })();

``gtag`` stays local to the snippet, so a page that declares its own ``gtag`` (with
``let`` or ``const``, say) is not broken by a second declaration.

A type is ``granted`` when every category that maps it is allowed (a required category
always is); a type no category maps is ``denied``. This module is pure: it reads the
settings and a :class:`~consentgate.consent.Consent`, never a request.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .catalogue import CONSENT_TYPES
from .config import Settings
from .consent import Consent

__all__ = ["ConsentMode"]


class ConsentMode:
    """The Consent Mode side of the settings, compiled once per gate.

    :param settings: the gate's settings: each category's ``consent_types`` and
        ``google_consent_mode``, and the top-level ``consent_mode``,
        ``ads_data_redaction`` and ``url_passthrough``.

    >>> from consentgate import Category
    >>> mode = ConsentMode(Settings(secret_key="k" * 32, categories=[
    ...     Category("analytics", trackers=["google-analytics"])]))
    >>> mode.state(Consent(granted=frozenset({"analytics"}), decided=True))["analytics_storage"]
    'granted'
    """

    def __init__(self, settings: Settings) -> None:
        mapped: dict[str, list[str]] = {}
        for category in settings.categories:
            for consent_type in category.consent_types:
                mapped.setdefault(consent_type, []).append(category.name)
        #: Consent type -> the categories that must all be allowed for it to be granted.
        self._mapped = {name: tuple(names) for name, names in mapped.items()}
        self._switched_on = settings.consent_mode
        #: Whether the snippet is ever written: switched on, and some type is mapped.
        self.enabled = settings.consent_mode and bool(mapped)
        #: Categories that hold a Google tag (a mapped type, or a tracker by Google).
        self._google = tuple(c.name for c in settings.categories if c.google)
        #: Categories whose tags stay, in ``denied`` state, for a visitor who refused them;
        #: only while the snippet is written, so that they never run without it.
        self.advanced = frozenset(
            c.name
            for c in settings.categories
            if self.enabled and c.google_consent_mode == "advanced"
        )
        sets = [
            ("ads_data_redaction", settings.ads_data_redaction),
            ("url_passthrough", settings.url_passthrough),
        ]
        self._sets = "".join(f'gtag("set","{name}",true);' for name, on in sets if on)

    def warnings(self) -> list[str]:
        """What the site owner should hear at start-up: Google tags that will run with
        no consent default, because no category maps a consent type."""
        if self.enabled or not self._google or not self._switched_on:
            return []
        return [
            f"categories {', '.join(self._google)} hold Google tags but no category maps a "
            "Google Consent Mode type (consent_types): no consent default is sent, so those "
            "tags run as if every type were granted"
        ]

    def state(self, consent: Consent) -> dict[str, str]:
        """Every Consent Mode v2 type, ``"granted"`` or ``"denied"`` for this visitor."""
        return {
            name: "granted"
            if name in self._mapped and all(map(consent.allows, self._mapped[name]))
            else "denied"
            for name in CONSENT_TYPES
        }

    def due(self, consent: Consent) -> bool:
        """Whether this visitor's pages get the snippet: a Google tag may stay in them,
        its category being allowed or in advanced mode. Otherwise the gate removes every
        Google tag and nothing would read the snippet."""
        return self.enabled and any(
            consent.allows(name) or name in self.advanced for name in self._google
        )

    def script(self, consent: Consent) -> str | None:
        """The snippet's JavaScript for this visitor (no ``<script>`` tag), or None
        when none is due (:meth:`due`)."""
        if not self.due(consent):
            return None
        default = json.dumps(self.state(consent), separators=(",", ":"))
        return (
            "window.dataLayer=window.dataLayer||[];(function(){"
            "function gtag(){dataLayer.push(arguments);}"
            f'gtag("consent","default",{default});{self._sets}}})();'
        )

    def keeps(self, consent: Consent) -> Callable[[str], bool]:
        """Whether an element of a category stays in this visitor's pages: the category
        is allowed, or refused in advanced mode (cookies are gated all the same)."""
        if not self.advanced:
            return consent.allows
        advanced = self.advanced
        return lambda name: name in advanced or consent.allows(name)
