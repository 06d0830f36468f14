"""Click-to-load embeds: placeholders, their size, element ids and "load once"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from consentgate import Category, ConsentGate
from consentgate.embeds import (
    MAX_PLACEHOLDERS,
    TOKEN_PARAM,
    LoadOnceCodec,
    element_id,
    nocookie_src,
    size_style,
    split_token,
    with_token,
)
from consentgate.records import Record

from .conftest import SECRET

VIDEO = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" '
    'title="YouTube video player" frameborder="0" allowfullscreen></iframe>'
)
MAP = (
    '<iframe id="map" style="width: 100%; height: 400px; border: 1px solid black" '
    'src="https://www.openstreetmap.org/export/embed.html?bbox=-0.1,51.5,0.1,51.6&amp;layer=mapnik">'
    "</iframe>"
)
PAGE = (
    f"<!DOCTYPE html><html><body><main><h1>KA2</h1>{VIDEO}<p>between</p>{MAP}</main></body></html>"
)


def media_categories(**media: Any) -> list[Category]:
    return [
        Category("necessary", required=True),
        Category("analytics", trackers=["google-analytics"]),
        Category("media", label="External media", trackers=["youtube", "openstreetmap"], **media),
    ]


def page_app(body: str = PAGE, chunk: int = 0) -> Any:
    data = body.encode()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        step = chunk or len(data)
        return [data[i : i + step] for i in range(0, len(data), step)]

    return app


def gate(body: str = PAGE, chunk: int = 0, **media: Any) -> ConsentGate:
    return ConsentGate(
        page_app(body, chunk), secret_key=SECRET, categories=media_categories(**media)
    )


def element_ids(page: str) -> list[str]:
    return re.findall(r'name="element" value="([^"]+)"', page)


def load_once(client: Client, element: str, next_url: str = "/ka2/") -> str:
    answer = client.post(
        "/consent", data={"action": "load_once", "element": element, "next": next_url}
    )
    assert answer.status_code == 303
    assert "Set-Cookie" not in answer.headers
    location: str = answer.headers["Location"]
    return location


# --- size -------------------------------------------------------------------


SIZES = [
    pytest.param(
        {"width": "560", "height": "315"},
        "width:560px;height:315px;aspect-ratio:560/315",
        id="attrs",
    ),
    pytest.param({"width": "100%", "height": "450"}, "width:100%;height:450px", id="percent"),
    pytest.param(
        {"width": " 640px", "height": "360.5"},
        "width:640px;height:360.5px;aspect-ratio:640/360.5",
        id="dimension-rules",
    ),
    pytest.param(
        {"style": "width:100%; aspect-ratio: 16 / 9"}, "width:100%;aspect-ratio:16 / 9", id="style"
    ),
    pytest.param(
        {"width": "300", "style": "WIDTH: 50vw;border:0;height:calc(100vh - 2rem)"},
        "width:300px;width:50vw;height:calc(100vh - 2rem)",
        id="style-wins",
    ),
    pytest.param(
        {"style": "width:url(https://t.example/x);height:1px;background:red"},
        "height:1px",
        id="no-url",
    ),
    pytest.param({"width": "0", "height": "abc"}, "", id="nothing-usable"),
    pytest.param({}, "", id="defaults-from-the-stylesheet"),
]


@pytest.mark.parametrize(("attrs", "style"), SIZES)
def test_placeholder_keeps_the_embed_size(attrs: dict[str, str], style: str) -> None:
    assert size_style(attrs) == style


# --- ids, addresses, tokens -------------------------------------------------


def test_element_ids_are_stable_and_distinct() -> None:
    seen: dict[str, int] = {}
    src = {"src": "https://www.youtube.com/embed/a"}
    first, second = element_id(src, seen), element_id(src, seen)
    other = element_id({"src": "https://www.youtube.com/embed/b"}, seen)
    assert len({first, second, other}) == 3
    assert second == first + "-1"
    assert element_id(src, {}) == first  # the next load of the page
    assert element_id({"id": "intro", **src}, {}) == "intro"
    assert element_id({"id": "x" * 200, **src}, {}) == first
    assert element_id({"id": "two words", **src}, {}) == first


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        (
            "https://www.youtube.com/embed/abc?start=3",
            "https://www.youtube-nocookie.com/embed/abc?start=3",
        ),
        ("//youtube.com/embed/abc", "//www.youtube-nocookie.com/embed/abc"),
        ("https://www.youtube.com/watch?v=abc", None),
        ("https://www.youtube.com.evil.example/embed/abc", None),
        ("https://player.vimeo.com/video/1", None),
    ],
)
def test_nocookie_address(src: str, expected: str | None) -> None:
    assert nocookie_src(src) == expected


def test_load_once_token() -> None:
    codec = LoadOnceCodec([b"k" * 32], max_age=300)
    token = codec.dumps("video", "/ka2/", now=1000)
    assert codec.loads(token, "/ka2/", now=1300) == "video"
    assert codec.loads(token, "/ka2/", now=1301) is None  # expired
    assert codec.loads(token, "/other/", now=1000) is None  # another page
    assert codec.loads(token[:-2] + "xx", "/ka2/", now=1000) is None  # forged
    assert LoadOnceCodec([b"j" * 32], 300).loads(token, "/ka2/", now=1000) is None  # other key
    rotated = LoadOnceCodec([b"k" * 32, b"n" * 32], 300)
    assert rotated.loads(token, "/ka2/", now=1000) == "video"
    assert codec.loads("x" * 600, "/ka2/", now=1000) is None


def test_token_travels_in_the_query_only() -> None:
    url = with_token("/ka2/?lang=en#old", "T.1", "video")
    assert url == f"/ka2/?lang=en&{TOKEN_PARAM}=T.1#video"
    assert split_token(f"lang=en&{TOKEN_PARAM}=T.1") == ("lang=en", "T.1")
    assert split_token("lang=en") == ("lang=en", None)
    raw = f"q=a+b%7E&flag&{TOKEN_PARAM}=T%2E1&x=%2F&{TOKEN_PARAM}=other"
    assert split_token(raw) == ("q=a+b%7E&flag&x=%2F", "T.1")


# --- through the middleware -------------------------------------------------


def test_undecided_visitor_gets_placeholders_and_nothing_of_the_embeds() -> None:
    page = Client(gate()).get("/ka2/").get_data(as_text=True)
    assert "youtube.com/embed" not in page
    assert "openstreetmap.org/export" not in page
    assert "<iframe" not in page
    assert page.count('class="consentgate-embed"') == 2
    assert 'style="width:560px;height:315px;aspect-ratio:560/315"' in page
    assert 'id="map"' in page and 'style="width:100%;height:400px"' in page
    assert "Loading this video sends data to YouTube (Google) and lets it set cookies." in page
    assert '<a href="https://policies.google.com/privacy">' in page
    assert ">Load this video</button>" in page and ">Load this map</button>" in page
    assert ">Always allow External media</button>" in page
    assert page.count('<script src="/consent/embeds.js" defer></script>') == 1
    assert f'name="next" value="/ka2/#{element_ids(page)[0]}"' in page


def test_placeholders_do_not_depend_on_chunking() -> None:
    whole = Client(gate()).get("/ka2/").data
    for chunk in (1, 7):
        assert Client(gate(chunk=chunk)).get("/ka2/").data == whole


def test_load_once_lets_only_that_element_through_and_records_nothing() -> None:
    client = Client(gate())
    video, map_id = element_ids(client.get("/ka2/").get_data(as_text=True))
    assert map_id == "map"
    location = load_once(client, video, f"/ka2/#{video}")
    assert location.startswith(f"/ka2/?{TOKEN_PARAM}=") and location.endswith(f"#{video}")
    assert client.get_cookie("consentgate") is None
    answer = client.get(location)
    page = answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    assert f'<iframe id="{video}" width="560"' in page
    assert "openstreetmap.org/export" not in page  # the map stays behind its placeholder
    assert 'id="consentgate-banner"' in page  # still undecided
    # The next load of the page is gated as before.
    assert "<iframe" not in client.get("/ka2/").get_data(as_text=True)


def test_the_app_sees_the_page_url_without_the_token() -> None:
    seen = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ["QUERY_STRING"])
        return page_app()(environ, start_response)  # type: ignore[no-any-return]

    client = Client(ConsentGate(app, secret_key=SECRET, categories=media_categories()))
    client.get(load_once(client, "map", "/ka2/?lang=en"))
    assert seen == ["lang=en"]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda url: url.replace(f"{TOKEN_PARAM}=", f"{TOKEN_PARAM}=x"), id="forged"),
        pytest.param(lambda url: url.replace("/ka2/", "/other/"), id="other-page"),
    ],
)
def test_a_bad_token_loads_nothing(spoil: Callable[[str], str]) -> None:
    client = Client(gate())
    page = client.get(spoil(load_once(client, "map"))).get_data(as_text=True)
    assert "<iframe" not in page and 'id="map"' in page


def test_an_expired_token_loads_nothing() -> None:
    the_gate = gate()
    client = Client(the_gate)
    location = load_once(client, "map")
    the_gate.clock = lambda: 10**10
    assert "<iframe" not in client.get(location).get_data(as_text=True)


def test_a_token_loads_the_element_it_names_only() -> None:
    client = Client(gate())
    page = client.get(load_once(client, "map")).get_data(as_text=True)
    assert page.count("<iframe") == 1 and '<iframe id="map"' in page


def test_always_allow_keeps_what_was_granted_and_loads_every_embed() -> None:
    client = Client(gate())
    client.post("/consent", data={"action": "save", "category": ["analytics"], "next": "/ka2/"})
    page = client.get("/ka2/").get_data(as_text=True)
    assert '<input type="hidden" name="category" value="analytics">' in page
    form = {"action": "save", "category": ["analytics", "media"], "next": "/ka2/#map"}
    answer = client.post("/consent", data=form)
    assert answer.headers["Location"] == "/ka2/#map"
    page = client.get("/ka2/").get_data(as_text=True)
    assert VIDEO in page and "consentgate-embed" not in page


def test_json_answers_for_the_script() -> None:
    client = Client(gate())
    answer = client.post(
        "/consent",
        data={"action": "load_once", "element": "map", "next": "/ka2/"},
        headers={"Accept": "application/json"},
    )
    url = answer.get_json()["url"]
    assert url.endswith("#map") and TOKEN_PARAM in url
    page = client.get("/ka2/", headers={"Consentgate-Embed-Ids": "1"})
    assert page.headers["Cache-Control"] == "no-store"
    script = client.get("/consent/embeds.js")
    assert script.mimetype == "text/javascript" and b"DOMParser" in script.data


def test_ids_are_marked_on_allowed_embeds_when_the_script_asks() -> None:
    client = Client(gate())
    video = element_ids(client.get("/ka2/").get_data(as_text=True))[0]
    client.post("/consent", data={"action": "accept_all", "next": "/"})
    plain = client.get("/ka2/").get_data(as_text=True)
    assert VIDEO in plain  # untouched for an ordinary load
    marked = client.get("/ka2/", headers={"Consentgate-Embed-Ids": "1"}).get_data(as_text=True)
    assert f'<iframe id="{video}" width="560"' in marked


@pytest.mark.parametrize("element", ["", "two words", "x" * 101])
def test_load_once_needs_an_element_id(element: str) -> None:
    answer = Client(gate()).post("/consent", data={"action": "load_once", "element": element})
    assert answer.status_code == 400


def test_youtube_nocookie_for_a_category_that_asks() -> None:
    client = Client(gate(youtube_nocookie=True))
    page = client.get("/ka2/").get_data(as_text=True)
    assert "<iframe" not in page  # still gated
    client.post("/consent", data={"action": "accept_all", "next": "/"})
    page = client.get("/ka2/").get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page
    plain = Client(gate())
    plain.post("/consent", data={"action": "accept_all", "next": "/"})
    assert VIDEO in plain.get("/ka2/").get_data(as_text=True)


def test_a_site_without_embed_categories_is_unchanged() -> None:
    categories = [Category("necessary", required=True), Category("media", sources=["youtube.com"])]
    client = Client(ConsentGate(page_app(), secret_key=SECRET, categories=categories))
    page = client.get("/ka2/").get_data(as_text=True)
    assert "consentgate-embed" not in page and "<iframe" in page  # the map is not in media
    assert "youtube.com/embed" not in page


# --- script-built widgets ---------------------------------------------------

TWEET = (
    '<blockquote class="twitter-tweet" data-theme="light"><p lang="en" dir="ltr">Partners met'
    ' in Lisbon <a href="https://t.co/abc">pic.twitter.com/abc</a></p>&mdash; Erasmus+'
    ' (@EUErasmusPlus) <a href="https://twitter.com/EUErasmusPlus/status/{n}?ref_src=twsrc%5Etfw">'
    "June 1, 2024</a></blockquote>\n"
    '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
)
POSTS = f"<main><p>a</p>{TWEET.format(n=1)}<p>b</p>{TWEET.format(n=2)}<p>end</p></main>"


def widget_gate(body: str = POSTS, chunk: int = 0) -> ConsentGate:
    categories = [Category("necessary", required=True), Category("social", trackers=["x-twitter"])]
    return ConsentGate(page_app(body, chunk), secret_key=SECRET, categories=categories)


def test_refused_widget_becomes_a_placeholder_for_any_chunking() -> None:
    page = Client(widget_gate()).get("/").data
    assert b"<blockquote" not in page and b"platform.twitter.com" not in page
    assert page.count(b" data-consentgate-widget>") == 2
    assert b"Loading this post sends data to X (Twitter) and lets it set cookies." in page
    assert b'class="consentgate-embed"' in page  # not the widget's class: no script finds it
    assert page.endswith(b"<p>end</p></main>")
    for chunk in (1, 7):
        assert Client(widget_gate(chunk=chunk)).get("/").data == page


def test_load_once_lets_that_widget_and_its_script_through() -> None:
    client = Client(widget_gate())
    first, second = element_ids(client.get("/").get_data(as_text=True))
    page = client.get(load_once(client, second, "/")).get_data(as_text=True)
    assert page.count("<blockquote") == 1 and f'<blockquote id="{second}"' in page
    assert "status/2?" in page and "status/1?" not in page
    assert page.count("platform.twitter.com/widgets.js") == 1  # the one after it
    assert f'id="{first}" class="consentgate-embed"' in page


def test_accepted_or_unknown_widgets_pass_untouched() -> None:
    client = Client(widget_gate())
    client.post("/consent", data={"action": "accept_all", "next": "/"})
    assert client.get("/").get_data(as_text=True).endswith(POSTS)
    plain = "<main><blockquote class=quote>Words</blockquote><blockquote>More</blockquote></main>"
    assert Client(widget_gate(plain)).get("/").get_data(as_text=True).endswith(plain)


def test_an_unclosed_widget_ends_where_an_outer_element_ends() -> None:
    body = '<div><blockquote class="twitter-tweet"><p>text</p></div><p>kept</p>'
    page = Client(widget_gate(body)).get("/").get_data(as_text=True)
    assert "data-consentgate-widget" in page
    assert page.endswith("</form></div></div><p>kept</p>")


def test_under_a_mount_prefix_forms_and_tokens_stay_inside_the_app() -> None:
    client = Client(DispatcherMiddleware(page_app("<p>root</p>"), {"/app": gate()}))
    page = client.get("/app/ka2/?x=1").get_data(as_text=True)
    assert 'action="/app/consent"' in page and 'src="/app/consent/embeds.js"' in page
    assert 'name="next" value="/ka2/?x=1#map"' in page
    answer = client.post(
        "/app/consent", data={"action": "load_once", "element": "map", "next": "/ka2/?x=1"}
    )
    location = answer.headers["Location"]
    assert location.startswith(f"/app/ka2/?x=1&{TOKEN_PARAM}=") and location.endswith("#map")
    assert '<iframe id="map"' in client.get(location).get_data(as_text=True)


def test_a_csp_nonce_goes_on_the_placeholder_assets() -> None:
    inner = gate()

    def with_nonce(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["consentgate.csp_nonce"] = "r4nd0m"
        return inner(environ, start_response)

    page = Client(with_nonce).get("/ka2/").get_data(as_text=True)
    assert '<style nonce="r4nd0m">' in page
    assert '<script nonce="r4nd0m" src="/consent/embeds.js" defer></script>' in page


def test_a_failing_placeholder_template_removes_the_embed(caplog: pytest.LogCaptureFixture) -> None:
    inner = gate()

    def broken(placeholder: object) -> str:
        raise RuntimeError("template error")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["consentgate.placeholder"] = broken
        return inner(environ, start_response)

    answer = Client(app).get("/ka2/")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<iframe" not in page and "consentgate-embed" not in page
    assert page.endswith("<p>between</p></main></body></html>")
    assert "a placeholder could not be rendered" in caplog.text


CALENDLY = (
    '<div class="calendly-inline-widget" data-url="https://calendly.com/acme/30min"'
    ' style="min-width:320px;height:700px;"></div>'
    '<script type="text/javascript" src="https://assets.calendly.com/assets/external/widget.js"'
    " async></script>"
)


def test_a_div_widget_becomes_a_placeholder_of_its_size() -> None:
    body = f"<main><div class=intro><p>Book a call</p></div>{CALENDLY}<div>after</div></main>"
    categories = [Category("necessary", required=True), Category("booking", trackers=["calendly"])]
    whole = None
    for chunk in (0, 1, 7):
        the_gate = ConsentGate(page_app(body, chunk), secret_key=SECRET, categories=categories)
        page = Client(the_gate).get("/").get_data(as_text=True)
        whole = whole or page
        assert page == whole
    assert whole is not None
    assert "assets.calendly.com" not in whole and "calendly.com/acme" not in whole
    assert 'style="min-width:320px;height:700px"' in whole
    assert "Load this calendar</button>" in whole
    assert whole.endswith("</form></div><div>after</div></main>")
    assert "<div class=intro><p>Book a call</p></div>" in whole


def test_placeholders_per_page_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    frames = "".join(
        f'<iframe src="https://www.youtube.com/embed/v{i}"></iframe>'
        for i in range(MAX_PLACEHOLDERS + 2)
    )
    page = Client(gate(f"<main>{frames}</main>")).get("/").get_data(as_text=True)
    assert page.count(' data-consentgate-kind="video"') == MAX_PLACEHOLDERS
    assert "<iframe" not in page and page.endswith("</main>")
    assert caplog.text.count(f"more than {MAX_PLACEHOLDERS} embeds") == 1


def test_the_embed_attributes_are_escaped_in_the_placeholder() -> None:
    hostile = (
        '<iframe id="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'
        ' class="a&quot; onclick=&quot;b" src="https://www.youtube.com/embed/v"></iframe>'
    )
    page = Client(gate(f"<main>{hostile}</main>")).get("/").get_data(as_text=True)
    assert "<script>alert" not in page and 'onclick="' not in page
    assert 'id="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'class="consentgate-embed a&quot; onclick=&quot;b"' in page


def test_load_once_is_never_recorded_and_always_allow_is_from_the_placeholder() -> None:
    seen: list[Record] = []
    categories = media_categories()
    the_gate = ConsentGate(
        page_app(), secret_key=SECRET, categories=categories, on_decision=seen.append
    )
    client = Client(the_gate)
    page = client.get("/ka2/").get_data(as_text=True)
    load_once(client, "map")
    assert seen == []
    form = dict(
        re.findall(r'<input type="hidden" name="(element|entry_point|next)" value="([^"]*)"', page)
    )
    client.post("/consent", data={**form, "action": "save", "category": "media"})
    [record] = seen
    assert (record.action, record.entry_point) == ("save", "placeholder")
    assert "media" in record.granted
