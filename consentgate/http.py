"""Response headers and caching rules for gated responses.

Decides, from the app's status and headers, whether a response is rewritten,
and makes its headers honest about it: ``Content-Length`` goes when the body
may change, ``Vary: Cookie`` tells caches the body depends on the visitor,
and ETags carry the consent state so that a conditional request can never be
answered ``304`` with a page rendered for another choice.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .charset import charset_facts
from .cookies import filter_set_cookies
from .encoding import content_codings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .consent import Consent

#: Content types whose bodies are gated.
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Response headers that load a URL, and the element each stands for.
_LOADING = {"link": "link", "refresh": "meta"}
#: Longest ``Link`` header read; a longer one is dropped.
_MAX_LINK = 8192
_LINK_URL = re.compile(r"<([^>]*)>")
#: Response headers the gate may act on whatever the body: cookies and what loads.
_ACTED_ON = frozenset(("set-cookie", *_LOADING))
#: What :func:`quick_look` says of a response.
PASSES, TAGS, PLANS = "passes", "tags", "plans"
#: What :func:`quick_look` makes of a header name: acted on, the content type, or neither.
_ACTS, _TYPE, _OTHER = "acts", "type", "other"
#: Header names as the app spells them -> their look; at most _MAX_LOOKS names of at
#: most _MAX_LOOK_NAME characters.
_LOOKS: dict[str, str] = {}
_MAX_LOOKS = 256
_MAX_LOOK_NAME = 64
#: Statuses that have no body to gate.
_NO_BODY = ("1", "204", "304")
#: The answer to a page that cannot be gated (``unreadable = "block"``).
BAD_GATEWAY = (
    b"<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>502 Bad Gateway</title>\n"
    b"<h1>Bad Gateway</h1>\n<p>This page could not be checked for content you have not "
    b"agreed to, so it was not sent. Please try again later.</p>\n"
)
_TAG = "-cg"
#: Headers a rewritten response changes, by lower-case name: its length and date
#: validator go ("drop"), the others are rewritten or gathered.
_GATED = {
    "content-length": "drop",
    "last-modified": "drop",
    "etag": "etag",
    "vary": "vary",
    "content-language": "content-language",
}
#: Longest ``If-None-Match`` read for tagged ETags; a longer one is dropped.
_MAX_IF_NONE_MATCH = 8192


@dataclass(slots=True)
class ResponsePlan:
    """What happens to one response: its final headers and, if rewritten, the gate."""

    headers: list[tuple[str, str]]
    #: Content codings of an HTML body to gate (() for none); None: pass it on untouched.
    encoding: tuple[str, ...] | None = None
    #: Why an HTML body cannot be gated, for the log.
    skipped: str | None = None
    #: The app's Content-Length, if it gave a valid one.
    length: int | None = None
    #: Whether the body may be read as ISO-2022-JP (no ASCII charset declared).
    escapes: bool = False


def state_tag(consent: Consent, mode: str = "opt-in", gpc: bool = False) -> str:
    """A short token naming a consent state, appended to ETags.

    The mode and the honoured GPC signal are part of the state: an undecided
    visitor's page differs between the modes (banner or notice, what runs), and
    the banner says when the signal is honoured. Opt-in without the signal keeps
    the tags it always had.
    """
    return _state_tag(consent.decided, consent.granted, mode, gpc)


@lru_cache(maxsize=256)
def _state_tag(decided: bool, granted: frozenset[str], mode: str, gpc: bool) -> str:
    state = ",".join(sorted(granted)) if decided else "?"
    if mode != "opt-in" or gpc:
        state += f";{mode};gpc={int(gpc)}"
    return f"{_TAG}{zlib.crc32(state.encode()):08x}"


def strip_conditional(environ: WSGIEnvironment, tag: str) -> bool:
    """Make ``If-None-Match`` safe for the app to evaluate.

    ETags this gate tagged are kept, untagged, only when they were rendered
    for the visitor's current consent state, whose :func:`state_tag` is
    ``tag``; the others are dropped, so the app answers in full instead of
    ``304``. Returns whether the request carried tagged ETags (a ``304``
    must then carry the tag back).
    """
    header = environ.get("HTTP_IF_NONE_MATCH")
    if not header or _TAG not in header:
        return False
    if len(header) > _MAX_IF_NONE_MATCH:
        # Not worth reading tag by tag: the app answers in full instead.
        del environ["HTTP_IF_NONE_MATCH"]
        return False
    kept = _untagged(header, tag)
    if kept is not None:
        environ["HTTP_IF_NONE_MATCH"] = kept
    else:
        del environ["HTTP_IF_NONE_MATCH"]
    return True


@lru_cache(maxsize=256)
def _untagged(header: str, tag: str) -> str | None:
    """``If-None-Match`` as the app may read it: ETags tagged ``tag`` untagged, others
    the gate tagged dropped, the rest kept; None when none is left. Remembered: a
    browser sends the same value again."""
    kept = []
    for etag in header.split(","):
        etag = etag.strip()
        body = etag[:-1] if etag.endswith('"') else etag
        if body.endswith(tag):
            kept.append(body[: -len(tag)] + '"')
        elif _TAG not in etag:
            kept.append(etag)
    return ", ".join(kept) if kept else None


def quick_look(status: str, headers: list[tuple[str, str]], conditional: bool) -> str:
    """What a response needs when no cookie is to be expired, in one quicker look than
    :func:`plan_response`'s, which gives the same:

    - :data:`PASSES`: it passes on as the app gave it (no HTML body, no ``Set-Cookie``,
      ``Link`` or ``Refresh``, not a ``304`` to tagged ETags); the plan is None;
    - :data:`TAGS`: a ``304`` to tagged ETags that needs nothing else: its headers are
      :func:`tag_etags`;
    - :data:`PLANS`: anything else, for :func:`plan_response`.

    :param conditional: the request carried tagged ETags.
    """
    looks = _LOOKS
    for name, value in headers:
        look = looks.get(name)
        if look is None:
            look = _look(name)
        if look is _ACTS or (
            look is _TYPE
            and value.lower().startswith(HTML_TYPES)
            and not status.startswith(_NO_BODY)
        ):
            return PLANS
    return TAGS if conditional and status.startswith("304") else PASSES


def _look(name: str) -> str:
    """What :func:`quick_look` makes of a header name, kept for the next response when
    short (apps send a few names, as they spell them; the cache is bounded)."""
    lower = name.lower()
    look = _ACTS if lower in _ACTED_ON else _TYPE if lower == "content-type" else _OTHER
    if len(_LOOKS) < _MAX_LOOKS and len(name) <= _MAX_LOOK_NAME:
        _LOOKS[name] = look
    return look


def plan_response(
    environ: WSGIEnvironment,
    status: str,
    headers: list[tuple[str, str]],
    *,
    keep_cookie: Callable[[str], bool],
    expire: Sequence[tuple[str, str]],
    tag: str,
    conditional: bool,
    keep_load: Callable[[str, dict[str, str]], bool] | None = None,
    vary: Sequence[str] = ("Cookie",),
    negotiated: Callable[[WSGIEnvironment], str | None] | None = None,
) -> ResponsePlan | None:
    """Filter the app's headers and decide whether the body is gated.

    Returns None when the response passes on exactly as the app gave it,
    headers and body: the common case of a response that is not HTML and
    sets no cookie costs one look at each header name.

    :param keep_cookie: whether a ``Set-Cookie`` of that name may pass.
    :param expire: ``Set-Cookie`` headers expiring refused request cookies.
    :param tag: the :func:`state_tag` of the visitor's consent, for ETags.
    :param vary: the request headers a gated page depends on, added to ``Vary``.
    :param conditional: the request carried tagged ETags.
    :param keep_load: whether an element (tag name, attributes) may load; ``Link`` and
        ``Refresh`` headers are read as the ``<link>`` and ``<meta>`` they stand for.
        None when the visitor refuses nothing.
    :param negotiated: reads from ``environ`` the language ``Accept-Language`` chose for
        what the gate adds to a gated page, or None
        (:meth:`~consentgate.i18n.LanguageChooser.negotiated`); asked of gated pages only.
        That language is added to the page's ``Content-Language``, and ``Accept-Language``
        to its ``Vary``.
    """
    content_type = encoding = length = ""
    has_cookie = loads = False
    for name, value in headers:
        lower = name.lower()
        if lower == "content-type":
            content_type = value
        elif lower == "set-cookie":
            has_cookie = True
        elif lower == "content-encoding":  # repeated, the headers make one list
            encoding = f"{encoding}, {value}" if encoding else value
        elif lower == "content-length":
            length = value
        elif lower in _LOADING:
            loads = True
    gated = content_type.lower().startswith(HTML_TYPES) and not status.startswith(_NO_BODY)
    tagged = conditional and status.startswith("304")
    loads = loads and keep_load is not None
    if not (gated or has_cookie or expire or tagged or loads):
        return None
    if loads:
        assert keep_load is not None
        headers = [h for h in headers if _keeps_load(h, keep_load)]
    if has_cookie:
        headers, _dropped = filter_set_cookies(headers, keep_cookie)
    if expire:
        headers = [*headers, *expire]
    if not gated:
        return ResponsePlan(tag_etags(headers, tag) if tagged else headers)
    codings = content_codings(encoding) if encoding else ()
    if codings is None:
        return ResponsePlan(headers, skipped=f"Content-Encoding {encoding!r} cannot be decoded")
    skipped, escapes = charset_facts(content_type)
    if skipped is not None:
        return ResponsePlan(headers, skipped=skipped)
    language = None if negotiated is None else negotiated(environ)
    if language is not None:
        vary = (*vary, "Accept-Language")
    headers = _gated_headers(headers, tag, vary, language)
    # HEAD has no body to gate, but its headers must match what GET would send.
    if environ.get("REQUEST_METHOD") == "HEAD":
        return ResponsePlan(headers)
    size = int(length) if length.isdigit() else None
    return ResponsePlan(headers, codings, length=size, escapes=escapes)


def _keeps_load(header: tuple[str, str], keep: Callable[[str, dict[str, str]], bool]) -> bool:
    """Whether a response header may reach the browser: False for a ``Link`` or ``Refresh``
    that loads what ``keep`` refuses (a ``Link`` goes whole when any of its URLs does)."""
    name, value = header
    tag = _LOADING.get(name.lower())
    if tag is None:
        return True
    if tag == "meta":
        return keep(tag, {"http-equiv": "refresh", "content": value})
    # Browsers give up on a Link header this long; it cannot hide what is read.
    urls = _LINK_URL.findall(value[:_MAX_LINK])
    return len(value) <= _MAX_LINK and all(keep(tag, {"href": url}) for url in urls)


def bad_gateway_headers(length: int = len(BAD_GATEWAY)) -> list[tuple[str, str]]:
    """Headers of the :data:`BAD_GATEWAY` page (or its translation, ``length`` bytes)."""
    return [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(length)),
        ("Cache-Control", "no-store"),
    ]


def hostname(environ: WSGIEnvironment) -> str:
    """The request's host name without port, for cookie ``Domain`` attributes."""
    host: str = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rpartition(":")[0] if ":" in host else host


