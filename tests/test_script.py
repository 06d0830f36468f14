"""The JavaScript API's server side: the JSON state, the versioned script, the page's tags."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from importlib.resources import files
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, TestResponse

from consentgate import ConsentGate
from consentgate.flask import FlaskConsent
from consentgate.script import SCRIPT, consent_state, state_json, state_tags, versioned_name

from .conftest import SECRET, categories, html_app

JSON = {"Accept": "application/json"}
STATE_KEYS = {
    "decided",
    "granted",
    "refused",
    "policy_version",
    "consent_id",
    "decided_at",
    "gpc",
    "mode",
}
SHIPPED = (files("consentgate") / "static" / "consentgate" / "consentgate.js").read_bytes()


def flask_client(
    page: str = "<!DOCTYPE html><html><head></head><body><h1>Hi</h1></body></html>",
) -> Client:
    app = Flask(__name__)
    app.config.update(
        CONSENTGATE_SECRET_KEY=SECRET,
        CONSENTGATE_CATEGORIES=[
            {"name": "necessary", "required": True},
            {"name": "analytics", "trackers": ["google-analytics"]},
        ],
    )

    @app.route("/")
    def home() -> str:
        return render_template_string(page)

    FlaskConsent(app)
    return app.test_client()


def middleware_client() -> Client:
    return Client(ConsentGate(html_app(), secret_key=SECRET, categories=categories()))


#: The plain middleware's endpoint and the Flask blueprint answer alike.
BOTH = [
    pytest.param(middleware_client, id="middleware"),
    pytest.param(flask_client, id="flask"),
]


def decide(client: Client, action: str, *chosen: str) -> TestResponse:
    return client.post("/consent", data={"action": action, "category": list(chosen)}, headers=JSON)


def script_src(page: str) -> str:
    match = re.search(r'<script src="([^"]*)"[^>]*\bdefer\b', page)
    assert match is not None, "the page loads no script"
    return html.unescape(match.group(1))


def embedded_state(page: str) -> Any:
    match = re.search(
        r'<script type="application/json" id="consentgate-state">(.*?)</script>', page
    )
    assert match is not None, "the page carries no state"
    return json.loads(match.group(1))


# --- the state as JSON ---------------------------------------------------------


@pytest.mark.parametrize("make_client", BOTH)
@pytest.mark.parametrize(
    ("decision", "granted", "refused"),
    [
        pytest.param((), ["necessary"], ["analytics"], id="undecided"),
        pytest.param(("accept_all",), ["necessary", "analytics"], [], id="accepted"),
        pytest.param(("reject_all",), ["necessary"], ["analytics"], id="rejected"),
        pytest.param(("save", "analytics"), ["necessary", "analytics"], [], id="saved-analytics"),
        pytest.param(("save",), ["necessary"], ["analytics"], id="saved-nothing"),
    ],
)
def test_get_answers_each_visitors_state(
    make_client: Callable[[], Client],
    decision: tuple[str, ...],
    granted: list[str],
    refused: list[str],
) -> None:
    client = make_client()
    posted = decide(client, *decision).get_json() if decision else None
    response = client.get("/consent", headers=JSON)
    state = response.get_json()

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Vary"] == "Cookie, Accept"
    assert set(state) == STATE_KEYS
    assert state["decided"] is bool(decision)
    assert (state["granted"], state["refused"]) == (granted, refused)
    assert state["policy_version"] == "1"
    assert (state["gpc"], state["mode"]) == (False, "opt-in")
    if decision:
        assert state == posted, "the POST's answer and a later GET disagree"
        assert state["consent_id"] and isinstance(state["decided_at"], int)
    else:
        assert state["consent_id"] is None and state["decided_at"] is None


@pytest.mark.parametrize("make_client", BOTH)
def test_a_browser_still_gets_the_preferences_page(make_client: Callable[[], Client]) -> None:
    response = make_client().get("/consent", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.mimetype == "text/html"
    assert "Cookie settings" in response.get_data(as_text=True)
    # One URL, two kinds of answer: a cache must tell them apart.
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert vary == {"Cookie", "Accept", "Accept-Language"}


@pytest.mark.parametrize("make_client", BOTH)
def test_head_of_the_state_has_the_get_headers_and_no_body(
    make_client: Callable[[], Client],
) -> None:
    client = make_client()
    get, head = client.get("/consent", headers=JSON), client.head("/consent", headers=JSON)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"] == "application/json"
    assert head.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("headers", "gpc", "granted"),
    [
        pytest.param({}, False, ["necessary", "analytics"], id="opt-out"),
        pytest.param({"Sec-GPC": "1"}, True, ["necessary"], id="opt-out-with-gpc"),
    ],
)
def test_state_says_the_mode_and_the_gpc_signal(
    headers: dict[str, str], gpc: bool, granted: list[str]
) -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories(), mode="opt-out")
    client = Client(gate)
    state = client.get("/consent", headers={**JSON, **headers}).get_json()
    assert (state["mode"], state["gpc"], state["decided"]) == ("opt-out", gpc, False)
    assert state["granted"] == granted
    page = client.get("/", headers=headers).get_data(as_text=True)
    assert embedded_state(page) == state
    vary = client.get("/consent", headers=JSON).headers["Vary"]
    assert {v.strip() for v in vary.split(",")} == {"Cookie", "Sec-GPC", "Accept"}


# --- the script ----------------------------------------------------------------


def test_the_url_names_the_content() -> None:
    digest = hashlib.sha256(SHIPPED).hexdigest()[:16]
    assert SCRIPT == SHIPPED
    assert versioned_name(SHIPPED) == f"consentgate.{digest}.js"
    assert versioned_name(SHIPPED + b"\n// changed") != versioned_name(SHIPPED)


@pytest.mark.parametrize("make_client", BOTH)
def test_script_is_served_immutable_with_its_etag(make_client: Callable[[], Client]) -> None:
    client = make_client()
    src = script_src(client.get("/").get_data(as_text=True))
    response = client.get(src)

    assert response.status_code == 200
    assert response.data == SHIPPED
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    assert etag.strip('"') in src

    again = client.get(src, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    stale = client.get(src, headers={"If-None-Match": '"0000000000000000"'})
    assert stale.status_code == 200 and stale.data == SHIPPED


@pytest.mark.parametrize("make_client", BOTH)
def test_head_of_the_script(make_client: Callable[[], Client]) -> None:
    client = make_client()
    src = script_src(client.get("/").get_data(as_text=True))
    head = client.head(src)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(SHIPPED))
    assert head.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("make_client", BOTH)
def test_another_version_or_method_is_not_served(make_client: Callable[[], Client]) -> None:
    client = make_client()
    src = script_src(client.get("/").get_data(as_text=True))
    other = client.get("/consent/consentgate.0000000000000000.js")
    assert other.data != SHIPPED
    assert client.post(src).status_code == 405


def test_the_script_under_a_mount_prefix() -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories())
    client = Client(DispatcherMiddleware(html_app(b"<p>root</p>"), {"/app": gate}))
    page = client.get("/app/").get_data(as_text=True)
    src = script_src(page)
    assert src.startswith("/app/consent/consentgate.")
    assert 'data-prefix="/app"' in page
    assert client.get(src).data == SHIPPED


# --- the tags in the page ------------------------------------------------------


@pytest.mark.parametrize("make_client", BOTH)
def test_banner_brings_the_state_and_script_once(make_client: Callable[[], Client]) -> None:
    client = make_client()
    page = client.get("/").get_data(as_text=True)
    assert page.count('id="consentgate-state"') == 1
    assert page.count("/consent/consentgate.") == 1
    assert embedded_state(page) == client.get("/consent", headers=JSON).get_json()
    # The banner's markup comes first, the API after it.
    assert page.index('id="consentgate-banner"') < page.index('id="consentgate-state"')


@pytest.mark.parametrize("make_client", BOTH)
def test_decided_visitors_pages_are_left_alone(make_client: Callable[[], Client]) -> None:
    client = make_client()
    decide(client, "reject_all")
    assert "consentgate-state" not in client.get("/").get_data(as_text=True)


def test_a_template_places_the_api_once_and_the_banner_adds_none() -> None:
    page = (
        "<!DOCTYPE html><html><head>{{ consentgate_script() }}{{ consentgate_script() }}</head>"
        "<body>{{ consent_banner() }}<h1>Hi</h1></body></html>"
    )
    client = flask_client(page)
    undecided = client.get("/").get_data(as_text=True)
    assert undecided.count('id="consentgate-state"') == 1
    assert undecided.count("<script src=") == 1
    assert undecided.index("consentgate-state") < undecided.index("<body>")
    assert "consentgate-banner" in undecided
    decide(client, "accept_all")
    decided = client.get("/").get_data(as_text=True)
    assert embedded_state(decided)["granted"] == ["necessary", "analytics"]
    assert "consentgate-banner" not in decided


def test_the_scripts_carry_the_apps_csp_nonce() -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories())

    def with_nonce(environ: dict[str, Any], start_response: Any) -> Any:
        environ["consentgate.csp_nonce"] = 'r4nd0m"'
        return gate(environ, start_response)

    page = Client(with_nonce).get("/").get_data(as_text=True)
    tag = re.search(r"<script src=\"/consent/[^>]*>", page)
    assert tag is not None and 'nonce="r4nd0m&quot;"' in tag.group(0)


def test_state_cannot_end_its_script_element() -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories())
    hostile = "</script><script>alert(1)</script>&\u2028"
    state = consent_state(gate.consent_for({}), gate.settings.replace(policy_version=hostile))
    tags = state_tags(state_json(state), "", "/consent")
    assert tags.count("</script>") == 2 and "<script>alert" not in tags
    assert embedded_state(tags)["policy_version"] == hostile


# --- inject_script: the API on every page --------------------------------------


def test_inject_script_puts_the_api_in_decided_visitors_pages() -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories(), inject_script=True)
    client = Client(gate)
    undecided = client.get("/").get_data(as_text=True)
    assert undecided.count('id="consentgate-state"') == 1, "the banner and the option both added it"
    for action in ("accept_all", "reject_all"):
        decide(client, action)
        page = client.get("/").get_data(as_text=True)
        assert "consentgate-banner" not in page
        assert embedded_state(page) == client.get("/consent", headers=JSON).get_json()
        assert client.get(script_src(page)).data == SHIPPED
        # At the top of the body, like the banner.
        assert page.index("<body>") + len("<body>") == page.index('<script type="application/json"')
    fragment = client.get("/", headers={"Sec-Fetch-Dest": "empty"}).get_data(as_text=True)
    assert "consentgate-state" not in fragment


def test_inject_script_leaves_pages_that_placed_the_api_alone() -> None:
    gate = ConsentGate(html_app(), secret_key=SECRET, categories=categories(), inject_script=True)

    def placed(environ: dict[str, Any], start_response: Any) -> Any:
        environ["consentgate.script_placed"] = True
        return gate(environ, start_response)

    client = Client(placed)
    decide(client, "accept_all")
    assert "consentgate-state" not in client.get("/").get_data(as_text=True)
