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

from consentgate.catalogue import (
    CONSENT_TYPES,
    EMBED_KINDS,
    Tracker,
    _tracker,
    tracker_catalogue,
)
from consentgate.categories import Category
from consentgate.checks import ConfigError
from consentgate.cookies import valid_host
from consentgate.rewriter import HtmlGate
from consentgate.rules import Rules
from demo_site import create_app

from . import test_rules
from .conftest import SECRET

CATALOGUE = tracker_catalogue()
#: One category per entry, holding only that entry.
RULES = {tracker_id: Rules([Category("media", trackers=[tracker_id])]) for tracker_id in CATALOGUE}
#: Embed entries that the issue names, and the advertising tags that come with them.
EMBEDS = (
    "youtube",
    "vimeo",
    "google-maps",
    "openstreetmap",
    "dailymotion",
    "spotify",
    "soundcloud",
    "x-twitter",
    "instagram",
    "facebook",
    "linkedin",
    "tiktok",
    "calendly",
    "typeform",
)
ADVERTISING = ("google-ads", "microsoft-advertising", "tiktok-pixel", "pinterest-tag")
#: Entries that load from one host, so that each also claims the other's sample: the
#: Facebook SDK and the Meta Pixel both come from connect.facebook.net.
SHARED = {"facebook": {"meta-pixel"}, "meta-pixel": {"facebook"}}


def gated(rules: Rules, html: str, *, granted: bool = False) -> str:
    """The page as a visitor who refused (or granted) the one category gets it."""
    gate = HtmlGate(rules, lambda category: granted)
    return (gate.feed(html.encode()) + gate.close()).decode()


BEFORE = "<!doctype html><title>KA2</title><p>Before the embed.</p>"
AFTER = "<p>After it.</p>"


def page(body: str) -> str:
    return f"{BEFORE}{body}{AFTER}"


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
            "vimeo",
            '<div style="padding:56.25% 0 0 0;position:relative;"><iframe src="https://vimeo.com'
            '/showcase/7853113/embed" allowfullscreen frameborder="0" style="position:absolute;'
            'top:0;left:0;width:100%;height:100%;"></iframe></div>',
            ("<iframe",),
        ),
        id="vimeo-showcase",
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
            '<iframe width="425" height="350" frameborder="0" scrolling="no" src="https://www.'
            'google.com/maps?q=Grand-Place,+Brussels&amp;ie=UTF8&amp;output=embed"></iframe>',
            ("<iframe",),
        ),
        id="google-maps-output-embed",
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


def _script(code: bytes) -> str:
    return f"<script>{code.decode()}</script>"


#: Matomo Tag Manager's container code, as Matomo's developer guide gives it.
MATOMO_TAG_MANAGER = """<!-- Matomo Tag Manager -->
<script type="text/javascript">
  window._mtm = window._mtm || [];
  window._mtm.push({'mtm.startTime': (new Date().getTime()), 'event': 'mtm.Start'});
  (function() {
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.type='text/javascript'; g.async=true;
    g.src='https://matomo.ka2.example/js/container_aBcD1234.js'; s.parentNode.insertBefore(g,s);
  })();
</script>
<!-- End Matomo Tag Manager -->"""


