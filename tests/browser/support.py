"""What the browser tests look for: the demo's pages, tracking evidence, colours.

Kept apart from ``conftest.py`` so test modules can import the helpers and
types by name; the fixtures that build browsers and servers live there.
"""

from __future__ import annotations

import fnmatch
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import BrowserContext, Locator, Page, Request, Response

from consentgate import ConsentGate, Settings
from consentgate.consent import Consent
from consentgate.scan.serve import served as served
from demo_site.analytics import PageViewLog
from demo_site.views import PAGE_VIEWS

#: Every page of the demo site, including its page-not-found page.
SITE_PAGES = (
    "/",
    "/strategic-partnerships",
    "/alliances",
    "/facts",
    "/resources",
    "/privacy",
    "/analytics",
    "/no-such-page",
)
#: The cookie settings page (the consent blueprint).
PREFERENCES = "/consent"

#: Hosts of Google's tag and analytics services, subdomains included.
GOOGLE_HOSTS = ("googletagmanager.com", "google-analytics.com", "analytics.google.com")
#: The demo's self-hosted counter: its script and the beacon it posts.
SELF_HOSTED = ("/static/analytics.js", "/analytics/beacon")

#: The banner, as the consentgate templates mark it up.
BANNER = "#consentgate-banner"
#: The window most tests use, and the README screenshot's size.
DESKTOP = {"width": 1280, "height": 800}
#: Toggles of the optional categories, in the banner and on the settings page.
OPTIONAL_BOX = 'input[type="checkbox"][name="category"]'


def is_analytics_url(url: str) -> bool:
    """Whether a request URL belongs to Google's analytics or the demo's own counter."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if any(host == h or host.endswith("." + h) for h in GOOGLE_HOSTS):
        return True
    return parts.path in SELF_HOSTED


def matches_any(name: str, globs: Iterable[str]) -> bool:
    """Whether a cookie name matches a declared name or glob (``_ga_*``)."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in globs)


def necessary_globs(settings: Settings) -> list[str]:
    """Names and globs of the cookies in required categories, the consent cookie included."""
    return [spec.name for category, spec in settings.declared_cookies() if category.required]


def declared_globs(settings: Settings) -> list[str]:
    """Names and globs of every cookie the configuration declares."""
    return [spec.name for _, spec in settings.declared_cookies()]


@dataclass
class DemoSite:
    """The demo app served over real HTTP on 127.0.0.1."""

    app: Flask
    base_url: str

    @property
    def gate(self) -> ConsentGate:
        gate: ConsentGate = self.app.extensions["consentgate"]
        return gate

    @property
    def settings(self) -> Settings:
        return self.gate.settings

    @property
    def page_views(self) -> PageViewLog:
        """The page views the self-hosted counter has recorded."""
        log: PageViewLog = self.app.extensions[PAGE_VIEWS]
        return log

    def cookie_table(self) -> list[str]:
        """The cookie names (and globs) in the privacy page's cookie table, as served."""
        page = self.app.test_client().get(self.settings.privacy_url).get_data(as_text=True)
        tables = re.findall(r'<table class="consentgate-declaration">.*?</table>', page, re.S)
        return [html.unescape(n) for t in tables for n in re.findall(r"<code>(.*?)</code>", t)]

    def consent_of(self, cookies: Iterable[Any]) -> Consent:
        """What the browser's consent cookie holds, verified with the site's key."""
        name = self.settings.cookie_name
        value = next((c["value"] for c in cookies if c["name"] == name), None)
        header = f"{name}={value}" if value is not None else ""
        return self.gate.consent_for({"HTTP_COOKIE": header})


