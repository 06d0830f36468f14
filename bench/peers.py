"""Other ways to apply the same policy, to put the gate's numbers in context.

- :class:`ParserGate`: the naive peer, a stdlib :class:`html.parser.HTMLParser`
  that re-emits what it keeps (``get_starttag_text()`` and the raw data).
- :class:`LolGate`: Cloudflare's lol-html (``python-lolhtml``) with Python
  element and text handlers.
- :class:`CopyGate`: hands every chunk back; the limit any gate can reach.

All three take the same :class:`~consentgate.rules.Rules` and ``allows``
callback as :class:`~consentgate.rewriter.HtmlGate` and remove the same
elements: ``script``, ``iframe``, ``img`` and ``link`` whose URL or
``data-consent`` names a refused category, and inline scripts whose text
carries a refused signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any, SupportsIndex

from consentgate.rules import Rules

#: The elements the peers look at.
GATED_TAGS = frozenset({"script", "iframe", "img", "link"})

Allows = Callable[[str], bool]


def _refused(rules: Rules, allows: Allows, tag: str, attrs: dict[str, str]) -> bool:
    category = rules.classify_element(tag, attrs)
    return category is not None and not allows(category)


class CopyGate:
    """No policy at all: every chunk comes back as it went in."""

    def feed(self, data: bytes) -> bytes:
        """Return ``data``."""
        return data

    def close(self) -> bytes:
        """Nothing is ever held back."""
        return b""


class ParserGate:
    """The policy on top of :mod:`html.parser`, as a first attempt would do it.

    Bytes are decoded as Latin-1 so that re-encoding gives back the exact
    input bytes, whatever the page's real encoding.
    """

    def __init__(self, rules: Rules, allows: Allows) -> None:
        self.parser = _PolicyParser(rules, allows)

    def feed(self, data: bytes) -> bytes:
        """Parse a chunk; return what can be written out so far."""
        self.parser.feed(data.decode("latin-1"))
        return self.parser.flush()

    def close(self) -> bytes:
        """Finish the document."""
        self.parser.close()
        if self.parser.held is not None:
            self.parser.out.extend(self.parser.held)
        return self.parser.flush()


class _PolicyParser(HTMLParser):
    """Re-emits what it parses, except the elements the policy refuses."""

    def __init__(self, rules: Rules, allows: Allows) -> None:
        super().__init__(convert_charrefs=False)
        self.rules = rules
        self.allows = allows
        self.out: list[str] = []
        #: Name of the removed element whose content is being skipped.
        self.skipping = ""
        #: Start tag and text of the inline script being held.
        self.held: list[str] | None = None

    def flush(self) -> bytes:
        """What was parsed since the last call, as bytes."""
        text = "".join(self.out)
        self.out.clear()
        return text.encode("latin-1")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        raw = self.get_starttag_text() or ""
        if tag in GATED_TAGS:
            values = {name: value or "" for name, value in attrs}
            if _refused(self.rules, self.allows, tag, values):
                if tag in ("script", "iframe"):
                    self.skipping = tag
                return
            if tag == "script" and "src" not in values:
                self.held = [raw]
                return
        self.out.append(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        if tag in GATED_TAGS:
            values = {name: value or "" for name, value in attrs}
            if _refused(self.rules, self.allows, tag, values):
                return
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping:
                self.skipping = ""
            return
        if tag == "script" and self.held is not None:
            held, self.held = self.held, None
            text = "".join(held[1:]).encode("latin-1")
            category = self.rules.classify_inline(text)
            if category is not None and not self.allows(category):
                return
            self.out.extend(held)
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.held is not None:
            self.held.append(data)
        else:
            self.out.append(data)

    def _raw(self, text: str) -> None:
        if not self.skipping:
            self.out.append(text)

    def handle_comment(self, data: str) -> None:
        self._raw(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._raw(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self._raw(f"<![{data}]>")

    def handle_pi(self, data: str) -> None:
        self._raw(f"<?{data}>")

    def handle_entityref(self, name: str) -> None:
        self._raw(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._raw(f"&#{name};")


class _LolHandler:
    """lol-html handlers for the gated elements, in Python."""

    def __init__(self, rules: Rules, allows: Allows) -> None:
        self.rules = rules
        self.allows = allows
        self.inline = False
        self.held: list[str] = []
        import lolhtml

        self.html = lolhtml.ContentType.HTML

    def element(self, element: Any) -> None:
        tag = element.tag_name.lower()
        attrs = {name.lower(): value for name, value in element.attributes}
        if _refused(self.rules, self.allows, tag, attrs):
            element.remove()
            self.inline = False
        else:
            self.inline = tag == "script" and "src" not in attrs

    def text(self, chunk: Any) -> None:
        # lol-html has already written the start tag when the script's text
        # arrives, so a refused inline script is left as an empty element.
        if not self.inline:
            return
        self.held.append(chunk.text)
        if not chunk.last_in_text_node:
            chunk.remove()
            return
        text, self.held = "".join(self.held), []
        category = self.rules.classify_inline(text.encode("utf-8", "surrogateescape"))
        if category is not None and not self.allows(category):
            chunk.remove()
        else:
            chunk.replace(text, self.html)

    def comments(self, comment: Any) -> None:
        return None


class _LolNoscript:
    """Gates the markup inside ``<noscript>``, which lol-html sees as raw text.

    Browsers with scripting off parse it as markup and load what it holds
    (the tracking pixels), so the text is run through a nested rewriter.
    """

    def __init__(self, rules: Rules, allows: Allows) -> None:
        import lolhtml

        self.rules = rules
        self.allows = allows
        self.held: list[str] = []
        self.html = lolhtml.ContentType.HTML

    def element(self, element: Any) -> None:
        return None

    def text(self, chunk: Any) -> None:
        self.held.append(chunk.text)
        if not chunk.last_in_text_node:
            chunk.remove()
            return
        text, self.held = "".join(self.held), []
        inner = LolGate(self.rules, self.allows)
        data = inner.feed(text.encode("utf-8", "surrogateescape")) + inner.close()
        chunk.replace(data.decode("utf-8", "surrogateescape"), self.html)

    def comments(self, comment: Any) -> None:
        return None


class LolGate:
    """The policy with lol-html doing the parsing and Python deciding."""

    def __init__(self, rules: Rules, allows: Allows) -> None:
        import lolhtml

        self.out: list[bytes] = []
        self.rewriter = lolhtml.HTMLRewriter(self._sink)
        handler = _LolHandler(rules, allows)
        for selector in sorted(GATED_TAGS):
            self.rewriter.on(selector, handler)
        self.rewriter.on("noscript", _LolNoscript(rules, allows))

    def _sink(self, chunk: bytes | bytearray | Iterable[SupportsIndex]) -> None:
        self.out.append(bytes(chunk))

    def feed(self, data: bytes) -> bytes:
        """Rewrite a chunk; return what lol-html wrote out."""
        self.rewriter.write(data)
        return self._flush()

    def close(self) -> bytes:
        """Finish the document."""
        self.rewriter.end()
        return self._flush()

    def _flush(self) -> bytes:
        data = b"".join(self.out)
        self.out.clear()
        return data


def lolhtml_available() -> bool:
    """Whether ``python-lolhtml`` is installed."""
    try:
        import lolhtml  # noqa: F401
    except ImportError:
        return False
    return True
