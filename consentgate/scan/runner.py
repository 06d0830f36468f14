"""Visit pages as the three visitors, in parallel browsers, following links when asked.

The visits run in a :class:`~.pool.Pool` of browsers. Pages are taken breadth first,
one level at a time, so which pages a ``--crawl`` reaches does not depend on which
browser finishes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from .browser import NOT_HTML, VisitOptions
from .model import STATES, Visit
from .pool import Pool

Progress = Callable[[int, int, str], None]

#: Link targets that are not pages, by the end of their path.
_FILES = (
    "pdf zip gz tgz bz2 xz 7z rar png jpg jpeg gif webp avif svg ico bmp tif tiff mp3 "
    "mp4 m4a ogg oga ogv webm wav mov avi csv tsv xls xlsx doc docx ppt pptx odt ods odp "
    "txt json xml rss atom css js mjs map woff woff2 ttf otf eot exe dmg msi apk deb rpm iso"
)
FILE_EXTENSIONS = frozenset(_FILES.split())


@dataclass(frozen=True)
class Plan:
    """What to scan: where to start, how far to crawl, how many browsers."""

    urls: tuple[str, ...]
    crawl: int
    workers: int
    options: VisitOptions
    chromium: str


def scan(plan: Plan, progress: Progress | None = None) -> list[Visit]:
    """Every visit of the plan, page by page in visiting order, states in report order.

    :param progress: Told ``(done, total, url)`` after each visit; the total grows as
        the crawl finds pages.
    """
    pool = Pool(plan.workers, plan.chromium, plan.options)
    try:
        return _breadth_first(plan, pool, progress)
    finally:
        pool.close()


def _breadth_first(plan: Plan, pool: Pool, progress: Progress | None) -> list[Visit]:
    level = list(dict.fromkeys(urldefrag(u).url for u in plan.urls))
    known = set(level)
    limit = max(plan.crawl, len(level))
    visits: list[Visit] = []
    done = 0
    while level:
        by_page: dict[str, list[Visit]] = {}
        for result in pool.run([(url, s) for url in level for s in STATES]):
            by_page.setdefault(result.page, []).append(result)
            done += 1
            if progress is not None:
                progress(done, len(known) * len(STATES), result.page)
        ordered = [sorted(by_page[url], key=lambda v: STATES.index(v.state)) for url in level]
        visits += [v for page in ordered for v in page if not _skipped(v)]
        if not plan.crawl:
            break
        pages = len({v.page for v in visits})
        level = []
        for link in _links(ordered, plan.options.endpoint):
            if pages + len(level) >= limit:
                break
            if link not in known:
                known.add(link)
                level.append(link)
    return visits


def _skipped(visit: Visit) -> bool:
    """A link that led to something other than a page is dropped from the scan."""
    return visit.error.startswith(NOT_HTML)


def _links(pages: Iterable[list[Visit]], endpoint: str) -> list[str]:
    """Same-site page links of the undecided visits, in page order, without fragments."""
    links = []
    for visits in pages:
        for v in visits:
            if v.state == "undecided" and not v.error:
                links += [link for link in v.links if _follow(v.page, link, endpoint)]
    return list(dict.fromkeys(urldefrag(link).url for link in links))


def _follow(page: str, link: str, endpoint: str) -> bool:
    """Whether a link leads to another page of the same site: http(s), same host, not
    the consent endpoint, not a file by its extension."""
    try:
        here, there = urlsplit(page), urlsplit(link)
    except ValueError:
        return False
    if there.scheme not in ("http", "https") or there.netloc != here.netloc:
        return False
    path = there.path or "/"
    if path.rstrip("/") == endpoint.rstrip("/"):
        return False
    name = path.rsplit("/", 1)[-1]
    return "." not in name or name.rsplit(".", 1)[-1].lower() not in FILE_EXTENSIONS
