"""Opt-in and opt-out modes, the region callback and Global Privacy Control, as a
visitor's browser and a shared cache see them."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from consentgate import Category, Consent, ConsentGate
from consentgate.decision import decide
from consentgate.jurisdiction import (
    DEFAULT_STATE,
    RequestState,
    effective_consent,
    sends_gpc,
)

from .conftest import PAGE, SECRET, html_app

Gate = Callable[..., ConsentGate]
TRACKER = b"googletagmanager"
HONOURED = b"Global Privacy Control signal. We honour it"


def jurisdiction_categories(gpc: bool | None = None) -> list[Category]:
    """Necessary, and analytics (Google Analytics, a ``visits`` cookie) with ``gpc``."""
    return [
        Category("necessary", required=True, label="Necessary cookies", cookies=["session"]),
        Category(
            "analytics",
            label="Analytics cookies",
            trackers=["google-analytics"],
            cookies=["visits"],
            gpc=gpc,
        ),
    ]


def page_setting_visits() -> Any:
    """The sample page, with the app setting the analytics cookie ``visits``."""
    return html_app(PAGE, [("Set-Cookie", "visits=1; Path=/")])


def sets_visits(response: TestResponse) -> bool:
    """Whether the app's ``visits`` cookie reached the browser."""
    return any(h.startswith("visits=1") for h in response.headers.getlist("Set-Cookie"))


def cookie_for(gate: ConsentGate, earlier: str) -> str | None:
    """The consent cookie value of an earlier choice: ``accepted`` and ``refused`` in
    opt-in mode, ``acknowledged`` (the opt-out notice's OK), or none at all."""
    if earlier == "none":
        return None
    action, mode = {
        "accepted": ("accept_all", "opt-in"),
        "refused": ("reject_all", "opt-in"),
        "acknowledged": ("acknowledge", "opt-out"),
    }[earlier]
    now = int(gate.clock())
    consent = decide(action, [], gate.settings, now=now, consent_id="earlier", mode=mode)
    assert consent is not None
    return gate.codec.dumps(consent)


def visit(gate: ConsentGate, earlier: str = "none", **headers: str) -> TestResponse:
    client = Client(gate)
    value = cookie_for(gate, earlier)
    if value is not None:
        client.set_cookie("consentgate", value, domain="localhost")
    return client.get("/", headers=headers)


def banner_kind(page: bytes) -> str | None:
    if b'class="consentgate-notice"' in page:
        return "notice"
    return "banner" if b'id="consentgate-banner"' in page else None


# --- the whole matrix, as the visitor receives it ----------------------------


def expected(
    mode: str, sent: bool, earlier: str, flag: bool, answers: bool, policy: str
) -> tuple[bool, str | None]:
    """What the issue asks for: (analytics runs, which banner) in each case."""
    honoured = sent and policy == "honour"
    if mode == "opt-in":
        if earlier in ("accepted", "refused"):  # a choice made in opt-in mode stands
            return earlier == "accepted", None
        # Undecided, or an opt-out notice's OK, which is no consent here.
        return False, None if honoured and answers else "banner"
    runs = earlier != "refused" and not (honoured and flag)
    return runs, "notice" if earlier == "none" else None


CASES = list(
    itertools.product(
        ("opt-in", "opt-out"),
        (False, True),
        ("none", "accepted", "refused", "acknowledged"),
        (False, True),
        (False, True),
        ("honour", "ignore"),
    )
)


@pytest.mark.parametrize(
    ("mode", "sent", "earlier", "flag", "answers", "policy"),
    [
        pytest.param(
            *case,
            id=f"{case[0]}-{'gpc' if case[1] else 'nogpc'}-{case[2]}"
            f"-flag{int(case[3])}-answers{int(case[4])}-{case[5]}",
        )
        for case in CASES
    ],
)
def test_every_combination(
    make_gate: Gate, mode: str, sent: bool, earlier: str, flag: bool, answers: bool, policy: str
) -> None:
    gate = make_gate(
        page_setting_visits(),
        categories=jurisdiction_categories(gpc=flag),
        mode=mode,
        gpc=policy,
        gpc_answers_banner=answers,
    )
    response = visit(gate, earlier, **({"Sec-GPC": "1"} if sent else {}))

    runs, banner = expected(mode, sent, earlier, flag, answers, policy)
    page = response.data
    assert (TRACKER in page) is runs
    assert sets_visits(response) is runs
    assert banner_kind(page) == banner
    honoured = sent and policy == "honour" and (mode == "opt-out" or answers)
    # The notice says the signal is honoured exactly when it is.
    assert (HONOURED in page) is (honoured and banner == "notice")


