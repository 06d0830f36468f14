"""The gate writes a record of every decision before its cookie, and refuses without one."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response
from werkzeug.test import Client, TestResponse

from consentgate import ConfigError, ConsentGate
from consentgate import ui as ui_module
from consentgate.consent import Consent
from consentgate.flask import FlaskConsent
from consentgate.recording import STORE_PAUSE, Recorder, action_of, entry_point, ip_prefix
from consentgate.records import Notice, Record, StoreUnavailable

from .conftest import SECRET, categories
from .recordstores import FailingStore, MemoryStore, StoredRecords

ANALYTICS = ("analytics", "necessary")


def post(
    client: Client,
    action: str,
    *,
    entry: str | None = "banner",
    chosen: tuple[str, ...] = (),
    json_client: bool = False,
    **kwargs: Any,
) -> TestResponse:
    """Post a decision as a form of the gate's own pages (or a script) would."""
    data: dict[str, Any] = {"action": action, "next": "/page", "category": list(chosen)}
    if entry is not None:
        data["entry_point"] = entry
    headers = {"Accept": "application/json"} if json_client else {"Accept": "text/html"}
    return client.post("/consent", data=data, headers=headers, **kwargs)


def cookie_consent(gate: ConsentGate, client: Client) -> Consent:
    """The consent the client's cookie now holds (undecided without one)."""
    cookie = client.get_cookie(gate.settings.cookie_name)
    return gate.codec.loads(cookie.value if cookie else None, time.time())


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | StoredRecords:
    """The same behaviour on every store: in memory, SQLite, PostgreSQL."""
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return StoredRecords(f"sqlite:///{tmp_path}/consent.sqlite3")
    return StoredRecords(request.getfixturevalue("postgres_url"))


