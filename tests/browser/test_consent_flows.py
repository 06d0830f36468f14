"""The visitor's choices, end to end: before, accept, reject, withdraw, granular, no JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import BANNER, PREFERENCES, SITE_PAGES, Visitor

pytestmark = pytest.mark.browser

GTAG = "https://www.googletagmanager.com/gtag/js"
ANALYTICS_BOX = re.compile("Analytics cookies")


def is_beacon(url: str) -> bool:
    """Whether a URL (or a recorded "METHOD URL") is the page counter's beacon."""
    return url.endswith("/analytics/beacon")


def test_nothing_is_tracked_before_a_choice(visitor: Visitor) -> None:
    page = visitor.page
    accept = page.locator(BANNER).get_by_role("button", name="Accept all")

    def escape_from_the_banner() -> None:
        accept.focus()
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)

    def scroll_to_the_end() -> None:
        page.mouse.move(640, 400)
        page.mouse.wheel(0, 20_000)
        page.keyboard.press("End")
        page.wait_for_function("window.scrollY > 0")
        page.wait_for_timeout(500)

    steps: list[tuple[str, Callable[[], object]]] = [
        ("waiting for network idle", lambda: None),
        ("scrolling to the end", scroll_to_the_end),
        ("pressing Escape", escape_from_the_banner),
        ("waiting ten seconds", lambda: page.wait_for_timeout(10_000)),
        ("opening a second page", lambda: visitor.goto("/facts")),
    ]
    visitor.page.goto(visitor.site.base_url + "/", wait_until="networkidle")
    for step, action in steps:
        action()
        page.wait_for_load_state("networkidle")
        assert not visitor.consent().decided, f"{step} was taken as a choice"
        assert visitor.banner_shown(), f"the banner went away after {step}"
        assert visitor.tracking() == [], f"analytics ran after {step}"
    assert len(visitor.site.page_views) == 0


def test_reject_all_keeps_every_page_clean(visitor: Visitor) -> None:
    visitor.goto("/resources")
    visitor.press(visitor.page.locator(BANNER).get_by_role("button", name="Reject all"))

    assert visitor.url_path() == "/resources"
    assert not visitor.banner_shown()
    assert visitor.tracking() == []
    visitor.page.reload()
    assert visitor.tracking() == [], "analytics ran after a reload"
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        assert not visitor.banner_shown(), f"{path} asked again after a refusal"
        assert visitor.tracking() == [], f"analytics ran on {path} after a refusal"
    consent = visitor.consent()
    assert consent.decided and not consent.allows("analytics")
    assert len(visitor.site.page_views) == 0


