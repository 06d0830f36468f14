"""Chromium loads trackers from URL forms and attributes a plain reading misses; the gate
removes each of them.

The same page is served twice: as the app wrote it, where Chromium must request every
tracker URL below (so each form is one a browser really loads), and gated for an undecided
visitor, where it must request none. Requests off 127.0.0.1 are aborted: the request is
seen, nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Route

from ..conftest import html_app

pytestmark = pytest.mark.browser

GA = "www.google-analytics.com"
#: Each form, and the path Chromium requests from GA's host for it (the page is http).
FORMS = {
    "/a.gif": '<img src="https:www.google-analytics.com/a.gif">',
    "/b.gif": '<img src="https:///www.google-analytics.com/b.gif">',
    "/c.gif": '<img src="//www.\uff47oogle-analytics.com/c.gif">',
    "/d.gif": '<img src="//www.google-analytics\u3002com/d.gif">',
    "/e.gif": '<img src="//www.google-ana\u00adlytics.com/e.gif">',
    "/f.gif": '<img srcset="//www.google-analytics.com/f.gif 1x">',
    "/g.gif": '<video poster="//www.google-analytics.com/g.gif"></video>',
    "/h.gif": '<table background="//www.google-analytics.com/h.gif"><tr><td>x</table>',
    "/i.gif": '<input type="image" src="//www.google-analytics.com/i.gif">',
    "/j.gif": '<svg><image href="//www.google-analytics.com/j.gif" width="9" height="9"/></svg>',
    "/k.gif": "<iframe srcdoc=\"<img src='//www.google-analytics.com/k.gif'>\"></iframe>",
    "/l.gif": '<base href="//www.google-analytics.com/"><img src="l.gif">',
}
PAGE = "<!DOCTYPE html><html><body><p>Page</p>" + "".join(FORMS.values()) + "</body></html>"


def requested(browser: Browser, url: str) -> set[str]:
    """The paths Chromium requested from GA's host while loading ``url``."""
    context = browser.new_context()
    seen: set[str] = set()

    def off_site(route: Route) -> None:
        route.abort()

    context.route(lambda u: not u.startswith("http://127.0.0.1"), off_site)
    page = context.new_page()
    page.on("request", lambda r: seen.add(r.url) if f"//{GA}/" in r.url else None)
    page.goto(url, wait_until="load")  # the load event waits for images, frames, backgrounds
    context.close()
    return {u.split(GA, 1)[1] for u in seen}


def test_every_form_is_loaded_by_chromium_and_removed_by_the_gate(
    browser: Browser, serve: Callable[[Any], str], make_gate: Callable[..., Any]
) -> None:
    body = PAGE.encode()
    assert requested(browser, serve(html_app(body))) == set(FORMS)
    assert requested(browser, serve(make_gate(html_app(body)))) == set()
