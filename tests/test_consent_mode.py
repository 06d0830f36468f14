"""Google Consent Mode v2: configuration, the default each visitor's page starts with,
where it goes, advanced mode, and the CSP nonce on everything the gate adds."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from consentgate import Category, ConfigError, Consent, ConsentGate, Settings, load_config
from consentgate.categories import GoogleConsentMode
from consentgate.consent_mode import ConsentMode

from .conftest import SECRET
from .recordstores import FailingStore

GA = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
ADS = b'<script async src="https://pagead2.googlesyndication.com/pagead/js/ads.js"></script>'
OWN = b"<script>var first = 1;</script>"
WITH_HEAD = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>KA2</title>'
    + OWN
    + GA
    + ADS
    + b"</head><body><h1>KA2</h1></body></html>"
)
#: No <head> tag: the head is implied before the <meta>, and ends before the <p>.
NO_HEAD = b"<!DOCTYPE html><html lang=en><meta charset=utf-8><title>KA2</title>" + OWN + GA
#: Not even <html>: a comment and text that hide look-alike tags, then body content.
BARE = b"<!-- <head><script> -->\n<p>Hello</p>" + OWN + GA + b"<p>Bye</p>"


def categories(*, ads_mode: GoogleConsentMode = "basic") -> list[Category]:
    """Necessary (security), analytics with Google Analytics, and Google Ads."""
    return [
        Category("necessary", required=True, consent_types=["security_storage"]),
        Category("analytics", trackers=["google-analytics"]),
        Category(
            "ads",
            sources=["googlesyndication.com", "googleadservices.com"],
            cookies=["_gcl_*"],
            consent_types=["ad_storage", "ad_user_data", "ad_personalization"],
            google_consent_mode=ads_mode,
        ),
    ]


def gate(
    body: bytes = WITH_HEAD,
    *,
    chunk: int | None = None,
    nonce: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    **options: Any,
) -> ConsentGate:
    """The gate around an app serving ``body`` in ``chunk``-byte pieces; with ``nonce``,
    an outer layer puts it in the environ as a CSP middleware would."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers])
        size = chunk or len(body)
        return [body[i : i + size] for i in range(0, len(body), size)]

    options.setdefault("categories", categories())
    wrapped = ConsentGate(app, secret_key=SECRET, **options)
    if nonce is None:
        return wrapped

    def with_nonce(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["consentgate.csp_nonce"] = nonce
        return wrapped(environ, start_response)

    return with_nonce  # type: ignore[return-value]


def visit(app: Any, action: str | None = None, *granted: str) -> Client:
    """A client that took ``action`` on the banner (none: undecided)."""
    client = Client(app)
    if action is not None:
        form = {"action": action, "category": list(granted), "next": "/"}
        assert client.post("/consent", data=form).status_code == 303
    return client


SNIPPET = re.compile(
    rb"<script(?P<attrs>[^>]*)>window\.dataLayer=window\.dataLayer\|\|\[\];\(function\(\)\{"
    rb"function gtag\(\)\{dataLayer\.push\(arguments\);\}"
    rb'gtag\("consent","default",(?P<default>\{[^}]*\})\);(?P<sets>[^}]*)\}\)\(\);</script>'
)


def snippet_of(page: bytes) -> dict[str, Any] | None:
    """The Consent Mode default in ``page`` (None without one); there is at most one."""
    found = list(SNIPPET.finditer(page))
    assert len(found) <= 1
    if not found:
        return None
    match = found[0]
    return {
        "at": match.start(),
        "end": match.end(),
        "attrs": match["attrs"],
        "default": json.loads(match["default"]),
        "sets": match["sets"],
    }


DENIED = dict.fromkeys(
    [
        "ad_storage",
        "ad_user_data",
        "ad_personalization",
        "analytics_storage",
        "functionality_storage",
        "personalization_storage",
        "security_storage",
    ],
    "denied",
)
ADS_TYPES = {"ad_storage", "ad_user_data", "ad_personalization"}
#: What a visitor who accepted everything grants: all but the two types nothing maps.
ACCEPTED = ADS_TYPES | {"analytics_storage", "security_storage"}

# --- configuration ---------------------------------------------------------------------


def test_catalogue_maps_google_analytics_and_not_tag_manager() -> None:
    assert Category("a", trackers=["google-analytics"]).consent_types == ("analytics_storage",)
    assert Category("t", trackers=["google-tag-manager"]).consent_types == ()
    both = Category(
        "m", consent_types=["ad_storage", "analytics_storage"], trackers=["google-analytics"]
    )
    assert both.consent_types == ("ad_storage", "analytics_storage")


@pytest.mark.parametrize(
    ("category", "key", "why"),
    [
        pytest.param(
            {"name": "a", "consent_types": ["analytics_storge"]},
            "categories[0].consent_types[0]",
            "did you mean 'analytics_storage'?",
            id="misspelt-type",
        ),
        pytest.param(
            {"name": "a", "consent_types": "ad_storage"},
            "categories[0].consent_types",
            "must be a list",
            id="bare-string",
        ),
        pytest.param(
            {"name": "a", "google_consent_mode": "advance"},
            "categories[0].google_consent_mode",
            "did you mean 'advanced'?",
            id="misspelt-mode",
        ),
        pytest.param(
            {"name": "a", "google_consent_mode": "advanced", "trackers": ["meta-pixel"]},
            "categories[0].trackers[0]",
            "'meta-pixel' is not a Google tracker",
            id="advanced-holds-another-vendor",
        ),
        pytest.param(
            {"name": "a", "google_consent_mode": "advanced", "trackers": ["youtube"]},
            "categories[0].trackers[0]",
            "'youtube' is an embed, which does not read Consent Mode",
            id="advanced-holds-a-google-embed",
        ),
    ],
)
def test_consent_mode_mistakes_name_the_option(
    category: dict[str, Any], key: str, why: str
) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_mapping({"secret_key": SECRET, "categories": [category]})
    assert error.value.key == key
    assert why in error.value.why


@pytest.mark.parametrize("option", ["consent_mode", "ads_data_redaction", "url_passthrough"])
def test_consent_mode_switches_are_booleans(option: str) -> None:
    options: dict[str, Any] = {option: "yes"}
    with pytest.raises(ConfigError) as error:
        Settings(secret_key=SECRET, categories=categories(), **options)
    assert error.value.key == option


# --- the default for each visitor --------------------------------------------------------


def consent(*granted: str, decided: bool = True) -> Consent:
    return Consent(granted=frozenset({"necessary", *granted}), decided=decided)


@pytest.mark.parametrize(
    ("visitor", "granted"),
    [
        pytest.param(consent("analytics", "ads"), ACCEPTED, id="accepted"),
        pytest.param(consent("analytics"), {"analytics_storage", "security_storage"}, id="partial"),
        pytest.param(consent("ads"), ADS_TYPES | {"security_storage"}, id="partial-ads"),
        pytest.param(consent(), {"security_storage"}, id="refused"),
        pytest.param(consent(decided=False), {"security_storage"}, id="undecided"),
    ],
)
def test_state_grants_what_the_visitor_allowed(visitor: Consent, granted: set[str]) -> None:
    state = ConsentMode(Settings(secret_key=SECRET, categories=categories())).state(visitor)
    assert state == {**DENIED, **dict.fromkeys(granted, "granted")}


def test_type_mapped_by_two_categories_needs_both() -> None:
    mode = ConsentMode(
        Settings(
            secret_key=SECRET,
            categories=[
                Category("stats", trackers=["google-analytics"]),
                Category("product", consent_types=["analytics_storage"]),
            ],
        )
    )
    assert mode.state(consent("stats"))["analytics_storage"] == "denied"
    assert mode.state(consent("stats", "product"))["analytics_storage"] == "granted"


@pytest.mark.parametrize(
    ("action", "granted", "expected"),
    [
        pytest.param(None, (), None, id="undecided-no-google-tag-stays"),
        pytest.param("reject_all", (), None, id="refused-no-google-tag-stays"),
        pytest.param(
            "accept_all",
            (),
            {**DENIED, **dict.fromkeys(ACCEPTED, "granted")},
            id="accepted",
        ),
        pytest.param(
            "save",
            ("analytics",),
            {**DENIED, "analytics_storage": "granted", "security_storage": "granted"},
            id="partial",
        ),
    ],
)
def test_each_visitor_gets_their_actual_state(
    action: str | None, granted: tuple[str, ...], expected: dict[str, str] | None
) -> None:
    page = visit(gate(), action, *granted).get("/").data
    found = snippet_of(page)
    assert (found and found["default"]) == expected


def test_advanced_mode_keeps_the_tags_of_a_refused_category_with_denied_state() -> None:
    preload = "<https://pagead2.googlesyndication.com/x.js>; rel=preload; as=script"
    app = gate(
        categories=categories(ads_mode="advanced"),
        headers=[("Set-Cookie", "_gcl_au=1.1; Path=/"), ("Link", preload)],
    )
    for client in (visit(app), visit(app, "reject_all")):
        response = client.get("/")
        page = response.data
        found = snippet_of(page)
        assert found is not None
        assert found["default"] == {**DENIED, "security_storage": "granted"}
        # The Ads tag stays and runs with ad_* denied; the basic category's tag goes.
        assert ADS in page and GA not in page
        assert found["end"] <= page.index(ADS)
        # Its cookies are gated all the same.
        assert "_gcl_au" not in response.headers.get("Set-Cookie", "")
        assert "googlesyndication" in response.headers["Link"]


def test_advanced_mode_needs_the_snippet() -> None:
    # With Consent Mode switched off, nothing would tell the tags they are denied.
    app = gate(categories=categories(ads_mode="advanced"), consent_mode=False)
    page = visit(app).get("/").data
    assert snippet_of(page) is None and ADS not in page


def test_no_snippet_where_consent_mode_is_off_or_unmapped() -> None:
    assert snippet_of(visit(gate(consent_mode=False), "accept_all").get("/").data) is None
    unmapped = [Category("necessary", required=True), Category("stats", trackers=["matomo"])]
    assert snippet_of(visit(gate(categories=unmapped), "accept_all").get("/").data) is None


def test_tag_manager_category_gets_the_snippet_with_the_other_categories_types() -> None:
    cats = [
        Category("necessary", required=True),
        Category("analytics", trackers=["google-analytics"]),
        Category("tags", trackers=["google-tag-manager"]),
    ]
    page = visit(gate(categories=cats), "save", "tags").get("/").data
    found = snippet_of(page)
    assert found is not None and found["default"] == DENIED


@pytest.mark.parametrize(
    ("options", "sets"),
    [
        pytest.param({}, b"", id="none"),
        pytest.param(
            {"ads_data_redaction": True}, b'gtag("set","ads_data_redaction",true);', id="redaction"
        ),
        pytest.param(
            {"ads_data_redaction": True, "url_passthrough": True},
            b'gtag("set","ads_data_redaction",true);gtag("set","url_passthrough",true);',
            id="both",
        ),
    ],
)
def test_ads_options_follow_the_default(options: dict[str, Any], sets: bytes) -> None:
    found = snippet_of(visit(gate(**options), "accept_all").get("/").data)
    assert found is not None and found["sets"] == sets


# --- where it goes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "after"),
    [
        pytest.param(WITH_HEAD, b"<title>KA2</title>", id="head"),
        pytest.param(NO_HEAD, b"<title>KA2</title>", id="implied-head"),
        pytest.param(BARE, b"-->\n", id="no-head-no-html"),
        pytest.param(b"<html><body>" + GA, b"<html>", id="body-first"),
        pytest.param(
            b"<html><head><noscript><img src=/x.gif></noscript>" + GA,
            b"<head>",
            id="noscript-first",  # with scripting on its content is text: never inside it
        ),
    ],
)
@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_snippet_goes_before_the_first_script(body: bytes, after: bytes, chunk: int | None) -> None:
    page = visit(gate(body, chunk=chunk), "accept_all").get("/").data
    found = snippet_of(page)
    assert found is not None
    assert page[: found["at"]].endswith(after)
    assert found["end"] <= page.index(b"<script", found["end"] - 1)
    # Apart from it, the page is as the app sent it.
    assert page[: found["at"]] + page[found["end"] :] == body


