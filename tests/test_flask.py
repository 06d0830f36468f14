"""The Flask extension: configuration, blueprint, templates and helpers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, render_template_string

from consentgate import ConfigError, ConsentGate
from consentgate.flask import FlaskConsent

from .conftest import GTAG, SECRET

CATEGORIES: list[dict[str, Any]] = [
    {"name": "necessary", "required": True, "label": "Necessary cookies"},
    {
        "name": "analytics",
        "label": "Analytics cookies",
        "description": "Counts visits.",
        "trackers": ["google-analytics"],
        "cookies": [
            {"name": "visits", "provider": "This site", "purpose": "Counts", "lifetime": "1 year"}
        ],
    },
]
PAGE = "<!DOCTYPE html><html><head>{{ gtag|safe }}</head><body><h1>{{ title }}</h1>{}</body></html>"


def make_app(late_init: bool = False, template_folder: str | None = None, **config: Any) -> Flask:
    app = Flask(__name__, template_folder=template_folder)
    app.config.update(CONSENTGATE_SECRET_KEY=SECRET, CONSENTGATE_CATEGORIES=CATEGORIES)
    app.config.update(config)

    @app.route("/")
    def home() -> str:
        return render_template_string(PAGE.replace("{}", ""), gtag=GTAG.decode(), title="Home")

    @app.route("/placed")
    def placed() -> str:
        return render_template_string(PAGE.replace("{}", "{{ consent_banner() }}"), title="Placed")

    @app.route("/state")
    def state() -> str:
        return render_template_string(
            "{% if consent.allows('analytics') %}on{% else %}off{% endif %}"
        )

    @app.route("/privacy")
    def privacy() -> str:
        return render_template_string("<main>{{ cookie_declaration() }}</main>")

    if late_init:
        extension = FlaskConsent()
        extension.init_app(app)
    else:
        FlaskConsent(app)
    return app


@pytest.mark.parametrize("late_init", [False, True], ids=["constructor", "init_app"])
def test_both_init_styles_gate_the_app(late_init: bool) -> None:
    app = make_app(late_init=late_init)
    assert isinstance(app.wsgi_app, ConsentGate)
    assert isinstance(app.extensions["consentgate"], ConsentGate)
    client = app.test_client()
    page = client.get("/").data
    assert b'id="consentgate-banner"' in page and b"googletagmanager" not in page
    response = client.post("/consent", data={"action": "accept_all", "next": "/"})
    assert response.status_code == 303
    page = client.get("/").data
    assert b"consentgate-banner" not in page and b"googletagmanager" in page


def test_two_apps_in_one_process_keep_their_own_settings() -> None:
    first = make_app()
    second = make_app(CONSENTGATE_COOKIE_NAME="other", CONSENTGATE_ENDPOINT="/choices")
    a, b = first.test_client(), second.test_client()
    a.post("/consent", data={"action": "accept_all"})
    assert a.get_cookie("consentgate") is not None
    assert b.post("/choices", data={"action": "accept_all"}).status_code == 303
    assert b.get_cookie("other") is not None
    assert b.get("/consent").status_code == 404
    with second.test_request_context():
        from flask import url_for

        assert url_for("consent.preferences") == "/choices"


def test_template_context_sees_the_consent() -> None:
    client = make_app().test_client()
    assert client.get("/state").data.startswith(b"off")  # and the banner follows
    client.post("/consent", data={"action": "save", "category": "analytics"})
    assert client.get("/state").data == b"on"


def test_placed_banner_is_not_injected_twice() -> None:
    client = make_app().test_client()
    page = client.get("/placed").data.decode()
    assert page.count('id="consentgate-banner"') == 1
    assert page.index("consentgate-banner") < page.index("</body>")


def test_banner_template_can_be_overridden(tmp_path: Path) -> None:
    (tmp_path / "consentgate").mkdir()
    (tmp_path / "consentgate" / "banner.html").write_text(
        '<div id="consentgate-banner" class="mine"><form method="post" action="/consent">'
        '<button name="action" value="accept_all">Yes</button>'
        '<button name="action" value="reject_all">No</button></form></div>'
    )
    client = make_app(template_folder=str(tmp_path)).test_client()
    page = client.get("/").data.decode()
    assert 'class="mine"' in page and page.count("consentgate-banner") == 1


def test_preferences_page_uses_the_site_layout(tmp_path: Path) -> None:
    (tmp_path / "layout.html").write_text(
        '<html lang="en"><title>{% block title %}{% endblock %} | Site</title>'
        "<nav>Site nav</nav>{% block content %}{% endblock %}</html>"
    )
    client = make_app(
        template_folder=str(tmp_path), CONSENTGATE_BASE_TEMPLATE="layout.html"
    ).test_client()
    page = client.get("/consent?next=/x").data.decode()
    assert "<title>Cookie settings | Site</title>" in page and "Site nav" in page
    assert 'name="category" value="analytics"' in page
    assert 'value="analytics" checked' not in page
    assert 'name="next" value="/x"' in page
    client.post("/consent", data={"action": "save", "category": "analytics"})
    assert 'value="analytics" checked' in client.get("/consent").data.decode()


def test_decisions_share_the_core_rules() -> None:
    client = make_app().test_client()
    refused = client.post(
        "/consent", data={"action": "accept_all"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    redirect = client.post("/consent", data={"action": "reject_all", "next": "//evil.example"})
    assert redirect.headers["Location"] == "/"


def test_blueprint_posts_are_bounded_like_the_middlewares() -> None:
    client = make_app().test_client()
    response = client.post("/consent", data={"action": "accept_all", "next": "/" + "a" * 17000})
    assert response.status_code == 413
    assert "consentgate=" not in response.headers.get("Set-Cookie", "")


def test_cookie_domain_reaches_the_blueprints_consent_cookie() -> None:
    client = make_app(CONSENTGATE_COOKIE_DOMAIN="Example.org").test_client()
    response = client.post(
        "/consent", data={"action": "reject_all"}, base_url="http://www.example.org"
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert any("Domain=example.org" in v.split("; ") and "Max-Age=0" not in v for v in cookies)


def test_declaration_table_matches_the_configuration() -> None:
    app = make_app()
    page = app.test_client().get("/privacy").data.decode()
    listed = set(re.findall(r"<code>([^<]+)</code>", page))
    declared = {spec.name for _, spec in app.extensions["consentgate"].settings.declared_cookies()}
    assert listed == declared
    assert {"consentgate", "_ga", "_ga_*", "visits"} <= listed


def test_declaration_names_the_domain_of_an_embeds_cookies() -> None:
    categories = [*CATEGORIES, {"name": "media", "trackers": ["youtube"]}]
    page = make_app(CONSENTGATE_CATEGORIES=categories).test_client().get("/privacy").data
    assert b"<code>VISITOR_INFO1_LIVE</code> on youtube.com</td>" in page
    assert b"<code>visits</code></td>" in page


def test_a_site_cookie_named_like_an_embeds_is_kept_when_media_is_refused() -> None:
    categories = [*CATEGORIES, {"name": "media", "trackers": ["vimeo"]}]
    app = make_app(CONSENTGATE_CATEGORIES=categories)

    @app.route("/volume")
    def volume() -> Response:
        response = Response("ok")
        response.set_cookie("player", "volume=3")
        return response

    client = app.test_client()
    client.post("/consent", data={"action": "reject_all"})
    response = client.get("/volume", headers={"Cookie": "player=volume%3D2"})
    cookies = response.headers.getlist("Set-Cookie")
    assert any(
        c.startswith("player=volume=3") or c.startswith('player="volume=3"') for c in cookies
    )
    assert not any(c.startswith("player=") and "Max-Age=0" in c for c in cookies)


def test_settings_can_come_from_a_toml_file(tmp_path: Path) -> None:
    (tmp_path / "consent.toml").write_text(
        'policy_version = "7"\n[[categories]]\nname = "necessary"\nrequired = true\n'
        '[[categories]]\nname = "analytics"\ntrackers = ["matomo"]\n'
    )
    app = Flask(__name__, root_path=str(tmp_path))
    app.config.update(SECRET_KEY=SECRET, CONSENTGATE_CONFIG="consent.toml")
    FlaskConsent(app)
    settings = app.extensions["consentgate"].settings
    assert settings.policy_version == "7"
    assert settings.secret_key == (SECRET.encode(),)
    assert any(spec.name.startswith("_pk_id") for _, spec in settings.declared_cookies())


def test_bad_configuration_names_the_key() -> None:
    with pytest.raises(ConfigError, match="cookie_nme"):
        make_app(CONSENTGATE_COOKIE_NME="x")


def test_preferences_page_has_no_injected_banner() -> None:
    page = make_app().test_client().get("/consent").data.decode()
    assert 'id="consentgate-banner"' not in page
    assert page.count("<form") == 1


def test_banner_with_only_required_categories_names_no_empty_purpose() -> None:
    page = make_app(CONSENTGATE_CATEGORIES=CATEGORIES[:1]).test_client().get("/").data
    assert b"consentgate-banner" in page and b"also use" not in page
    assert b"only necessary cookies" in page


def test_excluded_paths_get_no_banner_from_the_extension() -> None:
    page = make_app(CONSENTGATE_EXCLUDE_PATHS=["/"]).test_client().get("/").data
    assert b"<h1>Home</h1>" in page
    assert b"consentgate-banner" not in page and b"googletagmanager" not in page


# --- the CSP nonce ----------------------------------------------------------------------


def test_csp_nonce_hook_reaches_every_inline_style_and_script() -> None:
    nonces = iter(f"nonce-{i}" for i in range(10))
    client = make_app(CONSENTGATE_CSP_NONCE=lambda: next(nonces)).test_client()
    page = client.get("/").data.decode()
    # The banner, rendered by the app, and the page share one nonce per response.
    assert re.findall(r"<style( nonce=\"[^\"]*\")?>", page) == [' nonce="nonce-0"']
    assert '<style nonce="nonce-1">' in client.get("/consent").data.decode()
    client.post("/consent", data={"action": "accept_all", "next": "/"})
    page = client.get("/").data.decode()
    assert '<script nonce="nonce-2">window.dataLayer=' in page


def test_csp_nonce_reaches_the_opt_out_notices_style() -> None:
    """The opt-out notice is the banner's counterpart: a strict CSP must not block it."""
    client = make_app(CONSENTGATE_MODE="opt-out", CONSENTGATE_CSP_NONCE=lambda: "n0").test_client()
    page = client.get("/").data.decode()
    assert "Do not sell or share my personal information" in page
    assert re.findall(r"<style( nonce=\"[^\"]*\")?>", page) == [' nonce="n0"']


