"""Classify page elements, inline scripts and cookie names into consent categories.

:class:`Rules` compiles the categories once; the rewriter and the middleware
then ask it about every tag, script and cookie of every response, so each
question is answered with a few dictionary lookups or one pass over the bytes
(:mod:`consentgate.search`).
"""

from __future__ import annotations

import fnmatch
import re
import string
import sys
from collections.abc import Callable, Mapping, Sequence

from .cache import Memo
from .categories import Category
from .search import InlineSignatures, TagHint
from .tokens import decode_attrs
from .urls import PAGE, Base, base_of, refresh_url, significant, srcset_urls, targets

#: Attributes whose URL decides an element's category (``data`` only for ``<object>``, the
#: ``content`` of a ``<meta http-equiv=refresh>`` too): what HTML and SVG elements load,
#: whatever the element (reading one that loads nothing only makes the gate stricter).
_URL_ATTRS = ("src", "data-src", "href", "xlink:href", "poster", "background")
#: Attributes holding a list of image candidates, each with its URL.
_SRCSET_ATTRS = ("srcset", "imagesrcset", "data-srcset")
#: Characters that continue a path segment name; a path prefix must not stop inside one.
_WORD = frozenset(f"{string.ascii_letters}{string.digits}_-")
#: Results are cached for up to this many distinct URLs and cookie names each,
#: holding at most this many bytes each (see :mod:`consentgate.cache`).
_CACHE_SIZE = 4096
_CACHE_BYTES = 2 << 20
#: Longer URLs and cookie names are classified but not cached.
_CACHE_MAX_LEN = 2048
#: Without the compiled extension, inline script texts up to this many bytes are cached by
#: their text: a site's snippets (a tag manager's loader, a JSON-LD block) come back
#: unchanged on every page it serves, and a lookup costs a hash of the bytes where the
#: regular expressions cost more. (The compiled search costs less than the hash.)
_INLINE_CACHE_MAX_LEN = 8192
#: What a cache entry holds besides its own bytes, counted by the two caches keyed by
#: markup: its key tuple (three items) and its share of the dict's table.
_TUPLE_BYTES = sys.getsizeof((None, None, None))
_ENTRY_BYTES = _TUPLE_BYTES + 64
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class Rules:
    """Answers "which category does this belong to?" for the rest of the gate.

    :param categories: In configuration order; when several match, the
        first category wins.

    Source patterns (``Category.sources``), matched against every URL an element
    loads (``src``, ``data-src``, ``href``, ``xlink:href``, ``poster``, ``background``,
    each ``srcset`` candidate, ``<object data>``, a ``<meta http-equiv=refresh>``
    target), read as browsers read it (:mod:`consentgate.urls`):

    - ``host.tld`` matches that host and its subdomains, with any scheme or
      none (``//host.tld/x``); the host is compared case-insensitively.
    - ``host.tld/path`` also needs the URL path to start with ``/path``, ending
      at a segment boundary: ``facebook.com/tr`` matches ``/tr`` and
      ``/tr/x`` but not ``/travel``; ``/js/ga`` still matches ``/js/ga.js``.
    - ``/path`` matches a same-site URL (no host) whose path starts with it.
    - ``*/file.js`` matches a URL on any host, or none, whose path ends with
      ``/file.js`` (self-hosted tools such as Matomo).

    Inline signatures are searched as bytes, case-sensitively. One that
    starts with an identifier character only matches where no identifier
    character precedes it, so ``fbq(`` matches ``window.fbq(`` but not
    ``myfbq(``.

    >>> rules = Rules([Category("analytics", trackers=["google-analytics"])])
    >>> rules.classify_element("script", {"src": "https://www.google-analytics.com/analytics.js"})
    'analytics'
    >>> rules.classify_cookie("_ga_XYZ123")
    'analytics'
    """

    #: How many bytes of already-searched text an incremental search must keep
    #: and search again with the next chunk so that a signature split between
    #: chunks is still found: the longest signature less one byte, plus the
    #: byte before it when the signature needs an identifier boundary.
    inline_overlap: int

    def __init__(
        self, categories: Sequence[Category], unknown: Callable[[str], None] | None = None
    ) -> None:
        self._names = tuple(category.name for category in categories)
        #: Told each ``data-consent`` value that names no category (it still fails closed).
        self._unknown = unknown
        self._known = frozenset(self._names)
        self._hosts: dict[str, list[tuple[int, str]]] = {}
        self._same_site: list[tuple[int, str]] = []
        self._any_host: list[tuple[int, str]] = []
        for index, category in enumerate(categories):
            for pattern in category.sources:
                self._add_source(index, pattern)
        self._inline = InlineSignatures(categories)
        self.inline_overlap = self._inline.overlap
        self._find_inline = self._inline.compiled
        paths = [path.lstrip("/") for _, path in (*self._same_site, *self._any_host)]
        self._hint = TagHint([*self._hosts, *paths, "data-consent"])
        # Asked about most tags of every page: the hint answers with no call in between.
        self.may_classify = self._hint.__call__  # type: ignore[method-assign]
        self._exact_cookies, self._cookie_globs = _compile_cookies(categories)
        self._url_cache = Memo(self._match_key, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES)
        self._cookie_cache = Memo(
            self._match_cookie, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES
        )
        self._tag_cache = Memo(
            self._match_tag, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES, size=_tag_size
        )
        self._inline_cache = Memo(
            self._inline.search, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES, size=_text_size
        )
        self._cached_url = self._url_cache.__getitem__
        self._cached_cookie = self._cookie_cache.__getitem__
        self._cached_inline = self._inline_cache.__getitem__
        self._cached_tag = self._tag_cache.__getitem__

    def classify_element(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """The category an element belongs to, or None if it is not gated.

        An explicit ``data-consent`` attribute wins and is returned stripped
        even when no category has that name: unknown names are never granted,
        so a typo fails closed.

        :param tag: The tag name, lower case.
        :param attrs: Attribute names in lower case, values entity-decoded.
        """
        return self._classify_element(tag, attrs, (PAGE,))

    def classify_tag(self, tag: str, raw: bytes) -> str | None:
        """:meth:`classify_element` of a start tag as it is written: its attributes' bytes.

        They are decoded as the tokenizer reads them (:func:`~.tokens.decode_attrs`), and
        the answer is cached by those bytes: a site's pages repeat the same tags, and a
        lookup costs a hash instead of decoding and reading URLs.

        :param tag: The tag name, lower case.
        :param raw: What follows the name up to, not including, the ``>``.
        """
        return self._classify_tag(tag, raw, (PAGE,))

    def based(self, href: str) -> RulesWithBase:
        """These rules for the part of a page after its ``<base href>``.

        Relative URLs then resolve against ``href``. When that can bring them to a source
        pattern (its host is a pattern's, or its path differs from the root and a pattern
        is a same-site path), the returned rules' :meth:`may_classify` says yes to every
        tag; otherwise the base adds nothing a tag's own bytes do not show.
        """
        bases = base_of(href)
        hosts = (base.host for base in bases if base.host is not None)
        blind = any(map(self._has_host, hosts)) or (
            bool(self._same_site) and any(base != PAGE for base in bases)
        )
        return RulesWithBase(self, bases, blind)

    def _classify_tag(self, tag: str, raw: bytes, bases: tuple[Base, ...]) -> str | None:
        if len(raw) > _CACHE_MAX_LEN:
            return self._classify_element(tag, decode_attrs(raw), bases)
        return self._cached_tag((tag, raw, bases))

    def _match_tag(self, key: tuple[str, bytes, tuple[Base, ...]]) -> str | None:
        tag, raw, bases = key
        return self._classify_element(tag, decode_attrs(raw), bases)

    def _classify_element(
        self, tag: str, attrs: Mapping[str, str], bases: tuple[Base, ...]
    ) -> str | None:
        explicit = attrs.get("data-consent")
        if explicit is not None:
            name = explicit.strip()
            if self._unknown is not None and name not in self._known:
                self._unknown(name)
            return name
        best: int | None = None
        for value in _loaded_urls(tag, attrs):
            index = self._classify_url(value, bases)
            if index is not None and (best is None or index < best):
                best = index
        return None if best is None else self._names[best]

    def classify_inline(self, text: bytes) -> str | None:
        """The category of the leftmost signature in an inline script's text, or None.

        When signatures of several categories start at that spot, the first
        category in configuration order wins.
        """
        if self._find_inline is not None:
            index = self._find_inline(text)
        elif len(text) > _INLINE_CACHE_MAX_LEN:
            index = self._inline.search(text)
        else:
            index = self._cached_inline(text)
        return None if index < 0 else self._names[index]

    def may_classify(self, tag: bytes) -> bool:
        """Whether :meth:`classify_element` could place the element of this start tag.

        A cheap look at the tag's raw bytes, before its attributes are decoded: when
        False, :meth:`classify_element` returns None for it. It looks for
        ``data-consent``, for each source pattern's host or path, and for what could
        hide one from a plain search: a character reference other than ``&amp;``, a
        percent-escape in a host or path, a character in a host that UTS 46 maps to ASCII
        or drops (fullwidth letters, ``。``, soft hyphens...; see :data:`~.search.MAPPED_LEADS`).

        :param tag: The start tag's bytes, or just its attributes.
        """
        return self._hint(tag)

    def classify_url(self, *urls: str) -> str | None:
        """The first category, in configuration order, that any of ``urls`` loads from.

        Each URL is read as an element's ``src`` on the page: an absolute URL by its
        host and path, a path (``/static/x.js``) against the same-site patterns.
        """
        indexes = [i for url in urls if (i := self._classify_url(url, (PAGE,))) is not None]
        return self._names[min(indexes)] if indexes else None

    def classify_cookie(self, name: str) -> str | None:
        """The category that declares the cookie ``name`` (exactly or by glob), or None."""
        if len(name) > _CACHE_MAX_LEN:
            index = self._match_cookie(name)
        else:
            index = self._cached_cookie(name)
        return None if index is None else self._names[index]

    def _add_source(self, index: int, pattern: str) -> None:
        pattern = pattern.strip().split("?", 1)[0].split("#", 1)[0]
        if pattern.startswith("*/"):
            self._any_host.append((index, pattern[1:]))
        elif pattern.startswith("/") and not pattern.startswith("//"):
            self._same_site.append((index, pattern))
        else:
            # Be lenient with pasted URLs: drop a scheme, "//", "*." and a port.
            host, slash, path = _SCHEME.sub("", pattern).lstrip("/").partition("/")
            host = host.rpartition("@")[2].partition(":")[0].lower().removeprefix("*.")
            self._hosts.setdefault(host.rstrip("."), []).append((index, slash + path))

    def _classify_url(self, value: str, bases: tuple[Base, ...]) -> int | None:
        # Only scheme, host and path decide, so the query and fragment are dropped: beacons
        # and pixels that differ only in their query share one cache entry.
        url = significant(value)
        if len(url) > _CACHE_MAX_LEN:
            return self._match_url(url, bases)
        return self._cached_url((url, bases))

    def _match_key(self, key: tuple[str, tuple[Base, ...]]) -> int | None:
        return self._match_url(*key)

    def _match_url(self, url: str, bases: tuple[Base, ...]) -> int | None:
        """The first category any reading of ``url`` belongs to (see :func:`~.urls.targets`)."""
        best: int | None = None
        for host, path in targets(url, bases):
            if host is not None:
                index = self._match_host(host, path)
            else:
                matches = (i for i, prefix in self._same_site if _has_prefix(path, prefix))
                index = min(matches, default=None)
            for i, suffix in self._any_host:
                if (index is None or i < index) and path.endswith(suffix):
                    index = i
            if index is not None and (best is None or index < best):
                best = index
        return best

    def _has_host(self, host: str) -> bool:
        """Whether a source pattern names ``host`` or one of its parent domains."""
        labels = host.split(".")
        return any(".".join(labels[i:]) in self._hosts for i in range(len(labels)))

    def _match_host(self, host: str, path: str) -> int | None:
        best: int | None = None
        name = host
        while True:  # the host, then each parent domain
            for index, prefix in self._hosts.get(name, ()):
                if (best is None or index < best) and _has_prefix(path, prefix):
                    best = index
            dot = name.find(".")
            if dot < 0:
                return best
            name = name[dot + 1 :]

    def _match_cookie(self, name: str) -> int | None:
        best = self._exact_cookies.get(name)
        if self._cookie_globs is not None:
            match = self._cookie_globs.match(name)
            if match is not None and match.lastgroup is not None:
                index = int(match.lastgroup[1:])
                if best is None or index < best:
                    best = index
        return best


class RulesWithBase:
    """:class:`Rules` for the part of a page after its ``<base href>`` (see :meth:`Rules.based`)."""

    def __init__(self, rules: Rules, bases: tuple[Base, ...], blind: bool) -> None:
        self._rules, self._bases, self._blind = rules, bases, blind
        self.inline_overlap = rules.inline_overlap
        self.classify_inline = rules.classify_inline
        if not blind:
            self.may_classify = rules.may_classify  # type: ignore[method-assign]

    def classify_element(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """:meth:`Rules.classify_element`, relative URLs resolved against the base."""
        return self._rules._classify_element(tag, attrs, self._bases)

    def classify_tag(self, tag: str, raw: bytes) -> str | None:
        """:meth:`Rules.classify_tag`, relative URLs resolved against the base."""
        return self._rules._classify_tag(tag, raw, self._bases)

    def may_classify(self, tag: bytes) -> bool:
        """True: a relative URL may load from a tracker (when the base can bring it to one)."""
        return True

    def based(self, href: str) -> RulesWithBase:
        """Itself: only a page's first ``<base href>`` counts."""
        return self


def _tag_size(key: tuple[str, bytes, tuple[Base, ...]], value: str | None) -> int:
    """What a tag cache entry holds: its bytes, its key tuple and a dict slot (the tag
    name, the bases and the category name are shared with other entries)."""
    return sys.getsizeof(key[1]) + _ENTRY_BYTES


def _text_size(key: bytes, value: int) -> int:
    """What an inline cache entry holds: the script's bytes and a dict slot (the index is
    a small int, shared)."""
    return sys.getsizeof(key) + _ENTRY_BYTES - _TUPLE_BYTES


def _loaded_urls(tag: str, attrs: Mapping[str, str]) -> list[str]:
    """The URLs in an element's attributes that a browser may load."""
    found = [value for attr in _URL_ATTRS if (value := attrs.get(attr))]
    for attr in _SRCSET_ATTRS:
        if attr in attrs:
            found += srcset_urls(attrs[attr])
    if tag == "object" and attrs.get("data"):
        found.append(attrs["data"])
    elif tag == "meta" and attrs.get("http-equiv", "").strip().lower() == "refresh":
        url = refresh_url(attrs.get("content", ""))
        found += [url] if url else []
    return found


def _has_prefix(path: str, prefix: str) -> bool:
    """Whether ``path`` starts with ``prefix`` and the prefix ends at a boundary."""
    if not prefix or prefix == "/":
        return True
    if not path.startswith(prefix):
        return False
    rest = path[len(prefix) :]
    return not rest or prefix[-1] not in _WORD or rest[0] not in _WORD


def _compile_cookies(
    categories: Sequence[Category],
) -> tuple[dict[str, int], re.Pattern[str] | None]:
    """Exact cookie names in a dictionary, globs in one anchored alternation.

    A cookie kept on another site's domain (``spec.domain``) is left out: the site never
    receives it, and its name may be common enough to be one of the site's own.
    """
    exact: dict[str, int] = {}
    groups = []
    for index, category in enumerate(categories):
        globs = []
        for spec in category.cookies:
            if spec.domain:
                continue
            if any(char in spec.name for char in "*?["):
                globs.append(fnmatch.translate(spec.name))
            else:
                exact.setdefault(spec.name, index)
        if globs:
            groups.append(f"(?P<c{index}>{'|'.join(globs)})")
    return exact, (re.compile("|".join(groups)) if groups else None)