def _gated_headers(
    headers: list[tuple[str, str]], tag: str, depends_on: Sequence[str], language: str | None
) -> list[tuple[str, str]]:
    """Headers of a rewritten response, in one pass: no length or date validator, a
    tagged ETag, then ``Content-Language`` (when ``language`` is added to it) and ``Vary``
    last, each gathered from the app's repeats of it."""
    out = []
    vary = content_language = ""
    for header in headers:
        kind = _GATED.get(header[0].lower())
        if kind is None:
            out.append(header)  # most headers: kept as they are
        elif kind == "etag":
            out.append((header[0], _with_tag(header[1], tag)))
        elif kind == "vary":
            vary = f"{vary}, {header[1]}" if vary else header[1]
        elif kind == "content-language":
            if language is None:
                out.append(header)
            else:
                value = header[1]
                content_language = f"{content_language}, {value}" if content_language else value
        # else "drop": the length and the date validator
    if language is not None:
        out.append(("Content-Language", _with_language(content_language, language)))
    out.append(("Vary", with_vary(vary, depends_on)))
    return out


def _with_language(value: str, language: str) -> str:
    """A ``Content-Language`` value with ``language`` after the app's own, unless listed."""
    if not value:  # the app's own page seldom says
        return language
    if language.lower() in {tag.strip().lower() for tag in value.split(",")}:
        return value
    return f"{value}, {language}"


def with_vary(vary: str, names: Sequence[str]) -> str:
    """The ``Vary`` value ``vary`` with each of ``names`` it lacks appended."""
    if not vary:  # the app's own page seldom varies
        return ", ".join(names)
    if "*" in vary:
        return vary
    listed = {name.strip().lower() for name in vary.split(",")}
    missing = [name for name in names if name.lower() not in listed]
    return ", ".join(filter(None, (vary, *missing)))


def tag_etags(headers: list[tuple[str, str]], tag: str) -> list[tuple[str, str]]:
    """``headers`` with each ``ETag`` tagged ``tag`` (:func:`state_tag`)."""
    return [
        (name, _with_tag(value, tag)) if name.lower() == "etag" else (name, value)
        for name, value in headers
    ]


def _with_tag(etag: str, tag: str) -> str:
    """``etag`` with ``tag`` before its closing quote (one without a closing quote is kept)."""
    return etag[:-1] + tag + '"' if etag.endswith('"') and len(etag) > 1 else etag