SAMPLES += [
    pytest.param(
        Sample(
            "dailymotion",
            '<div style="position:relative;padding-bottom:56.25%;height:0;overflow:hidden;">'
            '<iframe style="width:100%;height:100%;position:absolute;left:0px;top:0px;'
            'overflow:hidden" frameborder="0" type="text/html" src="https://www.dailymotion.com'
            '/embed/video/x8abc12?autoplay=0" width="100%" height="100%" allowfullscreen '
            'title="Dailymotion Video Player" allow="autoplay; web-share"></iframe></div>',
            ("<iframe",),
        ),
        id="dailymotion-iframe",
    ),
    pytest.param(
        Sample(
            "dailymotion",
            '<script src="https://geo.dailymotion.com/player/x1a2b.js" data-video="x8abc12">'
            '</script><iframe frameborder="0" width="640" height="360" src="https://geo.'
            'dailymotion.com/player/x1a2b.html?video=x8abc12" allowfullscreen '
            'allow="autoplay; fullscreen; picture-in-picture; web-share"></iframe>',
            ("<script", "<iframe"),
        ),
        id="dailymotion-player-embed",
    ),
    pytest.param(
        Sample(
            "spotify",
            '<iframe style="border-radius:12px" src="https://open.spotify.com/embed/track/'
            '4cOdK2wGLETKBW3PvgPWqT?utm_source=generator" width="100%" height="352" '
            'frameBorder="0" allowfullscreen="" allow="autoplay; clipboard-write; '
            'encrypted-media; fullscreen; picture-in-picture" loading="lazy"></iframe>',
            ("<iframe",),
        ),
        id="spotify-iframe",
    ),
    pytest.param(
        Sample(
            "spotify",
            """<div id="embed-iframe"></div>
<script src="https://open.spotify.com/embed/iframe-api/v1" async></script>
<script>
window.onSpotifyIframeApiReady = (IFrameAPI) => {
  const element = document.getElementById('embed-iframe');
  const options = { uri: 'spotify:episode:7makk4oTQel546B0PZlDM5' };
  IFrameAPI.createController(element, options, (controller) => {});
};
</script>""",
            ("<script", "onSpotifyIframeApiReady"),
        ),
        id="spotify-iframe-api",
    ),
    pytest.param(
        Sample(
            "soundcloud",
            '<iframe width="100%" height="166" scrolling="no" frameborder="no" allow="autoplay" '
            'src="https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/'
            "293&color=%23ff5500&auto_play=false&hide_related=false&show_comments=true&"
            'show_user=true&show_reposts=false&show_teaser=true"></iframe><div style="font-size:'
            ' 10px; color: #cccccc;"><a href="https://soundcloud.com/forss" title="Forss" '
            'target="_blank">Forss</a> · <a href="https://soundcloud.com/forss/flickermood" '
            'title="Flickermood" target="_blank">Flickermood</a></div>',
            ("<iframe",),
        ),
        id="soundcloud-iframe",
    ),
    pytest.param(
        Sample(
            "soundcloud",
            '<script src="https://w.soundcloud.com/player/api.js"></script><script>'
            "var widget = SC.Widget(document.getElementById('sc-widget'));"
            "widget.bind(SC.Widget.Events.READY, function() { widget.play(); });</script>",
            ("<script", "SC.Widget"),
        ),
        id="soundcloud-widget-api",
    ),
    pytest.param(
        Sample(
            "x-twitter",
            '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Applications for '
            'Erasmus+ 2025 are open! <a href="https://t.co/Ab1Cd2Ef3G">https://t.co/Ab1Cd2Ef3G'
            '</a></p>&mdash; Erasmus+ (@EUErasmusPlus) <a href="https://twitter.com/'
            'EUErasmusPlus/status/1850000000000000000?ref_src=twsrc%5Etfw">October 26, 2024'
            '</a></blockquote> <script async src="https://platform.twitter.com/widgets.js" '
            'charset="utf-8"></script>',
            ("<script",),
        ),
        id="x-post",
    ),
    pytest.param(
        Sample(
            "x-twitter",
            '<blockquote class="twitter-tweet" data-media-max-width="560"><p lang="en" '
            'dir="ltr">Partnerships for cooperation: results are out.</p>&mdash; Erasmus+ '
            '(@EUErasmusPlus) <a href="https://x.com/EUErasmusPlus/status/1900000000000000000'
            '?ref_src=twsrc%5Etfw">March 13, 2025</a></blockquote> <script async '
            'src="https://platform.x.com/widgets.js" charset="utf-8"></script>',
            ("<script",),
        ),
        id="x-post-publish-x-com",
    ),
    pytest.param(
        Sample(
            "x-twitter",
            '<a class="twitter-timeline" href="https://x.com/EUErasmusPlus?ref_src=twsrc%5Etfw">'
            "Posts by EUErasmusPlus</a> "
            """<script>window.twttr = (function(d, s, id) {
  var js, fjs = d.getElementsByTagName(s)[0], t = window.twttr || {};
  if (d.getElementById(id)) return t;
  js = d.createElement(s); js.id = id;
  js.src = "https://platform.twitter.com/widgets.js";
  fjs.parentNode.insertBefore(js, fjs);
  t._e = []; t.ready = function(f) { t._e.push(f); };
  return t;
}(document, "script", "twitter-wjs"));</script>""",
            ("<script", "widgets.js"),
        ),
        id="x-timeline-loader",
    ),
    pytest.param(
        Sample(
            "instagram",
            '<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink='
            '"https://www.instagram.com/p/C1a2B3c4D5e/?utm_source=ig_embed&amp;utm_campaign='
            'loading" data-instgrm-version="14" style=" background:#FFF; border:0; margin: 1px; '
            'max-width:540px; min-width:326px; padding:0; width:99.375%;"><div style="padding:'
            '16px;"><a href="https://www.instagram.com/p/C1a2B3c4D5e/?utm_source=ig_embed&amp;'
            'utm_campaign=loading" target="_blank">View this post on Instagram</a></div>'
            '</blockquote> <script async src="//www.instagram.com/embed.js"></script>',
            ("<script",),
        ),
        id="instagram-post",
    ),
    pytest.param(
        Sample(
            "instagram",
            '<iframe src="https://www.instagram.com/p/C1a2B3c4D5e/embed/captioned/" '
            'width="400" height="480" frameborder="0" scrolling="no"></iframe>',
            ("<iframe",),
        ),
        id="instagram-iframe",
    ),
    pytest.param(
        Sample(
            "facebook",
            '<div id="fb-root"></div><script async defer crossorigin="anonymous" '
            'src="https://connect.facebook.net/en_GB/sdk.js#xfbml=1&version=v21.0" '
            'nonce="Xy12Ab34"></script><div class="fb-post" data-href="https://www.facebook.com'
            '/20531316728/posts/10154009990506729/" data-width="500" data-show-text="true">'
            '<blockquote cite="https://www.facebook.com/20531316728/posts/10154009990506729/" '
            'class="fb-xfbml-parse-ignore">Posted by <a href="https://www.facebook.com/'
            'facebook/">Facebook</a> on Thursday, 27 August 2015</blockquote></div>',
            ("<script",),
        ),
        id="facebook-post-sdk",
    ),
    pytest.param(
        Sample(
            "facebook",
            '<iframe src="https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.'
            "facebook.com%2F20531316728%2Fposts%2F10154009990506729%2F&show_text=true&width=500"
            '" width="500" height="498" style="border:none;overflow:hidden" scrolling="no" '
            'frameborder="0" allowfullscreen="true" allow="autoplay; clipboard-write; '
            'encrypted-media; picture-in-picture; web-share"></iframe>',
            ("<iframe",),
        ),
        id="facebook-post-iframe",
    ),
    pytest.param(
        Sample(
            "facebook",
            """<script>(function(d, s, id) {
  var js, fjs = d.getElementsByTagName(s)[0];
  if (d.getElementById(id)) return;
  js = d.createElement(s); js.id = id;
  js.src = "https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v3.2";
  fjs.parentNode.insertBefore(js, fjs);
}(document, 'script', 'facebook-jssdk'));</script>""",
            ("<script", "sdk.js"),
        ),
        id="facebook-sdk-loader",
    ),
    pytest.param(
        Sample(
            "linkedin",
            '<iframe src="https://www.linkedin.com/embed/feed/update/urn:li:share:'
            '7123456789012345678" height="670" width="504" frameborder="0" allowfullscreen="" '
            'title="Embedded post"></iframe>',
            ("<iframe",),
        ),
        id="linkedin-post",
    ),
    pytest.param(
        Sample(
            "tiktok",
            '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout2015/video/'
            '6718335390845095173" data-video-id="6718335390845095173" style="max-width: 605px;'
            'min-width: 325px;"><section><a target="_blank" title="@scout2015" '
            'href="https://www.tiktok.com/@scout2015?refer=embed">@scout2015</a> Scramble up '
            "ur name &amp; I will try to guess it</section></blockquote> <script async "
            'src="https://www.tiktok.com/embed.js"></script>',
            ("<script",),
        ),
        id="tiktok-video",
    ),
    pytest.param(
        Sample(
            "tiktok",
            '<iframe height="300" width="400" src="https://www.tiktok.com/player/v1/'
            '6718335390845095173?music_info=1&description=1" allow="fullscreen" '
            'title="TikTok video"></iframe>',
            ("<iframe",),
        ),
        id="tiktok-player-iframe",
    ),
    pytest.param(
        Sample(
            "calendly",
            '<!-- Calendly inline widget begin --><div class="calendly-inline-widget" '
            'data-url="https://calendly.com/erasmus-ka2/30min" style="min-width:320px;'
            'height:700px;"></div><script type="text/javascript" src="https://assets.calendly'
            '.com/assets/external/widget.js" async></script><!-- Calendly inline widget end -->',
            ("<script",),
        ),
        id="calendly-inline",
    ),
    pytest.param(
        Sample(
            "calendly",
            '<link href="https://assets.calendly.com/assets/external/widget.css" '
            'rel="stylesheet"><script src="https://assets.calendly.com/assets/external/'
            'widget.js" type="text/javascript" async></script><script type="text/javascript">'
            "window.onload = function() { Calendly.initBadgeWidget({ url: 'https://calendly.com"
            "/erasmus-ka2', text: 'Book a call', color: '#0069ff', textColor: '#ffffff' }); }"
            "</script>",
            ("<link", "<script", "Calendly.init"),
        ),
        id="calendly-badge",
    ),
    pytest.param(
        Sample(
            "typeform",
            '<div data-tf-live="01HABCDEFG0123456789ABCDEF"></div><script '
            'src="//embed.typeform.com/next/embed.js"></script>',
            ("<script",),
        ),
        id="typeform-live",
    ),
    pytest.param(
        Sample(
            "typeform",
            '<iframe src="https://form.typeform.com/to/aBcDeF12?typeform-medium=embed-snippet" '
            'width="100%" height="500" frameborder="0" title="Partner survey"></iframe>',
            ("<iframe",),
        ),
        id="typeform-iframe",
    ),
    pytest.param(
        Sample(
            "google-ads",
            '<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js'
            '?client=ca-pub-1234567890123456" crossorigin="anonymous"></script>'
            '<ins class="adsbygoogle" style="display:block" data-ad-client="ca-pub-'
            '1234567890123456" data-ad-slot="1234567890" data-ad-format="auto" '
            'data-full-width-responsive="true"></ins>'
            "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>",
            ("<script", "adsbygoogle.js", ".push({})"),
        ),
        id="adsense",
    ),
    pytest.param(
        Sample(
            "google-ads",
            """<script type="text/javascript">
/* <![CDATA[ */
var google_conversion_id = 123456789;
var google_custom_params = window.google_tag_params;
var google_remarketing_only = true;
/* ]]> */
</script>
<script type="text/javascript" src="//www.googleadservices.com/pagead/conversion.js">
</script>
<noscript><div style="display:inline;"><img height="1" width="1" style="border-style:none;"
alt=""
src="//googleads.g.doubleclick.net/pagead/viewthroughconversion/123456789/?guid=ON&amp;script=0"
/>
</div></noscript>""",
            ("google_conversion_id", "conversion.js", "viewthroughconversion"),
        ),
        id="google-ads-remarketing",
    ),
    pytest.param(
        Sample(
            "google-ads",
            """<script async src="https://securepubads.g.doubleclick.net/tag/js/gpt.js"></script>
<script>
  window.googletag = window.googletag || {cmd: []};
  googletag.cmd.push(function() {
    googletag.defineSlot('/6355419/Travel/Europe', [728, 90], 'banner-ad')
      .addService(googletag.pubads());
    googletag.enableServices();
  });
</script>""",
            ("gpt.js", "googletag.cmd"),
        ),
        id="google-publisher-tag",
    ),
    pytest.param(
        Sample(
            "google-ads",
            '<iframe src="https://1234567.fls.doubleclick.net/activityi;src=1234567;type=invmedia;'
            'cat=abcd1234;dc_lat=;dc_rdid=;tag_for_child_directed_treatment=;ord=1?" width="1" '
            'height="1" frameborder="0" style="display:none"></iframe>',
            ("<iframe",),
        ),
        id="floodlight",
    ),
    pytest.param(
        Sample(
            "microsoft-advertising",
            """<script>(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var
o={ti:"12345678", enableAutoSpaTracking: true};o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},
n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function(){var
s=this.readyState;s&&s!=="loaded"&&s!=="complete"||(f(),n.onload=n.onreadystatechange=null)},
i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)})(window,document,"script",
"//bat.bing.com/bat.js","uetq");</script>
<noscript><img src="//bat.bing.com/action/0?ti=12345678&Ver=2" height="0" width="0"
style="display:none; visibility: hidden;" /></noscript>""",
            ("bat.js", "bat.bing.com/action"),
        ),
        id="microsoft-uet",
    ),
    pytest.param(
        Sample(
            "microsoft-advertising",
            "<script>window.uetq = window.uetq || []; window.uetq.push('event', 'signup', "
            "{'event_category': 'partners'});</script>",
            ("uetq.push",),
        ),
        id="microsoft-uet-event",
    ),
    pytest.param(
        Sample(
            "tiktok-pixel",
            """<script>
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify",
  "instances","debug","on","off","once","ready","alias","group","enableCookie",
  "disableCookie"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(
  Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)
  ttq.setAndDefer(ttq,ttq.methods[i]);ttq.load=function(e,n){var
  r="https://analytics.tiktok.com/i18n/pixel/events.js";ttq._i=ttq._i||{},ttq._i[e]=[],
  ttq._u=r;var o=document.createElement("script");o.type="text/javascript",o.async=!0,
  o.src=r+"?sdkid="+e+"&lib="+t;var a=document.getElementsByTagName("script")[0];
  a.parentNode.insertBefore(o,a)};
  ttq.load('C1A2B3C4D5E6F7G8H9I0');
  ttq.page();
}(window, document, 'ttq');
</script>""",
            ("TiktokAnalyticsObject", "ttq.load"),
        ),
        id="tiktok-pixel",
    ),
    pytest.param(
        Sample(
            "tiktok-pixel",
            "<script>ttq.track('CompleteRegistration', {content_name: 'partner sign-up'});"
            "</script>",
            ("ttq.track",),
        ),
        id="tiktok-pixel-event",
    ),
    pytest.param(
        Sample(
            "pinterest-tag",
            "<script>pintrk('track', 'signup', {lead_type: 'Newsletter'});</script>",
            ("pintrk(",),
        ),
        id="pinterest-tag-event",
    ),
    pytest.param(
        Sample(
            "pinterest-tag",
            """<script>
!function(e){if(!window.pintrk){window.pintrk = function () {
window.pintrk.queue.push(Array.prototype.slice.call(arguments))};var
  n=window.pintrk;n.queue=[],n.version="3.0";var
  t=document.createElement("script");t.async=!0,t.src=e;var
  r=document.getElementsByTagName("script")[0];
  r.parentNode.insertBefore(t,r)}}("https://s.pinimg.com/ct/core.js");
pintrk('load', '2612345678901', {em: '<user_email_address>'});
pintrk('page');
</script>
<noscript>
<img height="1" width="1" style="display:none;" alt=""
  src="https://ct.pinterest.com/v3/?event=init&tid=2612345678901&pd[em]=<hashed_email_address>
&noscript=1" />
</noscript>""",
            ("core.js", "pintrk(", "ct.pinterest.com"),
        ),
        id="pinterest-tag",
    ),
]