def test_meta_charset_stays_first() -> None:
    page = visit(gate(), "accept_all").get("/").data
    assert page.index(b'<meta charset="utf-8">') < page.index(b"dataLayer") < page.index(OWN)


def test_page_without_a_start_tag_gets_no_snippet() -> None:
    page = visit(gate(b"<!DOCTYPE html>just text"), "accept_all").get("/").data
    assert page == b"<!DOCTYPE html>just text"


# --- the CSP nonce ----------------------------------------------------------------------

ADDED = re.compile(rb"<(script|style)\b([^>]*)>")


def added_tags(page: bytes, body: bytes) -> list[bytes]:
    """Attributes of the inline script and style start tags in ``page`` but not ``body``."""
    ours = [m[0] for m in ADDED.finditer(page)]
    for theirs in ADDED.finditer(body):
        if theirs[0] in ours:  # not if the gate removed it
            ours.remove(theirs[0])
    return [tag for tag in ours if b" src=" not in tag]


def test_nonce_on_every_inline_script_and_style_the_gate_adds() -> None:
    app = gate(nonce="n0nce+/=", categories=categories(ads_mode="advanced"))
    page = visit(app).get("/").data  # undecided: banner, snippet and the API's state
    added = added_tags(page, WITH_HEAD)
    assert len(added) == 3
    assert all(b' nonce="n0nce+/="' in tag for tag in added)
    preferences = visit(app).get("/consent").data
    assert b'<style nonce="n0nce+/=">' in preferences


