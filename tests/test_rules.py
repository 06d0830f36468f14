from __future__ import annotations

import string
from collections.abc import Callable
from unittest import mock

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentgate import speedups
from consentgate.catalogue import tracker_catalogue
from consentgate.categories import Category
from consentgate.rules import Rules
from consentgate.search import MAPPED_LEADS
from consentgate.tokens import decode_attrs

from .conftest import retained_bytes

# One category per built-in tracker, named after it, so a result names the tracker.
CATALOGUE = Rules(
    [Category(tracker_id, trackers=[tracker_id]) for tracker_id in tracker_catalogue()]
)
# What a site typically configures.
SITE = Rules(
    [
        Category("necessary", required=True, cookies=["session"], sources=["/static/"]),
        Category("analytics", trackers=["google-analytics", "matomo"], cookies=["visits"]),
        Category("marketing", trackers=["meta-pixel"]),
    ]
)

GA4 = b"""
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-XXXXXXX');
"""
ANALYTICS_JS = b"""
(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){
(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),
m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)
})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');
ga('create', 'UA-XXXXX-Y', 'auto');
ga('send', 'pageview');
"""
GA_JS = b"""
var _gaq = _gaq || [];
_gaq.push(['_setAccount', 'UA-XXXXX-X']);
_gaq.push(['_trackPageview']);
"""
GTM = b"""
(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-XXXX');
"""
MATOMO = b"""
  var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="//matomo.example.org/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '1']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src=u+'matomo.js'; s.parentNode.insertBefore(g,s);
  })();
"""
PLAUSIBLE = b"""window.plausible = window.plausible || function() {
  (window.plausible.q = window.plausible.q || []).push(arguments) }
plausible('Signup', {props: {plan: 'free'}})"""
HOTJAR = b"""
(function(h,o,t,j,a,r){
    h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
    h._hjSettings={hjid:1234567,hjsv:6};
    a=o.getElementsByTagName('head')[0];
    r=o.createElement('script');r.async=1;
    r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
    a.appendChild(r);
})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');
"""
CLARITY = b"""
(function(c,l,a,r,i,t,y){
    c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
    t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;
    y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
})(window, document, "clarity", "script", "abcdefghij");
"""
META = b"""
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '1234567890');
fbq('track', 'PageView');
"""
LINKEDIN = b"""
_linkedin_partner_id = "1234567";
window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
window._linkedin_data_partner_ids.push(_linkedin_partner_id);
"""


# classify_element


#: A realistic URL of each tracker, as its documented snippet loads it.
TRACKER_URLS = {
    "ga4-gtag-js": ("https://www.googletagmanager.com/gtag/js?id=G-1", "google-analytics"),
    "analytics-js": ("https://www.google-analytics.com/analytics.js", "google-analytics"),
    "ga-js": ("https://ssl.google-analytics.com/ga.js", "google-analytics"),
    "ga4-collect": ("https://region1.analytics.google.com/g/collect?v=2", "google-analytics"),
    "gtm-js": ("https://www.googletagmanager.com/gtm.js?id=GTM-1", "google-tag-manager"),
    "gtm-noscript": ("https://www.googletagmanager.com/ns.html?id=GTM-1", "google-tag-manager"),
    "matomo-cloud": ("https://cdn.matomo.cloud/example.matomo.cloud/matomo.js", "matomo"),
    "matomo-self-hosted": ("//stats.example.org/matomo.js", "matomo"),
    "piwik-pixel": ("//stats.example.org/piwik/piwik.php?idsite=1&rec=1", "matomo"),
    "matomo-same-site": ("/analytics/matomo.php?idsite=1&rec=1", "matomo"),
    "plausible": ("https://plausible.io/js/script.js", "plausible"),
    "plausible-event": ("https://plausible.io/api/event", "plausible"),
    "hotjar": ("https://static.hotjar.com/c/hotjar-1.js?sv=6", "hotjar"),
    "clarity": ("https://www.clarity.ms/tag/abcdefghij", "microsoft-clarity"),
    "meta-pixel": ("https://connect.facebook.net/en_US/fbevents.js", "meta-pixel"),
    "meta-noscript": ("https://www.facebook.com/tr?id=1&ev=PageView&noscript=1", "meta-pixel"),
    "linkedin": ("https://snap.licdn.com/li.lms-analytics/insight.min.js", "linkedin-insight"),
    "linkedin-pixel": ("https://px.ads.linkedin.com/collect/?pid=1&fmt=gif", "linkedin-insight"),
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [pytest.param(url, expected, id=name) for name, (url, expected) in TRACKER_URLS.items()],
)
def test_tracker_urls_are_classified(url: str, expected: str) -> None:
    assert CATALOGUE.classify_element("script", {"src": url}) == expected


