r"""Read URLs as browsers do: which host and path an attribute value makes them load.

The gate compares hosts and paths with its source patterns, so it must reach the same host
and path as the WHATWG URL Standard's basic URL parser (which Chromium follows) from
whatever the markup holds: tabs and newlines anywhere are dropped, ``\`` is ``/``, special
schemes (``https:``) ignore missing or extra slashes, a host is percent-decoded and mapped
through UTS 46 (fullwidth letters, ``。`` as a dot, soft hyphens dropped, case folded), and a
relative URL resolves against the document's ``<base href>``.

Where the answer depends on what the gate does not know, every reading is returned: the
page's scheme decides whether ``https:host/x`` is absolute (on an http page) or a path (on an
https page), so both count. Where browsers would reject a URL, reading it anyway only makes
the gate stricter, so host validity is not checked. Pure: no I/O.

>>> targets(significant("HTTPS:\\\\www.Ex\u00adample\u3002com\\a/../b.js?q"))
(Target(host='www.example.com', path='/b.js'),)
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from urllib.parse import unquote

import idna

__all__ = [
    "PAGE",
    "Base",
    "Target",
    "base_of",
    "domain_to_ascii",
    "refresh_url",
    "significant",
    "srcset_urls",
    "targets",
]

#: Schemes whose URLs load from a host; ``file:`` has hosts too, but pages cannot load it.
SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp"})
#: What URL parsing strips from both ends (C0 controls and space) and removes anywhere.
_C0_SPACE = "".join(map(chr, range(0x21)))
_TAB_NEWLINE = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_SLASHES = re.compile(r"[/\\]*")
_AUTHORITY_END = re.compile(r"[/\\]")
#: Path segments that are ``.`` and ``..``, in every spelling (lower-cased).
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})
#: A percent-escape of a character servers read as itself (RFC 3986 unreserved).
_UNRESERVED = re.compile(r"%(2[dDeE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])")
_HTML_SPACE = "\t\n\f\r "
#: A srcset candidate's URL, after the spaces and commas before it; then its descriptors.
_CANDIDATE = re.compile(r"[\t\n\f\r ,]*+([^\t\n\f\r ]*+)")
_DESCRIPTORS = re.compile(r"(?:[^,(]|\([^)]*+\)?)*+")


class Target(NamedTuple):
    """Where a URL loads from."""

    host: str | None  #: ASCII, lower case, no trailing dot; None: the page's own host
    path: str  #: absolute, dot segments removed


class Base(NamedTuple):
    """What relative URLs resolve against: the page, or a ``<base href>``."""

    scheme: str | None  #: None: the page's, http or https
    host: str | None  #: None: the page's host
    path: str


#: The page itself, whose URL the gate does not know: its path is taken as ``/``.
PAGE = Base(None, None, "/")


def significant(value: str) -> str:
    """The part of an attribute value that decides where it loads from.

    Surrounding spaces and controls go, tabs and newlines anywhere, and the query and
    fragment (which never change the host or path); a value that was only a query or
    fragment becomes ``?`` (it loads the base URL itself), an empty one stays empty.
    """
    url = value.strip(_C0_SPACE)
    cut = url.partition("?")[0].partition("#")[0]
    if "\t" in cut or "\n" in cut or "\r" in cut:  # rare; translating is slow on long values
        cut = cut.translate(_TAB_NEWLINE)
    return cut if cut or not url else "?"


def targets(url: str, bases: tuple[Base, ...] = (PAGE,)) -> tuple[Target, ...]:
    """Each host and path the URL may load from, resolved against each possible base.

    :param url: As :func:`significant` returns it.
    :param bases: What :func:`base_of` returned for the page's ``<base href>``.
    """
    if not url:
        return ()
    found: list[Target] = []
    for base in bases:
        found += (target for _, target in _parse("" if url == "?" else url, base))
    return tuple(dict.fromkeys(found))


def base_of(href: str) -> tuple[Base, ...]:
    """The bases a ``<base href>`` value gives the relative URLs after it.

    Resolved against the page; a value that gives no network URL leaves the page's.
    """
    url = significant(href)
    if url in ("", "?"):  # the page's own URL, with a query that changes nothing here
        return (PAGE,)
    found = [Base(scheme, *target) for scheme, target in _parse(url, PAGE)]
    return tuple(dict.fromkeys(found)) or (PAGE,)


def _parse(url: str, base: Base) -> list[tuple[str | None, Target]]:
    """The scheme and target of ``url`` read against ``base``: none, one, or two readings."""
    m = _SCHEME.match(url)
    if m is None:
        return _relative(url, base)
    scheme, rest = m[0][:-1].lower(), url[m.end() :]
    if scheme not in SPECIAL:
        return []  # data:, javascript:, blob:, mailto: and the like load from no host
    if _two_slashes(rest) or scheme not in ("http", "https") or base.scheme not in (None, scheme):
        return _authority(scheme, rest)
    # The base's scheme: "https:x" is relative. Possibly the base's (unknown): both readings.
    found = _relative(rest, base._replace(scheme=scheme))
    return found + _authority(scheme, rest) if base.scheme is None else found


def _relative(ref: str, base: Base) -> list[tuple[str | None, Target]]:
    """A URL without a scheme, against ``base`` (always a special URL for the gate)."""
    if _two_slashes(ref):
        return _authority(base.scheme, ref)
    if ref[:1] in ("/", "\\"):
        return [(base.scheme, Target(base.host, _path(ref)))]
    if not ref:
        return [(base.scheme, Target(base.host, base.path))]
    directory = base.path[: base.path.rfind("/") + 1] or "/"
    return [(base.scheme, Target(base.host, _path(directory + ref)))]


def _authority(scheme: str | None, text: str) -> list[tuple[str | None, Target]]:
    """The host and path after a special scheme: slashes first are skipped, however many."""
    text = text[_SLASHES.match(text).end() :]  # type: ignore[union-attr]  # always matches
    m = _AUTHORITY_END.search(text)
    authority, path = (text, "/") if m is None else (text[: m.start()], text[m.start() :])
    host = _host(authority.rpartition("@")[2])
    return [] if host is None else [(scheme, Target(host, _path(path)))]


def _host(text: str) -> str | None:
    """The host of an authority without user info, as browsers map it; None if empty."""
    if text.startswith("["):  # an IPv6 literal: no name to match
        return text.partition("]")[0].lower() + "]"
    name = text.partition(":")[0]
    if "%" in name:
        name = unquote(name, errors="replace")
    name = name.lower() if name.isascii() else domain_to_ascii(name)
    return name.rstrip(".") or None


def domain_to_ascii(name: str) -> str:
    """The WHATWG "domain to ASCII" of a non-ASCII name, for comparison with ASCII patterns.

    UTS 46 mapping, non-transitional and without the STD3 rules, as browsers apply it;
    labels left non-ASCII are Punycode-encoded. Where the mapping rejects a character
    (browsers then reject the URL, unless their Unicode version is newer), the name is
    still compatibility-folded and stripped of format characters such as soft hyphens, so
    that a tracker's host is not missed.
    """
    try:
        mapped = idna.uts46_remap(name, std3_rules=False)  # non-transitional
    except idna.IDNAError:
        folded = unicodedata.normalize("NFKC", name).casefold().replace("\u3002", ".")
        mapped = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in mapped.split(".")
    )


def _two_slashes(text: str) -> bool:
    return text[:1] in ("/", "\\") and text[1:2] in ("/", "\\")


def _path(path: str) -> str:
    """A special URL's path as servers read it: ``\\`` is ``/``, dot segments resolved,
    escapes of unreserved characters decoded."""
    path = path.replace("\\", "/")
    if "%" in path:
        path = _UNRESERVED.sub(lambda m: chr(int(m[1], 16)), path)
    if "." not in path:
        return path
    segments: list[str] = []
    parts = path.split("/")[1:]
    for i, segment in enumerate(parts):
        dots = segment.lower()
        if dots in _DOUBLE_DOT:
            if segments:
                segments.pop()
        elif dots not in _SINGLE_DOT:
            segments.append(segment)
            continue
        if i == len(parts) - 1:  # "/a/.." is "/", not "/a"
            segments.append("")
    return "/" + "/".join(segments)


def srcset_urls(value: str) -> list[str]:
    """The image URLs of a ``srcset`` (or ``imagesrcset``) value, as HTML parses it.

    Each candidate is a URL then descriptors up to a comma outside parentheses; a URL that
    ends in commas ends its candidate there. Candidates with bad descriptors are kept:
    reading too many URLs only makes the gate stricter.
    """
    urls: list[str] = []
    pos = 0
    while (m := _CANDIDATE.match(value, pos)) is not None and m[1]:
        url, pos = m[1], m.end()
        if url.endswith(","):
            url = url.rstrip(",")
        elif (descriptors := _DESCRIPTORS.match(value, pos)) is not None:
            pos = descriptors.end()
        if url:
            urls.append(url)
    return urls


def refresh_url(content: str) -> str | None:
    """The URL of a ``<meta http-equiv=refresh>`` content value, or None (the page itself).

    Follows the HTML Standard's "shared declarative refresh steps": a time, then ``;`` or
    ``,``, then the URL, optionally after ``url=`` and in quotes.
    """
    text, pos = content, 0
    pos = _skip(text, pos, _HTML_SPACE)
    start = pos
    pos = _skip(text, pos, "0123456789")
    if pos == start and text[pos : pos + 1] != ".":
        return None
    pos = _skip(text, pos, "0123456789.")
    if pos >= len(text) or text[pos] not in f";,{_HTML_SPACE}":
        return None
    pos = _skip(text, pos, _HTML_SPACE)
    if text[pos : pos + 1] in (";", ","):
        pos += 1
    pos = _skip(text, pos, _HTML_SPACE)
    if pos >= len(text):
        return None
    for letter in "url":
        if text[pos : pos + 1].lower() != letter:
            break
        pos += 1
    else:
        pos = _skip(text, pos, _HTML_SPACE)
        if text[pos : pos + 1] == "=":
            pos = _skip(text, pos + 1, _HTML_SPACE)
    quote = text[pos : pos + 1] if text[pos : pos + 1] in ("'", '"') else ""
    url = text[pos + len(quote) :]
    return url.partition(quote)[0] if quote else url


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos
