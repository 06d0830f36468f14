"""The language of each request, end to end: WSGI, Flask and ASGI."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string
from werkzeug.test import Client, TestResponse

from consentgate import Category, ConsentGate
from consentgate.asgi import ConsentGateMiddleware
from consentgate.flask import FlaskConsent

from .conftest import GTAG, PAGE, SECRET, categories, html_app

Gate = Callable[..., ConsentGate]
GERMAN = {"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}
STATS = {"en": "Statistics", "de": "Statistik", "fr": "Statistiques"}
YOUTUBE = (
    b'<!DOCTYPE html><html lang=en><body><iframe src="https://www.youtube.com/embed/abc" '
    b'width="560" height="315"></iframe></body></html>'
)


def banner_lang(body: bytes) -> str | None:
    found = re.search(rb'<section id="consentgate-banner"[^>]* lang="([^"]+)"', body)
    return found.group(1).decode() if found else None


def decide(client: Client, action: str, **fields: str) -> TestResponse:
    data = {"action": action, "next": "/", "entry_point": "preferences", **fields}
    return client.post("/consent", data=data, headers={"Accept": "text/html"})


def test_the_banner_speaks_the_browsers_language(make_gate: Gate) -> None:
    response = Client(make_gate()).get("/", headers=GERMAN)
    body = response.get_data()
    assert banner_lang(body) == "de"
    assert "Cookies auf dieser Website" in response.text and "Alle ablehnen" in response.text
    assert response.headers["Content-Language"] == "de"
    assert "Accept-Language" in response.headers["Vary"]


def test_the_banner_is_cached_per_language(make_gate: Gate) -> None:
    client = Client(make_gate())
    for _ in range(2):
        assert banner_lang(client.get("/", headers=GERMAN).get_data()) == "de"
        assert banner_lang(client.get("/", headers={"Accept-Language": "fr"}).get_data()) == "fr"
        assert banner_lang(client.get("/").get_data()) == "en"


def test_an_unknown_language_gets_the_default(make_gate: Gate) -> None:
    response = Client(make_gate(default_language="fr")).get("/", headers={"Accept-Language": "ja"})
    assert banner_lang(response.get_data()) == "fr"
    assert response.headers["Content-Language"] == "fr"


def test_the_apps_choice_comes_first(make_gate: Gate) -> None:
    gate = make_gate()

    def in_french(environ: dict[str, Any], start_response: Any) -> Any:
        environ["consentgate.language"] = "fr"
        return gate(environ, start_response)

    response = Client(in_french).get("/", headers=GERMAN)
    assert banner_lang(response.get_data()) == "fr"
    # The app chose: the answer does not vary with the browser's header.
    assert "Content-Language" not in response.headers
    assert "Accept-Language" not in response.headers["Vary"]


def test_an_app_may_choose_while_answering(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ["consentgate.language"] = "fr_FR"
        return html_app()(environ, start_response)

    assert banner_lang(Client(make_gate(app)).get("/", headers=GERMAN).get_data()) == "fr"


def test_one_language_adds_no_language_headers(make_gate: Gate) -> None:
    response = Client(make_gate(languages=["en"])).get("/", headers=GERMAN)
    assert banner_lang(response.get_data()) == "en"
    assert "Content-Language" not in response.headers and response.headers["Vary"] == "Cookie"


def test_the_app_keeps_its_own_content_language(make_gate: Gate) -> None:
    app = html_app(PAGE, [("Content-Language", "en")])
    response = Client(make_gate(app)).get("/", headers=GERMAN)
    assert response.headers["Content-Language"] == "en, de"


def test_pages_in_two_languages_have_two_etags(make_gate: Gate) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_IF_NONE_MATCH") == '"v1"':
            start_response("304 Not Modified", [("ETag", '"v1"')])
            return []
        return html_app(PAGE, [("ETag", '"v1"')])(environ, start_response)

    client = Client(make_gate(app))
    german = client.get("/", headers=GERMAN).headers["ETag"]
    english = client.get("/").headers["ETag"]
    assert german != english
    assert client.get("/", headers={**GERMAN, "If-None-Match": german}).status_code == 304
    # The German page is not the English one: a browser now asking in English gets it whole.
    assert client.get("/", headers={"If-None-Match": german}).status_code == 200


def test_the_visitor_picks_a_language_on_the_preferences_page(make_gate: Gate) -> None:
    client = Client(make_gate())
    page = client.get("/consent?lang=fr", headers=GERMAN)
    assert '<html lang="fr">' in page.text and "Paramètres des cookies" in page.text
    assert page.headers["Content-Language"] == "fr"
    assert "Accept-Language" not in page.headers["Vary"]
    # The picker lists every language in its own name, the page's one selected.
    assert '<option value="fr" lang="fr" selected>français</option>' in page.text
    assert '<option value="de" lang="de">Deutsch</option>' in page.text
    assert 'formmethod="get"' in page.text and "Changer de langue" in page.text
    decide(client, "reject_all", lang="fr")
    # Kept in the consent cookie: the browser's German no longer counts.
    again = client.get("/consent", headers=GERMAN)
    assert '<html lang="fr">' in again.text and "Vous avez fait un choix" in again.text
    assert "Accept-Language" not in again.headers["Vary"]


def test_a_later_choice_keeps_the_language_picked_before(make_gate: Gate) -> None:
    client = Client(make_gate())
    decide(client, "reject_all", lang="de")
    decide(client, "accept_all")
    assert '<html lang="de">' in client.get("/consent").text


def test_an_unknown_language_picked_is_ignored(make_gate: Gate) -> None:
    client = Client(make_gate())
    decide(client, "reject_all", lang="<x>")
    assert '<html lang="en">' in client.get("/consent").text
    assert '<html lang="de">' in client.get("/consent", headers=GERMAN).text


def test_category_tables_follow_the_language(make_gate: Gate) -> None:
    stats = Category("stats", label=STATS, description={"en": "Counts.", "de": "Zählt."})
    client = Client(make_gate(categories=[*categories(), stats]))
    german = client.get("/", headers=GERMAN).text
    # German nouns keep their capital inside the sentence; French ones do not.
    assert "verwenden: Analytics cookies, Statistik." in german
    assert "<strong>Statistik</strong> Zählt." in german
    french = client.get("/", headers={"Accept-Language": "fr"}).text
    assert "analytics cookies, statistiques." in french
    # No French description: the English one stands in.
    assert "<strong>Statistiques</strong> Counts." in french


def test_error_answers_speak_the_language(make_gate: Gate) -> None:
    client = Client(make_gate())
    refused = client.post(
        "/consent",
        data={"action": "accept_all"},
        headers={**GERMAN, "Origin": "https://elsewhere.example"},
    )
    assert refused.status_code == 403
    assert refused.text.startswith("Eine Einwilligung kann nur auf den Seiten dieser Website")
    large = client.post(
        "/consent", data={"action": "accept_all", "x": "y" * 20_000}, headers=GERMAN
    )
    assert large.status_code == 413 and "zu groß" in large.text


def test_a_page_that_cannot_be_checked_is_refused_in_the_language(make_gate: Gate) -> None:
    app = html_app(PAGE, [("Content-Encoding", "x-unknown")])
    response = Client(make_gate(app)).get("/", headers={"Accept-Language": "fr"})
    assert response.status_code == 502
    assert "<html lang=fr>" in response.text and "Page non envoyée" in response.text
    assert int(response.headers["Content-Length"]) == len(response.get_data())


def test_placeholders_speak_the_language(make_gate: Gate) -> None:
    media = Category(
        "media", label={"en": "External media", "de": "Externe Medien"}, trackers=["youtube"]
    )
    gate = make_gate(html_app(YOUTUBE), categories=[*categories(), media])
    page = Client(gate).get("/", headers=GERMAN).text
    assert "Video von YouTube" in page and "Dieses Video laden" in page
    assert "Externe Medien immer erlauben" in page and 'role="group" lang="de"' in page


def test_the_record_holds_the_language_and_its_text(make_gate: Gate) -> None:
    from .recordstores import MemoryStore

    store = MemoryStore()
    client = Client(make_gate(records=store))
    client.get("/", headers=GERMAN)
    client.post("/consent", data={"action": "reject_all", "entry_point": "banner"}, headers=GERMAN)
    [record] = store.records
    assert record.language == "de"
    assert "Alle ablehnen" in store.notices[record.notice_digest]


# --- Flask -----------------------------------------------------------------------


FLASK_CATEGORIES: list[dict[str, Any]] = [
    {"name": "necessary", "required": True, "label": {"en": "Necessary", "de": "Notwendig"}},
    {"name": "analytics", "label": STATS, "trackers": ["google-analytics"]},
]


def flask_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(CONSENTGATE_SECRET_KEY=SECRET, CONSENTGATE_CATEGORIES=FLASK_CATEGORIES)
    app.config.update(**config)

    @app.route("/")
    def home() -> str:
        return render_template_string(
            "<html><head>{{ gtag|safe }}</head><body>Hi</body></html>", gtag=GTAG.decode()
        )

    @app.route("/privacy")
    def privacy() -> str:
        return render_template_string("<main>{{ cookie_declaration() }}</main>")

    FlaskConsent(app)
    return app


def test_flask_templates_speak_the_browsers_language() -> None:
    client = flask_app().test_client()
    page = client.get("/", headers=GERMAN)
    assert banner_lang(page.get_data()) == "de"
    assert "Alle akzeptieren" in page.text and "Statistik" in page.text
    assert page.headers["Content-Language"] == "de"
    table = client.get("/privacy", headers=GERMAN).text
    assert '<th scope="col">Anbieter</th>' in table and "Notwendig (immer aktiv)" in table
    assert "Speichert Ihre Cookie-Auswahl" in table and "180 Tage" in table


def test_flask_cookie_table_gives_built_in_cookies_in_the_language() -> None:
    """A tracker's cookies get their purpose and lifetime from the ``catalogue``
    domain; a site's own purpose is shown as the site wrote it, and its lifetime, worded
    as one of the catalogue's, in the language."""
    own = {"name": "ka_pref", "purpose": "Keeps the site's theme", "lifetime": "2 years"}
    necessary, analytics = FLASK_CATEGORIES
    app = flask_app(CONSENTGATE_CATEGORIES=[{**necessary, "cookies": [own]}, analytics])
    client = app.test_client()
    german = client.get("/privacy", headers=GERMAN).text
    assert _row(german, "_ga") == [
        "Google",
        "Unterscheidet Besucher anhand einer zufälligen Client-ID",
        "2 Jahre",
    ]
    assert _row(german, "ka_pref") == ["", "Keeps the site's theme", "2 Jahre"]
    french = client.get("/privacy", headers={"Accept-Language": "fr"}).text
    assert _row(french, "_gid")[1:] == ["Distingue les visiteurs (analytics.js)", "24 heures"]
    english = client.get("/privacy", headers={"Accept-Language": "en"}).text
    assert _row(english, "_ga")[1:] == ["Distinguishes visitors with a random client ID", "2 years"]


