"""The demo in opt-out mode (US state laws): analytics until the visitor opts out,
and never for a browser that sends Global Privacy Control."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo_site import create_app

from .conftest import SECRET
from .support import BANNER, PREFERENCES, DemoSite, Visitor, served
from .test_accessibility import axe_violations

pytestmark = pytest.mark.browser

OPT_OUT = "Do not sell or share my personal information"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[DemoSite]:
    """The demo site served in opt-out mode (replaces the opt-in one for this module)."""
    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET, "CONSENTGATE_MODE": "opt-out"})
    app.instance_path = str(tmp_path / "instance")
    with served(app) as url:
        yield DemoSite(app, url)


def test_gpc_refuses_analytics_before_any_click(make_visitor: Callable[..., Visitor]) -> None:
    visitor = make_visitor(extra_http_headers={"Sec-GPC": "1"})
    visitor.page.goto(visitor.site.base_url + "/", wait_until="networkidle")
    visitor.goto("/facts")
    visitor.page.wait_for_load_state("networkidle")

    assert visitor.tracking() == []
    assert len(visitor.site.page_views) == 0
    notice = visitor.page.locator(BANNER)
    assert notice.is_visible()
    assert "Global Privacy Control signal. We honour it" in notice.inner_text()
    assert notice.get_by_role("button", name="Accept all").count() == 0
    assert axe_violations(visitor.page, "the notice", context=BANNER) == []
    visitor.page.get_by_role("link", name=OPT_OUT).click()
    visitor.page.wait_for_load_state()
    assert visitor.url_path() == PREFERENCES
    assert "We honour it" in visitor.page.locator("main").inner_text()
    assert visitor.page.get_by_label("Analytics cookies").is_disabled()
    assert axe_violations(visitor.page, "the settings page under GPC") == []


def test_analytics_runs_until_the_visitor_opts_out(visitor: Visitor) -> None:
    visitor.page.goto(visitor.site.base_url + "/", wait_until="networkidle")

    assert visitor.analytics_requests() != [], "opt-out mode runs analytics before a click"
    assert len(visitor.site.page_views) == 1
    assert "ka2_visitor" in visitor.cookie_names()
    notice = visitor.page.locator(BANNER)
    assert "Global Privacy Control" not in notice.inner_text()
    # The settings page, and the page view its counter sends, before counting.
    with visitor.page.expect_event("load"):
        visitor.page.get_by_role("link", name=OPT_OUT).click()
    visitor.page.wait_for_load_state("networkidle")
    counted = len(visitor.site.page_views)
    visitor.press(visitor.page.get_by_role("button", name=OPT_OUT))

    assert not visitor.consent().allows("analytics")
    visitor.requests.clear()
    visitor.page.goto(visitor.site.base_url + "/strategic-partnerships", wait_until="networkidle")
    assert visitor.tracking() == [], "analytics ran after opting out"
    assert not visitor.banner_shown()
    assert len(visitor.site.page_views) == counted


def test_the_notice_is_answered_through_the_javascript_api(visitor: Visitor) -> None:
    page = visitor.page
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    visitor.goto("/facts")
    assert page.evaluate("window.consentgate.state.mode") == "opt-out"
    page.evaluate(
        """() => addEventListener("beforeunload", () => console.log("notice at unload: "
            + Boolean(document.getElementById("consentgate-banner"))))"""
    )
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(PREFERENCES)) as post:
        visitor.press(page.locator(BANNER).get_by_role("button", name="OK"))
    assert post.value.resource_type == "fetch"
    unload = [text for text in logged if text.startswith("notice at unload")]
    assert unload == ["notice at unload: false"], "the notice was still there at the reload"
    assert not visitor.banner_shown()
    state = page.evaluate("window.consentgate.state")
    assert state["decided"] and state["granted"] == ["necessary", "analytics", "media"]
    assert visitor.consent().allows("analytics")
