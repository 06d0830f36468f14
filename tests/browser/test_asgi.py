"""Chromium decides on the README's FastAPI quick start, served by uvicorn.

The ASGI gate's banner is the same plain form as the WSGI one: with or without
JavaScript, a click takes the decision, and Google's tag reaches the page only
after "Accept all".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from ..adapters import readme_module, uvicorn_served
from .support import is_analytics_url

pytestmark = pytest.mark.browser

#: Google's tag, which the quick start's page carries.
GTAG = 'script[src^="https://www.googletagmanager.com/gtag/js"]'


@pytest.fixture
def fastapi_url() -> Iterator[str]:
    """The README's FastAPI app under uvicorn on a free port of 127.0.0.1."""
    with uvicorn_served(readme_module("main.py").app) as url:
        yield url


def decide(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.locator("#consentgate-banner").get_by_role("button", name=button).click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_accept_on_a_fastapi_app_brings_the_tag(
    browser: Browser, fastapi_url: str, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    # Nothing leaves the machine: Google's tag is answered here, empty.
    context.route("https://www.googletagmanager.com/**", lambda route: route.fulfill(body=""))
    page = context.new_page()
    page.goto(fastapi_url + "/")
    assert page.locator("#consentgate-banner").is_visible()
    assert page.locator(GTAG).count() == 0
    decide(page, "Accept all")
    assert page.url == fastapi_url + "/"
    assert page.locator("#consentgate-banner").count() == 0
    assert page.locator(GTAG).count() == 1
    assert page.get_by_text("Thank you for letting us count visits.").is_visible()
    context.close()


def test_reject_on_a_fastapi_app_keeps_the_tag_out(browser: Browser, fastapi_url: str) -> None:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(fastapi_url + "/")
    decide(page, "Reject all")
    page.reload()
    assert page.locator("#consentgate-banner").count() == 0
    assert page.locator(GTAG).count() == 0
    assert not any(is_analytics_url(url) for url in requested)
    context.close()