#: The documented snippets of the analytics entries (from test_rules), as pages hold them.
SAMPLES += [
    pytest.param(Sample(tracker_id, html, loaders), id=tracker_id)
    for tracker_id, html, loaders in [
        (
            "google-analytics",
            '<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXXXXX">'
            f"</script>{_script(test_rules.GA4)}",
            ("gtag/js", "gtag("),
        ),
        ("google-tag-manager", _script(test_rules.GTM), ("gtm.start",)),
        ("matomo", _script(test_rules.MATOMO), ("_paq",)),
        ("matomo", MATOMO_TAG_MANAGER, ("_mtm", "container_")),
        (
            "fathom",
            '<script src="https://cdn.usefathom.com/script.js" data-site="ABCDEFG" defer>'
            "</script><script>document.querySelector('#apply').addEventListener('click', () =>"
            " { fathom.trackEvent('apply click'); });</script>",
            ("usefathom", "fathom.trackEvent"),
        ),
        (
            "simple-analytics",
            '<script async src="https://scripts.simpleanalyticscdn.com/latest.js"></script>'
            '<noscript><img src="https://queue.simpleanalyticscdn.com/noscript.gif" alt="" '
            'referrerpolicy="no-referrer-when-downgrade" /></noscript>'
            "<script>window.sa_event=window.sa_event||function(){var a=[].slice.call(arguments);"
            "window.sa_event.q?window.sa_event.q.push(a):window.sa_event.q=[a]};</script>",
            ("latest.js", "noscript.gif", "sa_event"),
        ),
        (
            "umami",
            '<script defer src="https://cloud.umami.is/script.js" data-website-id="94db1cb1-'
            '74f4-4a40-ad6c-962362670409"></script><script>umami.track("apply");</script>',
            ("umami.is", "umami.track"),
        ),
        (
            "posthog",
            """<script>
    !function(t,e){var o,n,p,r;e.__SV||(window.posthog=e,e._i=[],e.init=function(i,s,a){
    function g(t,e){var o=e.split(".");2==o.length&&(t=t[o[0]],e=o[1]),t[e]=function(){
    t.push([e].concat(Array.prototype.slice.call(arguments,0)))}}(p=t.createElement("script"))
    .type="text/javascript",p.crossOrigin="anonymous",p.async=!0,p.src=s.api_host.replace(
    ".i.posthog.com","-assets.i.posthog.com")+"/static/array.js",(r=t.getElementsByTagName(
    "script")[0]).parentNode.insertBefore(p,r)},e.__SV=1)}(document,window.posthog||[]);
    posthog.init('phc_0123456789abcdefghijklmnopqrstuvwxyzABCDEF', {
        api_host: 'https://eu.i.posthog.com', person_profiles: 'identified_only'
    })
</script>""",
            ("posthog.init",),
        ),
        (
            "mixpanel",
            r"""<script type="text/javascript">
(function (f, b) { if (!b.__SV) { var e, g, i, h; window.mixpanel = b; b._i = [];
b.init = function (e, f, c) { /* the stub methods */ };
b.__SV = 1.2; e = f.createElement("script"); e.type = "text/javascript"; e.async = !0;
e.src = "undefined" !== typeof MIXPANEL_CUSTOM_LIB_URL ? MIXPANEL_CUSTOM_LIB_URL :
"file:" === f.location.protocol && "//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js"
.match(/^\/\//) ? "https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js" :
"//cdn.mxpnl.com/libs/mixpanel-2-latest.min.js"; g = f.getElementsByTagName("script")[0];
g.parentNode.insertBefore(e, g); } })(document, window.mixpanel || []);
mixpanel.init("0123456789abcdef0123456789abcdef", { track_pageview: true });
</script>""",
            ("mixpanel.init", "cdn.mxpnl.com"),
        ),
        (
            "hubspot",
            '<!-- Start of HubSpot Embed Code --><script type="text/javascript" '
            'id="hs-script-loader" async defer src="//js-eu1.hs-scripts.com/1234567.js">'
            "</script><!-- End of HubSpot Embed Code --><script>var _hsq = window._hsq = "
            "window._hsq || []; _hsq.push(['trackCustomBehavioralEvent', {name: "
            "'pe1234567_partner_search'}]);</script>",
            ("hs-scripts.com", "_hsq"),
        ),
        (
            "cloudflare-web-analytics",
            "<script defer src='https://static.cloudflareinsights.com/beacon.min.js' "
            """data-cf-beacon='{"token": "0123456789abcdef0123456789abcdef"}'></script>""",
            ("beacon.min.js",),
        ),
        (
            "plausible",
            '<script defer data-domain="ka2.example" src="https://plausible.io/js/script.js">'
            f"</script>{_script(test_rules.PLAUSIBLE)}",
            ("plausible.io", "plausible("),
        ),
        ("hotjar", _script(test_rules.HOTJAR), ("_hjSettings",)),
        ("microsoft-clarity", _script(test_rules.CLARITY), ("clarity.ms",)),
        (
            "meta-pixel",
            f'{_script(test_rules.META)}<noscript><img height="1" width="1" style="display:none"'
            ' src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1"/></noscript>',
            ("fbq(", "facebook.com/tr"),
        ),
        (
            "linkedin-insight",
            f"{_script(test_rules.LINKEDIN)}"
            '<script src="https://snap.licdn.com/li.lms-analytics/insight.min.js"></script>',
            ("_linkedin_partner_id", "insight.min.js"),
        ),
    ]
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_refused_embed_is_removed_and_the_page_kept(sample: Sample) -> None:
    html = page(sample.html)
    out = gated(RULES[sample.tracker_id], html)
    for loader in sample.loaders:
        assert loader in sample.html, "the sample holds what the test looks for"
        assert loader not in out
    assert out.startswith(BEFORE) and out.endswith(AFTER)


@pytest.mark.parametrize("sample", SAMPLES)
def test_granted_embed_is_untouched(sample: Sample) -> None:
    html = page(sample.html)
    assert gated(RULES[sample.tracker_id], html, granted=True) == html


@pytest.mark.parametrize("sample", SAMPLES)
def test_no_other_entry_claims_the_sample(sample: Sample) -> None:
    html = page(sample.html)
    claimed = {
        tracker_id
        for tracker_id, rules in RULES.items()
        if tracker_id != sample.tracker_id and gated(rules, html) != html
    }
    assert claimed <= SHARED.get(sample.tracker_id, set())


def test_every_entry_has_a_sample() -> None:
    sampled = {param.values[0].tracker_id for param in SAMPLES}  # type: ignore[union-attr]
    assert sampled == set(CATALOGUE)
    assert {t for t in CATALOGUE if CATALOGUE[t].embed is not None} == set(EMBEDS)
    assert set(ADVERTISING) <= set(CATALOGUE)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_widgets_element_carries_a_class_its_entry_names(sample: Sample) -> None:
    """The blockquote or div that a widget script fills is one the placeholder can find."""
    embed = CATALOGUE[sample.tracker_id].embed
    found = re.findall(r'<(?:blockquote|div|a) class="([^"]+)"', sample.html)
    widgets = [name for value in found for name in value.split() if not name.startswith("fb-x")]
    if embed is None or not widgets:
        return
    assert set(widgets) <= set(embed.widget_classes)


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


def test_entries_the_demo_does_not_use_leave_its_pages_alone() -> None:
    app = create_app({"TESTING": True, "CONSENTGATE_SECRET_KEY": SECRET})
    settings = app.extensions["consentgate"].settings
    used = {tracker for category in settings.categories for tracker in category.trackers}
    others = Rules([Category(t, trackers=[t]) for t in CATALOGUE if t not in used])
    client = app.test_client()
    client.post("/consent", data={"action": "accept_all"})
    paths = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and "static" not in rule.endpoint
    ]
    pages = [client.get(path) for path in paths]
    html = [r.get_data(as_text=True) for r in pages if r.mimetype == "text/html"]
    assert len(html) >= 5 and all("<p" in body for body in html)
    refused = set(CATALOGUE) - used  # the demo's own data-consent categories stay granted
    for body in html:
        gate = HtmlGate(others, lambda category: category not in refused)
        assert (gate.feed(body.encode()) + gate.close()).decode() == body


