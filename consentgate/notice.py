"""The text a visitor reads in a rendered banner, as one canonical string.

The notice recorded with each decision is read from the rendered banner, so the
wording on record is the wording shown. The text is taken with the standard
library's HTML parser: the input is the gate's own markup (or the site's banner
template), never a page from the app, so the rewriter's streaming tokenizer has
nothing to add here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements that run on inside a line of text; every other element starts a new line.
_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark"}
    | {"q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"}
)
#: Elements whose content a visitor never reads as text.
_UNSEEN = frozenset({"head", "noscript", "script", "style", "template", "title"})
_SPACES = re.compile(r"\s+")


def notice_text(html: str) -> str:
    """The text a visitor reads in a rendered banner, as one canonical string.

    One line per block of text (heading, paragraph, label, button), runs of white
    space made one space, styles and scripts left out; buttons and links keep their
    words, not their targets. The same wording always gives the same string, however
    the markup around it is indented, so its digest names the wording.
    """
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


class _TextReader(HTMLParser):
    """Collect an HTML fragment's visible text, line by line (see :func:`notice_text`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.unseen = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSEEN:
            self.unseen += 1
        elif tag not in _INLINE:
            self.break_line()
        values = dict(attrs)
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.line.append(values.get("value") or "")
            self.break_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSEEN:
            self.unseen = max(0, self.unseen - 1)
        elif tag not in _INLINE:
            self.break_line()

    def handle_data(self, data: str) -> None:
        if not self.unseen:
            self.line.append(data)

    def break_line(self) -> None:
        line = _SPACES.sub(" ", "".join(self.line)).strip()
        if line:
            self.lines.append(line)
        self.line = []

    def text(self) -> str:
        self.break_line()
        return "\n".join(self.lines)
