"""Chromium rejects, then accepts, on the Django example (``examples/django``) served by
uvicorn on 127.0.0.1: the app's middleware on the async path of ASGI Django."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Route, expect

from ..adapters import uvicorn_served

pytestmark = pytest.mark.browser

#: Google's tag, which the example's layout carries; answered here, never fetched.
GOOGLE = re.compile(r"^https://www\.googletagmanager\.com/")
BANNER = "#consentgate-banner"


@pytest.fixture
def example_url(django_example: None) -> Iterator[str]:
    """The example's ASGI application under uvicorn on a free port; stopped on exit."""
    from django.core.asgi import get_asgi_application

    with uvicorn_served(get_asgi_application(), lifespan="off") as url:
        yield url


def test_a_visitor_rejects_then_accepts_on_the_django_example(
    browser: Browser, example_url: str
) -> None:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    fetched: list[str] = []

    def stub(route: Route) -> None:
        fetched.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body="")

    context.route(GOOGLE, stub)
    page = context.new_page()

    def cookies() -> set[Any]:
        return {cookie["name"] for cookie in context.cookies()}

    page.goto(example_url + "/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator(BANNER)).to_have_count(0)  # never on the admin site

    page.goto(example_url + "/")
    expect(page.locator(BANNER)).to_be_visible()
    expect(page.locator("#analytics-state")).to_contain_text("Analytics are off")
    page.locator(BANNER).get_by_role("button", name="Reject all").click()
    expect(page.locator(BANNER)).to_have_count(0)
    expect(page.locator("#analytics-state")).to_contain_text("Analytics are off")
    page.goto(example_url + "/analytics/")
    assert fetched == [] and "consentgate" in cookies() and "_ga" not in cookies()

    page.goto(example_url + "/consent")
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # the site's layout
    page.get_by_role("button", name="Accept all").click()
    expect(page.locator("#consentgate-analytics")).to_be_checked()
    # The page offers the site's languages, as the Flask and built-in pages do.
    page.locator("#consentgate-lang").select_option("de")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("#consentgate-preferences-title")).to_have_text("Cookie-Einstellungen")
    expect(page.locator("#consentgate-analytics")).to_be_checked()  # nothing was decided
    page.goto(example_url + "/analytics/")
    expect(page.locator("h1")).to_have_text("Analytics")
    assert fetched and "_ga" in cookies()
    context.close()