def test_reject_all_survives_a_browser_restart(
    make_visitor: Callable[..., Visitor], tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    first = make_visitor(profile=profile)
    first.goto("/")
    first.press(first.page.locator(BANNER).get_by_role("button", name="Reject all"))
    first.close()

    again = make_visitor(profile=profile)
    again.goto("/analytics")
    assert not again.banner_shown(), "the banner asked again after a restart"
    assert again.tracking() == []
    assert "Analytics cookies: refused" in again.page.locator("main").inner_text()
    assert len(again.site.page_views) == 0


def test_accept_all_loads_both_analytics(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/facts")
    visitor.press(page.locator(BANNER).get_by_role("button", name="Accept all"))
    page.wait_for_load_state("networkidle")

    assert visitor.url_path() == "/facts"
    assert not visitor.banner_shown()
    assert visitor.consent().allows("analytics")
    requested = visitor.analytics_requests()
    assert any(r.startswith(f"GET {GTAG}") for r in requested), "gtag.js was never requested"
    assert any(is_beacon(r) for r in requested), "the page counter sent no beacon"
    visitor_id = next(c["value"] for c in visitor.cookies() if c["name"] == "ka2_visitor")
    visitor.goto("/analytics")
    rows = page.locator("table.page-views tbody tr").all_inner_texts()
    assert any("/facts" in row and visitor_id in row for row in rows), (
        f"the /analytics page lists no page view of /facts from this browser: {rows}"
    )


def test_withdrawing_consent_removes_cookies_and_stops_beacons(visitor: Visitor) -> None:
    page, site = visitor.page, visitor.site
    visitor.goto("/alliances")
    with page.expect_request(lambda r: is_beacon(r.url)):
        visitor.press(page.locator(BANNER).get_by_role("button", name="Accept all"))
    # Google's cookies, as gtag.js sets them where it can load.
    visitor.context.add_cookies(
        [
            {"name": "_ga", "value": "GA1.1.1234567890.1700000000", "url": site.base_url},
            {"name": "_ga_XXXXXXXXXX", "value": "GS1.1.1700000000.1.0", "url": site.base_url},
        ]
    )
    assert {"ka2_visitor", "_ga", "_ga_XXXXXXXXXX"} <= visitor.cookie_names()

    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    box = page.get_by_role("checkbox", name=ANALYTICS_BOX)
    assert box.is_checked(), "the settings page does not show the consent given"
    box.uncheck()
    visitor.press(page.get_by_role("button", name="Save my choices"))

    left = visitor.cookie_names() - {site.settings.cookie_name}
    assert left == set(), f"analytics cookies stayed in the browser after withdrawal: {left}"
    beacons, views = len(visitor.analytics_requests()), len(site.page_views)
    for path in ("/", "/facts", "/analytics"):
        visitor.goto(path)
    assert visitor.analytics_requests()[beacons:] == [], "analytics ran after withdrawal"
    assert len(site.page_views) == views, "beacons still arrived after withdrawal"
    assert "Analytics cookies: refused" in page.locator("main").inner_text()


def test_preferences_page_always_shows_the_cookie(visitor: Visitor) -> None:
    page = visitor.page
    box = page.get_by_role("checkbox", name=ANALYTICS_BOX)
    visitor.goto(PREFERENCES)
    assert not box.is_checked() and not visitor.consent().decided

    visitor.goto("/")
    page.locator(BANNER).get_by_text("Choose which cookies to allow").click()
    page.locator(BANNER).get_by_role("checkbox", name=ANALYTICS_BOX).check()
    with page.expect_request(lambda r: is_beacon(r.url)):
        visitor.press(page.locator(BANNER).get_by_role("button", name="Save my choices"))
    assert visitor.consent().granted == {"necessary", "analytics"}

    for held in (True, False, True):
        visitor.goto(PREFERENCES)
        assert box.is_checked() == visitor.consent().allows("analytics") == held
        box.set_checked(not held)
        visitor.press(page.get_by_role("button", name="Save my choices"))
        assert visitor.consent().allows("analytics") == (not held)
        assert box.is_checked() == (not held), "the page disagrees with the cookie after saving"


@pytest.mark.parametrize(
    ("path", "button", "analytics"),
    [
        pytest.param("/facts", "Accept all", True, id="accept-all"),
        pytest.param("/alliances", "Reject all", False, id="reject-all"),
        pytest.param("/resources", "Save my choices", True, id="save-choices"),
    ],
)
def test_banner_works_without_javascript(
    make_visitor: Callable[..., Visitor], path: str, button: str, analytics: bool
) -> None:
    visitor = make_visitor(java_script_enabled=False)
    page = visitor.page
    banner = page.locator(BANNER)
    visitor.goto(path)
    if button == "Save my choices":
        banner.get_by_text("Choose which cookies to allow").click()
        banner.get_by_role("checkbox", name=ANALYTICS_BOX).check()
    visitor.press(banner.get_by_role("button", name=button))

    assert visitor.url_path() == path, "the choice did not lead back to the page"
    assert not visitor.banner_shown()
    assert visitor.consent().decided and visitor.consent().allows("analytics") == analytics
    assert page.locator('script[src$="/analytics.js"]').count() == int(analytics)


def test_settings_page_works_without_javascript(make_visitor: Callable[..., Visitor]) -> None:
    visitor = make_visitor(java_script_enabled=False)
    page = visitor.page
    box = page.get_by_role("checkbox", name=ANALYTICS_BOX)
    visitor.goto("/facts")
    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    for choice in (True, False):
        box.set_checked(choice)
        visitor.press(page.get_by_role("button", name="Save my choices"))
        assert visitor.url_path() == PREFERENCES, "saving did not lead back to the settings page"
        assert visitor.consent().allows("analytics") == choice
        assert box.is_checked() == choice, "the settings page does not show what was saved"