def test_environ_carries_mode_gpc_and_the_consent_in_effect(make_gate: Gate) -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.update({k: v for k, v in environ.items() if k.startswith("consentgate.")})
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    Client(make_gate(app, mode="opt-out")).get("/", headers={"Sec-GPC": "1"})
    assert seen["consentgate.mode"] == "opt-out"
    assert seen["consentgate.gpc"] is True
    assert not seen["consentgate.consent"].allows("analytics")
    assert not seen["consentgate.consent"].decided
    Client(make_gate(app, mode="opt-out")).get("/")
    assert seen["consentgate.gpc"] is False
    assert seen["consentgate.consent"].allows("analytics")
    Client(make_gate(app)).get("/", headers={"Sec-GPC": "1"})
    # In opt-in mode the signal changes nothing unless it answers the banner.
    assert (seen["consentgate.mode"], seen["consentgate.gpc"]) == ("opt-in", False)


@pytest.mark.parametrize(
    ("value", "signal"),
    [("1", True), (" 1 ", True), ("0", False), ("", False), ("true", False), (None, False)],
)
def test_only_sec_gpc_1_is_the_signal(value: str | None, signal: bool) -> None:
    assert sends_gpc(value) is signal


def test_a_category_marked_gpc_false_stays_on_under_the_signal(make_gate: Gate) -> None:
    categories = [
        *jurisdiction_categories(),
        Category("functional", cookies=["prefs"], sources=["widgets.example"]),
        Category("fonts", sources=["fonts.example"], gpc=False),
    ]
    page = (
        b"<html><head>"
        b'<script src="https://widgets.example/w.js"></script>'
        b'<link rel="stylesheet" href="https://fonts.example/f.css">'
        b"</head><body></body></html>"
    )
    gate = make_gate(html_app(page), categories=categories, mode="opt-out")
    served = visit(gate, **{"Sec-GPC": "1"}).data
    assert b"widgets.example" not in served  # every optional category by default
    assert b"fonts.example" in served
    assert b"we do not use analytics cookies, functional, whatever" in served


# --- the consent in effect, pure ---------------------------------------------


def test_effective_consent_reads_the_cookie_by_mode(make_gate: Gate) -> None:
    settings = make_gate().settings
    opt_out_gpc = RequestState("opt-out", True)
    undecided = Consent.undecided(settings.required_names)
    assert effective_consent(undecided, DEFAULT_STATE, settings) == undecided
    on = effective_consent(undecided, RequestState("opt-out", False), settings)
    assert on.granted == settings.names and not on.decided
    off = effective_consent(undecided, opt_out_gpc, settings)
    assert off.granted == settings.required_names and not off.decided
    accepted = decide("accept_all", [], settings, now=1, consent_id="x")
    assert accepted is not None
    assert effective_consent(accepted, opt_out_gpc, settings).granted == settings.required_names
    # The stored choice is kept: without the signal it counts again.
    assert effective_consent(accepted, RequestState("opt-out", False), settings) == accepted


# --- the notice, opting out and the endpoint ---------------------------------


def post(client: Client, action: str, **headers: str) -> TestResponse:
    return client.post("/consent", data={"action": action, "next": "/"}, headers=headers)


def test_the_notice_has_no_accept_reject_pair_and_links_to_opt_out(make_gate: Gate) -> None:
    page = visit(make_gate(mode="opt-out")).data
    assert b"Accept all" not in page and b"Reject all" not in page
    assert b'<a href="/consent?next=/">Do not sell or share my personal information</a>' in page
    assert b'value="acknowledge">OK</button>' in page


def test_opting_out_refuses_everything_and_expires_what_was_set(make_gate: Gate) -> None:
    client = Client(make_gate(page_setting_visits(), mode="opt-out"))
    assert sets_visits(client.get("/"))
    settings_page = client.get("/consent").data
    assert b'value="opt_out">Do not sell or share my personal information</button>' in settings_page
    assert b'value="analytics" checked' in settings_page  # on until refused
    answer = post(client, "opt_out")
    assert answer.status_code == 303
    assert any(h.startswith("visits=;") for h in answer.headers.getlist("Set-Cookie"))
    after = client.get("/")
    assert TRACKER not in after.data
    assert banner_kind(after.data) is None
    assert not sets_visits(after)


