"""Google Consent Mode and a strict Content Security Policy, in a real Chromium.

Google's gtag.js is replaced by a fake served for its URL: like the real one, it reads the
commands queued on ``window.dataLayer`` when it loads, and reports the consent default it
found. The page's own first script reports what it saw before any Google code ran.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from consentgate import Category, ConsentGate

from .support import served

pytestmark = pytest.mark.browser

SECRET = "consent-mode-browser-secret-0123456789"
GTAG_URL = "https://www.googletagmanager.com/gtag/js?id=G-TEST"
#: The page's own first script: what the data layer held before any Google code ran.
READER = (
    "window.seenFirst = (window.dataLayer || []).map(function (entry) {"
    " return Array.prototype.slice.call(entry); });"
)
#: Stands in for gtag.js: finds the consent default queued before it, as an arguments
#: object (the only shape gtag.js takes from the data layer), and no other command first.
FAKE_GTAG = """
(function () {
  var layer = window.dataLayer || [];
  var first = layer[0];
  var isArguments = Object.prototype.toString.call(first) === "[object Arguments]";
  window.gtagSaw = first && isArguments && first[0] === "consent" && first[1] === "default"
    ? first[2] : null;
})();
"""
#: The banner's bottom border, drawn only when its <style> applies.
STYLE_CHECK = (
    "() => getComputedStyle(document.querySelector('#consentgate-banner')).borderBottomStyle"
)


def page_html(nonce: str = "") -> bytes:
    attr = f' nonce="{nonce}"' if nonce else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>'
        f"<script{attr}>{READER}</script>"
        f'<script{attr} async src="{GTAG_URL}"></script>'
        f"<script{attr}>window.dataLayer = window.dataLayer || [];"
        "function gtag(){dataLayer.push(arguments);}"
        "gtag('js', new Date()); gtag('config', 'G-TEST');</script>"
        "</head><body><main><h1>Shop</h1></main></body></html>"
    ).encode()


def shop(csp: bool) -> Callable[..., Any]:
    """The shop's WSGI app; with ``csp``, a strict nonce policy and a fresh nonce each time."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        headers = [("Content-Type", "text/html; charset=utf-8")]
        nonce = ""
        if csp:
            nonce = secrets.token_urlsafe(16)
            environ["consentgate.csp_nonce"] = nonce
            policy = f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'"
            headers.append(("Content-Security-Policy", policy))
        start_response("200 OK", headers)
        return [page_html(nonce)]

    return app


def gate(app: Callable[..., Any]) -> ConsentGate:
    return ConsentGate(
        app,
        secret_key=SECRET,
        categories=[
            Category("necessary", required=True, label="Necessary cookies"),
            Category("analytics", label="Analytics cookies", trackers=["google-analytics"]),
        ],
    )


@pytest.fixture
def open_shop(browser: Browser) -> Iterator[Callable[[bool], Page]]:
    """Serve the shop (with or without its policy) and open it in a fresh context,
    with gtag.js answered by the fake and every CSP violation recorded."""
    stack = ExitStack()

    def open_(csp: bool) -> Page:
        url = stack.enter_context(served(gate(shop(csp))))
        context = browser.new_context()
        stack.callback(context.close)
        context.set_default_timeout(10_000)

        def fake_gtag(route: Route) -> None:
            route.fulfill(status=200, content_type="text/javascript", body=FAKE_GTAG)

        context.route("https://www.googletagmanager.com/**", fake_gtag)
        context.add_init_script(
            "window.violations = [];"
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " window.violations.push(e.violatedDirective + ' ' + e.blockedURI); });"
        )
        page = context.new_page()
        page.goto(url)
        return page

    with stack:
        yield open_


def accept(page: Page) -> None:
    with page.expect_event("load"):
        page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("() => window.gtagSaw !== undefined")


def test_google_code_starts_with_the_visitors_state(open_shop: Callable[[bool], Page]) -> None:
    page = open_shop(False)
    # Undecided: the Google tag is removed, and nothing needs telling.
    assert page.evaluate("() => [window.seenFirst, window.gtagSaw]") == [[], None]
    accept(page)
    default = page.evaluate("() => window.seenFirst")[0]
    assert default[:2] == ["consent", "default"]
    state = default[2]
    assert state["analytics_storage"] == "granted"
    assert state["ad_storage"] == state["ad_user_data"] == "denied"
    assert page.evaluate("() => window.gtagSaw") == state


def test_strict_csp_keeps_banner_styled_and_snippet_running(
    open_shop: Callable[[bool], Page],
) -> None:
    page = open_shop(True)
    # The banner's <style> carries the nonce: its border is drawn.
    assert page.evaluate(STYLE_CHECK) == "solid"
    # The JavaScript API's script carries it too: it runs, and the banner decides through it.
    assert page.evaluate("() => typeof window.consentgate.accept") == "function"
    with page.expect_request(lambda r: r.method == "POST") as post:
        accept(page)
    assert post.value.resource_type == "fetch"
    saw = page.evaluate("() => window.gtagSaw")
    assert saw is not None, "the Consent Mode default did not run before gtag.js"
    assert saw["analytics_storage"] == "granted"
    assert page.evaluate("() => window.violations") == []
