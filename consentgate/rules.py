"""Classify page elements, inline scripts and cookie names into consent categories.

:class:`Rules` compiles the categories once; the rewriter and the middleware
then ask it about every tag, script and cookie of every response, so each
question is answered with a few dictionary lookups or one regular expression.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import operator
import re
import string
import sys
from collections.abc import Callable, Mapping, Sequence

from .cache import Memo
from .config import Category
from .speedups import literal_search
from .tokens import decode_attrs
from .urls import PAGE, Base, base_of, refresh_url, significant, srcset_urls, targets

#: Attributes whose URL decides an element's category (``data`` only for ``<object>``, the
#: ``content`` of a ``<meta http-equiv=refresh>`` too): what HTML and SVG elements load,
#: whatever the element (reading one that loads nothing only makes the gate stricter).
_URL_ATTRS = ("src", "data-src", "href", "xlink:href", "poster", "background")
#: Attributes holding a list of image candidates, each with its URL.
_SRCSET_ATTRS = ("srcset", "imagesrcset", "data-srcset")
#: Bytes that may continue a JavaScript identifier (non-ASCII counted in): a
#: signature starting with one must not follow one, so ``fbq(`` skips ``myfbq(``.
_IDENT = frozenset(f"{string.ascii_letters}{string.digits}_$".encode()) | set(range(0x80, 0x100))
_IDENT_TABLE = bytes(byte in _IDENT for byte in range(256))
#: Characters that continue a path segment name; a path prefix must not stop inside one.
_WORD = frozenset(f"{string.ascii_letters}{string.digits}_-")
#: Results are cached for up to this many distinct URLs and cookie names each,
#: holding at most this many bytes each (see :mod:`consentgate.cache`).
_CACHE_SIZE = 4096
_CACHE_BYTES = 2 << 20
#: Longer URLs and cookie names are classified but not cached.
_CACHE_MAX_LEN = 2048
#: Inline script texts up to this many bytes are cached by their text: a site's snippets
#: (a tag manager's loader, a JSON-LD block) come back unchanged on every page it serves,
#: and looking one up costs a hash of its bytes, not a search. Longer ones are searched.
_INLINE_CACHE_MAX_LEN = 8192
#: What a cache entry holds besides its own bytes, counted by the two caches keyed by
#: markup: its key tuple (three items) and its share of the dict's table.
_TUPLE_BYTES = sys.getsizeof((None, None, None))
_ENTRY_BYTES = _TUPLE_BYTES + 64
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
#: Rough frequency, per mille, of the commonest bytes in the inline scripts of real pages
#: (others count as 2): the inline search anchors on bytes that are rare there.
_SCRIPT_BYTES = {
    **dict.fromkeys(b" ", 250),
    **dict.fromkeys(b'e"ta', 40),
    **dict.fromkeys(b"niorsl,0", 20),
    **dict.fromkeys(b"d:ucpm2\\.gh1", 13),
    **dict.fromkeys(b"43-\nfy8957b_w=", 7),
    **dict.fromkeys(b"6Tv/(){};Fk", 4),
}
#: What one more candidate per thousand bytes costs, in passes over the text.
_CANDIDATE_COST = 0.045

#: One pass of the inline search: the regex's ``search`` and, for each signature it
#: finds, the signature, the offset of the anchor byte in it and its category index.
_Pass = tuple[
    Callable[[bytes, int, int], "re.Match[bytes] | None"], tuple[tuple[bytes, int, int], ...]
]


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
        signatures, self.inline_overlap = _collect_signatures(categories)
        self._passes = _inline_passes(signatures)
        self._longest = max(map(len, signatures), default=0)
        compiled = literal_search(list(signatures), list(signatures.values()), ident=_IDENT_TABLE)
        #: The compiled inline search, where it runs (the passes are its reference).
        self._find_inline = None if compiled is None else compiled.find
        paths = [path.lstrip("/") for _, path in (*self._same_site, *self._any_host)]
        hint = _hint_literals([*self._hosts, *paths, "data-consent"])
        self._hint_search = None if hint is None else _tag_hint(hint).search
        compiled = None if hint is None else literal_search(hint, [0] * len(hint), **_HINT_LOOK)
        #: The compiled hint search, where it runs (``_hint_search`` is its reference).
        self._hint_look = None if compiled is None else compiled.look
        self._exact_cookies, self._cookie_globs = _compile_cookies(categories)
        self._url_cache = Memo(self._match_key, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES)
        self._cookie_cache = Memo(
            self._match_cookie, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES
        )
        self._tag_cache = Memo(
            self._match_tag, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES, size=_tag_size
        )
        self._inline_cache = Memo(
            self._search_inline, max_entries=_CACHE_SIZE, max_bytes=_CACHE_BYTES, size=_text_size
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
            index = self._search_inline(text)
        else:
            index = self._cached_inline(text)
        return None if index < 0 else self._names[index]

    def _search_inline(self, text: bytes) -> int:
        """The category index of :meth:`classify_inline`'s answer, -1 for None."""
        size = len(text)
        best, best_index, limit = size, -1, size
        # Each pass finds the signatures that hold its anchor byte; a regex led by
        # one literal byte scans at memory speed, where one alternation of every
        # signature would stop at each byte that starts any of them.
        for search, entries in self._passes:
            match = search(text, 0, limit)
            while match is not None:
                at = match.start()
                for signature, offset, index in entries:
                    start = at - offset
                    if (
                        0 <= start <= best
                        and (start < best or index < best_index)
                        and text.startswith(signature, start)
                        and not (start and text[start] in _IDENT and text[start - 1] in _IDENT)
                    ):
                        best, best_index = start, index
                        limit = min(size, start + self._longest)
                match = search(text, at + 1, limit)
        return best_index

    def may_classify(self, tag: bytes) -> bool:
        """Whether :meth:`classify_element` could place the element of this start tag.

        A cheap look at the tag's raw bytes, before its attributes are decoded: when
        False, :meth:`classify_element` returns None for it. It looks for
        ``data-consent``, for each source pattern's host or path, and for what could
        hide one from a plain search: a character reference other than ``&amp;``, a
        percent-escape in a host or path, a character in a host that UTS 46 maps to ASCII
        or drops (fullwidth letters, ``。``, soft hyphens...; see :data:`MAPPED_LEADS`).

        :param tag: The start tag's bytes, or just its attributes.
        """
        look = self._hint_look
        if look is not None:  # compiled: one pass finds a literal, or bytes 1 or 3
            found = look(tag)
            if found & 1 or not found:  # a literal, or nothing that may hide one
                return bool(found)
            return _disguised(tag, tag.translate(_HINT_BYTES, b"\t\n\r"), found)
        search = self._hint_search
        if search is None:
            return True
        text = tag.translate(_HINT_BYTES, b"\t\n\r")
        if _disguised(tag, text, (1 in text) << 1 | (3 in text) << 2):
            return True
        return search(text) is not None

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