def _row(table: str, cookie: str) -> list[str]:
    """The provider, purpose and lifetime cells of ``cookie``'s row of the table."""
    row = re.search(rf"<tr><td><code>{re.escape(cookie)}</code></td>(.*?)</tr>", table)
    assert row is not None, f"no row for {cookie}"
    return [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row.group(1))]


def test_flask_locale_selector_is_the_apps_choice() -> None:
    client = flask_app(CONSENTGATE_LOCALE_SELECTOR=lambda: "fr").test_client()
    page = client.get("/", headers=GERMAN)
    assert banner_lang(page.get_data()) == "fr"
    settings = client.get("/consent", headers=GERMAN).text
    assert '<html lang="fr">' in settings and "Paramètres des cookies" in settings


def test_flask_babels_locale_is_the_apps_choice() -> None:
    flask_babel = pytest.importorskip("flask_babel")
    app = flask_app()
    flask_babel.Babel(app, locale_selector=lambda: "fr_FR")
    with app.app_context():
        page = app.test_client().get("/", headers=GERMAN)
    assert banner_lang(page.get_data()) == "fr"


def test_flask_preferences_page_takes_the_visitors_pick() -> None:
    client = flask_app().test_client()
    page = client.get("/consent?lang=de")
    assert 'lang="de"' in page.text and "Cookie-Einstellungen" in page.text
    assert 'name="lang"' in page.text
    client.post("/consent", data={"action": "save", "lang": "de", "next": "/"})
    assert "Cookie-Einstellungen" in client.get("/consent").text


