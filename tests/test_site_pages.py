"""The consent pages in a site's own templates, as the core decides them for Flask and
Django alike (:mod:`consentgate.site_pages`), with a stand-in template engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from consentgate.consent import Consent
from consentgate.endpoint import FormRequest
from consentgate.gate import Gate
from consentgate.site_pages import (
    BANNER_HTML,
    SitePage,
    banner_due,
    placed_banner,
    preferences_response,
    prepare_banner,
    shared_context,
    site_decision_response,
)

from .conftest import SECRET, categories
from .recordstores import FailingStore, MemoryStore


class Engine:
    """A template engine that writes each page's name and values, and keeps the pages."""

    def __init__(self) -> None:
        self.pages: list[SitePage] = []

    def __call__(self, page: SitePage) -> str:
        self.pages.append(page)
        values = {**page.values, **page.markup}
        return f"<{page.template} layout={page.in_layout}>{json.dumps(values)}"


def make_gate(**options: Any) -> Gate:
    options.setdefault("secret_key", SECRET)
    options.setdefault("categories", categories())
    return Gate(serve_endpoint=False, **options)


def admitted(gate: Gate, path: str = "/page", **kwargs: Any) -> dict[str, Any]:
    """A request's environ as the gate read it (its consent in it)."""
    environ: dict[str, Any] = EnvironBuilder(path=path, **kwargs).get_environ()
    gate.admit(environ)
    return environ


def decided(gate: Gate, path: str = "/page") -> dict[str, Any]:
    """A request of a visitor who refused everything optional."""
    consent = Consent(frozenset({"necessary"}), decided=True, decided_at=int(gate.clock()))
    cookie = gate.codec.dumps(consent)
    return admitted(gate, path, headers={"Cookie": f"consentgate={cookie}"})


@pytest.mark.parametrize(
    ("options", "path", "headers", "due"),
    [
        pytest.param({}, "/page", {}, True, id="undecided"),
        pytest.param({}, "/consent", {}, False, id="the-preferences-page"),
        pytest.param({}, "/consent/", {}, False, id="the-preferences-page-slash"),
        pytest.param({}, "/page", {"Sec-Fetch-Dest": "empty"}, False, id="a-fetched-fragment"),
        pytest.param({"exclude_paths": ["/admin"]}, "/admin/x", {}, False, id="excluded"),
        pytest.param({"exclude_paths": ["/admin"]}, "/page", {}, True, id="not-excluded"),
        pytest.param({"inject_banner": False}, "/page", {}, False, id="inject-banner-off"),
    ],
)
def test_a_banner_is_due_where_the_gate_injects_one(
    options: dict[str, Any], path: str, headers: dict[str, str], due: bool
) -> None:
    gate = make_gate(**options)
    environ = admitted(gate, path, headers=headers)
    assert banner_due(gate, environ) is due
    engine = Engine()
    prepare_banner(gate, environ, engine)
    assert (BANNER_HTML in environ) is due and len(engine.pages) == due


def test_no_banner_is_due_once_decided_placed_or_without_the_gate() -> None:
    gate = make_gate()
    assert not banner_due(gate, decided(gate))
    placed = admitted(gate)
    placed["consentgate.banner_placed"] = True
    assert not banner_due(gate, placed)
    assert not banner_due(gate, EnvironBuilder(path="/page").get_environ())


@pytest.mark.parametrize(
    ("mode", "template"),
    [
        pytest.param("opt-in", "consentgate/banner.html", id="opt-in"),
        pytest.param("opt-out", "consentgate/notice.html", id="opt-out"),
    ],
)
def test_the_banner_leads_back_to_the_page_through_the_mount_prefix(
    mode: str, template: str
) -> None:
    gate = make_gate(mode=mode)
    environ = admitted(gate, "/caf\u00e9?a=1&b=2", base_url="http://localhost/site")
    engine = Engine()
    prepare_banner(gate, environ, engine)
    [page] = engine.pages
    assert page.template == template and not page.in_layout
    assert page.values["next_url"] == "/caf%C3%A9?a=1&b=2"
    settings_url = "/site/consent?next=/caf%25C3%25A9%3Fa%3D1%26b%3D2"
    assert page.values["consent_settings_url"] == settings_url


