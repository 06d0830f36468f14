"""consentgate.django in the example project (``examples/django``), through Django's
test client: the middleware, the endpoint's views, the templates and tags, the settings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("django_example")

SITE = "http://testserver"
GA_SCRIPT = b"googletagmanager.com/gtag/js"
BANNER = b'id="consentgate-banner"'


@pytest.fixture
def client() -> Any:
    from django.test import Client

    return Client()


def decide(client: Any, action: str, **form: Any) -> Any:
    return client.post("/consent", {"action": action, "next": "/", **form}, HTTP_ORIGIN=SITE)


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    content: bytes = response.content
    return content


def test_a_new_visitor_gets_the_banner_and_no_tracker(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = body(page)
    assert BANNER in html and GA_SCRIPT not in html
    # The banner is the site's template, leading back to this page.
    assert b'<input type="hidden" name="next" value="/">' in html
    assert b"Analytics are off." in html  # {% if consent.analytics %} in the page
    assert "Cookie" in page["Vary"]
    assert int(page["Content-Length"]) == len(html)


def test_accepting_brings_the_trackers_and_hides_the_banner(client: Any) -> None:
    decided = decide(client, "accept_all")
    assert decided.status_code == 303 and decided["Location"] == "/"
    assert decided.cookies["consentgate"].value
    html = body(client.get("/"))
    assert BANNER not in html and GA_SCRIPT in html
    assert b"analytics are on" in html


def test_set_cookie_of_a_refused_category_never_leaves(client: Any) -> None:
    assert "_ga" not in client.get("/analytics/").cookies
    decide(client, "accept_all")
    assert client.get("/analytics/").cookies["_ga"].value == "GA1.1.example"


def test_rejecting_expires_the_refused_cookies_the_browser_holds(client: Any) -> None:
    from django.test import override_settings

    client.cookies["_ga"] = "GA1.1.old"
    decide(client, "reject_all")
    with override_settings(ALLOWED_HOSTS=["www.example.org"]):
        page = client.get("/", HTTP_HOST="www.example.org")
    expired = [m for m in page.cookies.values() if m.key == "_ga"]
    assert expired and all("Max-Age=0" in m.OutputString() for m in expired)
    # Host-only and with each Domain it may have been set on: each its own header.
    assert len({m.OutputString() for m in expired}) == len(expired) == 3


def test_a_streamed_page_is_gated_as_it_streams(client: Any) -> None:
    page = client.get("/stream/")
    assert page.streaming
    html = body(page)
    assert BANNER in html and GA_SCRIPT not in html
    assert b"<p>Piece 2</p>" in html


def test_the_admin_gets_no_banner_and_sign_in_works(client: Any) -> None:
    from django.contrib.auth.models import User

    User.objects.filter(username="admin").delete()
    User.objects.create_superuser("admin", "admin@example.com", "a-long-test-password-1")
    login = client.get("/admin/login/")
    assert login.status_code == 200 and BANNER not in body(login)
    # undeclared_cookies = "block", yet Django's own cookies pass: they are necessary.
    assert "csrftoken" in login.cookies
    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "a-long-test-password-1", "next": "/admin/"},
        follow=True,
    )
    assert "sessionid" in client.cookies
    assert b"Site administration" in body(signed_in) and BANNER not in body(signed_in)


def test_csrf_stays_on_for_the_sites_forms_and_off_for_the_endpoint() -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403
    assert decide(strict, "reject_all").status_code == 303


def test_a_cross_site_post_is_refused_and_changes_nothing(client: Any) -> None:
    refused = client.post("/consent", {"action": "accept_all"}, HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403 and "consentgate" not in refused.cookies


@pytest.mark.parametrize("path", ["/", "/stream/"])
def test_pages_djangos_gzip_middleware_compressed_are_gated(client: Any, path: str) -> None:
    import gzip

    from django.conf import settings
    from django.test import override_settings

    gzipped = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    with override_settings(MIDDLEWARE=gzipped):
        page = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"
    html = gzip.decompress(body(page))
    assert BANNER in html and GA_SCRIPT not in html


@pytest.mark.parametrize(
    ("prefix", "written"),
    [
        pytest.param("/site/", b"/site", id="ascii"),
        pytest.param("/caf\u00e9/", b"/caf%C3%A9", id="non-ascii"),
    ],
)
def test_force_script_name_is_the_prefix_of_the_gates_urls(
    client: Any, prefix: str, written: bytes
) -> None:
    from django.test import override_settings

    with override_settings(FORCE_SCRIPT_NAME=prefix):
        page = body(client.get("/"))
        assert b'action="' + written + b'/consent"' in page
        assert b'href="' + written + b'/consent"' in page
        decided = decide(client, "reject_all")
    assert decided["Location"] == written.decode() + "/"


def test_the_preferences_page_is_in_the_sites_own_layout(client: Any) -> None:
    page = client.get("/consent?next=/analytics/")
    html = body(page)
    assert b'<a href="/admin/">Admin</a>' in html  # the example's base.html
    assert b'id="consentgate-preferences"' in html and BANNER not in html
    assert b'<input type="hidden" name="next" value="/analytics/">' in html
    assert page["Cache-Control"] == "no-store"
    decide(client, "accept_all")
    assert b'value="analytics" checked' in body(client.get("/consent"))


def test_the_preferences_page_takes_the_visitors_pick_of_language(client: Any) -> None:
    with settings_changed(languages=["en", "de", "fr"]):
        page = client.get("/consent?lang=de", HTTP_ACCEPT_LANGUAGE="fr")
        html = body(page).decode()
        assert '<section id="consentgate-preferences" lang="de"' in html
        assert "Cookie-Einstellungen" in html and page["Content-Language"] == "de"
        # The picker lists each language in its own name, the page's one selected.
        assert '<option value="de" lang="de" selected>Deutsch</option>' in html
        assert '<option value="fr" lang="fr">français</option>' in html
        # The form's "Change language" asks this page again, as a GET.
        assert 'formmethod="get" formaction="/consent"' in html


def test_the_visitors_pick_of_language_lasts_past_localemiddleware(client: Any) -> None:
    from django.conf import settings

    with settings_changed(languages=["en", "de", "fr"]):
        decide(client, "reject_all", lang="de")
        # LocaleMiddleware read French off the header: no choice of the site's.
        page = body(client.get("/consent", HTTP_ACCEPT_LANGUAGE="fr")).decode()
        assert '<section id="consentgate-preferences" lang="de"' in page
        # The site's own language switcher (Django's language cookie) is its choice.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
        page = body(client.get("/consent", HTTP_ACCEPT_LANGUAGE="fr")).decode()
        assert '<section id="consentgate-preferences" lang="fr"' in page


def test_a_script_gets_the_state_as_json(client: Any) -> None:
    decide(client, "accept_all")
    state = json.loads(client.get("/consent", HTTP_ACCEPT="application/json").content)
    assert state["decided"] is True and "analytics" in state["granted"]


def test_the_api_script_is_served(client: Any) -> None:
    from consentgate.script import SCRIPT_NAME

    script = client.get(f"/consent/{SCRIPT_NAME}")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]


def test_the_cookie_declaration_lists_djangos_own_cookies_as_necessary(client: Any) -> None:
    html = body(client.get("/privacy/")).decode()
    necessary = html[html.index("<caption>Necessary") : html.index("<caption>Analytics")]
    for name in ("consentgate", "csrftoken", "sessionid"):
        assert f"<code>{name}</code>" in necessary
    assert "<code>_ga</code>" in html[html.index("<caption>Analytics") :]


def test_the_site_overrides_a_template(client: Any, tmp_path: Any) -> None:
    from django.conf import settings
    from django.test import override_settings

    (tmp_path / "consentgate").mkdir()
    (tmp_path / "consentgate" / "banner.html").write_text(
        '<div id="consentgate-banner">Our own banner for {{ next_url }}</div>'
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    with override_settings(TEMPLATES=templates):
        assert b"Our own banner for /" in body(client.get("/"))


def test_excluded_paths_get_no_banner(client: Any) -> None:
    with settings_changed(exclude_paths=["/privacy/"]):
        assert BANNER not in body(client.get("/privacy/"))
        assert BANNER in body(client.get("/"))


@pytest.mark.usefixtures("test_urls")
def test_the_banner_placed_by_the_tag_is_the_only_one(client: Any) -> None:
    html = body(client.get("/placed/"))
    assert html.count(BANNER) == 1
    assert html.index(b"<main>") < html.index(BANNER)  # where the tag is, not at <body>
    decide(client, "reject_all")
    assert BANNER not in body(client.get("/placed/"))


@pytest.mark.usefixtures("test_urls")
def test_the_banner_carries_the_nonce_of_the_sites_policy(client: Any) -> None:
    html = body(client.get("/csp/"))
    assert b'<style nonce="r4nd0m">' in html
    assert b'id="consentgate-state" nonce="r4nd0m"' in html


@pytest.mark.usefixtures("test_urls")
def test_the_api_placed_by_its_tag_comes_once_before_the_banner(client: Any) -> None:
    html = body(client.get("/scripted/"))
    assert html.count(b'id="consentgate-state"') == 1 and BANNER in html
    assert html.index(b'id="consentgate-state"') < html.index(b"</head>") < html.index(BANNER)


def test_the_banner_speaks_the_language_localemiddleware_chose(client: Any) -> None:
    from django.conf import settings

    categories = [
        {"name": "necessary", "required": True},
        {"name": "analytics", "label": {"en": "Analytics", "de": "Statistik"}},
    ]
    with settings_changed(languages=["en", "de"], categories=categories):
        german = body(client.get("/", HTTP_ACCEPT_LANGUAGE="de"))
        # German nouns keep their capital.
        assert b"Folgendes verwenden: Statistik." in german
        # Django's language cookie is the app's choice, over the browser's header.
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = body(client.get("/", HTTP_ACCEPT_LANGUAGE="de"))
        assert b"also use analytics." in english


GERMAN = {
    "banner": ("Cookies auf dieser Website", "Alle akzeptieren", "Alle ablehnen"),
    "preferences": ("<title>Cookie-Einstellungen ·", "Alle akzeptieren"),
    "unavailable": ("Ihre Auswahl wurde nicht gespeichert",),
}
FRENCH = {
    "banner": ("Cookies sur ce site", "Tout accepter", "Tout refuser"),
    "preferences": ("<title>Paramètres des cookies ·", "Tout accepter"),
    "unavailable": ("Votre choix n\u2019a pas été enregistré",),
}


def _pages(client: Any, tmp_path: Any, **headers: str) -> dict[str, str]:
    """The banner, the preferences page and the 503 page, as this visitor gets them."""
    banner = body(client.get("/", **headers)).decode()
    preferences = body(client.get("/consent", **headers)).decode()
    (tmp_path / "file").write_text("")  # a store under a file cannot be opened
    with settings_changed(records=f"sqlite:///{tmp_path}/file/consent.sqlite3"):
        form = {"action": "accept_all", "next": "/"}
        answer = client.post("/consent", form, HTTP_ORIGIN=SITE, **headers)
    assert answer.status_code == 503
    return {"banner": banner, "preferences": preferences, "unavailable": body(answer).decode()}


@pytest.mark.parametrize(
    ("language", "words", "cookie", "headers"),
    [
        pytest.param("de", GERMAN, None, {"HTTP_ACCEPT_LANGUAGE": "de"}, id="accept-language"),
        # LocaleMiddleware's choice (Django's language cookie) over the browser's header.
        pytest.param("fr", FRENCH, "fr", {"HTTP_ACCEPT_LANGUAGE": "de"}, id="localemiddleware"),
    ],
)
def test_the_templates_speak_the_visitors_language(
    client: Any,
    tmp_path: Any,
    language: str,
    words: dict[str, tuple[str, ...]],
    cookie: str | None,
    headers: dict[str, str],
) -> None:
    from django.conf import settings

    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    pages = _pages(client, tmp_path, **headers)
    for page, html in pages.items():
        assert all(word in html for word in words[page]), page
        ours = html[html.index("<section") : html.rindex("</section>")]
        assert not re.search("Accept all|Cookie settings|Your choice|Please try", ours), page
    assert f'<section id="consentgate-banner" lang="{language}"' in pages["banner"]
    error = re.search(r'data-consentgate-error="([^"]+)"', pages["banner"])
    assert error and "Your choice" not in error[1]
    for page in ("preferences", "unavailable"):
        assert f'<section id="consentgate-preferences" lang="{language}"' in pages[page]


def test_a_message_escapes_its_values_and_keeps_its_own_markup(client: Any) -> None:
    categories = [
        {"name": "necessary", "required": True},
        {"name": "analytics", "label": {"en": "<b>Stats</b> & co", "de": "Statistik"}},
    ]
    with settings_changed(languages=["en", "de"], categories=categories):
        html = body(client.get("/?a=1&b=2")).decode()
    assert "also use &lt;b&gt;stats&lt;/b&gt; &amp; co." in html  # English lists lower-case
    assert "<strong>&lt;b&gt;Stats&lt;/b&gt; &amp; co</strong>" in html
    assert '<a href="/consent?next=/%3Fa%3D1%26b%3D2">cookie settings page</a>' in html


def test_the_cookie_declaration_speaks_the_visitors_language(client: Any) -> None:
    html = body(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="de")).decode()
    table = html[html.index("<table") : html.rindex("</table>")]
    assert "(immer aktiv)</caption>" in table and '<th scope="col">Anbieter</th>' in table
    consent_row = re.search(r"<tr><td><code>consentgate</code></td>.*?</tr>", table)
    assert consent_row and "This site" not in consent_row[0] and "180 " in consent_row[0]


@pytest.mark.usefixtures("test_urls")
def test_a_refused_embeds_placeholder_speaks_the_visitors_language(client: Any) -> None:
    media = {"name": "media", "label": {"en": "Media", "de": "Medien"}, "trackers": ["youtube"]}
    categories = [{"name": "necessary", "required": True}, media]
    with settings_changed(languages=["en", "de"], categories=categories):
        html = body(client.get("/video/", HTTP_ACCEPT_LANGUAGE="de")).decode()
    assert "<iframe" not in html  # refused: the placeholder stands in for it
    placeholder = html[html.index('class="consentgate-embed"') : html.rindex("</form>")]
    assert 'lang="de"' in placeholder and "Video von YouTube" in placeholder
    assert "Load this" not in placeholder and "Always allow" not in placeholder


def test_a_translation_that_does_not_fit_gives_way_to_its_message(
    client: Any, tmp_path: Any, caplog: Any
) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale="de", domain="consentgate")
    catalog.add("%(label)s (always on)", "%(etikett)s (immer an)")  # a site's typo
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "de" / "LC_MESSAGES" / "consentgate.mo").open("wb") as file:
        write_mo(file, catalog)
    with settings_changed(languages=["en", "de"], locale_dirs=[str(tmp_path)]):
        page = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    html = body(page).decode()
    assert page.status_code == 200 and "Alle akzeptieren" in html
    assert re.search(r"<strong>[^<]+ \(always on\)</strong>", html)
    assert "does not fit its placeholders" in caplog.text


def test_the_cookie_declaration_speaks_the_language_too(client: Any) -> None:
    """Built-in cookies' purposes and lifetimes come in the page's language; Django's
    renamed session cookie keeps its preset's words, translated."""
    from django.test import override_settings

    with settings_changed(languages=["en", "de"]), override_settings(SESSION_COOKIE_NAME="sid"):
        german = body(client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="de")).decode()
    ga = german[german.index("<code>_ga</code>") :]
    assert "<td>Unterscheidet Besucher anhand einer zufälligen Client-ID</td><td>2 Jahre</td>" in ga
    sid = german[german.index("<code>sid</code>") :]
    assert "<td>Hält Sie angemeldet</td><td>2 Wochen</td>" in sid


