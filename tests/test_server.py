"""End to end over real HTTP: the README's quick start, and other frameworks wrapped unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bottle
import requests

from consentgate import Category, ConsentGate

from .conftest import GTAG, PAGE, PAGE_ACCEPTED, SECRET, html_app

Serve = Callable[[Any], str]


def readme_app() -> ConsentGate:
    """The README's quick start, as written there, around a plain WSGI app."""
    application = html_app(PAGE, [("Set-Cookie", "_ga=GA1.1.1; Path=/")])
    return ConsentGate(
        application,
        secret_key="change-me",
        categories=[
            Category(
                "necessary",
                required=True,
                label="Necessary cookies",
                description="Keep the site working: sign-in, security, your cookie choice.",
            ),
            Category(
                "analytics",
                label="Analytics cookies",
                description="Count visits so we can improve the site.",
                trackers=["google-analytics"],
            ),
        ],
    )


def test_quick_start_over_http(serve: Serve) -> None:
    base = serve(readme_app())
    browser = requests.Session()
    first = browser.get(base + "/")
    assert 'id="consentgate-banner"' in first.text
    assert "googletagmanager" not in first.text
    assert "_ga" not in browser.cookies

    accepted = browser.post(base + "/consent", data={"action": "accept_all", "next": "/"})
    assert accepted.history[0].status_code == 303
    assert "consentgate" in browser.cookies
    assert accepted.content == PAGE_ACCEPTED
    assert browser.cookies.get("_ga") == "GA1.1.1"

    rejected = browser.post(base + "/consent", data={"action": "reject_all", "next": "/"})
    assert "googletagmanager" not in rejected.text and "consentgate-banner" not in rejected.text
    assert "_ga" not in browser.cookies


def test_cross_site_post_refused_over_http(serve: Serve) -> None:
    base = serve(readme_app())
    response = requests.post(
        base + "/consent",
        data={"action": "accept_all"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert "consentgate" not in response.cookies


def test_bottle_app_wrapped_unchanged(serve: Serve) -> None:
    app = bottle.Bottle()

    @app.route("/")
    def home() -> str:
        bottle.response.set_cookie("_ga", "GA1.1.2")
        return PAGE.decode()

    @app.route("/data.json")
    def data() -> dict[str, int]:
        return {"views": 3}

    gated = ConsentGate(
        app,
        secret_key=SECRET,
        categories=[
            Category("necessary", required=True),
            Category("analytics", trackers=["google-analytics"]),
        ],
    )
    base = serve(gated)
    browser = requests.Session()
    page = browser.get(base + "/")
    assert "consentgate-banner" in page.text and GTAG.decode() not in page.text
    assert "_ga" not in browser.cookies
    assert browser.get(base + "/data.json").json() == {"views": 3}
    browser.post(base + "/consent", data={"action": "accept_all"})
    page = browser.get(base + "/")
    assert GTAG.decode() in page.text and "consentgate-banner" not in page.text
    assert browser.cookies.get("_ga") == "GA1.1.2"
