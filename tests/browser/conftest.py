"""Fixtures for the browser tests: the system Chromium, the demo site, a visitor.

One headless Chromium serves the whole session; every test gets its own
server and browser context. Nothing here blocks a request: what the browser
never fetches, the gate kept out of the page. Requests to the embed providers
(YouTube, OpenStreetMap) are answered by a local stub so they never leave the
machine; they are still made, and logged, as they would be.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, Route, sync_playwright

from consentgate.scan.chromium import CHROMIUM_ARGS, find_chromium, missing_message
from demo_site import create_app

from .support import DESKTOP, DemoSite, Visitor, declared_globs, matches_any, served

SECRET = "browser-test-secret-0123456789abcdef"
#: Hosts of the demo's embeds, answered by :func:`stub_provider`.
PROVIDERS = re.compile(
    r"^https?://([^/?#]*\.)?(youtube\.com|youtube-nocookie\.com|openstreetmap\.org)[/:?#]"
)
#: What the stub answers: a page that says which embed it stands for.
STUB_PAGE = "<!DOCTYPE html><title>Embed stub</title><p>Stand-in for the provider's embed.</p>"


def stub_provider(route: Route) -> None:
    """Answer a request to an embed provider locally."""
    route.fulfill(status=200, content_type="text/html", body=STUB_PAGE)


CHROMIUM = find_chromium(os.environ)
MISSING = missing_message(os.environ) + " to run the browser tests"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip every browser test where there is no Chromium, unless CI requires one.

    Skipping here rather than in a fixture reports one location for all of them,
    so the summary shows one line.
    """
    if CHROMIUM is None and os.environ.get("CONSENTGATE_REQUIRE_BROWSER") != "1":
        pytest.skip(MISSING)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The browser executable; CI (CONSENTGATE_REQUIRE_BROWSER=1) fails without one."""
    if CHROMIUM is None:
        pytest.fail(MISSING, pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright(chromium_path: str) -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def launch_options(chromium_path: str) -> dict[str, Any]:
    """Keyword arguments for launching the system Chromium headless."""
    return {"executable_path": chromium_path, "headless": True, "args": list(CHROMIUM_ARGS)}


@pytest.fixture(scope="session")
def browser(playwright: Playwright, launch_options: dict[str, Any]) -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    browser = playwright.chromium.launch(**launch_options)
    yield browser
    browser.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[DemoSite]:
    """The demo site on a free port of 127.0.0.1, with a fixed key and its own instance folder."""
    records = f"sqlite:///{tmp_path}/instance/consent.sqlite3"
    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET, "CONSENTGATE_RECORDS": records})
    app.instance_path = str(tmp_path / "instance")  # nothing lands in the repository
    with served(app) as url:
        yield DemoSite(app, url)


@pytest.fixture
def make_visitor(
    playwright: Playwright, browser: Browser, launch_options: dict[str, Any], site: DemoSite
) -> Iterator[Callable[..., Visitor]]:
    """Open fresh browser contexts (``java_script_enabled=False``, a viewport...).

    ``profile=path`` launches a browser of its own on that user-data folder
    instead, so closing the visitor and opening another on the same folder is
    a browser restart. On the way out, every cookie any of them held must be
    one the configuration declares, whatever the test did.
    """
    visitors: list[Visitor] = []

    def open_context(profile: Path | None = None, **options: Any) -> Visitor:
        options.setdefault("viewport", DESKTOP)
        if profile is None:
            context = browser.new_context(**options)
        else:
            persistent = playwright.chromium.launch_persistent_context
            context = persistent(profile, **launch_options, **options)
        # Everything is local: a control or page missing for 10 s is not coming.
        context.set_default_timeout(10_000)
        context.route(PROVIDERS, stub_provider)
        page = context.pages[0] if context.pages else context.new_page()
        visitor = Visitor(site, context, page)
        visitors.append(visitor)
        return visitor

    yield open_context
    declared, table = declared_globs(site.settings), site.cookie_table()
    for visitor in visitors:
        visitor.close()
        seen = visitor.cookies_seen
        undeclared = sorted(n for n in seen if not matches_any(n, declared))
        assert undeclared == [], f"the browser held cookies nobody declared: {undeclared}"
        unlisted = sorted(n for n in seen if not matches_any(n, table))
        assert unlisted == [], f"the privacy page's cookie table omits {unlisted}"


@pytest.fixture
def visitor(make_visitor: Callable[..., Visitor]) -> Visitor:
    """A first-time visitor with JavaScript on and a desktop window."""
    return make_visitor()