# The data itself, checked for every entry


#: Trackers the README has always documented: sites name them, so none may go.
DOCUMENTED = (
    "google-analytics",
    "google-tag-manager",
    "matomo",
    "plausible",
    "hotjar",
    "microsoft-clarity",
    "meta-pixel",
    "linkedin-insight",
)


def test_catalogue_has_the_documented_trackers() -> None:
    assert set(DOCUMENTED) <= set(CATALOGUE)


def test_every_entry_is_complete() -> None:
    for tracker_id, tracker in CATALOGUE.items():
        assert tracker.id == tracker_id
        assert tracker.name and tracker.provider
        assert tracker.sources, f"{tracker_id} loads from nowhere"
        # An iframe-only embed (OpenStreetMap's, LinkedIn's) has no script to recognise.
        iframe_only = tracker.embed is not None
        assert tracker.inline or iframe_only, f"{tracker_id} has no inline signatures"
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


@pytest.mark.parametrize(
    ("tracker_id", "cookie", "lifetime"),
    [
        pytest.param("google-analytics", "_ga", "2 years", id="ga4-client-id"),
        pytest.param("google-analytics", "_ga_*", "2 years", id="ga4-session"),
        pytest.param("google-analytics", "_gid", "24 hours", id="ua-gid"),
        pytest.param("google-analytics", "__utmb", "30 minutes", id="ga-js-session"),
        pytest.param("matomo", "_pk_id.*", "13 months", id="matomo-visitor"),
        pytest.param("matomo", "_pk_ses.*", "30 minutes", id="matomo-session"),
        pytest.param("hotjar", "_hjSessionUser_*", "365 days", id="hotjar-user"),
        pytest.param("microsoft-clarity", "_clck", "1 year", id="clarity-user"),
        pytest.param("meta-pixel", "_fbp", "90 days", id="meta-browser"),
        pytest.param("linkedin-insight", "li_sugr", "90 days", id="linkedin-sugr"),
    ],
)
def test_catalogue_lifetimes_follow_the_vendors(
    tracker_id: str, cookie: str, lifetime: str
) -> None:
    cookies = {spec.name: spec for spec in tracker_catalogue()[tracker_id].cookies}
    assert cookies[cookie].lifetime == lifetime


def test_plausible_sets_no_cookies() -> None:
    assert tracker_catalogue()["plausible"].cookies == ()


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        tracker_catalogue()["mine"] = tracker_catalogue()["matomo"]  # type: ignore[index]


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