@pytest.mark.parametrize(
    ("tag", "attrs", "expected"),
    [
        pytest.param(
            "link",
            {"rel": "preconnect", "href": "https://www.google-analytics.com"},
            "google-analytics",
            id="preconnect-href",
        ),
        pytest.param(
            "script",
            {"type": "text/plain", "data-src": "https://plausible.io/js/script.js"},
            "plausible",
            id="data-src",
        ),
        pytest.param(
            "object", {"data": "https://www.clarity.ms/tag/x"}, "microsoft-clarity", id="object"
        ),
    ],
)
def test_url_attributes(tag: str, attrs: dict[str, str], expected: str) -> None:
    assert CATALOGUE.classify_element(tag, attrs) == expected


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://www.google-analytics.com/analytics.js", id="plain"),
        pytest.param("//www.google-analytics.com/analytics.js", id="scheme-relative"),
        pytest.param("https://WWW.Google-Analytics.COM:443/analytics.js", id="upper-case-and-port"),
        pytest.param("http://google-analytics.com/analytics.js", id="bare-domain"),
        pytest.param("  https://www.google-analytics.com/analytics.js\n", id="whitespace"),
        pytest.param("https://www.google-analytics.com./analytics.js", id="trailing-dot"),
        pytest.param("https://user@www.google-analytics.com/analytics.js", id="user-info"),
        pytest.param("https:\\\\www.google-analytics.com\\analytics.js", id="backslashes"),
        pytest.param("https://www.google%2Danalytics.com/analytics.js", id="percent-encoded-host"),
        pytest.param("https://www.google-analytics.com/analytics.js#x", id="fragment"),
        # Special schemes ignore missing or extra slashes, and "\\" is "/".
        pytest.param("https:www.google-analytics.com/analytics.js", id="no-slashes"),
        pytest.param("https:/www.google-analytics.com/analytics.js", id="one-slash"),
        pytest.param("https:///www.google-analytics.com/analytics.js", id="three-slashes"),
        pytest.param("https:/\\/www.google-analytics.com/analytics.js", id="mixed-slashes"),
        pytest.param("///www.google-analytics.com/analytics.js", id="three-slashes-no-scheme"),
        pytest.param("\\\\www.google-analytics.com/analytics.js", id="backslashes-no-scheme"),
        pytest.param("http:www.google-analytics.com/analytics.js", id="http-on-https-page"),
        pytest.param("HTTP:www.google-analytics.com/analytics.js", id="upper-case-scheme"),
        pytest.param("h\tt\ntps://www.google-analytics.com/analytics.js", id="tab-in-scheme"),
        pytest.param("\x00 https://www.google-analytics.com/analytics.js", id="c0-before"),
        # Hosts are percent-decoded, then mapped through UTS 46 as browsers do.
        pytest.param("https://www%2Egoogle-analytics%2Ecom/analytics.js", id="percent-dots"),
        pytest.param("https://www.google-analytics.com%2E/analytics.js", id="percent-trailing-dot"),
        pytest.param(
            "https://\uff57\uff57\uff57.google-analytics.com/a.js", id="fullwidth-letters"
        ),
        pytest.param("https://WWW.\uff27OOGLE-ANALYTICS.COM/a.js", id="fullwidth-capital"),
        pytest.param("https://www.google-analytics\u3002com/a.js", id="ideographic-full-stop"),
        pytest.param("https://www.google-analytics\uff0ecom/a.js", id="fullwidth-full-stop"),
        pytest.param("https://www.google-analytics\uff61com/a.js", id="halfwidth-full-stop"),
        pytest.param("https://www.google-ana\u00adlytics.com/a.js", id="soft-hyphen"),
        pytest.param("https://www.google-analytics\u200b.com/a.js", id="zero-width-space"),
        pytest.param("https://www.google-analytics.com\u034f/a.js", id="grapheme-joiner"),
        pytest.param(
            "https://www.google%C2%ADanalytics.com/a.js".replace("google", "google-"),
            id="escaped-soft-hyphen",
        ),
        pytest.param("https://\u212aelvin.google-analytics.com/a.js", id="kelvin-sign"),
        pytest.param("https://www.google-analytics.com\u3002/a.js", id="mapped-trailing-dot"),
    ],
)
def test_url_forms_browsers_load_are_recognised(url: str) -> None:
    assert SITE.classify_element("script", {"src": url}) == "analytics"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://www.facebook.com/%74r?id=1", "marketing", id="escaped-path"),
        pytest.param("https://www.facebook.com/x/../tr?id=1", "marketing", id="dot-segments"),
        pytest.param("https://www.facebook.com/x/%2e%2E/tr", "marketing", id="escaped-dots"),
        pytest.param("https://www.facebook.com/tr/../travel", None, id="dot-segments-leave"),
        pytest.param("/x/../static/app.js", "necessary", id="same-site-dot-segments"),
        pytest.param("static/app.js", "necessary", id="relative-to-root"),
        pytest.param("https:static/app.js", "necessary", id="https-relative-path"),
    ],
)
def test_paths_are_read_as_servers_read_them(url: str, expected: str | None) -> None:
    assert SITE.classify_element("img", {"src": url}) == expected


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        pytest.param("https://www.google-analytics.com/", "analytics.js", "analytics", id="host"),
        pytest.param("//www.google-analytics.com/js/", "../a.js", "analytics", id="no-scheme"),
        pytest.param("https:www.google-analytics.com/", "a.js", "analytics", id="no-slashes"),
        pytest.param("https://www.google-analytics.com/", "?v=1", "analytics", id="query-only"),
        pytest.param(
            "https://www.google-analytics.com/", "//cdn.example/a.js", None, id="own-host"
        ),
        pytest.param("https://www.google-analytics.com/", "/a.js", "analytics", id="absolute-path"),
        pytest.param("https://www.google-analytics.com/", "data:,x", None, id="data-url"),
        pytest.param("/static/", "app.js", "necessary", id="path-only"),
        pytest.param("javascript:void(0)", "static/app.js", "necessary", id="no-network-base"),
        pytest.param("https://cdn.example/", "https:x.js", None, id="same-scheme-relative"),
    ],
)
def test_relative_urls_resolve_against_the_base(base: str, url: str, expected: str | None) -> None:
    rules = SITE.based(base)
    assert rules.classify_element("img", {"src": url}) == expected
    assert rules.may_classify(f' src="{url}"'.encode())
    assert rules.based("https://www.facebook.com/") is rules  # only the first one counts


