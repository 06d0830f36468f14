"""Chromium takes a decision on apps mounted under /app, served over real HTTP.

Under a prefix every URL the gate writes must keep it: the banner's form action,
the redirect back, the consent cookie's path. The plain middleware's built-in
banner and the Flask demo's own templates are both driven through a real click.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from consentgate import Category, ConsentGate
from demo_site import create_app

from .conftest import SECRET
from .support import is_analytics_url, served

pytestmark = pytest.mark.browser

PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
    b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>'
    b"</head><body><main><h1>Shop</h1></main></body></html>"
)


#: Google's tag, which the pages of both apps carry.
GTAG = 'script[src^="https://www.googletagmanager.com/gtag/js"]'


def shop(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [PAGE]


def plain_app(tmp_path: Path) -> Any:
    categories = [
        Category("necessary", required=True),
        Category("analytics", trackers=["google-analytics"]),
    ]
    return ConsentGate(shop, secret_key=SECRET, categories=categories)


def demo_app(tmp_path: Path) -> Any:
    records = f"sqlite:///{tmp_path}/instance/consent.sqlite3"
    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET, "CONSENTGATE_RECORDS": records})
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture(params=[plain_app, demo_app], ids=["plain-wsgi", "flask-demo"])
def mounted_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The app mounted at /app by DispatcherMiddleware on a free port; yields the mount's URL."""
    app = DispatcherMiddleware(shop, {"/app": request.param(tmp_path)})
    with served(app) as url:
        yield url + "/app"


def decide(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.locator("#consentgate-banner").get_by_role("button", name=button).click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_accept_under_a_prefix_comes_back_with_the_trackers(
    browser: Browser, mounted_url: str, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(mounted_url + "/")
    assert page.locator("#consentgate-banner").is_visible()
    assert page.locator(GTAG).count() == 0
    decide(page, "Accept all")
    assert page.url == mounted_url + "/"
    assert page.locator("#consentgate-banner").count() == 0
    assert page.locator(GTAG).count() == 1
    [cookie] = [c for c in context.cookies() if c["name"] == "consentgate"]
    assert cookie["path"] == "/app"
    context.close()


def test_reject_under_a_prefix_keeps_trackers_out(browser: Browser, mounted_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(mounted_url + "/")
    decide(page, "Reject all")
    page.reload()
    assert page.url == mounted_url + "/"
    assert page.locator("#consentgate-banner").count() == 0
    assert not any(is_analytics_url(url) for url in requested)
    context.close()
