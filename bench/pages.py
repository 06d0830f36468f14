"""Deterministic benchmark pages, corpus loading and a 100 MB response stream.

The generated pages look like a news site: a head with the usual tracker
snippets (Google Tag Manager, gtag.js, analytics.js, Hotjar), article
sections with images, links, entities, non-ASCII text, ordinary scripts
and now and then a conversion pixel or a ``data-consent`` script, and a
footer with Matomo and the Meta pixel, each with its ``<noscript>``
fallback. The same seed always gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

KB = 1024
MB = 1024 * KB

#: Generated page sizes, by name.
SIZES: dict[str, int] = {
    "20 KB": 20 * KB,
    "100 KB": 100 * KB,
    "1 MB": MB,
    "10 MB": 10 * MB,
}

#: The corpus shared by the project's developers, next to the repository.
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

_VOCABULARY = (
    "erasmus partnership school training youth mobility alliance knowledge skills sector "
    "innovation cooperation europe programme university teacher learner project budget "
    "digital inclusion quality exchange network strategy outcome curriculum apprentice "
    "adult education reform évaluation coopération qualité — résumé naïve"
)
_WORDS = _VOCABULARY.split()

_HEAD_TRACKERS = """\
<!-- Google Tag Manager -->
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-K7Q2XJ');</script>
<!-- End Google Tag Manager -->
<link rel="preconnect" href="https://www.google-analytics.com">
<link rel="dns-prefetch" href="//connect.facebook.net">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-8RZ3M2Q1XY"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());
  gtag('config', 'G-8RZ3M2Q1XY', { 'anonymize_ip': true });
</script>
<script>
(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){
(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),
m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)
})(window,document,'script','https://www.google-analytics.com/analytics.js','ga');
ga('create', 'UA-1234567-1', 'auto');
ga('send', 'pageview');
</script>
<script>
    (function(h,o,t,j,a,r){
        h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
        h._hjSettings={hjid:3141592,hjsv:6};
        a=o.getElementsByTagName('head')[0];
        r=o.createElement('script');r.async=1;
        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
        a.appendChild(r);
    })(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');
</script>
"""

_BODY_TRACKERS = """\
<!-- Google Tag Manager (noscript) -->
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-K7Q2XJ"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<!-- End Google Tag Manager (noscript) -->
"""

_FOOTER_TRACKERS = """\
<!-- Matomo -->
<script>
  var _paq = window._paq = window._paq || [];
  _paq.push(['trackPageView']);
  _paq.push(['enableLinkTracking']);
  (function() {
    var u="https://ka2-news.matomo.cloud/";
    _paq.push(['setTrackerUrl', u+'matomo.php']);
    _paq.push(['setSiteId', '1']);
    var d=document, g=d.createElement('script'), s=d.getElementsByTagName('script')[0];
    g.async=true; g.src='https://cdn.matomo.cloud/ka2-news.matomo.cloud/matomo.js';
    s.parentNode.insertBefore(g,s);
  })();
</script>
<noscript><p><img referrerpolicy="no-referrer-when-downgrade"
src="https://ka2-news.matomo.cloud/matomo.php?idsite=1&amp;rec=1" style="border:0;" alt="" /></p>
</noscript>
<!-- End Matomo Code -->
<!-- Meta Pixel Code -->
<script>
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '271828182845904');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=271828182845904&amp;ev=PageView&amp;noscript=1"/></noscript>
<!-- End Meta Pixel Code -->
"""


class _Writer:
    """Builds one page's pieces from a seeded random source."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(low, high)))

    def paragraph(self) -> str:
        self.serial += 1
        n = self.serial
        return (
            f"<p>{self.words(25, 60).capitalize()} &amp; {self.words(3, 8)}, "
            f'<a href="/articles/{n}?ref=feed&amp;page=2" title="{self.words(2, 4)}">'
            f"{self.words(2, 5)}</a> {self.words(15, 40)}&nbsp;&#8212; {self.words(5, 15)}.</p>\n"
        )

    def script(self) -> str:
        self.serial += 1
        n = self.serial
        kind = self.rng.randrange(4)
        if kind == 0:
            return f'<script src="https://cdn.ka2-news.example/js/widget.{n}.js" defer></script>\n'
        if kind == 1:
            return (
                '<script type="application/ld+json">{"@context":"https://schema.org",'
                f'"@type":"NewsArticle","headline":"{self.words(4, 9)}","position":{n}}}'
                "</script>\n"
            )
        if kind == 2:
            # Markup in a JS string and an "analytics" word that is no tracker signature.
            return (
                f"<script>window.__slots = window.__slots || []; window.__slots.push({{id: {n}, "
                f"html: '<div class=\"slot\">{self.words(3, 6)}<\\/div>', analyticsOptIn: false}});"
                "</script>\n"
            )
        body = "".join(f"  var k{n}_{i} = '{self.words(4, 10)}';\n" for i in range(12))
        tail = f"  if (k{n}_0 < 3) {{ init({n}); }}\n"
        return f'<script type="text/javascript">\n{body}{tail}</script>\n'

    def section(self) -> str:
        self.serial += 1
        n = self.serial
        parts = [
            f'<section class="story" id="s{n}" data-kind="{self.rng.choice(("a", "b"))}">\n',
            f"<h2>{self.words(3, 8).capitalize()}</h2>\n",
            f'<img src="https://img.ka2-news.example/{n}.jpg" alt="{self.words(2, 5)}" '
            'loading="lazy" width="640" height="360">\n',
            self.paragraph(),
            self.script(),
            self.paragraph(),
            self.paragraph(),
        ]
        if n % 7 == 0:
            parts.append(
                '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" '
                'title="video" allowfullscreen></iframe>\n'
            )
        if n % 13 == 0:  # a per-article conversion pixel
            parts.append(
                '<img src="https://www.facebook.com/tr?id=271828182845904&amp;ev=ViewContent'
                f'&amp;cd[section]={n}" width="1" height="1" alt="">\n'
            )
        if n % 19 == 0:  # the site's own counter, marked up for the gate
            parts.append(
                f'<script src="/static/counter.js?s={n}" data-consent="analytics" defer></script>\n'
            )
        if n % 11 == 0:
            parts.append(
                '<!-- old code: <script src="https://www.google-analytics.com/ga.js">'
                "</script> -->\n"
            )
        parts.append("</section>\n")
        return "".join(parts)


