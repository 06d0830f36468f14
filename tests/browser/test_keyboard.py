"""Keyboard only: the banner comes early, every stop shows focus, nothing hides under the banner."""

from __future__ import annotations

from typing import Any

import pytest

from .support import BANNER, PREFERENCES, SITE_PAGES, Visitor

pytestmark = pytest.mark.browser

#: Presses after which a page that has not let focus go counts as a trap.
MAX_TAB_STOPS = 150

#: The first layer of the banner, in the order Tab should visit it.
BANNER_STOPS = [
    "cookie settings page",  # the link in the banner's sentence, as the built-in banner has it
    "Privacy and cookie policy",
    "Accept all",
    "Reject all",
    "Choose which cookies to allow",
]

#: Runs after each Tab: describes the focused element, checks it is on top at its
#: centre, and compares the element focused before with how it looks now it is not.
TAB_STOP = """() => {
  const state = window.__tabStops || (window.__tabStops = {});
  const look = (el) => {
    const style = getComputedStyle(el);
    return ['outline-style', 'outline-width', 'outline-color', 'box-shadow', 'background-color',
            'color', 'border-color', 'text-decoration-line', 'text-decoration-thickness']
      .map((p) => style.getPropertyValue(p)).join('; ');
  };
  const describe = (el) => {
    const text = el.labels && el.labels.length ? el.labels[0].innerText : el.innerText;
    const name = (el.getAttribute('aria-label') || text || el.value || '').replace(/\\s+/g, ' ');
    return name.trim().slice(0, 60) || '<' + el.tagName.toLowerCase() + '>';
  };
  let unfocused = null;
  if (state.previous) {
    unfocused = {name: state.name, same: look(state.previous) === state.look};
  }
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    state.previous = null;
    return {done: true, unfocused};
  }
  // A link that wraps has a box per line: the centre of each must show the link.
  const tops = [...el.getClientRects()].map((box) =>
    document.elementsFromPoint(box.left + box.width / 2, box.top + box.height / 2)[0]);
  const top = tops.find((t) => !t || !(t === el || el.contains(t)));
  const banner = document.getElementById('consentgate-banner') || document.createElement('p');
  state.previous = el;
  state.look = look(el);
  state.name = describe(el);
  return {
    done: false,
    unfocused,
    name: state.name,
    href: el.getAttribute('href'),
    inBanner: banner.contains(el),
    onTop: tops.length > 0 && top === undefined,
    cover: !top ? 'nothing' : describe(top) + (banner.contains(top) ? ' (the banner)' : ''),
  };
}"""


def tab_through(visitor: Visitor) -> tuple[list[dict[str, Any]], list[str]]:
    """Tab from the top of the page until focus leaves it; the stops and what went wrong.

    Problems: a stop covered by another element at its centre, a stop that looks
    the same focused and unfocused, and a page that never lets focus go.
    """
    page = visitor.page
    page.evaluate("window.__tabStops = {}; document.activeElement.blur(); window.scrollTo(0, 0)")
    stops: list[dict[str, Any]] = []
    problems: list[str] = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        stop: dict[str, Any] = page.evaluate(TAB_STOP)
        unfocused = stop["unfocused"]
        if unfocused and unfocused["same"]:
            problems.append(f"{unfocused['name']!r} shows no focus indicator")
        if stop["done"]:
            return stops, problems
        if not stop["onTop"]:
            problems.append(f"{stop['name']!r} is hidden under {stop['cover']!r} when focused")
        stops.append(stop)
    problems.append(f"focus never left the page after {MAX_TAB_STOPS} presses of Tab")
    return stops, problems


def tab_to(visitor: Visitor, name: str) -> None:
    """Tab forward until the control whose visible text starts with ``name`` has focus."""
    page = visitor.page
    page.evaluate("window.__tabStops = {}")
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        stop = page.evaluate(TAB_STOP)
        if stop["done"]:
            break
        if stop["name"].startswith(name):
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_banner_comes_first_in_a_sensible_order(visitor: Visitor) -> None:
    visitor.goto("/")
    stops, problems = tab_through(visitor)
    names = [stop["name"] for stop in stops]
    in_banner = [i for i, stop in enumerate(stops) if stop["inBanner"]]

    assert problems == []
    assert in_banner, "Tab never reaches the banner"
    first = in_banner[0]
    assert first < 2, f"the banner's first control is Tab stop {first + 1}, after {names[:first]}"
    assert in_banner == list(range(in_banner[0], in_banner[0] + len(in_banner))), (
        "focus leaves the banner and comes back"
    )
    assert [names[i] for i in in_banner] == BANNER_STOPS


@pytest.mark.parametrize(
    ("keys", "analytics"),
    [
        pytest.param([("Accept all", "Enter")], True, id="enter-on-accept"),
        pytest.param([("Accept all", "Space")], True, id="space-on-accept"),
        pytest.param([("Reject all", "Enter")], False, id="enter-on-reject"),
        pytest.param([("Reject all", "Space")], False, id="space-on-reject"),
        pytest.param(
            [
                ("Choose which cookies to allow", "Enter"),
                ("Analytics cookies", "Space"),
                ("Save my choices", "Space"),
            ],
            True,
            id="enter-space-space-on-save",
        ),
    ],
)
def test_keyboard_alone_makes_a_choice(
    visitor: Visitor, keys: list[tuple[str, str]], analytics: bool
) -> None:
    page = visitor.page
    visitor.goto("/facts")
    *steps, (last, key) = keys
    for name, step_key in steps:
        tab_to(visitor, name)
        page.keyboard.press(step_key)
    tab_to(visitor, last)
    with page.expect_event("load"):
        page.keyboard.press(key)

    assert not visitor.banner_shown()
    assert visitor.consent().decided and visitor.consent().allows("analytics") == analytics
    focused = page.evaluate("document.activeElement === document.body")
    assert focused, "after the choice, focus was left inside the page instead of at its start"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"


def test_every_page_can_be_tabbed_through(visitor: Visitor) -> None:
    """Whole pages, banner open and after a choice: indicators, nothing covered, no trap."""
    page = visitor.page
    problems: list[str] = []

    def sweep(path: str, state: str) -> None:
        visitor.goto(path)
        stops, found = tab_through(visitor)
        problems.extend(f"{path} ({state}): {problem}" for problem in found)
        settings = [s for s in stops if s["name"] == "Cookie settings"]
        if not settings or not (settings[0]["href"] or "").startswith(PREFERENCES):
            problems.append(f"{path} ({state}): Tab never reaches the Cookie settings link")

    for path in SITE_PAGES:
        sweep(path, "banner shown")
    visitor.goto("/")
    page.locator(BANNER).get_by_text("Choose which cookies to allow").click()
    _, found = tab_through(visitor)
    problems.extend(f"/ (banner expanded): {problem}" for problem in found)
    visitor.press(page.locator(BANNER).get_by_role("button", name="Reject all"))
    for path in (*SITE_PAGES, PREFERENCES):
        sweep(path, "after a choice")

    assert problems == []