def _inline_passes(signatures: Mapping[bytes, int]) -> tuple[_Pass, ...]:
    """Group the signatures by an anchor byte each holds, rare in scripts; one regex per group.

    Each regex starts with its anchor byte, so the engine jumps from one occurrence of
    that byte to the next; there it checks what follows the anchor and, by looking
    behind, what precedes it.
    """
    uncovered = dict(signatures)
    passes: list[_Pass] = []
    for anchor in _anchors(list(signatures)):
        group = [signature for signature in uncovered if anchor in signature]
        entries = tuple((s, s.index(anchor), uncovered.pop(s)) for s in group)
        before: dict[bytes, list[bytes]] = {}
        for signature, offset, _ in entries:
            before.setdefault(signature[offset + 1 :], []).append(signature[:offset])
        ends = {rest: _behind(heads, bytes([anchor]) + rest) for rest, heads in before.items()}
        pattern = re.escape(bytes([anchor])) + _trie(ends)
        passes.append((re.compile(pattern).search, entries))
    return tuple(passes)


def _anchors(signatures: Sequence[bytes]) -> list[int]:
    """Bytes such that each signature holds one, at the least cost for the passes they lead.

    A pass costs one scan plus a little per candidate, so rare bytes are cheap. The best
    pair (or single byte) is found by trying them all; the greedy choice, most signatures
    per cost, is kept when it is cheaper or no pair covers everything.
    """

    def cost(byte: int) -> float:
        return 1 + _CANDIDATE_COST * _SCRIPT_BYTES.get(byte, 2)

    holders: dict[int, int] = {}  # byte -> bit set of the signatures holding it
    for i, signature in enumerate(signatures):
        for byte in set(signature):
            holders[byte] = holders.get(byte, 0) | 1 << i
    everything = (1 << len(signatures)) - 1
    chosen: list[int] = []
    left = everything
    while left:
        byte = max(sorted(holders), key=lambda b: (holders[b] & left).bit_count() / cost(b))
        chosen.append(byte)
        left &= ~holders[byte]
    candidates = sorted(holders)
    for pair in [(b,) for b in candidates] + list(itertools.combinations(candidates, 2)):
        covered = functools.reduce(operator.or_, (holders[b] for b in pair))
        if covered == everything and sum(map(cost, pair)) < sum(map(cost, chosen)):
            chosen = sorted(pair, key=lambda b: -holders[b].bit_count())
    return chosen


