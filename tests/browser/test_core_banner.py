"""The built-in banner that the plain middleware injects, in a real browser.

The demo places its own banner; sites that bring no templates get this one,
right after the ``<body>`` tag. On a long page it must be in the first
viewport and first in the tab order, never hide what a keyboard user is on
(WCAG 2.2, 2.4.11 Focus Not Obscured), and work the same without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from consentgate import Category, ConsentGate

from .support import served

pytestmark = pytest.mark.browser

#: 40 links, 250 px apart: a page 10,000 px tall.
LINKS = "".join(f'<p style="height:250px"><a href="/item/{i}">Item {i}</a></p>' for i in range(40))
VIEWPORTS = [
    pytest.param({"width": 1280, "height": 800}, id="1280x800"),
    pytest.param({"width": 320, "height": 640}, id="320x640"),
]
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>'
    f"</head><body><main><h1>Shop</h1>{LINKS}</main></body></html>"
).encode()

# Is the focused element (centre of each line box) the topmost thing there?
FOCUS_ON_TOP = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return [...el.getClientRects()].every((box) => {
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return top === el || el.contains(top);
  });
}"""


def shop(environ: dict[str, object], start_response: object) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])  # type: ignore[operator]
    return [PAGE]


@pytest.fixture
def base_url() -> Iterator[str]:
    gate = ConsentGate(
        shop,
        secret_key="core-banner-secret-0123456789",
        categories=[
            Category("necessary", required=True, label="Necessary cookies"),
            Category("analytics", label="Analytics cookies", trackers=["google-analytics"]),
        ],
    )
    with served(gate) as url:
        yield url


def open_page(browser: Browser, url: str, **options: object) -> Page:
    options.setdefault("viewport", {"width": 1024, "height": 600})
    context = browser.new_context(**options)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(url)
    return page


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_banner_opens_the_page(
    browser: Browser, base_url: str, viewport: dict[str, int]
) -> None:
    page = open_page(browser, base_url + "/", viewport=viewport)
    assert page.evaluate("document.documentElement.scrollHeight") > 10_000
    for name in ("Accept all", "Reject all"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], name
        assert box["x"] + box["width"] <= viewport["width"], name
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#consentgate-banner') !== null")
    page.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_tabbing_never_lands_under_the_banner(
    browser: Browser, base_url: str, viewport: dict[str, int]
) -> None:
    page = open_page(browser, base_url + "/", viewport=viewport)
    assert page.locator("#consentgate-banner").is_visible()
    hidden = []
    for _ in range(60):
        page.keyboard.press("Tab")
        on_top = page.evaluate(FOCUS_ON_TOP)
        if on_top is False:
            hidden.append(page.evaluate("document.activeElement.textContent"))
    page.context.close()
    assert hidden == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_reject_from_the_built_in_banner(browser: Browser, base_url: str, javascript: bool) -> None:
    requested: list[str] = []
    page = open_page(browser, base_url + "/item/3", java_script_enabled=javascript)
    page.on("request", lambda request: requested.append(request.url))
    # With JavaScript the choice goes by fetch and the page reloads after: wait for it.
    with page.expect_event("load"):
        page.get_by_role("button", name="Reject all").click()
    assert page.url == base_url + "/item/3"
    assert page.locator("#consentgate-banner").count() == 0
    page.reload()
    assert not any("googletagmanager" in url for url in requested)
    page.context.close()
