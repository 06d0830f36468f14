"""The JavaScript API (window.consentgate) on the demo site, with and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error, Route

from .support import BANNER, PREFERENCES, Visitor

pytestmark = pytest.mark.browser

#: Saves analytics without a reload; gives the event's detail and the promise's value.
SAVE_WITHOUT_RELOAD = """async () => {
    const change = new Promise((resolve) => document.addEventListener(
        "consentgate:change", (event) => resolve(event.detail), { once: true }));
    const answered = await window.consentgate.save(["analytics"], { reload: false });
    return [await change, answered];
}"""
#: Logs, as the page unloads, whether the banner is still in it.
WATCH_UNLOAD = """() => addEventListener("beforeunload", () =>
    console.log("banner at unload: " + Boolean(document.getElementById("consentgate-banner"))))"""


def state(visitor: Visitor) -> Any:
    return visitor.page.evaluate("window.consentgate.state")


def assert_state_is_the_cookie(visitor: Visitor) -> None:
    seen, held = state(visitor), visitor.consent()
    assert seen["decided"] == held.decided
    assert set(seen["granted"]) == held.granted
    assert seen["consent_id"] == (held.consent_id if held.decided else None)


def test_state_is_in_the_page_before_any_request(visitor: Visitor) -> None:
    fetched: list[str] = []
    visitor.page.on("request", lambda r: fetched.append(r.url) if "/consent" in r.url else None)
    visitor.goto("/facts")
    assert_state_is_the_cookie(visitor)
    assert state(visitor)["refused"] == ["analytics", "media"]
    # The script itself, and no request for the state.
    assert [url for url in fetched if not url.endswith(".js")] == []


def test_accept_through_the_api_reloads_a_gated_page(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/facts")
    beacon = page.expect_request(lambda r: r.url.endswith("/analytics/beacon"))
    with beacon, page.expect_event("load"):
        # Not awaited: the reload ends the page the promise lives in.
        page.evaluate("() => { window.consentgate.accept(); }")
    assert visitor.url_path() == "/facts"
    assert not visitor.banner_shown()
    assert visitor.consent().allows("analytics")
    assert_state_is_the_cookie(visitor)
    assert page.locator('script[src$="/analytics.js"]').count() == 1
    visitor.goto("/alliances")
    assert not visitor.banner_shown(), "the banner came back after a choice"


def test_reject_through_the_api_reloads_a_clean_page(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/resources")
    with page.expect_event("load"):
        page.evaluate("() => { window.consentgate.reject(); }")
    assert not visitor.banner_shown()
    consent = visitor.consent()
    assert consent.decided and not consent.allows("analytics")
    assert_state_is_the_cookie(visitor)
    page.wait_for_load_state("networkidle")
    assert visitor.tracking() == []
    assert len(visitor.site.page_views) == 0


def test_banner_buttons_decide_through_the_api_without_a_flash(visitor: Visitor) -> None:
    page = visitor.page
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    visitor.goto("/alliances")
    page.evaluate(WATCH_UNLOAD)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(PREFERENCES)) as post:
        visitor.press(page.locator(BANNER).get_by_role("button", name="Reject all"))
    assert post.value.resource_type == "fetch", "the banner posted the form, not the API"
    unload = [text for text in logged if text.startswith("banner at unload")]
    assert unload == ["banner at unload: false"], "the banner was still there at the reload"
    assert visitor.url_path() == "/alliances" and not visitor.banner_shown()
    assert visitor.consent().decided and not visitor.consent().allows("analytics")


def test_change_event_without_a_reload(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/")
    page.evaluate("window.marker = 'same page'")
    detail, answered = page.evaluate(SAVE_WITHOUT_RELOAD)

    assert page.evaluate("window.marker") == "same page", "the page reloaded"
    assert detail == answered == state(visitor)
    assert detail["granted"] == ["necessary", "analytics"] and detail["decided"]
    assert page.locator(BANNER).count() == 0, "the banner stayed after the choice"
    assert_state_is_the_cookie(visitor)
    # The gate's promise holds until the page is requested again: nothing ran yet.
    assert visitor.analytics_requests() == []


def test_accept_adds_to_what_is_granted_and_save_takes_a_list(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/")
    quiet = "{ reload: false }"
    refused = page.evaluate(f"window.consentgate.reject({quiet})")
    assert refused["decided"] and refused["granted"] == ["necessary"]
    added = page.evaluate(f"window.consentgate.accept(['analytics'], {quiet})")
    assert added["granted"] == ["necessary", "analytics"]
    assert visitor.consent().allows("analytics")
    with pytest.raises(Error, match="must be an array"):
        page.evaluate(f"window.consentgate.save('analytics', {quiet})")
    assert visitor.consent().allows("analytics"), "a refused call changed the choice"


def _answer(status: int) -> Callable[[Route], None]:
    def handle(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
        elif status:
            route.fulfill(status=status, content_type="text/plain", body="refused\n")
        else:
            route.abort("connectionreset")

    return handle


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(403, id="forbidden"),
        pytest.param(503, id="store-unavailable"),
        pytest.param(0, id="network-error"),
    ],
)
def test_a_refused_decision_rejects_and_keeps_the_banner(visitor: Visitor, status: int) -> None:
    page = visitor.page
    # The server's refusal (a cross-site post, a records store that cannot write)
    # or a lost connection, as the browser would see it.
    page.route(f"**{PREFERENCES}", _answer(status))
    visitor.goto("/facts")
    page.evaluate("window.marker = 'same page'")
    with pytest.raises(Error) as raised:
        page.evaluate("window.consentgate.accept()")
    if status:
        assert f"HTTP {status}" in str(raised.value)
    page.locator(BANNER).get_by_role("button", name="Accept all").click()
    assert page.get_by_role("alert").inner_text().startswith("Your choice could not be saved")

    assert page.evaluate("window.marker") == "same page", "the page reloaded"
    assert visitor.banner_shown()
    assert not visitor.consent().decided
    assert state(visitor)["decided"] is False
    assert visitor.tracking() == []


def test_cookie_settings_open_through_the_api_and_lead_back(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto("/facts?year=2020")
    page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings").click()
    page.wait_for_url("**/consent?next=*")
    assert page.evaluate("location.search") == "?next=%2Ffacts%3Fyear%3D2020"
    page.get_by_role("checkbox", name="Analytics cookies").check()
    visitor.press(page.get_by_role("button", name="Save my choices"))
    assert visitor.url_path() == "/facts", "saving did not lead back to the page"
    assert visitor.consent().allows("analytics")


def test_without_javascript_the_page_works_as_plain_html(
    make_visitor: Callable[..., Visitor],
) -> None:
    visitor = make_visitor(java_script_enabled=False)
    page = visitor.page
    visitor.goto("/facts")
    link = page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings")
    assert link.get_attribute("href") == PREFERENCES
    visitor.press(page.locator(BANNER).get_by_role("button", name="Accept all"))
    assert visitor.url_path() == "/facts" and not visitor.banner_shown()
    assert visitor.consent().allows("analytics")
    # The counter is in the page, but nothing runs: no script, no page view.
    assert page.locator('script[src$="/analytics.js"]').count() == 1
    assert visitor.analytics_requests() == []
    link.click()
    page.wait_for_url(f"**{PREFERENCES}")