def _behind(heads: Sequence[bytes], tail: bytes) -> bytes:
    """A regex that checks, just after ``tail``, that one of ``heads`` precedes it."""
    if not all(heads):
        return b""
    looks = [b"(?<=" + re.escape(head + tail) + b")" for head in sorted(heads)]
    return looks[0] if len(looks) == 1 else b"(?:" + b"|".join(looks) + b")"


def _trie(branches: Mapping[bytes, bytes]) -> bytes:
    """A regex matching each key, then its value, branching on one byte at a time.

    Keys sharing a start are tried as one, so a candidate is dropped at its first
    differing byte instead of once per key.
    """
    groups: dict[bytes, dict[bytes, bytes]] = {}
    tails: list[bytes] = []
    for key, tail in sorted(branches.items()):
        if key:
            groups.setdefault(key[:1], {})[key[1:]] = tail
        else:
            tails.append(tail)
    alternatives = [re.escape(first) + _trie(rest) for first, rest in groups.items()]
    alternatives += [tail or b"(?:)" for tail in tails]
    if len(alternatives) == 1:
        return alternatives[0]
    return b"(?:" + b"|".join(alternatives) + b")"


#: UTF-8 lead bytes of the characters that UTS 46 maps to ASCII or to nothing (fullwidth
#: forms, "。", soft hyphen, zero-width and compatibility characters...): only with them can
#: a host written in non-ASCII be a tracker's. Most letters of most scripts (lead bytes
#: C3, D0-DF, E4-E9...) map to non-ASCII only. Checked against idna by the tests.
MAPPED_LEADS = bytes.fromhex("c2 c4 c5 c7 ca cb cd e0 e1 e2 e3 ea ef f0 f1 f2 f3 f4")


def _hint_table() -> bytes:
    """The translation :meth:`Rules.may_classify` applies to a tag before its search.

    ASCII letters are lower-cased and ``\\`` becomes ``/``, as URL parsing does; ``.``
    and ``-`` become 2, the one byte the hint's regex is anchored on; ``%`` and ``&``
    become 1 and the lead bytes in :data:`MAPPED_LEADS` 3, so that one look finds each
    kind; bytes 1 to 3 themselves become 0.
    """
    table = bytearray(range(256))
    table[1:4] = bytes(3)
    table[0x41:0x5B] = bytes(range(0x61, 0x7B))
    for byte, code in zip(b"\\.-%&", b"/\x02\x02\x01\x01", strict=True):
        table[byte] = code
    for byte in MAPPED_LEADS:
        table[byte] = 3
    return bytes(table)


