"""The demo site: its pages, chart, page counter, key handling and the gate around it."""

from __future__ import annotations

import logging
import re
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consentgate.recording import Recorder
from consentgate.records import RecordReader, open_store
from demo_site import create_app
from demo_site.__main__ import parse_args
from demo_site.analytics import MAX_BEACON_BYTES, BeaconError, PageViewLog, parse_beacon
from demo_site.chart import VALUE_ROOM, WIDTH, Bar, bar_chart_svg
from demo_site.settings import DEV_KEY_FILE, development_key, secret_keys

from .recordstores import FailingStore

SECRET = "demo-site-test-secret-0123456789"
VISITOR = "0123456789abcdef0123456789abcdef"
GTAG_SRC = "https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_stray_key_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests decide themselves whether the environment holds a key."""
    monkeypatch.delenv("CONSENTGATE_SECRET_KEY", raising=False)
    yield


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    records = f"sqlite:///{tmp_path}/consent.sqlite3"
    return create_app(
        {"TESTING": True, "CONSENTGATE_SECRET_KEY": SECRET, "CONSENTGATE_RECORDS": records}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Page(HTMLParser):
    """What the tests look for in a page, collected in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.h1: list[str] = []
        self.links: list[tuple[dict[str, str | None], str]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag in ("h1", "a", "script"):
            self._open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        _, attrs, parts = self._open.pop()
        text = " ".join("".join(parts).split())
        if tag == "h1":
            self.h1.append(text)
        elif tag == "a":
            self.links.append((attrs, text))
        else:
            self.scripts.append((attrs, text))

    def handle_data(self, data: str) -> None:
        for _, _, parts in self._open:
            parts.append(data)

    def executable_scripts(self) -> list[tuple[dict[str, str | None], str]]:
        """Scripts a browser would run: no type, or a JavaScript type."""
        runnable = {"", "text/javascript", "application/javascript", "module"}
        return [(a, t) for a, t in self.scripts if (a.get("type") or "").lower() in runnable]

    def has(self, tag: str, **attrs: str) -> bool:
        """Whether an element has all ``attrs`` (``aria_label`` means ``aria-label``)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return any(
            t == tag and all(a.get(k) == v for k, v in wanted.items()) for t, a in self.starts
        )


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def has_gtag(page: Page) -> bool:
    scripts = page.executable_scripts()
    return any(a.get("src") == GTAG_SRC for a, _ in scripts) and any(
        "gtag('config', 'G-XXXXXXXXXX')" in text for _, text in scripts
    )


def has_counter(page: Page) -> bool:
    return any(
        (a.get("src") or "").endswith("/static/analytics.js") for a, _ in page.executable_scripts()
    )


def decide(client: FlaskClient, action: str) -> None:
    """Post a decision as the banner's form does and keep the cookie it sets."""
    response = client.post("/consent", data={"action": action, "next": "/facts"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/facts")
    assert any(v.startswith("consentgate=") for v in response.headers.getlist("Set-Cookie"))


def send_beacon(client: FlaskClient, body: bytes, content_type: str = "text/plain") -> int:
    response = client.post("/analytics/beacon", data=body, content_type=content_type)
    return response.status_code


# Pages -------------------------------------------------------------------------------------

PAGES = [
    pytest.param("/", "Erasmus+ Key Action 2: working together to innovate", id="overview"),
    pytest.param("/strategic-partnerships", "Strategic partnerships", id="partnerships"),
    pytest.param("/alliances", "Knowledge Alliances and Sector Skills Alliances", id="alliances"),
    pytest.param("/facts", "Facts and figures", id="facts"),
    pytest.param("/resources", "Resources", id="resources"),
    pytest.param("/privacy", "Privacy and cookie policy", id="privacy"),
    pytest.param("/analytics", "Site analytics", id="analytics"),
    pytest.param("/consent", "Cookie settings", id="cookie-settings"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_page_has_layout_and_one_h1(client: FlaskClient, path: str, heading: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = parse(response.get_data(as_text=True))
    assert page.h1 == [heading]
    assert page.has("html", lang="en")
    assert page.has("meta", name="viewport", content="width=device-width, initial-scale=1")
    assert page.has("main", id="main")
    assert page.has("nav", aria_label="Main")
    assert ({"class": "skip-link", "href": "#main"}, "Skip to main content") in page.links
    hrefs = {text: attrs.get("href") for attrs, text in page.links}
    assert hrefs["Cookie settings"] == "/consent"
    assert hrefs["Privacy and cookie policy"] == "/privacy"
    current = [attrs.get("href") for attrs, _ in page.links if attrs.get("aria-current") == "page"]
    assert current and set(current) == {path}


def test_unknown_page_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert parse(response.get_data(as_text=True)).h1 == ["Page not found"]


def test_facts_page_has_accessible_chart_and_table(client: FlaskClient) -> None:
    html = client.get("/facts").get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.startswith(
        '<svg role="img" aria-labelledby="targets-chart-title targets-chart-desc"'
    )
    assert '<title id="targets-chart-title">' in svg
    assert '<desc id="targets-chart-desc">' in svg
    for figure in ("25,000", "125,000", "300", "3,500"):
        assert f">{figure}<" in svg or f">nearly {figure}<" in svg
    assert svg.count('<rect class="bar"') == 4
    table = html[html.index("<table") : html.index("</table>")]
    for figure in ("25,000", "125,000", "nearly 300", "3,500"):
        assert f'<td class="num">{figure}</td>' in table
    assert "EUR 14.8 billion" in html


def test_resources_link_to_official_sites(client: FlaskClient) -> None:
    page = parse(client.get("/resources").get_data(as_text=True))
    official = [
        attrs["href"]
        for attrs, _ in page.links
        if (attrs.get("href") or "").startswith(
            ("https://ec.europa.eu/", "https://eacea.ec.europa.eu/")
        )
    ]
    assert len(official) == 4


def test_privacy_page_declares_the_cookies(client: FlaskClient) -> None:
    html = client.get("/privacy").get_data(as_text=True)
    assert "ka2_visitor" in html
    assert "consentgate" in html
    assert "Analytics cookies" in html


def test_privacy_page_gives_a_german_visitor_the_cookie_table_in_german(
    client: FlaskClient,
) -> None:
    html = client.get("/privacy", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    row = re.search(r"<tr><td><code>_ga</code></td>(.*?)</tr>", html)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[1:] == ["Unterscheidet Besucher anhand einer zufälligen Client-ID", "2 Jahre"]


@pytest.mark.parametrize("name", ["site.css", "consent.js", "analytics.js", "favicon.svg"])
def test_static_files_are_served(client: FlaskClient, name: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    response.close()


# The gate around the site ------------------------------------------------------------------


def test_undecided_visitor_sees_banner_and_no_analytics(client: FlaskClient) -> None:
    page = parse(client.get("/").get_data(as_text=True))
    assert page.has("section", id="consentgate-banner") or page.has("div", id="consentgate-banner")
    assert not has_gtag(page)
    assert not any("googletagmanager" in (a.get("src") or "") for a, _ in page.scripts)
    assert not has_counter(page)


def test_accepting_brings_analytics_and_removes_banner(client: FlaskClient) -> None:
    decide(client, "accept_all")
    html = client.get("/facts").get_data(as_text=True)
    page = parse(html)
    assert has_gtag(page)
    assert has_counter(page)
    assert "consentgate-banner" not in html


def test_ga4_tag_carries_the_consent_default(client: FlaskClient) -> None:
    decide(client, "accept_all")
    page = parse(client.get("/facts").get_data(as_text=True))
    (attrs, first), *rest = page.scripts
    # The page's first script, before the GA4 tag: the visitor's state as the default.
    assert "src" not in attrs
    assert 'gtag("consent","default",{' in first and '"analytics_storage":"granted"' in first
    assert '"ad_storage":"denied"' in first
    assert any(a.get("src") == GTAG_SRC for a, _ in rest)
    assert not any("consent" in text and "default" in text for _, text in rest)
    decide(client, "reject_all")  # no Google tag stays: nothing to tell
    assert "dataLayer" not in client.get("/facts").get_data(as_text=True)


def test_rejecting_keeps_analytics_out_and_removes_banner(client: FlaskClient) -> None:
    decide(client, "reject_all")
    html = client.get("/facts").get_data(as_text=True)
    page = parse(html)
    assert not has_gtag(page)
    assert not any("googletagmanager" in (a.get("src") or "") for a, _ in page.scripts)
    assert not has_counter(page)
    assert "consentgate-banner" not in html


def test_decision_by_fetch_answers_json(client: FlaskClient) -> None:
    """What consent.js relies on: a 2xx answer that sets the cookie."""
    response = client.post(
        "/consent",
        data={"action": "accept_all", "next": "/"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.is_json
    assert any(v.startswith("consentgate=") for v in response.headers.getlist("Set-Cookie"))


def test_analytics_page_reports_the_visitor_choice(client: FlaskClient) -> None:
    assert "no choice made yet" in client.get("/analytics").get_data(as_text=True)
    decide(client, "reject_all")
    assert "refused" in client.get("/analytics").get_data(as_text=True)
    decide(client, "accept_all")
    assert "<strong>allowed</strong>" in client.get("/analytics").get_data(as_text=True)


# Page-view beacon --------------------------------------------------------------------------

VALID = b'{"path": "/facts", "title": "Facts and figures", "visitor": "%s"}' % VISITOR.encode()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(VALID, "text/plain;charset=UTF-8", id="sendBeacon-string"),
        pytest.param(VALID, "application/json", id="json"),
        pytest.param(
            b"path=%2Ffacts&title=Facts&visitor=" + VISITOR.encode(),
            "application/x-www-form-urlencoded",
            id="form",
        ),
    ],
)
def test_beacon_with_consent_is_recorded_and_listed(
    client: FlaskClient, body: bytes, content_type: str
) -> None:
    decide(client, "accept_all")
    assert send_beacon(client, body, content_type) == 204
    html = client.get("/analytics").get_data(as_text=True)
    assert '<span class="path">/facts</span>' in html
    assert f'<code class="id">{VISITOR}</code>' in html


@pytest.mark.parametrize("choice", [None, "reject_all"], ids=["undecided", "rejected"])
def test_beacon_without_consent_is_not_recorded(client: FlaskClient, choice: str | None) -> None:
    if choice:
        decide(client, choice)
    assert send_beacon(client, VALID) == 204
    html = client.get("/analytics").get_data(as_text=True)
    assert "No page views have been received yet." in html
    assert VISITOR not in html


BAD_BODIES = [
    pytest.param(b"", id="empty"),
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b"[1, 2]", id="not-object"),
    pytest.param(b'{"path": "/", "title": "x"}', id="no-visitor"),
    pytest.param(b'{"path": "/", "visitor": "short"}', id="short-visitor"),
    pytest.param(b'{"path": "/", "visitor": "%s!"}' % VISITOR.encode(), id="bad-visitor"),
    pytest.param(b'{"visitor": "%s"}' % VISITOR.encode(), id="no-path"),
    pytest.param(b'{"path": "facts", "visitor": "%s"}' % VISITOR.encode(), id="relative"),
    pytest.param(b'{"path": "//evil.example/", "visitor": "%s"}' % VISITOR.encode(), id="other"),
    pytest.param(b'{"path": "/a b", "visitor": "%s"}' % VISITOR.encode(), id="space"),
    pytest.param(b'{"path": 7, "visitor": "%s"}' % VISITOR.encode(), id="path-number"),
    pytest.param(
        b'{"path": "/", "title": [], "visitor": "%s"}' % VISITOR.encode(), id="title-list"
    ),
    pytest.param(b"[" * 1500 + b"]" * 1500, id="deeply-nested"),
    pytest.param(b'{"path": "/%s", "visitor": "x"}' % (b"a" * MAX_BEACON_BYTES), id="oversized"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_malformed_beacon_is_rejected(client: FlaskClient, body: bytes) -> None:
    decide(client, "accept_all")
    assert send_beacon(client, body) == 400
    assert send_beacon(client, body, "application/x-www-form-urlencoded") == 400


def test_beacon_only_accepts_post(client: FlaskClient) -> None:
    assert client.get("/analytics/beacon").status_code == 405


def test_parse_beacon_tidies_the_title() -> None:
    body = b'{"path": "/", "title": "  Facts\\n and\\t figures %s", "visitor": "%s"}' % (
        b"x" * 300,
        VISITOR.encode(),
    )
    view = parse_beacon(body, "text/plain", NOW)
    assert view.title.startswith("Facts and figures xxx")
    assert len(view.title) == 200
    assert view.received == NOW


def test_parse_beacon_refuses_too_large_bodies() -> None:
    with pytest.raises(BeaconError):
        parse_beacon(b" " * (MAX_BEACON_BYTES + 1) + VALID, "text/plain", NOW)


def test_page_view_log_is_bounded_and_newest_first() -> None:
    log = PageViewLog(limit=3)
    for n in range(5):
        log.record(parse_beacon(VALID.replace(b"/facts", f"/p{n}".encode()), "", NOW))
    assert [v.path for v in log.recent()] == ["/p4", "/p3", "/p2"]
    assert len(log) == log.limit == 3


def test_page_view_log_is_thread_safe() -> None:
    log = PageViewLog(limit=10_000)
    view = parse_beacon(VALID, "", NOW)

    def work() -> None:
        for _ in range(500):
            log.record(view)
            log.recent()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 4000


def test_page_view_limit_comes_from_config() -> None:
    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET, "ANALYTICS_MAX_PAGE_VIEWS": 7})
    assert app.extensions["demo_site.page_views"].limit == 7


# Chart ---------------------------------------------------------------------------------------


def test_chart_scales_bars_linearly_with_a_visible_minimum() -> None:
    svg = bar_chart_svg(
        [Bar("Big", 1000, "1,000"), Bar("Half", 500, "500"), Bar("Tiny", 0, "0")],
        title="T",
        desc="D",
        chart_id="c",
    )
    longest = WIDTH - VALUE_ROOM
    assert f'width="{longest:.1f}"' in svg
    assert f'width="{longest / 2:.1f}"' in svg
    assert 'width="2.0"' in svg


def test_chart_escapes_text() -> None:
    svg = bar_chart_svg([Bar("<b>&", 1, "1")], title="A < B", desc='"quoted"', chart_id="x")
    assert "&lt;b&gt;&amp;" in svg
    assert '<title id="x-title">A &lt; B</title>' in svg
    assert "<b>" not in svg


def test_chart_refuses_negative_values() -> None:
    with pytest.raises(ValueError, match="negative"):
        bar_chart_svg([Bar("Less", -1, "-1")], title="T", desc="D", chart_id="c")


# Secret key ----------------------------------------------------------------------------------


def test_development_key_is_created_private_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("demo_site.test")
    instance = tmp_path / "instance"
    with caplog.at_level(logging.WARNING, logger="demo_site.test"):
        first = development_key(instance, logger)
        second = development_key(instance, logger)
    assert first == second
    assert len(first) >= 40
    path = instance / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.WARNING]
    assert "Generated a development secret key" in caplog.records[0].getMessage()
    assert "Using the development secret key" in caplog.records[1].getMessage()
    assert all(
        str(path) in r.getMessage() and "CONSENTGATE_SECRET_KEY" in r.getMessage()
        for r in caplog.records
    )


def test_empty_development_key_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / DEV_KEY_FILE).write_text("\n")
    key = development_key(tmp_path, logging.getLogger("demo_site.test"))
    assert key and (tmp_path / DEV_KEY_FILE).read_text().strip() == key


def test_development_key_is_one_key_when_processes_start_together(tmp_path: Path) -> None:
    logger = logging.getLogger("demo_site.test")
    start = threading.Barrier(8)

    def one(instance: Path) -> str:
        start.wait()
        return development_key(instance, logger)

    for round_ in range(20):
        instance = tmp_path / str(round_)
        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(one, [instance] * 8))
        assert keys == {(instance / DEV_KEY_FILE).read_text().strip()}
        assert [p.name for p in instance.iterdir()] == [DEV_KEY_FILE]


def test_configured_key_wins_over_environment(tmp_path: Path) -> None:
    logger = logging.getLogger("demo_site.test")
    env = {"CONSENTGATE_SECRET_KEY": "from-env"}
    assert secret_keys("configured", env, tmp_path, logger) == ["configured"]
    assert secret_keys(None, env, tmp_path, logger) == ["from-env"]
    assert secret_keys(None, {"CONSENTGATE_SECRET_KEY": "old, new"}, tmp_path, logger) == [
        "old",
        "new",
    ]
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_app_takes_rotating_keys_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTGATE_SECRET_KEY", "old-key,new-key")
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] == "new-key"
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key"]
    assert app.config["CONSENTGATE_SECRET_KEY"] == ["old-key", "new-key"]


# Command line --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        pytest.param([], {}, ("127.0.0.1", 5000), id="defaults"),
        pytest.param(
            [], {"DEMO_HOST": "0.0.0.0", "DEMO_PORT": "8080"}, ("0.0.0.0", 8080), id="env"
        ),
        pytest.param(
            ["--host", "::1", "--port", "9000"],
            {"DEMO_HOST": "0.0.0.0", "DEMO_PORT": "8080"},
            ("::1", 9000),
            id="options-win",
        ),
    ],
)
def test_command_line(argv: list[str], environ: dict[str, str], expected: tuple[str, int]) -> None:
    args = parse_args(argv, environ)
    assert (args.host, args.port) == expected


@pytest.mark.parametrize(
    ("argv", "environ", "mode"),
    [
        pytest.param([], {}, "opt-in", id="default"),
        pytest.param([], {"DEMO_CONSENT_MODE": "opt-out"}, "opt-out", id="env"),
        pytest.param(["--mode", "opt-in"], {"DEMO_CONSENT_MODE": "opt-out"}, "opt-in", id="option"),
    ],
)
def test_command_line_mode(argv: list[str], environ: dict[str, str], mode: str) -> None:
    assert parse_args(argv, environ).mode == mode


def test_the_demo_serves_opt_out_mode_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEMO_CONSENT_MODE", "opt-out")
    app = create_app({"CONSENTGATE_SECRET_KEY": SECRET})
    app.instance_path = str(tmp_path)
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Do not sell or share my personal information" in page
    assert "googletagmanager.com/gtag/js" in page


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_command_line_refuses_bad_ports(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--port", port], {})
    assert "--port" in capsys.readouterr().err


# Consent records ----------------------------------------------------------------------------


def test_demo_records_decisions_in_its_instance_folder() -> None:
    app = create_app({"TESTING": True, "CONSENTGATE_SECRET_KEY": SECRET})
    records = app.extensions["consentgate"].settings.records
    assert records == f"sqlite:///{Path(app.instance_path) / 'consent.sqlite3'}"


def test_demo_decision_is_recorded_with_the_banner_it_showed(
    app: Flask, client: FlaskClient
) -> None:
    assert 'name="entry_point" value="banner"' in client.get("/").get_data(as_text=True)
    client.post("/consent", data={"action": "accept_all", "entry_point": "banner", "next": "/"})
    page = client.get("/consent").get_data(as_text=True)
    cookie = client.get_cookie("consentgate")
    assert cookie is not None
    environ = {"HTTP_COOKIE": f"consentgate={cookie.value}"}
    consent_id = app.extensions["consentgate"].consent_for(environ).consent_id
    assert f"<code>{consent_id}</code>" in page
    store = open_store(app.config["CONSENTGATE_RECORDS"])
    try:
        assert isinstance(store, RecordReader)
        [record] = store.history(consent_id)
        notice = store.notice(record.notice_digest)
    finally:
        store.close()
    assert (record.action, record.entry_point) == ("accept_all", "banner")
    assert notice is not None
    assert "Google Analytics and our own small page counter" in notice.text


def test_demo_says_in_its_own_layout_when_a_choice_could_not_be_recorded(
    app: Flask, client: FlaskClient
) -> None:
    gate = app.extensions["consentgate"]
    gate.recorder = Recorder(gate.settings.replace(records=FailingStore()))
    response = client.post("/consent", data={"action": "accept_all", "next": "/facts"})
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers
    page = response.get_data(as_text=True)
    assert "Your choice was not saved" in page and "could not be recorded" in page
    assert '<a href="/facts">Back to the page you were on</a>' in page
    assert "Strategic partnerships" in page  # the site's navigation: its own layout


# --- languages ------------------------------------------------------------------


def test_every_category_of_the_demo_speaks_every_official_language(app: Flask) -> None:
    from consentgate.i18n import EU_LANGUAGES

    settings = app.extensions["consentgate"].settings
    for category in settings.categories:
        for key in ("label", "description"):
            table = getattr(category, key)
            assert sorted(table) == sorted(EU_LANGUAGES), f"{category.name} {key}"


def test_the_privacy_pages_cookie_table_follows_the_language(client: FlaskClient) -> None:
    page = client.get("/privacy", headers={"Accept-Language": "de-DE"}).text
    assert '<th scope="col">Anbieter</th>' in page and '<th scope="col">Zweck</th>' in page
    assert "Notwendige Cookies (immer aktiv)" in page and "Statistik-Cookies" in page
    assert "Speichert Ihre Cookie-Auswahl" in page
    # The banner on the same page speaks German too; the page itself stays English.
    assert 'id="consentgate-banner" lang="de"' in page and '<html lang="en">' in page


def test_the_footer_switches_the_consent_uis_language(client: FlaskClient) -> None:
    page = client.get("/alliances").text
    assert page.count('<option value="') >= 24 and '<option value="fi" lang="fi">suomi' in page
    assert 'name="next" value="/alliances?"' in page
    settings = client.get("/consent?lang=fi&next=/alliances").text
    assert '<section id="consentgate-preferences" lang="fi"' in settings
    client.post("/consent", data={"action": "reject_all", "lang": "fi", "next": "/alliances"})
    table = client.get("/privacy", headers={"Accept-Language": "de"}).text
    assert "Välttämättömät evästeet" in table  # the visitor's pick, not the browser's


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", ["Diese Website", "Enthält eine Zufallszahl", "1 Jahr"]),
        ("fi", ["Tämä sivusto", "Sisältää satunnaisen luvun", "1 vuosi"]),
        ("en", ["This site", "Holds a random number", "1 year"]),
    ],
)
def test_the_demos_own_cookie_row_follows_the_language(
    client: FlaskClient, language: str, expected: list[str]
) -> None:
    """The site's own row: its purpose from the demo's table, "This site" and "1 year"
    translated by the gate."""
    html = client.get("/privacy", headers={"Accept-Language": language}).text
    row = re.search(r"<tr><td><code>ka2_visitor</code></td>(.*?)</tr>", html)
    assert row is not None
    provider, purpose, lifetime = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert [provider, purpose[: len(expected[1])], lifetime] == expected
