"""Apps mounted under a prefix (SCRIPT_NAME): every URL the gate writes stays inside the mount."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from flask import Flask
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app

from consentgate import ConsentGate
from consentgate.flask import FlaskConsent

from .conftest import SECRET, categories, html_app

Gate = Callable[..., ConsentGate]
#: One gate for the property test (hypothesis runs it many times).
GATE = ConsentGate(html_app(), secret_key=SECRET, categories=categories())


def mounted(app: Any) -> Client:
    """A client for ``app`` mounted at ``/app`` the way Werkzeug's DispatcherMiddleware does."""
    return Client(DispatcherMiddleware(html_app(b"<p>root</p>"), {"/app": app}))


def form_action(page: bytes) -> str:
    match = re.search(rb'<form method="post" action="([^"]*)"', page)
    assert match is not None
    return match.group(1).decode()


def flask_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        CONSENTGATE_SECRET_KEY=SECRET,
        CONSENTGATE_CATEGORIES=[
            {"name": "necessary", "required": True},
            {"name": "analytics", "trackers": ["google-analytics"]},
        ],
        **config,
    )

    @app.route("/")
    @app.route("/page")
    def page() -> str:
        return "<!DOCTYPE html><html><head></head><body><h1>Page</h1></body></html>"

    FlaskConsent(app)
    return app


#: The plain middleware (``make_gate`` builds it) and the Flask extension.
BOTH = [pytest.param(lambda: None, id="middleware"), pytest.param(flask_app, id="flask")]


@pytest.mark.parametrize("make_app", BOTH)
def test_mounted_app_takes_a_decision_inside_its_prefix(
    make_gate: Gate, make_app: Callable[[], Any]
) -> None:
    client = mounted(make_app() or make_gate())
    page = client.get("/app/page?x=1").data
    assert form_action(page) == "/app/consent"
    assert b'name="next" value="/page?x=1"' in page
    assert b'href="/app/privacy"' in page
    response = client.post("/app/consent", data={"action": "accept_all", "next": "/page?x=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/app/page?x=1"
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("consentgate="))
    assert "Path=/app;" in cookie or cookie.endswith("Path=/app")
    assert b"consentgate-banner" not in client.get("/app/page").data


def test_cookie_path_option_overrides_the_mount(make_gate: Gate) -> None:
    client = mounted(make_gate(cookie_path="/"))
    response = client.post("/app/consent", data={"action": "reject_all"})
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("consentgate="))
    assert "Path=/;" in cookie


@pytest.mark.parametrize(
    "script_name",
    [
        pytest.param("//evil.example", id="protocol-relative"),
        pytest.param("/\\evil.example", id="backslash"),
        pytest.param("/\t/evil.example", id="tab"),
        pytest.param("/%2F/evil.example", id="encoded-slash"),
        pytest.param("/../evil.example", id="dot-segment"),
        pytest.param("https://evil.example", id="absolute-url"),
    ],
)
@pytest.mark.parametrize("make_app", BOTH)
def test_unsafe_prefix_never_leads_off_the_site(
    make_gate: Gate,
    make_app: Callable[[], Any],
    script_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(make_app() or make_gate())
    environ = {"SCRIPT_NAME": script_name}
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        page = client.get("/page", environ_overrides=environ).data
        response = client.post(
            "/consent", data={"action": "accept_all", "next": "/x"}, environ_overrides=environ
        )
    assert form_action(page) == "/consent"
    assert response.headers["Location"] == "/x"
    assert "Path=/;" in response.headers["Set-Cookie"]
    assert len([r for r in caplog.records if "SCRIPT_NAME" in r.getMessage()]) == 1


@pytest.mark.parametrize("make_app", BOTH)
def test_endpoint_answers_with_a_trailing_slash(
    make_gate: Gate, make_app: Callable[[], Any]
) -> None:
    client = Client(make_app() or make_gate())
    page = client.get("/consent/")
    assert page.status_code == 200 and b"Cookie settings" in page.data
    response = client.post("/consent/", data={"action": "reject_all", "next": "/x"})
    assert response.status_code == 303 and response.headers["Location"] == "/x"


def test_preferences_page_links_back_inside_the_mount(make_gate: Gate) -> None:
    client = mounted(make_gate())
    page = client.get("/app/consent?next=/page").data
    assert form_action(page) == "/app/consent"
    assert b'<a href="/app/page">Back to the page you were on</a>' in page
    assert b'name="next" value="/page"' in page


@pytest.mark.parametrize(
    ("referer", "link"),
    [
        pytest.param("http://localhost/app/news?id=3", b'href="/app/news?id=3"', id="same-site"),
        pytest.param("https://evil.example/app/news", None, id="other-site"),
        pytest.param("http://localhost/other/news", None, id="outside-the-mount"),
        pytest.param("http://localhost/app/consent", None, id="the-page-itself"),
    ],
)
def test_preferences_page_links_back_to_the_referring_page(
    make_gate: Gate, referer: str, link: bytes | None
) -> None:
    page = mounted(make_gate()).get("/app/consent", headers={"Referer": referer}).data
    if link is None:
        assert b"Back to the page you were on" not in page
    else:
        assert link + b">Back to the page you were on</a>" in page


@given(
    script_name=st.text(alphabet="/\\%2F5Cc.:\t ae?#@", max_size=16),
    target=st.text(alphabet="/\\%2Fc.:\t ae?#", max_size=12),
)
@example(script_name="/", target="/evil.example")  # the root given as "/"
def test_redirect_after_a_decision_stays_on_the_site(script_name: str, target: str) -> None:
    data = {"action": "reject_all", "next": target}
    environ = EnvironBuilder("/consent", method="POST", data=data).get_environ()
    environ["SCRIPT_NAME"] = script_name
    _, _, headers = run_wsgi_app(GATE, environ)
    layer = headers["Location"]
    for _ in range(5):
        assert urlsplit(urljoin("https://example.com/page", layer)).netloc == "example.com"
        layer = unquote(layer)


def test_banner_links_to_the_settings_page_inside_the_mount(make_gate: Gate) -> None:
    client = mounted(make_gate())
    page = client.get("/app/news?id=3&x=y").data
    link = re.search(rb'<a href="([^"]*)">cookie settings page</a>', page)
    assert link is not None
    url = link.group(1).decode().replace("&amp;", "&")
    assert url == "/app/consent?next=/news%3Fid%3D3%26x%3Dy"
    settings = client.get(url).data
    assert b'<a href="/app/news?id=3&amp;x=y">Back to the page you were on</a>' in settings
