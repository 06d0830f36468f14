"""Fair choice, on every page: refusing is as easy as accepting, nothing is pre-ticked, no wall."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from consentgate.messages import category_label

from .support import BANNER, OPTIONAL_BOX, PREFERENCES, SITE_PAGES, Visitor, contrast_ratio

pytestmark = pytest.mark.browser

#: Wording a banner must not use: it is not consent, or not a lawful basis for cookies.
FORBIDDEN = {
    "legitimate interest": re.compile(r"legitimate\s+interest", re.I),
    "continuing to browse is consent": re.compile(
        r"\b(continu\w*|keep|carry on)\b[^.]*\b(brows|using|use|visit|scroll)", re.I
    ),
    "using the site is consent": re.compile(r"\bby\s+(using|browsing|visiting|staying on)\b", re.I),
}


#: What the browser computes for a banner button, to compare accept with reject.
BUTTON_FACTS = """(el) => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const backgrounds = [];
  for (let node = el; node; node = node.parentElement) {
    backgrounds.push(getComputedStyle(node).backgroundColor);
  }
  return {
    tag: el.tagName, type: el.type, text: el.innerText.trim(),
    fontSize: parseFloat(style.fontSize), fontWeight: parseFloat(style.fontWeight),
    area: box.width * box.height, color: style.color, backgrounds,
    inFirstLayer: el.closest('details') === null && el.checkVisibility(),
  };
}"""


def button_facts(page: Page, name: str) -> dict[str, Any]:
    button = page.locator(BANNER).get_by_role("button", name=name, exact=True)
    facts: dict[str, Any] = button.evaluate(BUTTON_FACTS)
    return facts


def test_reject_is_as_easy_as_accept(visitor: Visitor) -> None:
    problems: list[str] = []
    for path in SITE_PAGES:
        visitor.goto(path)
        accept = button_facts(visitor.page, "Accept all")
        reject = button_facts(visitor.page, "Reject all")
        for facts in (accept, reject):
            ratio = contrast_ratio(facts["color"], facts["backgrounds"])
            if ratio < 4.5:
                problems.append(f"{path}: {facts['text']!r} has text contrast {ratio:.2f}:1")
            if not facts["inFirstLayer"]:
                problems.append(f"{path}: {facts['text']!r} is not on the banner's first layer")
        if (reject["tag"], reject["type"]) != (accept["tag"], accept["type"]):
            problems.append(f"{path}: reject is a {reject['tag']}, accept a {accept['tag']}")
        for key in ("fontSize", "fontWeight", "area"):
            if reject[key] < 0.9 * accept[key]:
                problems.append(f"{path}: reject's {key} {reject[key]} < 90% of {accept[key]}")
    assert problems == []

    visitor.press(visitor.page.locator(BANNER).get_by_role("button", name="Reject all"))
    assert visitor.consent().decided and not visitor.banner_shown(), "one click did not refuse"


def test_no_optional_category_is_ticked_in_advance(visitor: Visitor) -> None:
    page = visitor.page
    problems: list[str] = []

    def check(where: str) -> None:
        ticked = page.locator(f"{OPTIONAL_BOX}:checked").count()
        if ticked:
            problems.append(f"{where}: {ticked} optional categories ticked in advance")
        if page.locator(OPTIONAL_BOX).count() != len(visitor.site.settings.optional_names):
            problems.append(f"{where}: not every optional category can be chosen")
        necessary = page.get_by_role("checkbox", name="Necessary cookies")
        if not (necessary.is_checked() and necessary.is_disabled()):
            problems.append(f"{where}: necessary cookies are not shown on and locked")

    for path in SITE_PAGES:
        visitor.goto(path)
        page.locator(BANNER).get_by_text("Choose which cookies to allow").click()
        check(f"the banner on {path}")
    visitor.goto(PREFERENCES)
    check("the settings page before a choice")
    visitor.press(page.get_by_role("button", name="Reject all"))
    check("the settings page after refusing")

    assert problems == []


def test_banner_names_purposes_and_policy_without_pressure(visitor: Visitor) -> None:
    settings = visitor.site.settings
    for path in SITE_PAGES:
        visitor.goto(path)
        banner = visitor.page.locator(BANNER)
        text = " ".join(banner.inner_text().split())
        for category in settings.categories:
            label = category_label(settings, category, "en")
            if not category.required:
                assert label.lower() in text.lower(), f"{path}: no {label}"
        policy = banner.get_by_role("link", name="Privacy and cookie policy")
        assert urlsplit(policy.get_attribute("href") or "").path == settings.privacy_url
        for claim, wording in FORBIDDEN.items():
            said = wording.search(text)
            assert said is None, f"{path}: the banner claims {claim}: {said and said[0]!r}"
    visitor.press(
        visitor.page.locator(BANNER).get_by_role("link", name="Privacy and cookie policy")
    )
    assert visitor.url_path() == settings.privacy_url
    assert visitor.page.locator("table.consentgate-declaration").count() >= 1


@pytest.mark.parametrize("choice", [None, "Reject all"], ids=["before-a-choice", "after-refusing"])
def test_no_cookie_wall(visitor: Visitor, choice: str | None) -> None:
    page = visitor.page
    visitor.goto("/")
    if choice:
        visitor.press(page.locator(BANNER).get_by_role("button", name=choice))
    for path in SITE_PAGES:
        response = visitor.goto(path)
        assert response is not None and response.status == (404 if "no-such" in path else 200)
        heading = page.locator("main h1")
        heading.scroll_into_view_if_needed()
        hidden = heading.evaluate(
            """(h) => {
              const box = h.getBoundingClientRect();
              const top = document.elementFromPoint(box.left + 8, box.top + box.height / 2);
              const main = h.closest('main');
              return (top && h.contains(top) ? '' : 'covered') +
                (main.inert || main.closest('[aria-hidden="true"]') ? ' inert' : '') +
                (getComputedStyle(document.body).overflowY === 'hidden' ? ' unscrollable' : '');
            }"""
        )
        assert hidden == "", f"{path} cannot be read: {hidden.strip()}"
    main_menu = page.get_by_role("navigation", name="Main")
    visitor.press(main_menu.get_by_role("link", name="Facts and figures"))
    assert visitor.url_path() == "/facts"


@pytest.mark.parametrize("choice", [None, "Reject all"], ids=["before-a-choice", "after-refusing"])
def test_settings_link_on_every_page(visitor: Visitor, choice: str | None) -> None:
    visitor.goto("/")
    if choice:
        visitor.press(visitor.page.locator(BANNER).get_by_role("button", name=choice))
    for path in (*SITE_PAGES, PREFERENCES):
        visitor.goto(path)
        link = visitor.page.get_by_role("contentinfo").get_by_role("link", name="Cookie settings")
        assert link.is_visible(), f"{path} has no Cookie settings link in its footer"
        assert urlsplit(link.get_attribute("href") or "").path == PREFERENCES


def test_cookie_table_lists_every_declared_cookie(visitor: Visitor) -> None:
    visitor.goto(visitor.site.settings.privacy_url)
    table = visitor.page.locator("table.consentgate-declaration tbody code").all_inner_texts()
    declared = [spec.name for _, spec in visitor.site.settings.declared_cookies()]

    assert table == declared
    assert {"consentgate", "ka2_visitor", "_ga", "_ga_*"} <= set(table)