def test_flask_locale_selector_must_be_callable() -> None:
    from consentgate import ConfigError

    with pytest.raises(ConfigError) as raised:
        flask_app(CONSENTGATE_LOCALE_SELECTOR="fr")
    assert raised.value.key == "CONSENTGATE_LOCALE_SELECTOR"


# --- ASGI ------------------------------------------------------------------------


async def _asgi_get(app: Any, headers: list[tuple[bytes, bytes]], **scope: Any) -> bytes:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(
        {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"localhost"), *headers],
            "server": ("localhost", 80),
            **scope,
        },
        receive,
        send,
    )
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def _page(scope: Any, receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/html; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": PAGE})


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        pytest.param({}, "de", id="negotiated"),
        pytest.param({"consentgate.language": "fr"}, "fr", id="apps-choice"),
    ],
)
def test_asgi_gets_languages_from_the_core(scope: dict[str, Any], expected: str) -> None:
    app = ConsentGateMiddleware(_page, secret_key=SECRET, categories=categories())
    body = asyncio.run(_asgi_get(app, [(b"accept-language", b"de-AT")], **scope))
    assert banner_lang(body) == expected


def test_flask_babel_without_a_selector_leaves_the_choice_to_the_gate() -> None:
    flask_babel = pytest.importorskip("flask_babel")
    app = flask_app()
    flask_babel.Babel(app)  # its locale is always its default, "en"
    page = app.test_client().get("/", headers=GERMAN)
    assert banner_lang(page.get_data()) == "de"
