"""The byte searches behind :class:`~consentgate.rules.Rules`: inline signatures in a
script's text, and the source patterns' hosts and paths in a start tag's bytes.

The rewriter asks both about every script and every tag it may gate, so each is one pass
over the bytes: regular expressions led by a rare byte (the reference, and the pure-Python
path) or, where the compiled extension runs, a look at each byte in C
(:func:`consentgate.speedups.literal_search`). ``tests/test_rules.py`` runs both on the
same input.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import string
from collections.abc import Callable, Mapping, Sequence

from .categories import Category
from .speedups import literal_search

__all__ = ["MAPPED_LEADS", "InlineSignatures", "TagHint"]

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
#: Bytes that may continue a JavaScript identifier (non-ASCII counted in): a
#: signature starting with one must not follow one, so ``fbq(`` skips ``myfbq(``.
_IDENT = frozenset(f"{string.ascii_letters}{string.digits}_$".encode()) | set(range(0x80, 0x100))
#: The same bytes as a table of 256 flags, as the compiled search reads them.
_IDENT_TABLE = bytes(byte in _IDENT for byte in range(256))


class InlineSignatures:
    """Finds the leftmost inline signature of the categories in a script's text.

    Signatures are searched as bytes, case-sensitively. One that starts with an
    identifier character only matches where no identifier character precedes it, so
    ``fbq(`` matches ``window.fbq(`` but not ``myfbq(``.

    :param categories: In configuration order; a signature of several is the first's.
    """

    def __init__(self, categories: Sequence[Category]) -> None:
        signatures, overlap = _collect_signatures(categories)
        #: The longest signature less one byte, plus the byte before it when the
        #: signature needs an identifier boundary (see ``Rules.inline_overlap``).
        self.overlap = overlap
        self._passes = _inline_passes(signatures)
        self._longest = max(map(len, signatures), default=0)
        compiled = literal_search(list(signatures), list(signatures.values()), ident=_IDENT_TABLE)
        #: :meth:`search` compiled, or None where the extension does not run.
        self.compiled = None if compiled is None else compiled.find

    def search(self, text: bytes) -> int:
        """The category index of the leftmost signature in ``text``, or -1.

        Where signatures of several categories start at that spot, the least index wins.
        """
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


class TagHint:
    """Whether a start tag's raw bytes may hold a URL to one of some hosts and paths.

    A cheap look before the attributes are decoded (see ``Rules.may_classify``): it looks
    for the literals and for what could hide one from a plain search: a character
    reference other than ``&amp;``, a percent-escape in a host or path, a character in a
    host that UTS 46 maps to ASCII or drops (see :data:`MAPPED_LEADS`).

    :param literals: The hosts, same-site paths and file names of the source patterns,
        and ``data-consent``.
    """

    def __init__(self, literals: Sequence[str]) -> None:
        texts = _hint_literals(literals)
        self._search = None if texts is None else _tag_hint(texts).search
        compiled = None
        if texts is not None:
            ranks = [0] * len(texts)
            compiled = literal_search(texts, ranks, table=_HINT_BYTES, delete=_HINT_DELETE)
        #: The compiled search, or None where the extension does not run.
        self.compiled = None if compiled is None else compiled.look

    def __call__(self, tag: bytes) -> bool:
        """False if no URL in ``tag`` (its bytes, or just its attributes') can be one of
        the literals' however it is decoded and parsed."""
        look = self.compiled
        if look is not None:  # one pass finds a literal, or bytes 1 or 3
            found = look(tag)
            if found & 1 or not found:  # a literal, or nothing that may hide one
                return bool(found)
            return _disguised(tag, tag.translate(_HINT_BYTES, _HINT_DELETE), found)
        search = self._search
        if search is None:
            return True
        text = tag.translate(_HINT_BYTES, _HINT_DELETE)
        if _disguised(tag, text, (1 in text) << 1 | (3 in text) << 2):
            return True
        return search(text) is not None


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
    """The translation :class:`TagHint` applies to a tag before its search.

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
#: What URL parsing removes anywhere: deleted before a tag is translated.
_HINT_DELETE = b"\t\n\r"
#: A percent-escape outside a query or fragment: hosts are percent-decoded, and servers
#: decode escapes in paths. One pass from the start, skipping each "?" or "#" with the rest
#: of its value (up to a quote or a space) and other bytes in runs, never going back.
_ESCAPE = re.compile(rb"""(?:[?#][^\s"']*+|[^?#\x01]++|\x01(?![0-9a-f]{2}))*+\x01[0-9a-f]{2}""")
#: A character of :data:`MAPPED_LEADS` in a host: after "//" (or "\\"), or after a
#: scheme's ":" and at most one slash (two searches, each led by a literal).
_MAPPED_AFTER_SLASHES = re.compile(rb"""//[^/?#\s"'>\x03]*+\x03""").search
_MAPPED_AFTER_COLON = re.compile(rb""":/?[^/?#\s"'>\x03]*+\x03""").search


def _hint_literals(literals: Sequence[str]) -> list[bytes] | None:
    """What a start tag must hold for :meth:`~.rules.Rules.classify_element` to place it, or None.

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
    """Whether a start tag may hide a host or path from :class:`TagHint`'s
    search: ``text`` is the tag translated by :data:`_HINT_BYTES`; ``seen`` has bit 2
    set if byte 1 (``%``, ``&``) is in it, bit 4 if byte 3 (a mapped lead) is."""
    if seen & 2 and (  # "%": looked for with white space kept, as it ends an unquoted attribute
        (0x25 in tag and _ESCAPE.match(tag.translate(_HINT_BYTES)) is not None)
        or tag.count(b"&") != tag.count(b"&amp;")
    ):
        return True
    return bool(seen & 4) and bool(_MAPPED_AFTER_SLASHES(text) or _MAPPED_AFTER_COLON(text))