@pytest.mark.parametrize(
    ("base", "candidate"),
    [
        pytest.param("https://cdn.example/js/", False, id="other-host"),
        pytest.param("/js/", False, id="path"),
        pytest.param("https://stats.g.doubleclick.net/", True, id="tracker-host"),
        pytest.param("//x.google-analytics.com", True, id="tracker-subdomain"),
    ],
)
def test_a_base_makes_every_tag_a_candidate_only_if_it_may_lead_to_a_tracker(
    base: str, candidate: bool
) -> None:
    assert CATALOGUE.based(base).may_classify(b' src="a.js"') is candidate
    assert SITE.based(base).may_classify(b' src="a.js"')  # "/static/" may follow any base


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://notgoogle-analytics.com/analytics.js", id="lookalike-prefix"),
        pytest.param("https://google-analytics.com.evil.example/x.js", id="lookalike-suffix"),
        pytest.param("https://www.example.com/google-analytics.com/x.js", id="host-in-path"),
        pytest.param("https://www.example.com/?u=google-analytics.com", id="host-in-query"),
        pytest.param("https://www.example.com?//www.google-analytics.com/", id="host-after-query"),
        pytest.param("https://www.example.com#//www.google-analytics.com/", id="host-after-hash"),
        pytest.param("https://www.facebook.com/travel?to=/tr", id="path-in-query"),
        pytest.param("google-analytics.com/analytics.js", id="relative-path-not-a-host"),
        pytest.param("/static/app.js", id="same-site"),
        pytest.param("app.js", id="relative"),
        pytest.param("https://www.facebook.com/travel", id="path-prefix-stops-at-boundary"),
        pytest.param("https://www.facebook.com/", id="facebook-home"),
        pytest.param("https://www.googletagmanager.com/gtm.js?id=1", id="other-tracker"),
        pytest.param("data:text/javascript,gtag(1)", id="data-url"),
        pytest.param("javascript:void(0)", id="javascript-url"),
        pytest.param("http://[::1", id="broken-ipv6"),
        pytest.param("https://", id="no-host"),
        pytest.param("   ", id="blank"),
        pytest.param("", id="empty"),
        pytest.param("%%%://???", id="junk"),
    ],
)
def test_other_urls_are_not_gated(url: str) -> None:
    category = SITE.classify_element("script", {"src": url})
    assert category in (None, "necessary")
    assert category != "analytics" and category != "marketing"


def test_same_site_path_pattern() -> None:
    assert SITE.classify_element("script", {"src": "/static/app.js"}) == "necessary"
    assert SITE.classify_element("script", {"src": "/staticfiles/app.js"}) is None
    assert SITE.classify_element("script", {"src": "https://cdn.example/static/x.js"}) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://ads.example.com/", "host", id="host"),
        pytest.param("https://x.y.ads.example.com/a", "host", id="subdomain"),
        pytest.param("https://ads.example.com/tr", "path", id="path-exact"),
        pytest.param("https://ads.example.com/tr/pixel.gif", "path", id="path-segment"),
        pytest.param("https://ads.example.com/tr.gif", "path", id="path-extension"),
        pytest.param("https://ads.example.com/travel", "host", id="path-word-continues"),
        pytest.param("https://example.com/tr", None, id="parent-domain"),
        pytest.param("/lib/tracker.js", "same-site", id="same-site-prefix"),
        pytest.param("https://any.example/vendor/tracker.js", "any-host", id="any-host"),
        pytest.param("tracker.js", "any-host", id="any-host-relative"),
        pytest.param("https://any.example/mytracker.js", None, id="any-host-needs-whole-name"),
    ],
)
def test_source_pattern_semantics(url: str, expected: str | None) -> None:
    rules = Rules(
        [
            Category("path", sources=["ads.example.com/tr"]),
            Category("host", sources=["https://ADS.example.com"]),
            Category("same-site", sources=["/lib/"]),
            Category("any-host", sources=["*/tracker.js"]),
        ]
    )
    assert rules.classify_element("img", {"src": url}) == expected


def test_first_category_in_configuration_order_wins() -> None:
    specific = Category("specific", sources=["cdn.example.com/ads/"])
    broad = Category("broad", sources=["example.com"])
    url = {"src": "https://cdn.example.com/ads/x.js"}
    assert Rules([specific, broad]).classify_element("script", url) == "specific"
    assert Rules([broad, specific]).classify_element("script", url) == "broad"