def test_nonce_is_per_response_though_the_banner_is_cached() -> None:
    nonces = iter(["first", "second"])

    inner = gate()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["consentgate.csp_nonce"] = next(nonces)
        return inner(environ, start_response)

    client = Client(app)
    assert b'<style nonce="first">' in client.get("/").data
    assert b'<style nonce="second">' in client.get("/").data


@pytest.mark.parametrize(
    ("options", "action", "script_name"),
    [
        pytest.param({}, None, "", id="banner"),
        pytest.param({}, None, "/mounted", id="banner-mounted"),
        pytest.param({"mode": "opt-out"}, None, "", id="opt-out-notice"),
        pytest.param({}, "accept_all", "", id="consent-mode-default"),
        pytest.param({"inject_script": True}, "reject_all", "/mounted", id="api-tags"),
    ],
)
def test_what_the_gate_adds_is_the_same_with_a_nonce_but_for_the_attribute(
    options: dict[str, Any], action: str | None, script_name: str
) -> None:
    """Responses without a nonce get what the gate adds ready-made from its caches; with
    one, it is written afresh. A visitor must not tell the two apart but by the nonce."""
    inner = gate(**options)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if "HTTP_X_NONCE" in environ:  # as a CSP middleware would hand it over
            environ["consentgate.csp_nonce"] = environ["HTTP_X_NONCE"]
        return inner(environ, start_response)

    client = visit(app, action)
    base = {"SCRIPT_NAME": script_name}
    pages = [
        client.get("/page?x=1", environ_overrides=base, headers=headers).data
        for headers in ({}, {"X-Nonce": "n0nce"}, {}, {"X-Nonce": "n0nce"})
    ]
    assert b"nonce" not in pages[0] and pages[0] == pages[2]
    assert b' nonce="n0nce"' in pages[1] and pages[1] == pages[3]
    assert pages[1].replace(b' nonce="n0nce"', b"") == pages[0]


