"""Classify page elements, inline scripts and cookie names into consent categories.

:class:`Rules` compiles the categories once; the rewriter and the middleware
then ask it about every tag, script and cookie of every response, so each
question is answered with a few dictionary lookups or one regular expression.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import string
from collections.abc import Mapping, Sequence
from urllib.parse import unquote, urlsplit

from .config import Category

#: Attributes whose URL decides an element's category (``data`` only for ``<object>``).
_URL_ATTRS = ("src", "data-src", "href")
#: Bytes that may continue a JavaScript identifier (non-ASCII counted in): a
#: signature starting with one must not follow one, so ``fbq(`` skips ``myfbq(``.
_IDENT = frozenset(f"{string.ascii_letters}{string.digits}_$".encode()) | set(range(0x80, 0x100))
#: Characters that continue a path segment name; a path prefix must not stop inside one.
_WORD = frozenset(f"{string.ascii_letters}{string.digits}_-")
#: Results are cached for up to this many distinct URLs and cookie names each.
_CACHE_SIZE = 4096
#: Longer URLs and cookie names are classified but not cached.
_CACHE_MAX_LEN = 2048
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class Rules:
    """Answers "which category does this belong to?" for the rest of the gate.

    :param categories: In configuration order; when several match, the
        first category wins.

    Source patterns (``Category.sources``), matched against the URL in
    ``src``, ``data-src``, ``href`` and, for ``<object>``, ``data``:

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

    def __init__(self, categories: Sequence[Category]) -> None:
        self._names = tuple(category.name for category in categories)
        self._hosts: dict[str, list[tuple[int, str]]] = {}
        self._same_site: list[tuple[int, str]] = []
        self._any_host: list[tuple[int, str]] = []
        for index, category in enumerate(categories):
            for pattern in category.sources:
                self._add_source(index, pattern)
        self._signatures, self.inline_overlap = _collect_signatures(categories)
        # A plain alternation of literals lets the regex engine skip ahead by
        # first byte; boundaries and categories are checked per candidate.
        by_length = sorted(self._signatures, key=len, reverse=True)
        alternation = b"|".join(re.escape(signature) for signature in by_length)
        self._inline = re.compile(alternation) if by_length else None
        self._exact_cookies, self._cookie_globs = _compile_cookies(categories)
        self._cached_url = functools.lru_cache(_CACHE_SIZE)(self._match_url)
        self._cached_cookie = functools.lru_cache(_CACHE_SIZE)(self._match_cookie)

    def classify_element(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """The category an element belongs to, or None if it is not gated.

        An explicit ``data-consent`` attribute wins and is returned stripped
        even when no category has that name: unknown names are never granted,
        so a typo fails closed.

        :param tag: The tag name, lower case.
        :param attrs: Attribute names in lower case, values entity-decoded.
        """
        explicit = attrs.get("data-consent")
        if explicit is not None:
            return explicit.strip()
        best: int | None = None
        for attr in (*_URL_ATTRS, "data") if tag == "object" else _URL_ATTRS:
            value = attrs.get(attr)
            if value:
                index = self._classify_url(value)
                if index is not None and (best is None or index < best):
                    best = index
        return None if best is None else self._names[best]

    def classify_inline(self, text: bytes) -> str | None:
        """The category of the leftmost signature in an inline script's text, or None.

        When signatures of several categories start at that spot, the first
        category in configuration order wins.
        """
        if self._inline is None:
            return None
        match = self._inline.search(text)
        while match is not None:
            start = match.start()
            if not (start and text[start] in _IDENT and text[start - 1] in _IDENT):
                found = (i for sig, i in self._signatures.items() if text.startswith(sig, start))
                return self._names[min(found)]
            match = self._inline.search(text, start + 1)
        return None

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

    def _classify_url(self, value: str) -> int | None:
        # Browsers ignore surrounding whitespace and read "\" as "/" in http(s) URLs.
        url = value.strip().replace("\\", "/")
        if len(url) > _CACHE_MAX_LEN:
            return self._match_url(url)
        return self._cached_url(url)

    def _match_url(self, url: str) -> int | None:
        try:
            parts = urlsplit(url)
            host = parts.hostname  # lower case, without user info and port
        except ValueError:  # e.g. a broken IPv6 literal
            return None
        path = parts.path
        if host:
            best = self._match_host(unquote(host).rstrip("."), path)
        elif parts.scheme in ("", "http", "https"):
            matches = (index for index, prefix in self._same_site if _has_prefix(path, prefix))
            best = min(matches, default=None)
        else:
            return None  # data:, javascript:, mailto: and the like
        if not path.startswith("/"):
            path = "/" + path
        for index, suffix in self._any_host:
            if (best is None or index < best) and path.endswith(suffix):
                best = index
        return best

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


def _has_prefix(path: str, prefix: str) -> bool:
    """Whether ``path`` starts with ``prefix`` and the prefix ends at a boundary."""
    if not prefix or prefix == "/":
        return True
    if not path.startswith(prefix):
        return False
    rest = path[len(prefix) :]
    return not rest or prefix[-1] not in _WORD or rest[0] not in _WORD


def _collect_signatures(categories: Sequence[Category]) -> tuple[dict[bytes, int], int]:
    """Each inline signature with its first category, and the overlap they need."""
    signatures: dict[bytes, int] = {}
    overlap = 0
    for index, category in enumerate(categories):
        for signature in category.inline:
            raw = signature.encode("utf-8")
            signatures.setdefault(raw, index)
            # A boundary check needs the byte before the signature as well.
            overlap = max(overlap, len(raw) - 1 + (raw[0] in _IDENT))
    return signatures, overlap


def _compile_cookies(
    categories: Sequence[Category],
) -> tuple[dict[str, int], re.Pattern[str] | None]:
    """Exact cookie names in a dictionary, globs in one anchored alternation."""
    exact: dict[str, int] = {}
    groups = []
    for index, category in enumerate(categories):
        globs = []
        for spec in category.cookies:
            if any(char in spec.name for char in "*?["):
                globs.append(fnmatch.translate(spec.name))
            else:
                exact.setdefault(spec.name, index)
        if globs:
            groups.append(f"(?P<c{index}>{'|'.join(globs)})")
    return exact, (re.compile("|".join(groups)) if groups else None)
