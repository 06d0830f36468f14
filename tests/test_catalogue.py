"""The tracker catalogue: every entry's data, and its provider's real embed code gated.

Each sample is the code the provider's documentation gives a site to paste (with a
realistic id), run through the real rules and rewriter with a category holding only
that entry: refused, what loads from the provider is gone and the page around it stays;
granted, the page is untouched; and no other entry claims it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from consentgate.config import (
    CONSENT_TYPES,
    EMBED_KINDS,
    Category,
    ConfigError,
    Tracker,
    _tracker,
    tracker_catalogue,
)
from consentgate.cookies import valid_host
from consentgate.rewriter import HtmlGate
from consentgate.rules import Rules

CATALOGUE = tracker_catalogue()
#: One category per entry, holding only that entry.
RULES = {tracker_id: Rules([Category("media", trackers=[tracker_id])]) for tracker_id in CATALOGUE}
#: Embed entries that the issue names, and the advertising tags that come with them.
EMBEDS = (
    "youtube",
    "vimeo",
    "google-maps",
    "openstreetmap",
)


def gated(rules: Rules, html: str, *, granted: bool = False) -> str:
    """The page as a visitor who refused (or granted) the one category gets it."""
    gate = HtmlGate(rules, lambda category: granted)
    return (gate.feed(html.encode()) + gate.close()).decode()


def page(body: str) -> str:
    return f"<!doctype html><title>KA2</title><p>Before the embed.</p>{body}<p>After it.</p>"


@dataclass(frozen=True)
class Sample:
    """A provider's embed code, and the bits of it that load from the provider."""

    tracker_id: str
    html: str
    loaders: tuple[str, ...]