def test_ok_keeps_the_defaults_and_hides_the_notice(make_gate: Gate) -> None:
    client = Client(make_gate(mode="opt-out"))
    post(client, "acknowledge")
    page = client.get("/").data
    assert TRACKER in page
    assert banner_kind(page) is None


def test_acknowledge_is_no_answer_in_opt_in_mode(make_gate: Gate) -> None:
    answer = post(Client(make_gate()), "acknowledge")
    assert answer.status_code == 400
    assert b"cookie settings page" in answer.data
    assert answer.headers.get("Set-Cookie") is None


def test_an_opt_out_choice_that_grants_asks_again_in_an_opt_in_region(make_gate: Gate) -> None:
    region = {"mode": "opt-out"}
    gate = make_gate(region=lambda environ: region["mode"])
    client = Client(gate)
    client.post("/consent", data={"action": "save", "category": "analytics", "next": "/"})
    assert banner_kind(client.get("/").data) is None
    region["mode"] = "opt-in"
    page = client.get("/").data
    assert banner_kind(page) == "banner"
    assert TRACKER not in page
    # An opt-out, on the other hand, is a refusal everywhere.
    region["mode"] = "opt-out"
    post(client, "opt_out")
    region["mode"] = "opt-in"
    assert banner_kind(client.get("/").data) is None


def test_the_settings_page_locks_what_the_signal_refuses(make_gate: Gate) -> None:
    client = Client(make_gate(mode="opt-out"))
    page = client.get("/consent", headers={"Sec-GPC": "1"}).data
    assert HONOURED in page
    assert b'<input type="checkbox" id="consentgate-analytics" disabled>' in page
    # A later "accept all" from this browser while it sends the signal: refused still.
    post(client, "accept_all", **{"Sec-GPC": "1"})
    assert TRACKER not in client.get("/", headers={"Sec-GPC": "1"}).data
    assert TRACKER in client.get("/").data


#: The settings page's status line in opt-out mode, without and with the signal.
NOT_OPTED_OUT = b"You have not opted out here: every kind of cookie ticked below is in use."
SIGNAL_OPTED_OUT = b"Global Privacy Control signal turns off the kinds of cookie shown as off below"


def test_the_settings_page_says_what_the_signal_turned_off(make_gate: Gate) -> None:
    """Under the signal the refused categories are shown off: the status line says so,
    rather than that the visitor's unticked boxes are in use."""
    client = Client(make_gate(mode="opt-out"))
    page = client.get("/consent").data
    assert NOT_OPTED_OUT in page and SIGNAL_OPTED_OUT not in page
    signalled = client.get("/consent", headers={"Sec-GPC": "1"}).data
    assert SIGNAL_OPTED_OUT in signalled and NOT_OPTED_OUT not in signalled
    french = client.get("/consent", headers={"Sec-GPC": "1", "Accept-Language": "fr"})
    assert "mais le signal Global Privacy Control" in french.text
    # Only categories marked gpc = false: the signal turns nothing off.
    unmarked = [Category("necessary", required=True), Category("fonts", gpc=False)]
    client = Client(make_gate(mode="opt-out", categories=unmarked))
    assert NOT_OPTED_OUT in client.get("/consent", headers={"Sec-GPC": "1"}).data


def test_the_signal_expires_cookies_set_before_it(make_gate: Gate) -> None:
    client = Client(make_gate(mode="opt-out"))
    post(client, "accept_all")
    client.set_cookie("visits", "3", domain="localhost")
    response = client.get("/", headers={"Sec-GPC": "1"})
    assert any(h.startswith("visits=;") for h in response.headers.getlist("Set-Cookie"))


# --- the region callback ------------------------------------------------------

OPT_OUT_COUNTRIES = frozenset({"US"})


def by_country(environ: dict[str, Any]) -> str:
    country = environ.get("HTTP_CF_IPCOUNTRY", "")
    return "opt-out" if country in OPT_OUT_COUNTRIES else "opt-in"


def test_region_picks_the_mode_per_request(make_gate: Gate) -> None:
    gate = make_gate(region=by_country, region_headers=["CF-IPCountry"])
    us = visit(gate, **{"CF-IPCountry": "US"})
    de = visit(gate, **{"CF-IPCountry": "DE"})
    assert TRACKER in us.data and banner_kind(us.data) == "notice"
    assert TRACKER not in de.data and banner_kind(de.data) == "banner"
    vary = "Cookie, Sec-GPC, CF-IPCountry, Accept-Language"
    assert us.headers["Vary"] == de.headers["Vary"] == vary