def test_opt_out_mode_shows_the_sites_notice(client: Any) -> None:
    with settings_changed(mode="opt-out"):
        html = body(client.get("/"))
        assert b'class="consentgate-notice"' in html and b'value="acknowledge"' in html
        # Optional categories run until the visitor opts out.
        assert GA_SCRIPT in html and b"analytics are on" in html


def test_opt_out_settings_page_says_what_the_signal_turned_off(client: Any) -> None:
    with settings_changed(mode="opt-out"):
        page = body(client.get("/consent")).decode()
        signalled = body(client.get("/consent", HTTP_SEC_GPC="1")).decode()
    assert "every kind of cookie ticked below is in use" in page
    assert '<input type="checkbox" id="consentgate-analytics" disabled>' in signalled
    assert "Global Privacy Control signal turns off the kinds of cookie shown as off" in signalled
    assert "every kind of cookie ticked below is in use" not in signalled


def test_a_decision_that_cannot_be_recorded_is_a_503_in_the_sites_layout(
    client: Any, tmp_path: Any
) -> None:
    (tmp_path / "file").write_text("")  # a store under a file cannot be opened
    with settings_changed(records=f"sqlite:///{tmp_path}/file/consent.sqlite3"):
        answer = decide(client, "accept_all")
    assert answer.status_code == 503 and "consentgate" not in answer.cookies
    html = body(answer)
    assert b"Your choice was not saved" in html and b'<a href="/admin/">Admin</a>' in html