def test_csp_nonce_set_by_the_app_wins_over_the_hook() -> None:
    app = make_app(CONSENTGATE_CSP_NONCE=lambda: "from-hook")

    @app.before_request
    def own_nonce() -> None:
        from flask import request

        request.environ["consentgate.csp_nonce"] = "from-app"

    page = app.test_client().get("/").data.decode()
    assert '<style nonce="from-app">' in page and "from-hook" not in page


def test_csp_nonce_hook_must_be_callable() -> None:
    with pytest.raises(ConfigError) as error:
        make_app(CONSENTGATE_CSP_NONCE="abc")
    assert error.value.key == "CONSENTGATE_CSP_NONCE"


def test_flask_talisman_nonce_is_the_one_in_its_header() -> None:
    flask_talisman = pytest.importorskip("flask_talisman")
    from flask import request

    app = make_app(CONSENTGATE_CSP_NONCE=lambda: getattr(request, "csp_nonce", ""))
    flask_talisman.Talisman(
        app,
        force_https=False,
        content_security_policy={"script-src": "'self'", "style-src": "'self'"},
        content_security_policy_nonce_in=["script-src", "style-src"],
    )
    client = app.test_client()
    undecided = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", undecided.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<style nonce="{nonce[1]}">' in undecided.data.decode()
    client.post("/consent", data={"action": "accept_all", "next": "/"})
    accepted = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", accepted.headers["Content-Security-Policy"])
    assert nonce is not None
    assert f'<script nonce="{nonce[1]}">window.dataLayer=' in accepted.data.decode()