def test_every_url_attribute_counts() -> None:
    attrs = {"src": "/static/placeholder.gif", "data-src": "https://www.facebook.com/tr?id=1"}
    assert SITE.classify_element("img", attrs) == "necessary", "the earlier category wins"
    lazy = {"src": "/img/blank.gif", "data-src": "https://www.facebook.com/tr?id=1"}
    assert SITE.classify_element("img", lazy) == "marketing"


def test_data_attribute_only_counts_for_object() -> None:
    attrs = {"data": "https://connect.facebook.net/x.swf"}
    assert SITE.classify_element("object", attrs) == "marketing"
    assert SITE.classify_element("div", attrs) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("marketing", "marketing", id="known"),
        pytest.param("  analytics\n", "analytics", id="stripped"),
        pytest.param("analytcs", "analytcs", id="unknown-fails-closed"),
        pytest.param("necessary", "necessary", id="overrides-url"),
    ],
)
def test_data_consent_wins(value: str, expected: str) -> None:
    attrs = {"src": "https://connect.facebook.net/en_US/fbevents.js", "data-consent": value}
    assert SITE.classify_element("script", attrs) == expected


def test_element_without_url_is_not_gated() -> None:
    assert SITE.classify_element("script", {}) is None
    assert SITE.classify_element("img", {"alt": "www.google-analytics.com"}) is None


# classify_inline


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        pytest.param(GA4, "google-analytics", id="ga4-gtag"),
        pytest.param(ANALYTICS_JS, "google-analytics", id="analytics-js"),
        pytest.param(GA_JS, "google-analytics", id="ga-js"),
        pytest.param(GTM, "google-tag-manager", id="gtm"),
        pytest.param(
            GTM.replace(b"'gtm.start'", b'"gtm.start"'),
            "google-tag-manager",
            id="gtm-double-quotes",
        ),
        pytest.param(MATOMO, "matomo", id="matomo"),
        pytest.param(PLAUSIBLE, "plausible", id="plausible"),
        pytest.param(HOTJAR, "hotjar", id="hotjar"),
        pytest.param(CLARITY, "microsoft-clarity", id="clarity"),
        pytest.param(META, "meta-pixel", id="meta-pixel"),
        pytest.param(LINKEDIN, "linkedin-insight", id="linkedin"),
    ],
)
def test_vendor_snippets_are_recognised(snippet: bytes, expected: str) -> None:
    assert CATALOGUE.classify_inline(snippet) == expected


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(b"function mega(x) { return x; }\nmega(1); omega(2);", id="mega"),
        pytest.param(b"const saga = (a) => a; saga(1)", id="saga"),
        pytest.param(b"myfbq('init'); customgtag('js')", id="suffix-of-identifier"),
        pytest.param(b"if (isImplausible(value)) { warn(); }", id="implausible"),
        pytest.param(b"$gtag(1); _fbq(2)", id="identifier-chars-before"),
        pytest.param(b"document.querySelector('#menu').classList.toggle('open');", id="ui"),
        pytest.param(b'{"@context": "https://schema.org", "@type": "Organization"}', id="ld-json"),
        pytest.param(b"dataLayer.push({event: 'signup'});", id="datalayer-push"),
        pytest.param(b"var paq = []; paq.push(1); var gaq = []; gaq.push(2);", id="near-misses"),
        pytest.param(b"GTAG('js'); FBQ('init'); Plausible('x')", id="case-sensitive"),
        pytest.param(b"", id="empty"),
    ],
)
def test_ordinary_site_code_is_not_gated(code: bytes) -> None:
    assert CATALOGUE.classify_inline(code) is None


def test_signature_after_non_identifier_characters() -> None:
    for code in (b"gtag('js')", b" gtag('js')", b";gtag('js')", b"window.gtag('js')", b"(gtag)"):
        expected = None if code == b"(gtag)" else "google-analytics"
        assert CATALOGUE.classify_inline(code) == expected, code


def test_leftmost_signature_decides() -> None:
    assert SITE.classify_inline(b"fbq('init'); gtag('js')") == "marketing"
    assert SITE.classify_inline(b"gtag('js'); fbq('init')") == "analytics"


def test_a_shared_signature_belongs_to_the_first_category() -> None:
    rules = Rules([Category("a", inline=["track("]), Category("b", inline=["track(", "other("])])
    assert rules.classify_inline(b"track(1)") == "a"
    assert rules.classify_inline(b"other(1)") == "b"


def test_inline_overlap_covers_the_longest_signature_and_its_boundary() -> None:
    longest = max(len(sig.encode()) for c in tracker_catalogue().values() for sig in c.inline)
    assert CATALOGUE.inline_overlap == longest  # starts with a letter: one byte of context
    assert Rules([Category("a", inline=["'tag'"])]).inline_overlap == 4
    assert Rules([Category("a", inline=["tag("])]).inline_overlap == 4
    assert Rules([Category("a")]).inline_overlap == 0