SAMPLES = [
    pytest.param(
        Sample(
            "youtube",
            '<iframe width="560" height="315" src="https://www.youtube.com/embed/'
            'M7lc1UVf-VE?si=Xq3xWm9vJk2bLp4T" title="YouTube video player" frameborder="0" '
            'allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; '
            'picture-in-picture; web-share" referrerpolicy="strict-origin-when-cross-origin" '
            "allowfullscreen></iframe>",
            ("<iframe",),
        ),
        id="youtube-iframe",
    ),
    pytest.param(
        Sample(
            "youtube",
            '<iframe width="560" height="315" src="https://www.youtube-nocookie.com/embed/'
            'M7lc1UVf-VE" title="YouTube video player" frameborder="0" allow="autoplay; '
            'encrypted-media; picture-in-picture" allowfullscreen></iframe>',
            ("<iframe",),
        ),
        id="youtube-nocookie",
    ),
    pytest.param(
        Sample(
            "youtube",
            """<div id="player"></div>
<script>
  var tag = document.createElement('script');
  tag.src = "https://www.youtube.com/iframe_api";
  var firstScriptTag = document.getElementsByTagName('script')[0];
  firstScriptTag.parentNode.insertBefore(tag, firstScriptTag);
  var player;
  function onYouTubeIframeAPIReady() {
    player = new YT.Player('player', {
      height: '390', width: '640', videoId: 'M7lc1UVf-VE',
      playerVars: { 'playsinline': 1 },
      events: { 'onReady': onPlayerReady }
    });
  }
  function onPlayerReady(event) { event.target.playVideo(); }
</script>""",
            ("<script", "iframe_api", "YT.Player"),
        ),
        id="youtube-iframe-api",
    ),
    pytest.param(
        Sample(
            "youtube",
            '<script src="https://www.youtube.com/iframe_api"></script>',
            ("<script",),
        ),
        id="youtube-api-script",
    ),
    pytest.param(
        Sample(
            "vimeo",
            '<div style="padding:56.25% 0 0 0;position:relative;"><iframe src="https://'
            "player.vimeo.com/video/76979871?h=8272103f6e&amp;badge=0&amp;autopause=0&amp;"
            'player_id=0&amp;app_id=58479" frameborder="0" allow="autoplay; fullscreen; '
            'picture-in-picture; clipboard-write; encrypted-media; web-share" '
            'referrerpolicy="strict-origin-when-cross-origin" style="position:absolute;top:0;'
            'left:0;width:100%;height:100%;" title="The New Vimeo Player (You Know, For Videos)">'
            '</iframe></div><script src="https://player.vimeo.com/api/player.js"></script>',
            ("<iframe", "<script"),
        ),
        id="vimeo-iframe",
    ),
    pytest.param(
        Sample(
            "vimeo",
            """<div id="made-in-ny"></div>
<script>
  var player = new Vimeo.Player('made-in-ny', { id: 59777392, width: 640 });
  player.on('play', function() { console.log('played the video!'); });
</script>""",
            ("<script", "Vimeo.Player"),
        ),
        id="vimeo-player-js",
    ),
    pytest.param(
        Sample(
            "google-maps",
            '<iframe src="https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d2518.8!2d4.3571!'
            "3d50.8466!2m3!1f0!2f0!3f0!3m2!1i1024!2i768!4f13.1!3m3!1m2!1s0x47c3c47e!2sGrand-"
            'Place!5e0!3m2!1sen!2sbe!4v1700000000000" width="600" height="450" '
            'style="border:0;" allowfullscreen="" loading="lazy" '
            'referrerpolicy="no-referrer-when-downgrade"></iframe>',
            ("<iframe",),
        ),
        id="google-maps-iframe",
    ),
    pytest.param(
        Sample(
            "google-maps",
            '<iframe width="600" height="450" style="border:0" loading="lazy" allowfullscreen '
            'src="https://www.google.com/maps/embed/v1/place?q=place_id:ChIJ3S-JXmauEmsRUcIaWtf4'
            'MzE&amp;key=AIzaSyD-EXAMPLE-KEY"></iframe>',
            ("<iframe",),
        ),
        id="google-maps-embed-api",
    ),
    pytest.param(
        Sample(
            "google-maps",
            '<iframe src="https://www.google.com/maps/d/embed?mid=1a2B3c4D5e6F7g8H9i0J" '
            'width="640" height="480"></iframe>',
            ("<iframe",),
        ),
        id="google-my-maps",
    ),
    pytest.param(
        Sample(
            "google-maps",
            """<div id="map" style="height:400px"></div>
<script>
  function initMap() {
    new google.maps.Map(document.getElementById("map"), {
      center: { lat: 50.8466, lng: 4.3528 }, zoom: 8,
    });
  }
</script>
<script src="https://maps.googleapis.com/maps/api/js?key=AIzaSyD-EXAMPLE-KEY&callback=initMap"
  async defer></script>""",
            ("<script", "google.maps.Map"),
        ),
        id="google-maps-js-api",
    ),
    pytest.param(
        Sample(
            "google-maps",
            """<script>
  (g=>{var h,a,k,p="The Google Maps JavaScript API",c="google",l="importLibrary",q="__ib__",
  m=document,b=window;b=b[c]||(b[c]={});var d=b.maps||(b.maps={}),r=new Set,e=new
  URLSearchParams,u=()=>h||(h=new Promise(async(f,n)=>{await (a=m.createElement("script"));
  e.set("libraries",[...r]+"");for(k in g)e.set(k.replace(/[A-Z]/g,t=>"_"+t[0].toLowerCase()),
  g[k]);e.set("callback",c+".maps."+q);a.src=`https://maps.${c}apis.com/maps/api/js?`+e;
  d[q]=f;a.onerror=()=>h=n(Error(p+" could not load."));a.nonce=m.querySelector(
  "script[nonce]")?.nonce||"";m.head.append(a)}));d[l]?console.warn(p+" only loads once.
  Ignoring:",g):d[l]=(f,...n)=>r.add(f)&&u().then(()=>d[l](f,...n))})({
    key: "AIzaSyD-EXAMPLE-KEY", v: "weekly",
  });
</script>""",
            ("<script", "importLibrary"),
        ),
        id="google-maps-bootstrap-loader",
    ),
    pytest.param(
        Sample(
            "google-maps",
            '<img src="https://maps.googleapis.com/maps/api/staticmap?center=Brussels&amp;'
            'zoom=13&amp;size=600x300&amp;key=AIzaSyD-EXAMPLE-KEY" alt="Map of Brussels">',
            ("<img",),
        ),
        id="google-static-map",
    ),
    pytest.param(
        Sample(
            "openstreetmap",
            '<iframe width="425" height="350" src="https://www.openstreetmap.org/export/'
            "embed.html?bbox=4.3310%2C50.8353%2C4.3746%2C50.8579&amp;layer=mapnik&amp;"
            'marker=50.8466%2C4.3528" style="border: 1px solid black"></iframe><br/><small>'
            '<a href="https://www.openstreetmap.org/?mlat=50.8466&amp;mlon=4.3528#map=15/'
            '50.8466/4.3528">View Larger Map</a></small>',
            ("<iframe",),
        ),
        id="openstreetmap-iframe",
    ),
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_refused_embed_is_removed_and_the_page_kept(sample: Sample) -> None:
    html = page(sample.html)
    out = gated(RULES[sample.tracker_id], html)
    for loader in sample.loaders:
        assert loader in sample.html, "the sample holds what the test looks for"
        assert loader not in out
    assert out.startswith(page("").split("<p>After")[0])
    assert out.endswith("<p>After it.</p>")


@pytest.mark.parametrize("sample", SAMPLES)
def test_granted_embed_is_untouched(sample: Sample) -> None:
    html = page(sample.html)
    assert gated(RULES[sample.tracker_id], html, granted=True) == html


@pytest.mark.parametrize("sample", SAMPLES)
def test_no_other_entry_claims_the_sample(sample: Sample) -> None:
    html = page(sample.html)
    claimed = [
        tracker_id
        for tracker_id, rules in RULES.items()
        if tracker_id != sample.tracker_id and gated(rules, html) != html
    ]
    assert claimed == []


def test_every_embed_entry_has_a_sample() -> None:
    sampled = {param.values[0].tracker_id for param in SAMPLES}  # type: ignore[union-attr]
    assert set(EMBEDS) <= sampled
    assert {t for t in CATALOGUE if CATALOGUE[t].embed is not None} <= sampled


# Pages that embed nothing stay as they are, whatever the visitor refused.

#: Every entry in one refused category each, as a visitor who refused everything.
EVERYTHING = Rules([Category(tracker_id, trackers=[tracker_id]) for tracker_id in CATALOGUE])

UNRELATED = [
    pytest.param(
        '<p>Watch it <a href="https://www.youtube.com/watch?v=M7lc1UVf-VE">on YouTube</a>, '
        '<a href="https://youtu.be/M7lc1UVf-VE">short link</a>, '
        '<a href="https://vimeo.com/76979871">on Vimeo</a>, or find us '
        '<a href="https://www.google.com/maps/place/Grand-Place">on the map</a> and '
        '<a href="https://www.openstreetmap.org/#map=15/50.8466/4.3528">on OSM</a>.</p>',
        id="links-to-providers",
    ),
    pytest.param(
        '<img src="/static/erasmus-logo.png" alt="Erasmus+"><img src="https://i.ytimg.com/'
        'vi/M7lc1UVf-VE/hqdefault.jpg" alt="Video still">'
        '<link rel="stylesheet" href="/static/site.css"><script src="/static/site.js"></script>',
        id="site-images-and-thumbnail",
    ),
    pytest.param(
        '<iframe src="https://www.google.com/recaptcha/api2/anchor?k=6Lc" title="reCAPTCHA">'
        '</iframe><script src="https://www.google.com/recaptcha/api.js"></script>'
        '<link rel="search" href="https://www.google.com/search?q=ka2">',
        id="other-google-com-paths",
    ),
    pytest.param(
        '<script type="application/ld+json">{"@type": "VideoObject", "name": "KA2", '
        '"embedUrl": "https://www.youtube.com/embed/M7lc1UVf-VE", '
        '"contentUrl": "https://player.vimeo.com/video/76979871"}</script>',
        id="json-ld-naming-embeds",
    ),
    pytest.param(
        "<script>const player = document.querySelector('video'); player.play();"
        " const map = new Map(); map.set('maps', 1);</script>",
        id="own-player-and-map-code",
    ),
]


@pytest.mark.parametrize("html", UNRELATED)
def test_unrelated_content_is_untouched(html: str) -> None:
    assert gated(EVERYTHING, page(html)) == page(html)


# The data itself, checked for every entry


def test_every_entry_is_complete() -> None:
    for tracker_id, tracker in CATALOGUE.items():
        assert tracker.id == tracker_id
        assert tracker.name and tracker.provider
        assert tracker.sources, f"{tracker_id} loads from nowhere"
        assert tracker.privacy_url.startswith("https://"), tracker_id
        assert valid_host(tracker.privacy_url.split("/")[2]), tracker_id
        assert set(tracker.consent_types) <= set(CONSENT_TYPES), tracker_id
        for source in tracker.sources:
            host = source.partition("/")[0]
            assert source.startswith(("/", "*/")) or valid_host(host) == host, source
        for spec in tracker.cookies:
            assert spec.provider and spec.purpose and spec.lifetime, f"{tracker_id} {spec.name}"
        if tracker.embed is not None:
            assert tracker.embed.kind in EMBED_KINDS


def test_embed_entries_say_what_they_show() -> None:
    kinds = {tracker_id: CATALOGUE[tracker_id].embed for tracker_id in EMBEDS}
    assert all(kind is not None for kind in kinds.values()), kinds
    assert CATALOGUE["youtube"].embed is not None
    assert CATALOGUE["youtube"].embed.kind == "video"
    assert CATALOGUE["google-maps"].embed is not None
    assert CATALOGUE["google-maps"].embed.kind == "map"
    assert CATALOGUE["google-analytics"].embed is None


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "Example",
        "provider": "Example Inc.",
        "privacy_url": "https://example.com/privacy",
        "sources": ["embed.example.com"],
        "inline": ["Example.embed("],
        "cookies": [{"name": "ex_id", "purpose": "Visitor ID", "lifetime": "1 year"}],
        "embed": {"kind": "video", "widget_classes": ["example-embed"]},
    }
    entry.update(changes)
    return entry