@dataclass
class Visitor:
    """One browser profile visiting the demo, and everything it sent and kept.

    Requests are recorded from the context's ``request`` event, so a request
    that fails (Google's hosts are unreachable offline) still counts as made.
    """

    site: DemoSite
    context: BrowserContext
    page: Page
    requests: list[Request] = field(default_factory=list)
    cookies_seen: set[str] = field(default_factory=set)
    closed: bool = False

    def __post_init__(self) -> None:
        self.context.on("request", lambda request: self.requests.append(request))

    def goto(self, path: str) -> Response | None:
        """Open a page of the site and wait for its load event (deferred scripts have run)."""
        return self.page.goto(self.site.base_url + path)

    def url_path(self) -> str:
        return urlsplit(self.page.url).path

    def cookies(self) -> list[Any]:
        cookies = list(self.context.cookies())
        self.cookies_seen.update(c["name"] for c in cookies)
        return cookies

    def cookie_names(self) -> set[str]:
        return {c["name"] for c in self.cookies()}

    def consent(self) -> Consent:
        """The decision the browser's consent cookie holds."""
        return self.site.consent_of(self.cookies())

    def analytics_requests(self) -> list[str]:
        return [f"{r.method} {r.url}" for r in self.requests if is_analytics_url(r.url)]

    def storage_keys(self) -> list[str]:
        """Keys the current page's origin holds in localStorage and sessionStorage."""
        keys: list[str] = self.page.evaluate(
            """() => [
                ...Object.keys(localStorage).map(k => 'localStorage:' + k),
                ...Object.keys(sessionStorage).map(k => 'sessionStorage:' + k),
            ]"""
        )
        return keys

    def tracking(self) -> list[str]:
        """Every trace of analytics: requests made, optional cookies, stored keys.

        Only cookies of required categories (the consent cookie) may exist
        without consent, and the configuration declares no storage keys, so
        any key at all is a trace.
        """
        necessary = necessary_globs(self.site.settings)
        optional = sorted(n for n in self.cookie_names() if not matches_any(n, necessary))
        return (
            self.analytics_requests()
            + [f"cookie {name}" for name in optional]
            + [f"storage {key}" for key in self.storage_keys()]
        )

    def banner_shown(self) -> bool:
        return self.page.locator(BANNER).is_visible()

    def press(self, control: Locator) -> None:
        """Click a link or a button and wait for the page it leads to to load.

        Reading the page right after a bare click can see the old document or
        an empty new one. A decision is a new page too: with JavaScript it is
        posted with fetch and the page reloads; without, the form posts and
        the server redirects.
        """
        with self.page.expect_event("load"):
            control.click()

    def close(self) -> None:
        """Note the last cookies and close the profile (a browser restart, if persistent)."""
        if not self.closed:
            self.cookies()
            self.context.close()
            self.closed = True


_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_rgb(css: str) -> tuple[float, float, float, float]:
    """``rgb(...)``/``rgba(...)`` as computed by the browser -> (r, g, b, alpha)."""
    match = _RGB.fullmatch(css.strip())
    if match is None:
        raise ValueError(f"not an rgb() colour: {css!r}")
    r, g, b, alpha = match.groups()
    a = 1.0 if alpha is None else float(alpha.rstrip("%")) / (100 if alpha.endswith("%") else 1)
    return float(r), float(g), float(b), a


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, backgrounds: list[str]) -> float:
    """WCAG contrast of a text colour over its stack of backgrounds (nearest first).

    Translucent backgrounds are blended over the ones behind them, ending on
    white (the canvas); a translucent text colour is blended over the result.
    """
    r, g, b = 255.0, 255.0, 255.0
    for css in reversed(backgrounds):
        br, bg, bb, a = parse_rgb(css)
        r, g, b = br * a + r * (1 - a), bg * a + g * (1 - a), bb * a + b * (1 - a)
    fr, fg, fb, fa = parse_rgb(foreground)
    text = (fr * fa + r * (1 - fa), fg * fa + g * (1 - fa), fb * fa + b * (1 - fa))
    lighter, darker = sorted((_luminance(text), _luminance((r, g, b))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
