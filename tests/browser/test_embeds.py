"""Click-to-load embeds in Chromium: the demo's film and map behind their placeholders.

Requests to YouTube and OpenStreetMap are answered by a local stub (see ``conftest``), and
every one the browser makes is in the visitor's request log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator

from consentgate import Category, ConsentGate

from .conftest import PROVIDERS
from .support import Visitor, contrast_ratio, served

pytestmark = pytest.mark.browser

VIDEO_PAGE, MAP_PAGE = "/", "/strategic-partnerships"
HOLDER = ".consentgate-embed"
#: Layout shifts not caused by the visitor's input, from the page's start (CLS's sum).
LAYOUT_SHIFT = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) total += entry.value;
    }
  }).observe({type: 'layout-shift', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(total)));
})"""
#: Presses of Tab after which a control counts as unreachable by keyboard.
MAX_TABS = 80


def provider_requests(visitor: Visitor) -> list[str]:
    return [r.url for r in visitor.requests if PROVIDERS.match(r.url)]


def box(locator: Locator) -> tuple[float, float, float, float]:
    found = locator.bounding_box()
    assert found is not None
    return found["x"], found["y"], found["width"], found["height"]


def tab_to(visitor: Visitor, name: str) -> None:
    """Press Tab until the focused control is the button called ``name``."""
    page = visitor.page
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.innerText || ''")
        if focused.strip() == name:
            return
    raise AssertionError(f"{name!r} not reached with {MAX_TABS} presses of Tab")


def press(visitor: Visitor, javascript: bool) -> None:
    """Press Enter on the focused button: a new page without JavaScript, a swap with it."""
    if javascript:
        visitor.page.keyboard.press("Enter")
    else:
        with visitor.page.expect_event("load"):
            visitor.page.keyboard.press("Enter")


def test_placeholder_keeps_the_size_and_nothing_reaches_the_provider(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto(VIDEO_PAGE)
    holder = page.locator(HOLDER)
    assert holder.count() == 1
    _, _, width, height = box(holder)
    assert (width, height) == (560, 315)
    assert "Loading this video sends data to YouTube (Google)" in holder.inner_text()
    assert page.evaluate(LAYOUT_SHIFT) == 0
    visitor.goto(MAP_PAGE)
    assert box(page.locator(HOLDER))[2:] == (640, 420)
    assert page.locator("iframe").count() == 0
    assert provider_requests(visitor) == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_load_once_loads_that_embed_only_and_records_nothing(
    make_visitor: Callable[..., Visitor], javascript: bool
) -> None:
    visitor = make_visitor(java_script_enabled=javascript)
    page = visitor.page
    visitor.goto(VIDEO_PAGE)
    holder = page.locator(HOLDER)
    before = box(holder)
    if javascript:
        page.evaluate("() => { window.samePage = true; }")
    tab_to(visitor, "Load this video")
    press(visitor, javascript)
    frame = page.locator("iframe[src*='youtube.com/embed/']")
    frame.wait_for()
    assert page.locator(HOLDER).count() == 0
    if javascript:
        assert page.evaluate("() => window.samePage") is True  # swapped, not reloaded
        assert page.evaluate("() => document.activeElement.tagName") == "IFRAME"
    page.evaluate("() => window.scrollTo(0, 0)")
    assert box(frame)[2:] == before[2:]  # the embed takes the placeholder's place
    assert any("youtube.com/embed/" in url for url in provider_requests(visitor))
    assert visitor.cookie_names() == set()  # no consent, nothing recorded
    assert visitor.banner_shown()
    visitor.goto(MAP_PAGE)
    assert page.locator(HOLDER).count() == 1  # other embeds stay behind their placeholder
    visitor.goto(VIDEO_PAGE)
    assert page.locator(HOLDER).count() == 1  # and this one too, on the next visit


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_always_allow_grants_the_category_and_every_embed_loads(
    make_visitor: Callable[..., Visitor], javascript: bool
) -> None:
    visitor = make_visitor(java_script_enabled=javascript)
    page = visitor.page
    visitor.goto(MAP_PAGE)
    tab_to(visitor, "Always allow External media")
    press(visitor, javascript)
    page.locator("iframe#partner-map").wait_for()
    assert page.locator(HOLDER).count() == 0
    if javascript:
        page.wait_for_function("() => !document.getElementById('consentgate-banner')")
    assert visitor.consent().granted == {"necessary", "media"}
    assert not visitor.banner_shown()
    visitor.goto(VIDEO_PAGE)
    assert page.locator("iframe[src*='youtube.com/embed/']").count() == 1
    assert page.locator(HOLDER).count() == 0
    hosts = {url.split("/")[2] for url in provider_requests(visitor)}
    assert hosts == {"www.openstreetmap.org", "www.youtube.com"}


def test_placeholder_buttons_are_large_and_legible(visitor: Visitor) -> None:
    page = visitor.page
    visitor.goto(VIDEO_PAGE)
    looks: list[dict[str, Any]] = page.eval_on_selector_all(
        f"{HOLDER} button, {HOLDER} p",
        """(els) => els.map((el) => {
          const style = getComputedStyle(el), rect = el.getBoundingClientRect();
          const backgrounds = [];
          for (let n = el; n; n = n.parentElement) {
            const bg = getComputedStyle(n).backgroundColor;
            if (bg !== 'rgba(0, 0, 0, 0)') backgrounds.push(bg);
          }
          return {tag: el.tagName, w: rect.width, h: rect.height, color: style.color, backgrounds};
        })""",
    )
    buttons = [look for look in looks if look["tag"] == "BUTTON"]
    assert len(buttons) == 2
    assert all(look["w"] >= 24 and look["h"] >= 24 for look in buttons)
    assert min(contrast_ratio(look["color"], look["backgrounds"]) for look in looks) >= 4.5


TWEET = (
    '<blockquote class="twitter-tweet"><p lang="en">Partners met in Lisbon.</p>&mdash; Erasmus+'
    ' <a href="https://twitter.com/EUErasmusPlus/status/1">June 1, 2024</a></blockquote>'
    '<script async src="https://platform.twitter.com/widgets.js"></script>'
)
#: What the stand-in for X's widgets.js does: mark each post it would have built.
WIDGETS_JS = (
    "document.querySelectorAll('.twitter-tweet').forEach((b) => { b.dataset.built = 'yes'; });"
)


def test_a_widget_loads_once_with_its_script(browser: Browser) -> None:
    categories = [Category("necessary", required=True), Category("social", trackers=["x-twitter"])]
    body = f"<!DOCTYPE html><title>Posts</title><main><h1>Posts</h1>{TWEET}</main>"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    gated = ConsentGate(
        app, secret_key="browser-test-secret-0123456789abcdef", categories=categories
    )
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    context.route(
        "https://platform.twitter.com/**",
        lambda route: route.fulfill(content_type="text/javascript", body=WIDGETS_JS),
    )
    try:
        page = context.new_page()
        with served(gated) as url:
            page.goto(url + "/")
            assert page.locator("blockquote").count() == 0
            assert "twitter.com" not in " ".join(requests)
            with page.expect_event("load"):
                page.get_by_role("button", name="Load this post").click()
            page.wait_for_selector("blockquote[data-built=yes]")
            assert page.locator(HOLDER).count() == 0
            assert context.cookies() == []
    finally:
        context.close()