@pytest.mark.parametrize("code", [GA4, MATOMO, META, b"x=1;gtag('js')", b"_paq.push(1)"])
def test_a_signature_split_between_chunks_is_found(code: bytes) -> None:
    expected = SITE.classify_inline(code)
    assert expected is not None
    overlap = SITE.inline_overlap
    for split in range(len(code) + 1):
        head, rest = code[:split], code[split:]
        found = SITE.classify_inline(head) or SITE.classify_inline(head[-overlap:] + rest)
        assert found == expected, split


def test_kept_bytes_give_a_new_match_its_preceding_byte() -> None:
    # An incremental search keeps inline_overlap bytes and searches them again with
    # the next chunk; a match that ends in the new bytes must still see the byte
    # before it, or "isImplausible(" would match "plausible(" at some splits.
    code = b"if (isImplausible(value)) { warn(); }"
    rules = Rules([Category("plausible", trackers=["plausible"])])
    end = code.index(b"plausible(") + len(b"plausible(")
    for split in range(end):
        window = code[max(0, split - rules.inline_overlap) :]
        assert rules.classify_inline(window) is None, split


def _reference_inline(rules: Rules, categories: list[Category], text: bytes) -> str | None:
    """classify_inline as its docstring says it, one position at a time."""
    first: dict[bytes, str] = {}
    for category in categories:
        for signature in category.inline:
            first.setdefault(signature.encode(), category.name)
    order = [category.name for category in categories]
    for start in range(len(text)):
        found = [name for sig, name in first.items() if text.startswith(sig, start)]
        if found and not (start and text[start] in IDENT and text[start - 1] in IDENT):
            return min(found, key=order.index)
    return None


IDENT = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") | set(
    range(0x80, 0x100)
)
_SIG_BYTES = "ab_.(q'g"


@given(
    st.lists(
        st.lists(st.text(_SIG_BYTES, min_size=1, max_size=5), max_size=4), min_size=1, max_size=3
    ),
    st.text(_SIG_BYTES + " x", max_size=60),
)
def test_inline_search_finds_the_leftmost_signature(signatures: list[list[str]], text: str) -> None:
    # Random signature sets give the search other anchor bytes and groupings each time.
    categories = [Category(f"c{i}", inline=sigs) for i, sigs in enumerate(signatures)]
    rules = Rules(categories)
    data = text.encode()
    assert rules.classify_inline(data) == _reference_inline(rules, categories, data)


def test_inline_search_on_large_scripts() -> None:
    filler = b"var x = a.b(c, 'g') || q.push(1); // gtag fbq\n" * 2000
    for code in (GA4, META, HOTJAR, MATOMO, GTM):
        script = filler + code + filler
        assert CATALOGUE.classify_inline(script) == CATALOGUE.classify_inline(code)
    assert CATALOGUE.classify_inline(filler) is None


# may_classify: a cheap look at a start tag that must never miss what classify_element sees

#: Rules with every kind of source pattern, and hosts holding a "k".
PATTERNS = Rules(
    [
        Category("site", sources=["/lib/", "*/tracker.js"]),
        Category("ads", sources=["ads.example.com/tr", "https://Pixel.Kit.example"]),
        *(Category(tracker_id, trackers=[tracker_id]) for tracker_id in tracker_catalogue()),
    ]
)
_URLS = [url for url, _ in TRACKER_URLS.values()] + [
    "/lib/a.js",
    "/lib/vendor/b.js?v=1",
    "https://cdn.example/v/tracker.js?x=1",
    "//ads.example.com/tr?id=1",
    "https://pixel.kit.example/p.gif",
    "https://img.example.com/photo.jpg",
    "https:ads.example.com/tr?id=1",
    "http:/\\www.google-analytics.com/ga.js",
    "/x/../lib/a.js",
]


#: Ways to write a character of a URL that the gate's decoding, URL parsing or host
#: comparison undo, each with the characters it applies to.
_DISGUISES: list[tuple[str, Callable[[str], str]]] = [
    ("", str.upper),
    ("", lambda c: f"&#{ord(c)};"),
    ("", lambda c: f"&#x{ord(c):x};"),
    ("", lambda c: f"%{ord(c):02X}"),
    ("", lambda c: c + "\n"),
    ("", lambda c: "\t" + c),
    ("/", lambda c: "\\"),
    ("kK", lambda c: "\u212a"),
    # UTS 46 maps these in a host: fullwidth forms, other full stops, ignored characters.
    ("", lambda c: chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c),
    (".", lambda c: "\u3002"),
    (".", lambda c: "\uff61"),
    ("", lambda c: c + "\u00ad"),
    ("", lambda c: c + "%C2%AD"),
]


@st.composite
def _disguised_url(draw: st.DrawFn) -> str:
    """A URL that browsers (and classify_element) may read as a tracker's, hidden in markup."""
    text = draw(st.sampled_from(_URLS)).replace("&", "&amp;")
    url = list(text)
    host = text.find("//") + 2 if "//" in text else 0
    end = text.find("/", host) if "/" in text[host:] else len(text)
    for _ in range(draw(st.integers(0, 3))):
        chars, disguise = draw(st.sampled_from(_DISGUISES))
        where = range(host, end) if not chars and draw(st.booleans()) else range(len(url))
        places = [i for i in where if len(url[i]) == 1 and (not chars or url[i] in chars)]
        if places:
            i = draw(st.sampled_from(places))
            url[i] = disguise(url[i])
    return "".join(url)