@pytest.fixture
def gate(make_gate: Callable[..., ConsentGate], store: MemoryStore) -> ConsentGate:
    return make_gate(records=store.target)


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        pytest.param("203.0.113.57", "203.0.113.0/24", id="ipv4"),
        pytest.param("2001:db8:1234:5678::1", "2001:db8:1234::/48", id="ipv6"),
        pytest.param("::ffff:198.51.100.9", "198.51.100.0/24", id="ipv4-mapped"),
        pytest.param("fe80::1%eth0", "fe80::/48", id="scoped"),
        pytest.param("not an address", None, id="garbage"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_ip_prefix_keeps_only_the_network(address: str | None, prefix: str | None) -> None:
    assert ip_prefix(address) == prefix


@pytest.mark.parametrize(
    ("value", "json_client", "expected"),
    [
        pytest.param("banner", False, "banner", id="banner"),
        pytest.param("preferences", False, "preferences", id="preferences"),
        pytest.param("placeholder", False, "placeholder", id="placeholder"),
        pytest.param("<script>", False, "other", id="unknown"),
        pytest.param("x" * 10_000, True, "other", id="long"),
        pytest.param(None, True, "api", id="script-without-field"),
        pytest.param(None, False, "other", id="form-without-field"),
    ],
)
def test_entry_point_is_whitelisted(value: str | None, json_client: bool, expected: str) -> None:
    assert entry_point(value, json_client) == expected


def test_a_decision_that_takes_back_a_grant_is_a_withdrawal() -> None:
    required = frozenset({"necessary"})
    granted = Consent(frozenset(ANALYTICS), decided=True)
    refused = Consent(required, decided=True)
    assert action_of("save", granted, refused) == "withdraw"
    assert action_of("reject_all", granted, refused) == "withdraw"
    assert action_of("save", refused, granted) == "save"
    assert action_of("reject_all", Consent.undecided(required), refused) == "reject_all"


@pytest.mark.parametrize(
    ("action", "entry", "chosen", "granted", "refused"),
    [
        pytest.param("accept_all", "banner", (), ANALYTICS, (), id="banner-accept"),
        pytest.param(
            "reject_all", "banner", (), ("necessary",), ("analytics",), id="banner-reject"
        ),
        pytest.param("save", "banner", ("analytics",), ANALYTICS, (), id="banner-save"),
        pytest.param(
            "save", "preferences", (), ("necessary",), ("analytics",), id="preferences-save"
        ),
        pytest.param("accept_all", "placeholder", (), ANALYTICS, (), id="placeholder"),
    ],
)
def test_each_decision_is_recorded_with_what_was_chosen_and_shown(
    gate: ConsentGate,
    store: MemoryStore,
    action: str,
    entry: str,
    chosen: tuple[str, ...],
    granted: tuple[str, ...],
    refused: tuple[str, ...],
) -> None:
    client = Client(gate)
    before = time.time()
    response = post(client, action, entry=entry, chosen=chosen)
    assert response.status_code == 303
    [record] = store.records
    consent = cookie_consent(gate, client)
    assert record.consent_id == consent.consent_id != ""
    assert (record.action, record.entry_point) == (action, entry)
    assert (record.granted, record.refused) == (granted, refused)
    assert record.policy_version == "1"
    assert (record.language, record.gpc, record.mode, record.ip_prefix) == (
        "en",
        False,
        "opt-in",
        None,
    )
    assert before - 1 <= record.decided_at.timestamp() <= time.time() + 1
    assert record.decided_at.utcoffset() is not None and not record.decided_at.utcoffset()
    # The notice is the banner's wording, stored once under the digest the record names.
    notice = store.notices[record.notice_digest]
    assert "Accept all" in notice and "Count visits so we can improve the site." in notice
    assert record.notice_digest == ui_module.banner_notice(gate.settings).digest


def test_the_consent_id_is_kept_across_a_visitors_decisions(
    gate: ConsentGate, store: MemoryStore
) -> None:
    visitor, other = Client(gate), Client(gate)
    post(visitor, "accept_all")
    post(visitor, "save", entry="preferences")  # takes analytics back
    post(visitor, "save", entry="preferences", chosen=("analytics",))
    post(other, "accept_all")
    ids = [record.consent_id for record in store.records]
    assert ids[0] == ids[1] == ids[2] == cookie_consent(gate, visitor).consent_id
    assert ids[3] != ids[0]
    assert [r.action for r in store.records] == ["accept_all", "withdraw", "save", "accept_all"]
    assert store.records[1].refused == ("analytics",)


def test_a_visitor_asked_again_under_a_new_policy_keeps_their_id(
    make_gate: Callable[..., ConsentGate], store: MemoryStore
) -> None:
    old = make_gate(records=store.target)
    client = Client(old)
    post(client, "accept_all")
    first_id = cookie_consent(old, client).consent_id
    new = make_gate(records=store.target, policy_version="2")
    client.application = new  # the same browser, after the policy changed
    assert 'id="consentgate-banner"' in client.get("/").get_data(as_text=True)
    post(client, "reject_all")
    assert cookie_consent(new, client).consent_id == first_id
    later = store.records[-1]
    assert (later.consent_id, later.policy_version) == (first_id, "2")
    assert later.action == "reject_all"  # nothing was granted under this version


def test_a_cookie_that_is_not_valid_gets_a_new_id(gate: ConsentGate, store: MemoryStore) -> None:
    forged = ConsentGate(gate.app, secret_key="another-secret-key-0123456789abcdef!",
                         categories=categories())  # fmt: skip
    value = forged.codec.dumps(Consent(frozenset(ANALYTICS), True, "1", int(time.time()), "x"))
    client = Client(gate)
    client.set_cookie(gate.settings.cookie_name, value)
    post(client, "reject_all")
    [record] = store.records
    assert record.consent_id != "x"
    assert record.action == "reject_all"  # nothing valid was granted before


def test_a_script_gets_json_and_is_recorded_as_the_api(
    gate: ConsentGate, store: MemoryStore
) -> None:
    client = Client(gate)
    response = post(client, "accept_all", entry=None, json_client=True)
    assert response.status_code == 200
    answer = response.get_json()
    [record] = store.records
    assert record.entry_point == "api"
    assert answer["consent_id"] == record.consent_id


def test_the_record_says_language_gpc_and_mode(
    make_gate: Callable[..., ConsentGate], store: MemoryStore
) -> None:
    gate = make_gate(records=store.target, record_ip_prefix=True, mode="opt-out")

    def in_french(environ: dict[str, Any], start_response: Any) -> Any:
        environ["consentgate.language"] = "fr"
        return gate(environ, start_response)

    post(
        Client(in_french),
        "opt_out",
        environ_base={"REMOTE_ADDR": "192.0.2.77", "HTTP_SEC_GPC": "1"},
    )
    [record] = store.records
    assert (record.gpc, record.mode, record.language) == (True, "opt-out", "fr")
    assert record.action == "opt_out"
    assert record.ip_prefix == "192.0.2.0/24"
    # The notice recorded is the opt-out notice the visitor was shown, in French, GPC
    # line and all.
    notice = store.notices[record.notice_digest]
    assert "Ne pas vendre ni partager mes données personnelles" in notice
    assert "signal Global Privacy Control. Nous le respectons" in notice
    assert "Tout accepter" not in notice and "Do not sell" not in notice


def test_no_address_is_kept_unless_asked(gate: ConsentGate, store: MemoryStore) -> None:
    post(Client(gate), "accept_all", environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert store.records[0].ip_prefix is None


def assert_refused_without_cookie(response: TestResponse) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(StoreUnavailable("connection refused"), id="unavailable"),
        pytest.param(RuntimeError("driver bug"), id="misbehaving"),
    ],
)
def test_a_store_that_fails_means_503_and_no_cookie(
    make_gate: Callable[..., ConsentGate], error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    hook_calls: list[Record] = []
    gate = make_gate(records=FailingStore(error), on_decision=hook_calls.append)
    client = Client(gate)
    client.set_cookie("visits", "1")  # a refused category's cookie stays too
    with caplog.at_level(logging.ERROR, "consentgate"):
        response = post(client, "accept_all")
    assert_refused_without_cookie(response)
    assert response.mimetype == "text/html"
    assert "could not be recorded" in response.get_data(as_text=True)
    assert 'href="/page"' in response.get_data(as_text=True)
    assert cookie_consent(gate, client).decided is False
    assert hook_calls == []
    assert "store failed" in caplog.text and str(error) in caplog.text

    answer = post(client, "reject_all", json_client=True)
    assert_refused_without_cookie(answer)
    assert "could not be recorded" in json.loads(answer.get_data())["error"]


def test_a_banner_that_cannot_be_rendered_refuses_the_decision(
    make_gate: Callable[..., ConsentGate],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object) -> Notice:
        raise KeyError("label")

    monkeypatch.setattr(ui_module, "banner_notice", broken)
    store = MemoryStore()
    client = Client(make_gate(records=store))
    with caplog.at_level(logging.ERROR, "consentgate"):
        assert_refused_without_cookie(post(client, "accept_all"))
    assert store.records == []
    assert "notice could not be rendered" in caplog.text


def test_a_failing_store_is_logged_at_a_bounded_rate(
    make_gate: Callable[..., ConsentGate],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr("consentgate.recording.time.monotonic", lambda: now[0])
    store = FailingStore()
    client = Client(make_gate(records=store))
    with caplog.at_level(logging.ERROR, "consentgate"):
        for _ in range(50):
            now[0] += 0.5  # a post every half second: the store is tried every other one
            assert post(client, "accept_all").status_code == 503
    assert store.calls == 25
    assert len(caplog.records) == 1
    now[0] += 60
    with caplog.at_level(logging.ERROR, "consentgate"):
        post(client, "accept_all")
    assert "49 more since the last report" in caplog.records[-1].getMessage()


def test_a_store_that_failed_is_left_alone_for_a_moment(
    make_gate: Callable[..., ConsentGate], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr("consentgate.recording.time.monotonic", lambda: now[0])
    store = FailingStore()
    gate = make_gate(records=store)
    client = Client(gate)
    assert post(client, "accept_all").status_code == 503
    for _ in range(20):  # a flood while the database is down costs it nothing
        assert post(client, "accept_all").status_code == 503
    assert store.calls == 1
    now[0] += STORE_PAUSE
    working = MemoryStore()
    store.append = working.append  # type: ignore[method-assign]  # the database is back
    assert post(client, "accept_all").status_code == 303
    assert len(working.records) == 1


def test_a_visitor_who_decided_keeps_their_choice_when_the_store_fails(
    make_gate: Callable[..., ConsentGate],
) -> None:
    store = MemoryStore()
    gate = make_gate(records=store)
    client = Client(gate)
    post(client, "accept_all")
    before = cookie_consent(gate, client)
    gate.recorder = Recorder(gate.settings.replace(records=FailingStore()))
    response = post(client, "reject_all")
    assert_refused_without_cookie(response)
    assert cookie_consent(gate, client) == before
    assert len(store.records) == 1


def test_the_hook_runs_after_the_commit(gate: ConsentGate, store: MemoryStore) -> None:
    seen: list[tuple[Record, bool]] = []
    settings = gate.settings.replace(on_decision=lambda r: seen.append((r, r in store.records)))
    gate.recorder = Recorder(settings)
    post(Client(gate), "accept_all")
    assert seen == [(store.records[0], True)]


def test_a_failing_hook_does_not_undo_the_decision(
    make_gate: Callable[..., ConsentGate], store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(record: Record) -> None:
        raise ConnectionError("queue down")

    gate = make_gate(records=store.target, on_decision=hook)
    client = Client(gate)
    with caplog.at_level(logging.ERROR, "consentgate"):
        response = post(client, "accept_all")
    assert response.status_code == 303
    assert cookie_consent(gate, client).allows("analytics")
    assert len(store.records) == 1
    assert "on_decision raised" in caplog.text and "queue down" in caplog.text


def test_the_hook_alone_gets_records_without_a_store(
    make_gate: Callable[..., ConsentGate],
) -> None:
    seen: list[Record] = []
    gate = make_gate(on_decision=seen.append)
    client = Client(gate)
    post(client, "save", entry="preferences", chosen=("analytics",))
    [record] = seen
    assert (record.action, record.granted) == ("save", ANALYTICS)
    assert record.consent_id == cookie_consent(gate, client).consent_id


def test_page_views_never_touch_the_store(
    make_gate: Callable[..., ConsentGate], tmp_path: Path
) -> None:
    database = tmp_path / "consent.sqlite3"
    client = Client(make_gate(records=f"sqlite:///{database}"))
    for path in ("/", "/page", "/consent", "/consent?next=/page"):
        assert client.get(path).status_code == 200
    assert not database.exists()
    post(client, "accept_all")
    assert database.exists()


def test_a_bad_records_url_is_refused_at_start_up(make_gate: Callable[..., ConsentGate]) -> None:
    with pytest.raises(ConfigError, match="records"):
        make_gate(records="sqlite:///:memory:")


def test_a_forked_worker_opens_its_own_store(
    make_gate: Callable[..., ConsentGate], monkeypatch: pytest.MonkeyPatch
) -> None:
    stores: list[MemoryStore] = []

    def opener(records: object) -> MemoryStore:
        stores.append(MemoryStore())
        return stores[-1]

    gate = make_gate(records="sqlite:///unused.sqlite3")
    gate.recorder = Recorder(gate.settings, opener)
    client = Client(gate)
    post(client, "accept_all")
    post(client, "accept_all")
    monkeypatch.setattr("consentgate.recording.os.getpid", lambda: -1)
    post(client, "reject_all")
    assert [len(store.records) for store in stores] == [2, 1]


def test_the_notice_is_rendered_once_per_language() -> None:
    settings = ConsentGate(lambda e, s: [], secret_key=SECRET, categories=categories()).settings
    recorder = Recorder(settings)
    calls: list[str] = []

    def render(language: str) -> Notice:
        calls.append(language)
        return Notice(language, f"text in {language}")

    first = recorder.notice("en", render)
    assert recorder.notice("en", render) is first
    recorder.notice("de", render)
    assert calls == ["en", "de"]


def test_the_notice_is_the_banner_text_without_markup(gate: ConsentGate) -> None:
    text = ui_module.banner_notice(gate.settings).text
    assert text.splitlines()[:2] == [
        "Cookies on this site",
        "We use necessary cookies so the site works. With your permission we would also "
        "use analytics cookies. Nothing optional is set unless you allow it, and you can "
        "change your mind at any time from the cookie settings page.",
    ]
    assert "<" not in text and "{" not in text  # no markup, no style sheet
    assert "Analytics cookies Count visits so we can improve the site." in text.splitlines()
    # The same words however they are laid out give the same text.
    assert ui_module.notice_text("<p>Two\n   words</p><p>more</p>") == ui_module.notice_text(
        "<div><p>Two words</p>\n<p> more </p></div><style>p{}</style>"
    )


def test_the_preferences_page_shows_the_id_to_quote(
    gate: ConsentGate, make_gate: Callable[..., ConsentGate]
) -> None:
    client = Client(gate)
    assert "consentgate-receipt" not in client.get("/consent").get_data(as_text=True)
    gate.clock = lambda: 1_796_000_000.5
    post(client, "accept_all")
    page = client.get("/consent").get_data(as_text=True)
    consent_id = cookie_consent(gate, client).consent_id
    assert f"<code>{consent_id}</code>" in page
    assert '<time datetime="2026-11-30T00:53:20Z">30 November 2026, 00:53 UTC</time>' in page
    assert "Quote this id" in page
    # Without records, the id means nothing to the site: it is not offered.
    plain = make_gate()
    plain.clock = gate.clock
    plain_client = Client(plain)
    post(plain_client, "accept_all")
    assert "consentgate-receipt" not in plain_client.get("/consent").get_data(as_text=True)


def flask_app(records: object, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        CONSENTGATE_SECRET_KEY=SECRET,
        CONSENTGATE_CATEGORIES=categories(),
        CONSENTGATE_RECORDS=records,
        **config,
    )

    @app.get("/")
    def home() -> str:
        return "<!DOCTYPE html><html><body><p>Home</p></body></html>"

    FlaskConsent(app)
    return app


def test_flask_records_its_templates_notice_and_entry_points(store: MemoryStore) -> None:
    app = flask_app(store.target)
    client = app.test_client()
    banner = client.get("/").get_data(as_text=True)
    assert 'name="entry_point" value="banner"' in banner
    client.post("/consent", data={"action": "accept_all", "entry_point": "banner", "next": "/"})
    page = client.get("/consent").get_data(as_text=True)
    assert 'name="entry_point" value="preferences"' in page
    client.post("/consent", data={"action": "save", "entry_point": "preferences", "next": "/"})
    first, second = store.records
    assert (first.entry_point, first.action) == ("banner", "accept_all")
    assert (second.entry_point, second.action) == ("preferences", "withdraw")
    assert first.consent_id == second.consent_id
    assert f"<code>{first.consent_id}</code>" in page and "<time datetime=" in page
    # The template's wording is recorded, not the built-in banner's.
    notice = store.notices[first.notice_digest]
    assert "Accept all" in notice and "Analytics cookies" in notice
    assert "you can change your mind at any time from the cookie settings page." in notice


def test_flask_records_the_opt_out_notice_it_showed() -> None:
    store = MemoryStore()
    client = flask_app(store, CONSENTGATE_MODE="opt-out").test_client()
    notice_page = client.get("/").get_data(as_text=True)
    assert 'name="entry_point" value="banner"' in notice_page
    client.post("/consent", data={"action": "acknowledge", "entry_point": "banner", "next": "/"})
    [record] = store.records
    assert (record.mode, record.action, record.entry_point) == ("opt-out", "acknowledge", "banner")
    notice = store.notices[record.notice_digest]
    assert "Do not sell or share my personal information" in notice
    assert "Accept all" not in notice


def test_flask_sets_no_cookie_at_all_when_the_store_fails() -> None:
    app = flask_app(FailingStore())

    @app.after_request
    def remember(response: Response) -> Response:
        response.set_cookie("session", "app-state")  # the app's own, on every answer
        return response

    client = app.test_client()
    assert "session=app-state" in client.get("/").headers["Set-Cookie"]
    client.set_cookie("visits", "1")  # the gate would expire it on an ordinary answer
    response = client.post("/consent", data={"action": "accept_all", "next": "/"})
    assert_refused_without_cookie(response)
    assert "could not be recorded" in response.get_data(as_text=True)
    answer = client.post(
        "/consent", data={"action": "reject_all"}, headers={"Accept": "application/json"}
    )
    assert_refused_without_cookie(answer)
    assert "error" in answer.get_json()
