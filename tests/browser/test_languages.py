"""The consent UI in every shipped language: lang set, fair choice, WCAG 2.2 AA, 320 px.

One page load per language on the one session Chromium, checked in a desktop window,
then narrowed to 320 px: the browser's ``locale`` is the visitor's language
(``Accept-Language``), the gate negotiates it.
German, Finnish and Hungarian labels are long: at 320 px nothing may scroll sideways
or cut a button's label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import ViewportSize

from consentgate.i18n import shipped_languages

from .support import BANNER, Visitor, contrast_ratio
from .test_accessibility import axe_violations
from .test_fair_choice import BUTTON_FACTS

pytestmark = pytest.mark.browser

#: What may not happen to a control at 320 px: its label cut or spilling out of it,
#: or the control itself outside the screen.
CLIPPED = """(el) => {
  const box = el.getBoundingClientRect();
  const spills = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
  const outside = box.left < 0 || box.right > window.innerWidth;
  return spills || outside ? `${el.innerText.trim()} (${Math.round(box.width)} px)` : '';
}"""
#: The narrowest phone screen the banner must fit.
SMALL_SCREEN: ViewportSize = {"width": 320, "height": 640}


def buttons(visitor: Visitor) -> dict[str, dict[str, Any]]:
    banner = visitor.page.locator(BANNER)
    return {
        value: banner.locator(f'button[value="{value}"]').evaluate(BUTTON_FACTS)
        for value in ("accept_all", "reject_all")
    }


@pytest.mark.parametrize("language", shipped_languages())
def test_the_banner_in_each_language_on_a_desktop_and_at_320_px(
    make_visitor: Callable[..., Visitor], language: str
) -> None:
    """One page load per language: the desktop checks, then the same page narrowed to
    320 px (the banner's layout follows the viewport, no script measures it)."""
    visitor = make_visitor(locale=language)
    response = visitor.goto("/")
    assert response is not None and response.headers.get("content-language") == language
    banner = visitor.page.locator(BANNER)
    assert banner.get_attribute("lang") == language
    problems = desktop_problems(visitor, language)
    visitor.page.set_viewport_size(SMALL_SCREEN)
    problems += [f"at 320 px: {problem}" for problem in small_screen_problems(visitor)]
    assert problems == []


def desktop_problems(visitor: Visitor, language: str) -> list[str]:
    """Accept and reject alike and legible, and no WCAG violation in the banner."""
    problems: list[str] = []
    facts = buttons(visitor)
    accept, reject = facts["accept_all"], facts["reject_all"]
    if accept["text"] == reject["text"] or not (accept["text"] and reject["text"]):
        problems.append(f"accept and reject read {accept['text']!r} and {reject['text']!r}")
    for key in ("tag", "type", "color", "backgrounds", "inFirstLayer"):
        if accept[key] != reject[key]:
            problems.append(f"{key}: accept {accept[key]!r}, reject {reject[key]!r}")
    for key in ("fontSize", "fontWeight", "area"):
        if not 0.9 <= reject[key] / accept[key] <= 1.1:
            problems.append(f"{key}: reject {reject[key]}, accept {accept[key]}")
    for name, button in facts.items():
        if contrast_ratio(button["color"], button["backgrounds"]) < 4.5:
            problems.append(f"{name}: text contrast under 4.5:1")
    # The page around it is the same in every language (test_accessibility checks it).
    problems += axe_violations(visitor.page, f"the banner in {language}", context=BANNER)
    return problems


def small_screen_problems(visitor: Visitor) -> list[str]:
    """With the banner expanded at 320 px: no sideways scrolling, no control cut."""
    page = visitor.page
    banner = page.locator(BANNER)
    banner.locator("summary").click()  # the categories and the save button too
    problems = []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"scrolls sideways: {width[0]} px wide at {width[1]} px")
    for control in banner.locator("button, summary, a[href], label").all():
        clipped = control.evaluate(CLIPPED)
        if clipped:
            problems.append(f"clipped or outside the screen: {clipped}")
    return problems


def test_a_german_visitor_reads_the_cookie_table_in_german(
    make_visitor: Callable[..., Visitor],
) -> None:
    """The privacy page's table gives the tracker catalogue's purposes and lifetimes in
    the visitor's language, and its long German words still fit a 320 px screen."""
    visitor = make_visitor(locale="de-DE", viewport=SMALL_SCREEN)
    visitor.goto(visitor.site.settings.privacy_url)
    row = visitor.page.locator(
        "table.consentgate-declaration tr",
        has=visitor.page.locator("code", has_text=re.compile(r"^_ga$")),
    )
    cells = row.locator("td").all_inner_texts()
    assert cells[2:] == ["Unterscheidet Besucher anhand einer zufälligen Client-ID", "2 Jahre"]
    width = visitor.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