def test_opt_out_mode_renders_the_notice_from_the_apps_templates() -> None:
    client = make_app(CONSENTGATE_MODE="opt-out").test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'class="consentgate-notice"' in page
    assert "Do not sell or share my personal information" in page
    assert "Accept all" not in page
    assert "googletagmanager" in page  # on until the visitor opts out
    placed = client.get("/placed").get_data(as_text=True)
    assert placed.count('id="consentgate-banner"') == 1
    assert 'class="consentgate-notice"' in placed


def test_opt_out_settings_page_opts_out_and_honours_the_signal() -> None:
    client = make_app(CONSENTGATE_MODE="opt-out").test_client()
    page = client.get("/consent").get_data(as_text=True)
    assert 'value="opt_out">Do not sell or share my personal information</button>' in page
    assert re.search(r'value="analytics"\s+checked>', page)
    signalled = client.get("/consent", headers={"Sec-GPC": "1"})
    text = signalled.get_data(as_text=True)
    assert "Global Privacy Control signal. We honour it" in text
    assert "we do not use analytics cookies, whatever" in text
    assert re.search(r'id="consentgate-analytics" disabled>', text)
    assert "Sec-GPC" in signalled.headers["Vary"]
    client.post("/consent", data={"action": "opt_out", "next": "/"})
    assert client.get("/state").get_data(as_text=True) == "off"