def test_djangos_renamed_cookies_are_declared_necessary() -> None:
    from django.test import override_settings

    from consentgate.django.conf import current

    with override_settings(SESSION_COOKIE_NAME="sid", CSRF_COOKIE_NAME="xsrf"):
        necessary = current().gate.settings.categories[0]
        names = {cookie.name for cookie in necessary.cookies}
        assert {"sid", "xsrf", "sessionid", "csrftoken"} <= names
        gate = current().gate
        assert gate.keep_cookie("sid", gate.consent_for({}))  # no consent needed


def test_settings_from_a_toml_file_with_the_dicts_keys_over_it(tmp_path: Any) -> None:
    from django.test import override_settings

    from consentgate.django.conf import current

    (tmp_path / "consent.toml").write_text(
        'endpoint = "/cookies"\nprivacy_url = "/file"\n'
        '[[categories]]\nname = "necessary"\nrequired = true\n'
    )
    options = {"config": str(tmp_path / "consent.toml"), "privacy_url": "/dict"}
    with override_settings(CONSENTGATE=options):
        settings = current().gate.settings
    assert (settings.endpoint, settings.privacy_url) == ("/cookies", "/dict")


def test_manage_py_reads_the_records_of_the_sites_store(
    client: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    with settings_changed(records=f"sqlite:///{tmp_path}/consent.sqlite3"):
        decide(client, "accept_all")
        page = body(client.get("/consent")).decode()
        consent_id = re.search(r"Your consent id is <code>([^<]+)</code>", page)
        assert consent_id is not None
        call_command("consent_records", "show", consent_id.group(1))
        assert "accept_all" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit:
        call_command("consent_records", "stats")
    assert exit.value.code == 2 and "records: is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "key"),
    [
        pytest.param({"max_age_dayz": 1}, "max_age_dayz", id="unknown key"),
        pytest.param({"categories": []}, "categories", id="no category"),
        pytest.param({"unreadable": "ignore"}, "unreadable", id="bad value"),
        pytest.param({"base_template": 3}, "base_template", id="own key"),
    ],
)
def test_a_settings_mistake_stops_the_start_naming_the_key(
    options: dict[str, Any], key: str
) -> None:
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    with (
        settings_changed(**options),
        pytest.raises(ImproperlyConfigured, match=f"'{key}'"),
    ):
        apps.get_app_config("consentgate").ready()