_ATTR_NAMES = ["src", "SRC", "href", "data-src", "Data-Src", "data", "data-consent", "alt", "type"]
_ATTR_NAMES += ["srcset", "poster", "background", "xlink:href", "imagesrcset"]


@st.composite
def _start_tag(draw: st.DrawFn) -> bytes:
    """The attribute text of a start tag, as the gate hands it to may_classify."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(_ATTR_NAMES))
        value = draw(_disguised_url() | st.text(max_size=12))
        quote = draw(st.sampled_from(['"', "'", ""]))
        space = draw(st.sampled_from([" ", "\n", "\t", " / "]))
        parts.append(f"{space}{name}={quote}{value}{quote}")
    return "".join(parts).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("rules", [PATTERNS, SITE, CATALOGUE], ids=["patterns", "site", "all"])
@settings(max_examples=300)
@given(
    raw=_start_tag() | st.binary(max_size=80),
    tag=st.sampled_from(["script", "img", "object", "td"]),
)
def test_a_tag_may_classify_rejects_is_never_gated(rules: Rules, raw: bytes, tag: str) -> None:
    attrs = decode_attrs(raw)
    if rules.classify_element(tag, attrs) is not None:
        assert rules.may_classify(raw), (raw, attrs)


@settings(max_examples=500)
@given(url=_disguised_url(), name=st.sampled_from(["src", "HREF", "data-src"]))
def test_a_disguised_url_is_a_candidate(url: str, name: str) -> None:
    raw = f' alt="x" {name}="{url}"'.encode()
    if PATTERNS.classify_element("img", decode_attrs(raw)) is not None:
        assert PATTERNS.may_classify(raw), raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b' src="https://img.example.com/a.jpg" alt="A photo"', id="other-host"),
        pytest.param(b' src="/img/a.jpg?w=1&amp;h=2" width="100"', id="amp-entity"),
        pytest.param(b" async", id="no-url"),
        pytest.param(b' src="/a.jpg?w=100%25" width="100%"', id="percent-outside-host"),
        pytest.param(b' data-src="/img/a.jpg" class="lazy"', id="lazy-image"),
        pytest.param(b' alt="\xc3\xa9t\xc3\xa9" src="/img/caf\xc3\xa9.jpg"', id="non-ascii-path"),
        pytest.param(b' style="width:100%" title="50% off"', id="percent-in-text"),
        pytest.param(b' src="/a.jpg?q=%41&amp;h=1"', id="percent-in-query"),
    ],
)
def test_ordinary_tags_need_no_decoding(raw: bytes) -> None:
    assert not PATTERNS.may_classify(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b' src="https://www.Google-Analytics.com/ga.js"', id="host"),
        pytest.param(b' src="https://www.google-\nanalytics.com/ga.js"', id="newline"),
        pytest.param(b' src="https://www.google&#45;analytics.com/ga.js"', id="entity"),
        pytest.param(b' src="https://www.google%2Danalytics.com/ga.js"', id="percent"),
        pytest.param(b' src="https://pixel.\xe2\x84\xaait.example/"', id="kelvin"),
        pytest.param(b' src="\\lib\\a.js"', id="backslashes"),
        pytest.param(b' src="//ads.ex%61mple.com/tr"', id="percent-in-host"),
        pytest.param(b" data-consent=analytics", id="data-consent"),
        pytest.param(b' src="//www.\xef\xbd\x87oogle-analytics.com/"', id="fullwidth-in-host"),
        pytest.param(b' src="https:www.google-analytics\xe3\x80\x82com/"', id="full-stop"),
        pytest.param(b' src="//www.google-ana\xc2\xadlytics.com/ga.js"', id="soft-hyphen"),
        pytest.param(b' src="/li%62/a.js"', id="percent-in-path"),
        pytest.param(b" src=/li%62/a.js", id="percent-unquoted"),
        pytest.param(b' srcset="a.jpg 1x, //x.\xef\xbd\x8bit.example/ 2x"', id="srcset"),
        pytest.param(
            b" src=/a.gif?fmt=gif\nhref=Https://c%C2%ADonnect.facebook.net/en_US/fbevents.js",
            id="escape-after-a-query-and-a-newline",
        ),
    ],
)
def test_what_may_classify_looks_for(raw: bytes) -> None:
    assert PATTERNS.may_classify(raw)


# classify_tag: a start tag's raw attribute bytes, classified once and cached


@settings(max_examples=300)
@given(
    raw=_start_tag() | st.binary(max_size=80),
    tag=st.sampled_from(["script", "img", "object", "meta"]),
)
def test_classify_tag_reads_the_bytes_as_the_tokenizer_does(raw: bytes, tag: str) -> None:
    expected = PATTERNS.classify_element(tag, decode_attrs(raw))
    assert PATTERNS.classify_tag(tag, raw) == expected
    assert PATTERNS.classify_tag(tag, raw) == expected, "the cached answer is the same"


def test_a_cached_tag_answer_depends_on_the_tag_and_the_base() -> None:
    raw = b' src="static/app.js"'
    assert SITE.classify_tag("img", raw) == "necessary"  # the page's path is taken as /
    assert SITE.based("https://cdn.example/js/").classify_tag("img", raw) is None
    assert SITE.classify_tag("img", raw) == "necessary"
    raw = b' data="https://www.facebook.com/tr"'
    assert SITE.classify_tag("object", raw) == "marketing"
    assert SITE.classify_tag("img", raw) is None  # data loads only for <object>


def test_an_unknown_data_consent_is_told_even_when_cached() -> None:
    told: list[str] = []
    rules = Rules([Category("analytics")], told.append)
    for _ in range(2):
        assert rules.classify_tag("script", b' data-consent="analytcs"') == "analytcs"
    assert told == ["analytcs"]


def test_tag_cache_holds_bounded_memory_for_unique_tags() -> None:
    rules = Rules([Category("analytics", trackers=["google-analytics"])])
    alt = "x" * 1500

    def classify() -> None:
        for i in range(6000):
            raw = f' alt="{alt}{i}" src="https://www.google-analytics.com/ga.js"'.encode()
            assert rules.classify_tag("script", raw) == "analytics"

    assert retained_bytes(classify) < 4 << 20


# The compiled literal search (consentgate._speedups.Literals) against the regexes: the
# same Rules built twice, once with the extension switched off.


def _twins(categories: list[Category]) -> tuple[Rules, Rules]:
    """The same rules with the compiled searches and with the regular expressions alone."""
    if not speedups.ACCELERATED:
        pytest.skip("the compiled scanner is not built (the pure path is all there is)")
    compiled = Rules(categories)
    with mock.patch.object(speedups, "_native", None):
        pure = Rules(categories)
    assert compiled._find_inline is not None and pure._find_inline is None
    return compiled, pure


@pytest.fixture(scope="module")
def twins() -> tuple[Rules, Rules]:
    """:data:`PATTERNS`' categories, twice (see :func:`_twins`)."""
    return _twins(
        [
            Category("site", sources=["/lib/", "*/tracker.js"]),
            Category("ads", sources=["ads.example.com/tr", "https://Pixel.Kit.example"]),
            *(Category(tracker_id, trackers=[tracker_id]) for tracker_id in tracker_catalogue()),
        ]
    )


