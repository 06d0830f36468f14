"""Accessibility and layout: axe-core, the banner's semantics, small screens, screenshots."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from .support import BANNER, PREFERENCES, SITE_PAGES, Visitor

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
#: The README's picture, copied by hand from the desktop screenshot.
README_PICTURE = Path(__file__).resolve().parents[2] / "docs" / "demo-banner.png"
#: WCAG 2.0, 2.1 and 2.2 at levels A and AA; axe leaves 2.2's target-size off unless asked.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
    },
    "rules": {"target-size": {"enabled": True}},
    "resultTypes": ["violations"],
}
#: The banner's controls, as a keyboard or screen reader user meets them.
CONTROLS = ":is(a[href], button, summary, input:not([type=hidden]))"
#: A control's visible text: its own, or its label's for a form field.
VISIBLE_TEXT = """(el) => {
  const text = el.labels && el.labels.length ? el.labels[0].innerText : el.innerText;
  return text.replace(/\\s+/g, ' ').trim();
}"""


def axe_violations(page: Page, where: str, context: str | None = None) -> list[str]:
    """axe-core's WCAG A/AA violations on the page (or inside ``context``), one line each."""
    results = Axe().run(page, context=context, options=AXE_OPTIONS).response
    return [
        f"{where}: {v['id']} ({v['impact']}) at {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in results["violations"]
    ]


def test_axe_finds_no_wcag_violations(visitor: Visitor) -> None:
    page = visitor.page
    found: list[str] = []
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        found += axe_violations(page, f"{path} (banner shown)")
    visitor.goto("/")
    page.locator(BANNER).get_by_text("Choose which cookies to allow").click()
    found += axe_violations(page, "the expanded banner", context=BANNER)
    visitor.press(page.locator(BANNER).get_by_role("button", name="Reject all"))
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        found += axe_violations(page, f"{path} (after a choice)")

    assert found == []


def accessibility_of_controls(page: Page, selector: str) -> list[dict[str, Any]]:
    """Role, accessible name and states Chromium exposes for each control matching ``selector``."""
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    found = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})
    controls = []
    for node_id in found["nodeIds"]:
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node_id})
        node = tree["nodes"][0]
        if node.get("ignored"):  # not exposed at all, e.g. inside a closed <details>
            continue
        handle = cdp.send("DOM.resolveNode", {"nodeId": node_id})["object"]["objectId"]
        text = cdp.send(
            "Runtime.callFunctionOn",
            {
                "objectId": handle,
                "functionDeclaration": f"function () {{ return ({VISIBLE_TEXT})(this); }}",
                "returnByValue": True,
            },
        )["result"]["value"]
        controls.append(
            {
                "role": node["role"]["value"],
                "name": node.get("name", {}).get("value", ""),
                "states": {p["name"]: p["value"].get("value") for p in node.get("properties", [])},
                "text": text,
            }
        )
    cdp.detach()
    return controls


@pytest.mark.parametrize("expanded", [False, True], ids=["first-layer", "expanded"])
def test_banner_is_a_labelled_region_with_named_controls(visitor: Visitor, expanded: bool) -> None:
    page = visitor.page
    visitor.goto("/")
    banner = page.locator(BANNER)
    if expanded:
        banner.get_by_text("Choose which cookies to allow").click()
    label = banner.get_attribute("aria-labelledby") or ""
    heading = page.locator(f"[id='{label}']")
    assert heading.count() == 1, "the banner is not labelled by a heading of its own"
    assert banner.evaluate("b => b.matches('section, [role=region], dialog, [role=dialog]')")
    named = page.get_by_role("region", name=heading.inner_text())
    assert named.count() + page.get_by_role("dialog", name=heading.inner_text()).count() == 1

    controls = accessibility_of_controls(page, f"{BANNER} {CONTROLS}")
    roles = [c["role"] for c in controls]
    # The settings page's link in the sentence, the policy's, then the two choices.
    assert roles[:4] == ["link", "link", "button", "button"], roles
    for control in controls:
        assert control["text"], f"a {control['role']} in the banner shows no text"
        assert control["text"].lower() in " ".join(control["name"].split()).lower(), (
            f"{control['role']} {control['text']!r} is announced as {control['name']!r}"
        )
        if control["role"] == "checkbox":
            assert control["states"].get("checked") in ("true", "false"), control
        if control["role"] == "DisclosureTriangle":
            assert control["states"].get("expanded") is expanded, control
    assert ("checkbox" in roles) == expanded


def test_every_page_declares_its_language(visitor: Visitor) -> None:
    languages = {}
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        languages[path] = visitor.page.evaluate("document.documentElement.lang")
    assert {path: lang for path, lang in languages.items() if not lang} == {}


def test_small_screen_keeps_the_choice_in_view(make_visitor: Callable[..., Visitor]) -> None:
    visitor = make_visitor(viewport={"width": 320, "height": 640})
    page = visitor.page
    problems: list[str] = []
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            problems.append(f"{path}: scrolls sideways ({width[0]} px wide at 320 px)")
        if path == PREFERENCES:
            continue
        for name in ("Accept all", "Reject all"):
            box = page.locator(BANNER).get_by_role("button", name=name).bounding_box()
            if not box or box["y"] < 0 or box["y"] + box["height"] > 640 or box["x"] < 0:
                problems.append(f"{path}: {name!r} is not in view without scrolling: {box}")
    visitor.goto("/")
    page.locator(BANNER).get_by_text("Choose which cookies to allow").click()
    for control in page.locator(f"{BANNER} {CONTROLS}").all():
        box = control.bounding_box()
        if box is None or box["width"] < 24 or box["height"] < 24:
            text = control.evaluate(VISIBLE_TEXT)[:40]
            problems.append(f"{text!r} is smaller than 24 x 24 px: {box}")

    assert problems == []


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize(
    ("width", "height"),
    [pytest.param(1280, 800, id="desktop"), pytest.param(390, 844, id="phone")],
)
def test_banner_screenshots(make_visitor: Callable[..., Visitor], width: int, height: int) -> None:
    """Pictures of the banner for review; the desktop one is the README's (docs/demo-banner.png)."""
    visitor = make_visitor(viewport={"width": width, "height": height})
    visitor.goto("/")
    banner = visitor.page.locator(BANNER)
    assert banner.is_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"banner-{width}.png"
    visitor.page.screenshot(path=path)
    assert png_size(path) == (width, height)
    box = banner.bounding_box()
    assert box is not None and 0 <= box["y"] < height, "the banner is not in the screenshot"
    if width == 1280:
        assert png_size(README_PICTURE) == (width, height), (
            "docs/demo-banner.png is not a 1280 x 800 screenshot"
        )