def test_opt_out_settings_page_says_what_the_signal_turned_off() -> None:
    client = make_app(CONSENTGATE_MODE="opt-out").test_client()
    page = client.get("/consent").get_data(as_text=True)
    assert "every kind of cookie ticked below is in use" in page
    signalled = client.get("/consent", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert re.search(r'id="consentgate-analytics" disabled>', signalled)
    assert "Global Privacy Control signal turns off the kinds of cookie shown as off" in signalled
    assert "every kind of cookie ticked below is in use" not in signalled


def test_gpc_answers_the_banner_in_opt_in_mode_when_asked_to() -> None:
    client = make_app(CONSENTGATE_GPC_ANSWERS_BANNER=True).test_client()
    assert 'id="consentgate-banner"' in client.get("/").get_data(as_text=True)
    answered = client.get("/", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert 'id="consentgate-banner"' not in answered
    assert "googletagmanager" not in answered
    settings = client.get("/consent", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "nothing optional is used unless you choose it here" in settings


MEDIA = {"name": "media", "label": "External media", "trackers": ["youtube"]}
VIDEO = '<iframe width="560" height="315" src="https://www.youtube.com/embed/abc"></iframe>'


def media_app(template_folder: str | None = None) -> Flask:
    app = make_app(template_folder=template_folder, CONSENTGATE_CATEGORIES=[*CATEGORIES, MEDIA])

    @app.route("/video")
    def video() -> str:
        return render_template_string(PAGE.replace("{}", VIDEO), title="Video")

    return app


def test_placeholder_from_the_extension_template() -> None:
    client = media_app().test_client()
    page = client.get("/video").get_data(as_text=True)
    assert "youtube.com/embed" not in page
    assert 'style="width:560px;height:315px;aspect-ratio:560/315"' in page
    assert "Loading this video sends data to YouTube (Google) and lets it set cookies." in page
    assert 'value="load_once">Load this video</button>' in page
    assert '<script src="/consent/embeds.js" defer></script>' in page
    assert client.get("/consent/embeds.js").mimetype == "text/javascript"
    ident = re.search(r'name="element" value="([^"]+)"', page)
    assert ident is not None
    answer = client.post(
        "/consent", data={"action": "load_once", "element": ident[1], "next": "/video"}
    )
    assert answer.status_code == 303 and "Set-Cookie" not in answer.headers
    assert VIDEO.replace("<iframe", f'<iframe id="{ident[1]}"') in client.get(
        answer.location
    ).get_data(as_text=True)


def test_site_overrides_the_placeholder_template(tmp_path: Path) -> None:
    (tmp_path / "consentgate").mkdir()
    (tmp_path / "consentgate" / "placeholder.html").write_text(
        '<div id="{{ placeholder.id }}">Video von {{ placeholder.name }}</div>'
    )
    page = media_app(str(tmp_path)).test_client().get("/video").get_data(as_text=True)
    assert "Video von YouTube</div>" in page and "youtube.com/embed" not in page