@settings(max_examples=400)
@given(raw=_start_tag() | st.binary(max_size=80) | st.text().map(str.encode))
def test_compiled_and_pure_may_classify_agree(twins: tuple[Rules, Rules], raw: bytes) -> None:
    compiled, pure = twins
    assert compiled.may_classify(raw) == pure.may_classify(raw), raw


@settings(max_examples=400)
@given(
    st.lists(
        st.lists(st.text(_SIG_BYTES, min_size=1, max_size=5), max_size=4), min_size=1, max_size=3
    ),
    st.binary(max_size=60) | st.text(_SIG_BYTES + " x\u00e9", max_size=60).map(str.encode),
)
def test_compiled_and_pure_inline_searches_agree(signatures: list[list[str]], text: bytes) -> None:
    compiled, pure = _twins([Category(f"c{i}", inline=s) for i, s in enumerate(signatures)])
    assert compiled.classify_inline(text) == pure.classify_inline(text)


def test_compiled_and_pure_agree_on_vendor_snippets(twins: tuple[Rules, Rules]) -> None:
    compiled, pure = twins
    filler = b"var x = a.b(c, 'g') || q.push(1); // gtag fbq myfbq(\n"
    for code in (GA4, ANALYTICS_JS, GA_JS, GTM, MATOMO, META, HOTJAR, filler):
        for text in (code, filler * 50 + code, b"x" + code[1:]):
            assert compiled.classify_inline(text) == pure.classify_inline(text)
    for url in _URLS:
        raw = f' alt="x" src="{url}"'.encode()
        assert compiled.may_classify(raw) == pure.may_classify(raw), raw


def test_a_tag_longer_than_the_stack_buffer_is_searched_whole(
    twins: tuple[Rules, Rules],
) -> None:
    compiled, pure = twins
    raw = b' alt="' + b"x" * 5000 + b'" src="https://www.google-analytics.com/ga.js"'
    assert compiled.may_classify(raw) and pure.may_classify(raw)
    assert not compiled.may_classify(raw[:-20])