def raising(environ: dict[str, Any]) -> str:
    raise KeyError("HTTP_CF_IPCOUNTRY")


@pytest.mark.parametrize(
    "region",
    [
        pytest.param(raising, id="raises"),
        pytest.param(lambda environ: "OPT-OUT", id="unknown-answer"),
        pytest.param(lambda environ: None, id="none"),
    ],
)
def test_a_region_mistake_fails_closed_and_is_logged_once(
    make_gate: Gate, caplog: pytest.LogCaptureFixture, region: Callable[..., Any]
) -> None:
    gate = make_gate(region=region)
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        pages = [visit(gate, **{"Sec-GPC": "1"}) for _ in range(3)]
    for page in pages:
        assert page.status_code == 200
        assert TRACKER not in page.data
        assert banner_kind(page.data) == "banner"
    messages = [r.getMessage() for r in caplog.records if "region callback" in r.getMessage()]
    assert len(messages) == 1
    assert "opt-in mode" in messages[0]


# --- caching: Vary and ETag ---------------------------------------------------


@pytest.mark.parametrize(
    ("options", "vary"),
    [
        pytest.param({}, "Cookie", id="opt-in"),
        pytest.param({"mode": "opt-out"}, "Cookie, Sec-GPC", id="opt-out"),
        pytest.param({"mode": "opt-out", "gpc": "ignore"}, "Cookie", id="opt-out-ignore"),
        pytest.param({"gpc_answers_banner": True}, "Cookie, Sec-GPC", id="answers-banner"),
        pytest.param(
            {"region": by_country, "gpc": "ignore", "region_headers": ["CF-IPCountry"]},
            "Cookie, CF-IPCountry",
            id="region",
        ),
        pytest.param({"languages": ["en"]}, "Cookie", id="one-language"),
    ],
)
def test_vary_names_what_the_page_depends_on(
    make_gate: Gate, options: dict[str, Any], vary: str
) -> None:
    # The banner's language follows Accept-Language too, unless the site has one language.
    if "languages" not in options:
        vary += ", Accept-Language"
    assert visit(make_gate(**options)).headers["Vary"] == vary


def test_vary_adds_to_the_apps_own(make_gate: Gate) -> None:
    app = html_app(PAGE, [("Vary", "Accept-Language, sec-gpc")])
    assert visit(make_gate(app, mode="opt-out")).headers["Vary"] == (
        "Accept-Language, sec-gpc, Cookie"
    )


def etag_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    if environ.get("HTTP_IF_NONE_MATCH") == '"v1"':
        start_response("304 Not Modified", [("ETag", '"v1"')])
        return []
    start_response("200 OK", [("Content-Type", "text/html"), ("ETag", '"v1"')])
    return [PAGE]


def test_etags_never_revalidate_across_modes_or_the_signal(make_gate: Gate) -> None:
    gate = make_gate(etag_app, region=by_country)
    requests = {
        "opt-in": {"CF-IPCountry": "DE"},
        "opt-out": {"CF-IPCountry": "US"},
        "opt-out-gpc": {"CF-IPCountry": "US", "Sec-GPC": "1"},
    }
    etags = {name: visit(gate, **headers).headers["ETag"] for name, headers in requests.items()}
    assert len(set(etags.values())) == len(etags)
    for name, headers in requests.items():
        for other, etag in etags.items():
            again = visit(gate, **headers, **{"If-None-Match": etag})
            assert again.status_code == (304 if name == other else 200), (name, other)


def test_plain_opt_in_keeps_the_etags_it_had(make_gate: Gate) -> None:
    before = visit(make_gate(etag_app)).headers["ETag"]
    assert visit(make_gate(etag_app, mode="opt-in"), **{"Sec-GPC": "1"}).headers["ETag"] == before


def test_no_cookie_header_and_a_foreign_cookie_read_alike(make_gate: Gate) -> None:
    gate = make_gate(mode="opt-out", secret_key=SECRET)
    bare = visit(gate, **{"Sec-GPC": "1"}).data
    client = Client(gate)
    client.set_cookie("other", "x", domain="localhost")
    assert client.get("/", headers={"Sec-GPC": "1"}).data == bare