_HINT_BYTES = _hint_table()
#: How the compiled hint search reads a tag: as :meth:`Rules.may_classify` translates it.
_HINT_LOOK = {"table": _HINT_BYTES, "delete": b"\t\n\r"}
#: A percent-escape outside a query or fragment: hosts are percent-decoded, and servers
#: decode escapes in paths. One pass from the start, skipping each "?" or "#" with the rest
#: of its value (up to a quote or a space) and other bytes in runs, never going back.
_ESCAPE = re.compile(rb"""(?:[?#][^\s"']*+|[^?#\x01]++|\x01(?![0-9a-f]{2}))*+\x01[0-9a-f]{2}""")
#: A character of :data:`MAPPED_LEADS` in a host: after "//" (or "\\"), or after a
#: scheme's ":" and at most one slash (two searches, each led by a literal).
_MAPPED_AFTER_SLASHES = re.compile(rb"""//[^/?#\s"'>\x03]*+\x03""").search
_MAPPED_AFTER_COLON = re.compile(rb""":/?[^/?#\s"'>\x03]*+\x03""").search


def _hint_literals(literals: Sequence[str]) -> list[bytes] | None:
    """What a start tag must hold for :meth:`Rules.classify_element` to place it, or None.

    The literals are the hosts, same-site paths and file names of the source patterns,
    and ``data-consent``, returned as they read in a tag translated by
    :data:`_HINT_BYTES` (so also without tab, LF and CR, which URL parsing drops). None
    when a pattern matches any URL or a byte search could not see it.
    """
    if any(not s or not s.isascii() or not s.isprintable() or "&" in s for s in literals):
        return None
    texts = [literal.encode().translate(_HINT_BYTES) for literal in literals]
    return None if any(b"\x01" in text for text in texts) else texts


def _tag_hint(texts: Sequence[bytes]) -> re.Pattern[bytes]:
    """The regex finding any of :func:`_hint_literals`' ``texts`` in a translated tag.

    Each is anchored on its first dot or hyphen, so the search jumps from one such byte
    to the next and checks what follows and, by looking behind, what precedes.
    """
    anchored: dict[bytes, list[bytes]] = {}
    others: dict[bytes, bytes] = {}
    for text in texts:
        at = text.find(b"\x02")
        if at < 0:
            others[text] = b""
        else:
            anchored.setdefault(text[at + 1 :], []).append(text[:at])
    tails = {rest: _behind(heads, b"\x02" + rest) for rest, heads in anchored.items()}
    # Literals with a dot or hyphen first: alone, they make a pattern led by one byte.
    pattern = [b"\x02" + _trie(tails)] if tails else []
    pattern += [_trie(others)] if others else []
    return re.compile(b"|".join(pattern))


def _disguised(tag: bytes, text: bytes, seen: int) -> bool:
    """Whether a start tag may hide a host or path from :meth:`Rules.may_classify`'s
    search: ``text`` is the tag translated by :data:`_HINT_BYTES`; ``seen`` has bit 2
    set if byte 1 (``%``, ``&``) is in it, bit 4 if byte 3 (a mapped lead) is."""
    if seen & 2 and (  # "%": looked for with white space kept, as it ends an unquoted attribute
        (0x25 in tag and _ESCAPE.match(tag.translate(_HINT_BYTES)) is not None)
        or tag.count(b"&") != tag.count(b"&amp;")
    ):
        return True
    return bool(seen & 4) and bool(_MAPPED_AFTER_SLASHES(text) or _MAPPED_AFTER_COLON(text))


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