def test_mapped_leads_start_every_character_uts46_maps_to_ascii_or_drops() -> None:
    # may_classify looks for non-ASCII in a host only where these lead bytes are.
    host_chars = set(string.ascii_lowercase + string.digits + "-.")
    assert set(range(0xF0, 0xF5)) <= set(MAPPED_LEADS)  # 4-byte characters: all of them
    for code in range(0x80, 0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or char.encode()[0] in MAPPED_LEADS:
            continue
        try:
            mapped = idna.uts46_remap(char, std3_rules=False)
        except idna.IDNAError:
            continue  # disallowed: a host holding it fails to parse
        assert mapped and not set(mapped) & host_chars, hex(code)


def test_a_pattern_matching_every_url_makes_every_tag_a_candidate() -> None:
    assert Rules([Category("all", sources=["/"])]).may_classify(b" alt=x")
    assert not Rules([Category("none")]).may_classify(b" src=/x.js")


# classify_cookie


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("_ga", "analytics", id="ga-exact"),
        pytest.param("_ga_ABC123XYZ", "analytics", id="ga4-session-glob"),
        pytest.param("_gid", "analytics", id="gid"),
        pytest.param("_gat_UA-1234-1", "analytics", id="gat-glob"),
        pytest.param("__utmz", "analytics", id="legacy"),
        pytest.param("_pk_id.1.1fff", "analytics", id="matomo-glob"),
        pytest.param("_pk_ses.1.1fff", "analytics", id="matomo-session"),
        pytest.param("visits", "analytics", id="explicit"),
        pytest.param("_fbp", "marketing", id="meta"),
        pytest.param("session", "necessary", id="necessary"),
        pytest.param("consentgate", None, id="consent-cookie-is-not-known"),
        pytest.param("_gax", None, id="near-miss"),
        pytest.param("_GA", None, id="case-sensitive"),
        pytest.param("x_ga", None, id="glob-is-anchored"),
        pytest.param("", None, id="empty"),
    ],
)
def test_cookie_names(name: str, expected: str | None) -> None:
    assert SITE.classify_cookie(name) == expected
    assert SITE.classify_cookie(name) == expected, "the cached answer is the same"


@pytest.mark.parametrize(
    ("tracker_id", "cookie"),
    [
        pytest.param("hotjar", "_hjSessionUser_1234567", id="hotjar-user"),
        pytest.param("hotjar", "_hjSession_1234567", id="hotjar-session"),
        pytest.param("hotjar", "_hjIncludedInSessionSample_1234567", id="hotjar-sample"),
        pytest.param("microsoft-clarity", "_clck", id="clarity"),
        pytest.param("microsoft-clarity", "_clsk", id="clarity-session"),
        pytest.param("linkedin-insight", "li_fat_id", id="linkedin"),
        pytest.param("meta-pixel", "_fbp", id="meta"),
        pytest.param("matomo", "mtm_consent", id="matomo-consent"),
    ],
)
def test_catalogue_cookies(tracker_id: str, cookie: str) -> None:
    assert CATALOGUE.classify_cookie(cookie) == tracker_id


@pytest.mark.parametrize("cookie", ["MUID", "SM", "MR", "fr", "lidc", "UserMatchHistory"])
def test_cookies_kept_on_the_providers_domain_are_not_matched(cookie: str) -> None:
    """The site never receives them, and a cookie of its own may have the same name."""
    assert CATALOGUE.classify_cookie(cookie) is None


def test_exact_name_and_glob_follow_configuration_order() -> None:
    rules = Rules([Category("first", cookies=["pref_*"]), Category("second", cookies=["pref_x"])])
    assert rules.classify_cookie("pref_x") == "first"
    rules = Rules([Category("first", cookies=["pref_x"]), Category("second", cookies=["pref_*"])])
    assert rules.classify_cookie("pref_x") == "first"
    assert rules.classify_cookie("pref_y") == "second"


def test_long_cookie_names_are_classified_without_caching() -> None:
    assert SITE.classify_cookie("_ga_" + "x" * 5000) == "analytics"


def test_caches_hold_bounded_memory_for_unique_long_urls_and_names() -> None:
    rules = Rules([Category("analytics", trackers=["google-analytics"])])

    def classify() -> None:
        for i in range(6000):
            # Non-ASCII text takes four bytes a character in a str.
            tail = f"{i}-" + "\U0001f600" * 2000
            rules.classify_element("img", {"src": f"https://cdn.example/{tail}"})
            rules.classify_cookie(f"c{tail}")

    assert retained_bytes(classify) < 8 << 20


def test_one_configuration_gates_both_trackers_snippets_and_cookies() -> None:
    rules = Rules([Category("analytics", trackers=["google-analytics", "matomo"])])
    assert rules.classify_inline(GA4) == "analytics"
    assert rules.classify_inline(MATOMO) == "analytics"
    gtag = {"src": "https://www.googletagmanager.com/gtag/js?id=G-1"}
    assert rules.classify_element("script", gtag) == "analytics"
    assert rules.classify_element("script", {"src": "//stats.example.org/matomo.js"}) == "analytics"
    for cookie in ("_ga", "_ga_XYZ", "_gid", "_pk_id.1.abcd", "_pk_ses.1.abcd"):
        assert rules.classify_cookie(cookie) == "analytics", cookie


def test_no_categories() -> None:
    rules = Rules([])
    assert rules.classify_element("script", {"src": "https://www.google-analytics.com/"}) is None
    assert rules.classify_inline(GA4) is None
    assert rules.classify_cookie("_ga") is None


@given(st.text(), st.sampled_from(["src", "href", "data-src", "data"]))
def test_classify_element_never_raises(url: str, attr: str) -> None:
    result = SITE.classify_element("object", {attr: url})
    assert result in (None, "necessary", "analytics", "marketing")


@given(st.binary())
def test_classify_inline_never_raises(text: bytes) -> None:
    assert SITE.classify_inline(text) in (None, "necessary", "analytics", "marketing")


@given(st.text())
def test_classify_cookie_never_raises(name: str) -> None:
    assert SITE.classify_cookie(name) in (None, "necessary", "analytics", "marketing")