def test_a_valid_entry_reads_into_a_tracker() -> None:
    tracker = _tracker("example", _entry())
    assert isinstance(tracker, Tracker)
    assert tracker.embed is not None
    assert tracker.embed.widget_classes == ("example-embed",)
    assert tracker.cookies[0].provider == "Example Inc."


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        pytest.param({"embed": {"kind": "movie"}}, "embed.kind", id="unknown-kind"),
        pytest.param({"embed": {"kind": "video", "size": 1}}, "embed.size", id="embed-key"),
        pytest.param(
            {"embed": {"kind": "post", "widget_classes": ["a b"]}},
            "embed.widget_classes[0]",
            id="two-classes-in-one",
        ),
        pytest.param({"embed": "video"}, "embed", id="embed-not-a-table"),
        pytest.param({"privacy_url": "http://example.com/privacy"}, "privacy_url", id="http"),
        pytest.param({"privacy_url": "example.com"}, "privacy_url", id="not-a-url"),
        pytest.param({"sources": ["Embed.Example.com"]}, "sources[0]", id="upper-case-host"),
        pytest.param({"sources": ["embed\\.example\\.com"]}, "sources[0]", id="regex"),
        pytest.param({"sources": ["localhost/x"]}, "sources[0]", id="no-dot"),
        pytest.param({"cookies": [{"name": "a b"}]}, "cookies[0].name", id="cookie-name"),
        pytest.param(
            {"cookies": [{"name": "id", "domain": "Example.com"}]},
            "cookies[0].domain",
            id="cookie-domain",
        ),
        pytest.param({"consent_types": ["ads_storage"]}, "consent_types[0]", id="consent-type"),
        pytest.param({"inline": [""]}, "inline[0]", id="empty-signature"),
        pytest.param({"embedd": {}}, "embedd", id="misspelt-key"),
        pytest.param({"name": ""}, "name", id="no-name"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _tracker("example", _entry(**changes))
    assert caught.value.key == key


def test_a_missing_key_is_refused() -> None:
    entry = _entry()
    del entry["sources"]
    with pytest.raises(ConfigError, match="sources: is required"):
        _tracker("example", entry)


# Cookies

#: Common names that an embed's provider keeps on its own domain, and a site may well use.
SITE_NAMES = ("player", "flags", "PREF", "NID", "lang", "id", "__cf_bm", "cf_clearance")


@pytest.mark.parametrize("name", SITE_NAMES)
def test_a_site_cookie_with_a_providers_name_is_not_claimed(name: str) -> None:
    assert EVERYTHING.classify_cookie(name) is None


def test_cookies_on_the_providers_domain_are_declared_with_it() -> None:
    cookies = {spec.name: spec for spec in CATALOGUE["youtube"].cookies}
    assert cookies["VISITOR_INFO1_LIVE"].domain == "youtube.com"
    assert cookies["VISITOR_INFO1_LIVE"].lifetime == "6 months"
    vimeo = {spec.name: spec for spec in CATALOGUE["vimeo"].cookies}
    assert vimeo["vuid"].lifetime == "2 years"
    assert vimeo["vuid"].domain == "vimeo.com"


def test_every_cookie_name_is_claimed_by_its_own_entry_only() -> None:
    for tracker_id, tracker in CATALOGUE.items():
        for spec in tracker.cookies:
            if spec.domain:
                continue
            name = re.sub(r"[*?]|\[[^\]]*\]", "x", spec.name)
            assert EVERYTHING.classify_cookie(name) == tracker_id, (tracker_id, spec.name)
            others = [
                t for t, rules in RULES.items() if t != tracker_id and rules.classify_cookie(name)
            ]
            assert others == [], (spec.name, others)


def test_readme_lists_every_entry() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    missing = [t for t in CATALOGUE if f"| `{t}` |" not in readme]
    assert missing == []