def test_the_check_framework_asks_for_the_middleware_first() -> None:
    from django.conf import settings
    from django.test import override_settings

    from consentgate.django.apps import MIDDLEWARE, check_middleware

    assert check_middleware() == []
    others = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    with override_settings(MIDDLEWARE=others):
        assert [e.id for e in check_middleware()] == ["consentgate.E001"]
    with override_settings(MIDDLEWARE=[*others, MIDDLEWARE]):
        assert [e.id for e in check_middleware()] == ["consentgate.W001"]


def settings_changed(**options: Any) -> Any:
    """The example's CONSENTGATE with ``options`` changed (the gate is built anew)."""
    from django.conf import settings
    from django.test import override_settings

    return override_settings(CONSENTGATE={**settings.CONSENTGATE, **options})


# --- ASGI Django ----------------------------------------------------------------------


async def _async_pieces() -> Any:
    yield "<!DOCTYPE html><html><head><title>Async</title>"
    yield '<script src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>'
    yield "</head><body><p>Async body</p></body></html>"


def async_stream(request: Any) -> Any:
    from django.http import StreamingHttpResponse

    return StreamingHttpResponse(_async_pieces(), content_type="text/html")


def unreadable(request: Any) -> Any:
    from django.http import HttpResponse

    page = HttpResponse(b"\x00\x01 not what it says", content_type="text/html")
    page["Content-Encoding"] = "x-unknown"
    return page