def test_a_placed_banner_brings_the_api_once_and_nothing_once_decided() -> None:
    gate = make_gate()
    environ = admitted(gate)
    html = placed_banner(gate, environ, Engine())
    assert html.startswith("<consentgate/banner.html") and 'id="consentgate-state"' in html
    assert environ["consentgate.banner_placed"] is True
    assert not banner_due(gate, environ)  # the gate injects no second one
    scripted = admitted(gate)
    gate.place_script(scripted)
    assert 'id="consentgate-state"' not in placed_banner(gate, scripted, Engine())
    settled = decided(gate)
    assert placed_banner(gate, settled, Engine()) == ""
    assert settled["consentgate.banner_placed"] is True


def test_the_preferences_page_is_in_the_layout_in_the_language_asked() -> None:
    gate = make_gate(languages=["en", "de"])
    environ = admitted(gate, "/consent", query_string="lang=de&next=/back")
    engine = Engine()
    response = preferences_response(gate, FormRequest(environ), engine)
    [page] = engine.pages
    assert page.template == "consentgate/preferences.html" and page.in_layout
    assert page.values == {"next_url": "/back"}
    assert '<option value="de" lang="de" selected>' in page.markup["consent_language_picker"]
    assert response.headers["Content-Language"] == "de"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Vary"] == "Cookie, Accept"
    assert response.mimetype == "text/html"


def test_the_preferences_page_leads_back_to_itself_and_a_script_gets_json() -> None:
    gate = make_gate()
    engine = Engine()
    preferences_response(gate, FormRequest(admitted(gate, "/consent")), engine)
    assert engine.pages[0].values == {"next_url": "/consent"}
    environ = admitted(gate, "/consent", headers={"Accept": "application/json"})
    answer = preferences_response(gate, FormRequest(environ), engine)
    assert json.loads(answer.get_data())["decided"] is False and len(engine.pages) == 1


def post(gate: Gate, accept: str = "text/html") -> tuple[Any, Engine]:
    form = {"action": "accept_all", "next": "/facts?x=1"}
    environ = admitted(
        gate,
        "/consent",
        method="POST",
        data=form,
        headers={"Accept": accept},
        base_url="http://localhost/site",
    )
    engine = Engine()
    return site_decision_response(gate, FormRequest(environ), engine), engine


def test_a_decision_not_recorded_is_the_sites_503_page_leading_back() -> None:
    response, engine = post(make_gate(records=FailingStore()))
    assert response.status_code == 503 and "Set-Cookie" not in response.headers
    page = engine.pages[-1]
    assert page.template == "consentgate/unavailable.html" and page.in_layout
    assert page.values["back_url"] == "/site/facts?x=1"
    assert response.get_data(as_text=True).startswith("<consentgate/unavailable.html")
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    assert response.headers["Retry-After"] == str(page.values["retry_after"])


def test_a_script_gets_the_cores_json_503() -> None:
    response, engine = post(make_gate(records=FailingStore()), "application/json")
    assert response.status_code == 503 and "retry_after" in json.loads(response.get_data())
    assert all(page.template != "consentgate/unavailable.html" for page in engine.pages)


def test_the_notice_recorded_is_the_sites_banner_as_rendered() -> None:
    store = MemoryStore()
    response, engine = post(make_gate(records=store))
    assert response.status_code == 303 and response.headers["Location"] == "/site/facts?x=1"
    [page] = engine.pages
    assert page.template == "consentgate/banner.html" and page.values["next_url"] == "/"
    [notice] = store.notices.values()
    assert '"next_url": "/"' in notice  # the text of what the engine wrote


def test_every_template_gets_the_urls_behind_the_prefix_and_the_nonce() -> None:
    gate = make_gate(mode="opt-out", languages=["en", "fr"], privacy_url="/privacy")
    environ = admitted(
        gate,
        "/page",
        base_url="http://localhost/site",
        headers={"Sec-GPC": "1", "Accept-Language": "fr"},
    )
    environ["consentgate.csp_nonce"] = "n0nce"
    shared = shared_context(gate, environ)
    assert shared.values["consent_url"] == "/site/consent"
    assert shared.values["consent_privacy_url"] == "/site/privacy"
    assert (shared.values["consent_mode"], shared.values["consent_gpc"]) == ("opt-out", True)
    assert shared.values["consent_lang"] == "fr"
    assert shared.markup["consentgate_nonce"] == ' nonce="n0nce"'