def _head(title: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="stylesheet" href="/static/site.css">\n'
        f"{_HEAD_TRACKERS}"
        '<script src="https://cdn.ka2-news.example/js/vendor.js"></script>\n'
        "<style>body{font:16px/1.5 sans-serif} .story h2{margin:0 0 .5em}</style>\n"
        "</head>\n<body>\n"
        f"{_BODY_TRACKERS}"
        '<header><nav><a href="/">Home</a> | <a href="/facts">Facts</a></nav></header>\n'
        "<main>\n"
    )


def _tail() -> str:
    footer = "<footer><p>&copy; 2024 KA2 News</p></footer>\n"
    return f"</main>\n{footer}{_FOOTER_TRACKERS}</body>\n</html>\n"


def generate_page(size: int, seed: int = 2024) -> bytes:
    """A page of about ``size`` bytes (never less), the same for the same seed."""
    writer = _Writer(seed)
    head, tail = _head(f"KA2 News, {size} bytes").encode(), _tail().encode()
    parts = [head]
    total = len(head) + len(tail)
    while total < size:
        section = writer.section().encode()
        parts.append(section)
        total += len(section)
    parts.append(tail)
    return b"".join(parts)


class StreamedPage:
    """A page of at least ``total`` bytes, yielded in ``chunk_size`` pieces.

    The body repeats one generated megabyte, built up front, so iterating
    costs almost nothing and allocates no more than one chunk at a time.
    """

    def __init__(self, total: int, chunk_size: int = 16 * KB, seed: int = 7) -> None:
        block = generate_page(MB, seed)
        self.head = _head("stream").encode()
        self.tail = _tail().encode()
        self.body = block[len(self.head) : len(block) - len(self.tail)]
        self.repeats = -(-(total - len(self.head) - len(self.tail)) // len(self.body))
        self.chunk_size = chunk_size

    @property
    def size(self) -> int:
        """Total bytes yielded."""
        return len(self.head) + self.repeats * len(self.body) + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        for _ in range(self.repeats):
            for start in range(0, len(self.body), self.chunk_size):
                yield self.body[start : start + self.chunk_size]
        yield self.tail


def load_corpus(root: Path) -> list[tuple[str, bytes]]:
    """Every ``*.html`` file under ``root``, sorted by relative path."""
    return [
        (path.relative_to(root).as_posix(), path.read_bytes())
        for path in sorted(root.rglob("*.html"))
    ]


def split(data: bytes, chunk_size: int) -> list[bytes]:
    """``data`` cut into ``chunk_size`` pieces (one piece for the whole document)."""
    if chunk_size <= 0 or chunk_size >= len(data):
        return [data]
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
