"""Whether an HTML body's bytes mean to a browser what they mean to the gate.

The gate matches markup as ASCII bytes, which is right for every encoding a
browser may pick except UTF-16 and ISO-2022-JP. A browser picks the encoding
as the HTML Standard's encoding sniffing algorithm says: a byte order mark
first, whatever the headers say; then the ``charset`` of ``Content-Type``;
then ``<meta charset>`` or a guess from the bytes (where ISO-2022-JP's escape
sequences can be enough). So a body is unreadable here when the header names
such an encoding, when it starts with a UTF-16 BOM, or, with no ASCII-compatible
charset declared, when it holds an ISO-2022 escape that switches out of ASCII.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from .encoding import Feeder

#: Encoding Standard labels of UTF-16 and ISO-2022-JP, whose bytes the gate cannot match.
_UNREADABLE = frozenset(
    {
        "csunicode",
        "iso-10646-ucs-2",
        "ucs-2",
        "unicode",
        "unicodefeff",
        "unicodefffe",
        "utf-16",
        "utf-16be",
        "utf-16le",
        "csiso2022jp",
        "iso-2022-jp",
    }
)
#: Label beginnings that no browser reads as ASCII either (UTF-32, UCS-4 and spellings).
_UNREADABLE_PREFIXES = ("utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4")
#: Labels of UTF-8 and windows-1252: declared, they rule out ISO-2022-JP.
_ASCII_LABELS = frozenset(
    {
        "utf-8",
        "utf8",
        "unicode-1-1-utf-8",
        "unicode11utf8",
        "unicode20utf8",
        "x-unicode20utf8",
        "windows-1252",
        "cp1252",
        "x-cp1252",
        "iso-8859-1",
        "iso8859-1",
        "iso88591",
        "iso_8859-1",
        "latin1",
        "l1",
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
    }
)
#: The byte order marks of UTF-16, which override any declared charset.
_UTF16_BOMS = (b"\xfe\xff", b"\xff\xfe")
#: ISO-2022-JP escapes into a two-byte or katakana set: ``ESC $`` and ``ESC (``.
_ESCAPES = (b"\x1b$", b"\x1b(")


def charset_facts(content_type: str) -> tuple[str | None, bool]:
    """What the ``charset`` of a ``Content-Type`` value says about gating the body.

    Returns why the body cannot be gated (None if it can), and whether it may
    still be read as ISO-2022-JP (no UTF-8 or windows-1252 label declared).
    Apps send few distinct values, so short ones are remembered.
    """
    return (_cached_facts if len(content_type) <= 256 else _facts)(content_type)


def _facts(content_type: str) -> tuple[str | None, bool]:
    label = ""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            label = value.strip().strip('"').strip().lower()
            break
    if label in _UNREADABLE or label.startswith(_UNREADABLE_PREFIXES):
        return f"charset {label!r} is not ASCII-compatible", False
    return None, label not in _ASCII_LABELS


_cached_facts = lru_cache(maxsize=64)(_facts)


def watch(inner: Feeder, first: bytes, escapes: bool, unreadable: Callable[[str], None]) -> Feeder:
    """``inner``, wrapped in a :class:`Sniff` unless the first chunk shows it needs none."""
    if escapes or len(first) < 2 or first.startswith(_UTF16_BOMS):
        return Sniff(inner, escapes, unreadable)
    return inner


class Sniff:
    """Watch the decoded body for what the headers could not tell.

    A UTF-16 BOM is found before any byte reaches ``inner``; then the body is
    passed on untouched if ``unreadable`` returns, since the gate cannot read
    it. An ISO-2022 escape is looked for in every chunk when ``escapes`` is
    set; if ``unreadable`` returns, gating goes on as well as it can.

    :param unreadable: told why; raises :class:`~consentgate.encoding.Unreadable`
        to fail closed, or returns to let the body pass.
    """

    def __init__(self, inner: Feeder, escapes: bool, unreadable: Callable[[str], None]) -> None:
        self.inner = inner
        self.escapes = escapes
        self.unreadable = unreadable
        self._head: bytes | None = b""  # the first bytes until the BOM is ruled out
        self._last = b""  # the byte before this chunk, for an escape cut in two
        self._bypass = False

    def feed(self, data: bytes) -> bytes:
        """Check ``data`` and gate it."""
        if self._head is not None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head = None
            if data.startswith(_UTF16_BOMS):
                self.unreadable("the body starts with a UTF-16 byte order mark")
                self._bypass = True
        if self._bypass:
            return data
        if self.escapes and (self._last or b"\x1b" in data):
            self._find_escape(data)
        return self.inner.feed(data)

    def close(self) -> bytes:
        """Gate whatever is left."""
        head, self._head = self._head or b"", None
        if self._bypass:
            return head
        return self.inner.feed(head) + self.inner.close() if head else self.inner.close()

    def _find_escape(self, data: bytes) -> None:
        seen = self._last + data
        self._last = b"\x1b" if data.endswith(b"\x1b") else b""
        if any(escape in seen for escape in _ESCAPES):
            self.escapes = False  # told once
            self.unreadable("the body holds an ISO-2022 escape and declares no charset")