def strict_csp(request: Any) -> Any:
    from django.shortcuts import render

    page = render(request, "home.html")
    page["Content-Security-Policy"] = "script-src 'nonce-r4nd0m'; style-src 'nonce-r4nd0m'"
    return page


def placed(request: Any) -> Any:
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string(
        "{% load consentgate %}<!DOCTYPE html><title>Placed</title>"
        "<body><header>Site</header><main>{% consent_banner %}<p>Page</p></main>"
    )
    return HttpResponse(template.render({}, request))


def video(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(
        "<!DOCTYPE html><title>Video</title><body><iframe width=560 height=315"
        ' src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></body>'
    )


def scripted(request: Any) -> Any:
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string(
        "{% load consentgate %}<!DOCTYPE html><head><title>Scripted</title>"
        "{% consentgate_script %}{% consentgate_script %}</head><body><p>Page</p></body>"
    )
    return HttpResponse(template.render({}, request))


def _urls() -> list[Any]:
    from django.urls import path
    from example.urls import urlpatterns

    return [
        path("async-stream/", async_stream),
        path("unreadable/", unreadable),
        path("placed/", placed),
        path("csp/", strict_csp),
        path("scripted/", scripted),
        path("video/", video),
        *urlpatterns,
    ]


urlpatterns: list[Any] = []


@pytest.fixture
def test_urls() -> Iterator[None]:
    from django.test import override_settings

    urlpatterns[:] = _urls()
    with override_settings(ROOT_URLCONF=__name__):
        yield


def test_asgi_django_gets_the_banner_and_no_tracker() -> None:
    import asyncio

    from django.test import AsyncClient

    async def visit() -> tuple[Any, Any]:
        client = AsyncClient()
        page = await client.get("/")
        decided = await client.post(
            "/consent", {"action": "accept_all", "next": "/"}, headers={"Origin": SITE}
        )
        return page, decided

    page, decided = asyncio.run(visit())
    assert BANNER in page.content and GA_SCRIPT not in page.content
    assert decided.status_code == 303 and decided.cookies["consentgate"].value


@pytest.mark.usefixtures("test_urls")
def test_an_async_streamed_page_is_gated_as_it_streams() -> None:
    import asyncio

    from django.test import AsyncClient

    async def visit() -> tuple[Any, bytes]:
        page = await AsyncClient().get("/async-stream/")
        # django-stubs types the test client's response as one that never streams.
        return page, b"".join([chunk async for chunk in page.streaming_content])  # type: ignore[attr-defined]

    page, html = asyncio.run(visit())
    assert page.is_async
    assert BANNER in html and GA_SCRIPT not in html and b"Async body" in html


@pytest.mark.usefixtures("test_urls")
def test_an_async_stream_under_wsgi_django_is_gated(client: Any) -> None:
    page = client.get("/async-stream/")
    assert not page.is_async  # read whole, as WSGI Django reads it
    html = body(page)
    assert BANNER in html and GA_SCRIPT not in html and b"Async body" in html


@pytest.mark.usefixtures("test_urls")
def test_a_page_that_cannot_be_gated_is_a_502(client: Any) -> None:
    page = client.get("/unreadable/")
    assert page.status_code == 502 and b"not what it says" not in page.content


@pytest.mark.usefixtures("test_urls")
def test_asgi_django_through_httpx() -> None:
    import asyncio

    import httpx
    from django.core.asgi import get_asgi_application

    async def visit() -> tuple[httpx.Response, httpx.Response]:
        # django-stubs types the scope as a dict, httpx passes a MutableMapping: both are dicts.
        transport = httpx.ASGITransport(app=get_asgi_application())  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=SITE) as http:
            stream = await http.get("/async-stream/")
            decided = await http.post(
                "/consent", data={"action": "reject_all"}, headers={"Origin": SITE}
            )
            return stream, decided

    stream, decided = asyncio.run(visit())
    assert BANNER.decode() in stream.text and GA_SCRIPT.decode() not in stream.text
    assert decided.status_code == 303 and "consentgate=" in decided.headers["set-cookie"]