def test_nonce_is_escaped() -> None:
    page = visit(gate(nonce='x"><script>alert(1)</script>'), "accept_all").get("/").data
    found = snippet_of(page)
    assert found is not None
    assert found["attrs"] == b' nonce="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'


def test_no_nonce_attribute_without_a_nonce() -> None:
    page = visit(gate()).get("/").data
    assert b"nonce" not in page


def test_readme_example_does_what_it_says(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    section = readme[readme.index("A site with GA4 and Google Ads:") :]
    toml = section[section.index("```toml\n") + 8 : section.index("```\n", 8)]
    (tmp_path / "consent.toml").write_text(toml)
    settings = load_config(tmp_path / "consent.toml", secret_key=SECRET)
    ads = b'<script src="https://www.googleadservices.com/pagead/conversion.js"></script>'
    page = WITH_HEAD.replace(ADS, ads)
    options: dict[str, Any] = {"ads_data_redaction": True, "url_passthrough": True}
    assert {k: getattr(settings, k) for k in options} == options
    app = gate(page, categories=settings.categories, **options)
    partial = visit(app, "save", "analytics").get("/").data
    found = snippet_of(partial)
    assert found is not None and ads not in partial
    granted = dict.fromkeys(["analytics_storage", "security_storage"], "granted")
    assert found["default"] == {**DENIED, **granted}
    assert snippet_of(visit(app, "reject_all").get("/").data) is None
    advanced = [
        replace(c, google_consent_mode="advanced") if c.name == "marketing" else c
        for c in settings.categories
    ]
    refused = visit(gate(page, categories=advanced), "reject_all").get("/").data
    found = snippet_of(refused)
    assert found is not None and ads in refused
    assert found["default"] == {**DENIED, "security_storage": "granted"}


def test_nonce_from_the_apps_own_policy_header() -> None:
    policy = [("Content-Security-Policy", "script-src 'nonce-fromheader'; style-src 'self'")]
    app = gate(headers=policy, categories=categories(ads_mode="advanced"))
    page = visit(app).get("/").data
    assert b'<style nonce="fromheader">' in page
    found = snippet_of(page)
    assert found is not None and found["attrs"] == b' nonce="fromheader"'


def test_no_snippet_in_a_fragment_a_script_fetches() -> None:
    client = visit(gate(b"<li>" + GA + b"</li>"), "accept_all")
    fragment = client.get("/", headers={"Sec-Fetch-Dest": "empty"}).data
    assert fragment == b"<li>" + GA + b"</li>"
    framed = client.get("/", headers={"Sec-Fetch-Dest": "iframe"}).data
    assert snippet_of(framed) is not None  # a document of its own, with its own data layer


def test_google_tags_without_any_consent_type_are_logged_at_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tag_manager_only = [
        Category("necessary", required=True),
        Category("tags", trackers=["google-tag-manager"]),
    ]
    with caplog.at_level("WARNING", logger="consentgate"):
        gate(categories=tag_manager_only)
        gate(categories=tag_manager_only, consent_mode=False)  # the site said so: no warning
        gate()
    warned = [r.getMessage() for r in caplog.records if "consent_types" in r.getMessage()]
    assert len(warned) == 1 and "categories tags hold Google tags" in warned[0]


def test_nonce_on_the_page_that_says_a_choice_was_not_saved() -> None:
    app = gate(nonce="n0nce", records=FailingStore())
    response = Client(app).post("/consent", data={"action": "accept_all", "next": "/"})
    assert response.status_code == 503
    assert b'<style nonce="n0nce">' in response.data


def test_a_google_embed_is_not_a_google_tag() -> None:
    """YouTube and Maps come from Google but read no Consent Mode: a category of embeds
    alone gets no snippet, and advanced mode is refused for it (above)."""
    assert not Category("media", trackers=["youtube", "google-maps"]).google
    assert Category("ads", trackers=["google-ads"]).google
