"""Reading, filtering and expiring cookies, as plain functions on header
strings.

Nothing here touches a request or the clock: the middleware passes header
values in and gets header values back. :func:`filter_set_cookies` and
:func:`cookie_value` run on every response and request, so they avoid a
full cookie parse whenever they can.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

#: Characters of an RFC 6265 cookie name. Names outside it are never
#: echoed back in a header, since they may carry control characters.
_token_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: A host name of ASCII letter-digit-hyphen labels, each at most 63 long (RFC 1035).
_hostname_re = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*"
)
#: Characters of a ``Cookie`` header whose names are read (see
#: :func:`request_cookie_names`); servers refuse headers over 8 KB by default.
MAX_COOKIE_HEADER = 16 * 1024
#: Longest host name (RFC 1035); the first check allows for a ``:port``.
_MAX_HOST = 253
_MAX_HOST_WITH_PORT = _MAX_HOST + 6
#: Most labels of a host whose parent domains are expired: deeper names are
#: not real sites, and each label would cost every refused cookie a header.
MAX_HOST_LABELS = 10
#: Most expiry headers in one response. Each costs the response about 90
#: bytes, and proxies refuse large header blocks (nginx's default buffer is
#: 4 KB); the cookies left over are expired on later responses.
MAX_EXPIRY_HEADERS = 32


def set_cookie_name(value: str) -> str:
    """The name of the cookie a ``Set-Cookie`` header value sets.

    ``""`` when the value has no ``=`` before its first ``;``; browsers
    treat such a value as a cookie with an empty name.

    .. code-block:: python

        set_cookie_name("_ga=GA1.1.42; Path=/; Max-Age=63072000")  # "_ga"
    """
    pair = value.partition(";")[0]
    name, sep, _ = pair.partition("=")
    return name.strip() if sep else ""


def filter_set_cookies(
    headers: list[tuple[str, str]], keep: Callable[[str], bool]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Drop the ``Set-Cookie`` headers whose cookie name ``keep`` rejects.

    Other headers are untouched and the order is kept. When nothing is
    dropped, ``headers`` itself is returned rather than a copy, so a
    response without cookies costs one pass over its header names.

    :param headers: The response headers, as passed to ``start_response``.
    :param keep: Called with each cookie name; ``False`` drops the header.
    :return: The remaining headers and the names that were dropped, in
        order, possibly repeated.
    """
    out = headers
    dropped: list[str] = []

    for index, (key, value) in enumerate(headers):
        if len(key) == 10 and key.lower() == "set-cookie":
            name = set_cookie_name(value)

            if not keep(name):
                if out is headers:
                    out = headers[:index]

                dropped.append(name)
                continue

        if out is not headers:
            out.append((key, value))

    return out, dropped


def _decode_header(header: str) -> str:
    """Undo the Latin-1 tunnelling of a WSGI header, without failing on
    bytes that are not UTF-8.
    """
    try:
        raw = header.encode("latin-1")
    except UnicodeEncodeError:
        # Already a decoded string, as in tests or non-WSGI callers.
        return header

    return raw.decode("utf-8", "replace")


def request_cookie_names(cookie_header: str) -> list[str]:
    """The distinct cookie names in a ``Cookie`` request header, in the
    order they first appear.

    Only the first :data:`MAX_COOKIE_HEADER` characters are read, up to the
    last ``;`` in them: parsing costs microseconds a cookie, and a header
    that long holds more than a browser keeps for a site. The cookies past
    it come into reach once the ones before are expired.
    """
    if not cookie_header:
        return []

    if len(cookie_header) > MAX_COOKIE_HEADER:
        cut = cookie_header.rfind(";", 0, MAX_COOKIE_HEADER)
        cookie_header = cookie_header[: cut if cut > 0 else MAX_COOKIE_HEADER]

    return list(parse_cookie(_decode_header(cookie_header)).keys())


@functools.lru_cache(maxsize=64)
def _value_re(name: str) -> re.Pattern[str]:
    return re.compile(rf'(?:^|;)[ \t]*{re.escape(name)}[ \t]*=[ \t]*("(?:[^\\"]|\\.)*"|[^ \t";]*)')


def cookie_value(cookie_header: str, name: str) -> str | None:
    """The value of the first cookie called ``name`` in a ``Cookie``
    header, or ``None``.

    A regular expression finds it without parsing the other cookies,
    since this runs on every request. A quoted value is handed to
    werkzeug's parser to undo its escapes.

    .. code-block:: python

        cookie_value("_ga=GA1.1.42; consentgate=abc.def", "consentgate")  # "abc.def"
    """
    if not cookie_header or name not in cookie_header:
        return None

    match = _value_re(name).search(cookie_header)

    if match is None:
        return None

    value = match.group(1)

    if value.startswith('"'):
        return parse_cookie(_decode_header(match.group(0).lstrip(";"))).get(name)

    return value


def valid_host(host: str) -> str | None:
    """``host`` as a cookie ``Domain`` may name it, or ``None``.

    Lower case, without port and trailing dot; a port must be 1 to 5
    digits. Only plain ASCII host names within RFC 1035's limits qualify
    (labels of at most 63 characters, at most 253 in all, and at most
    :data:`MAX_HOST_LABELS` labels), with at least one dot. IP addresses
    and anything else are ``None``, since a browser only keeps host-only
    cookies there. The checks run cheapest first, so a hostile ``Host``
    costs little.

    .. code-block:: python

        valid_host("WWW.Example.com:8443")  # "www.example.com"
        valid_host("[::1]:8000")  # None
    """
    # Checked before lower(), which maps some non-ASCII letters to ASCII (K, the Kelvin sign).
    if len(host) > _MAX_HOST_WITH_PORT or host.startswith("[") or not host.isascii():
        return None
    host, colon, port = host.partition(":")
    if colon and not (0 < len(port) <= 5 and port.isascii() and port.isdigit()):
        return None
    host = host.lower().rstrip(".")
    if len(host) > _MAX_HOST or not 0 < host.count(".") < MAX_HOST_LABELS:
        return None
    # A host ending in a number is an IPv4 address to a browser (WHATWG URL,
    # "ends in a number"), however it is spelt: 0x7f.1 is 127.0.0.1.
    last = host.rpartition(".")[2]
    if last.isdigit() or last.startswith("0x") or not _hostname_re.fullmatch(host):
        return None
    return host


def _cookie_domains(host: str, domain: str | None) -> list[str]:
    """The ``Domain`` values a cookie visible on ``host`` may have been
    set with: the host itself and each parent, but not the bare TLD.

    With ``domain`` (the site's own, already valid), only those within it,
    and ``domain`` itself even when the host is not: a browser ignores a
    ``Domain`` that does not cover the page, so nothing is lost.
    """
    name = valid_host(host)
    labels = name.split(".") if name else []
    if domain is None:
        return [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if name is None or not (name == domain or name.endswith("." + domain)):
        return [domain]
    depth = len(labels) - domain.count(".")
    return [".".join(labels[i:]) for i in range(depth)]


class Expiry(NamedTuple):
    """What :func:`expiry_headers` gives: the headers, and what did not fit."""

    headers: list[tuple[str, str]]
    #: Names left out, since the response already had :data:`MAX_EXPIRY_HEADERS`.
    deferred: int


def expiry_headers(names: Iterable[str], host: str, *, domain: str | None = None) -> Expiry:
    """``Set-Cookie`` headers that delete each named cookie.

    A cookie can only be deleted with the ``Domain`` it was set with, and
    the server cannot see that. So each name is expired host-only and
    with ``Domain=`` the host and each of its parents except the bare
    TLD: trackers such as Google Analytics set ``_ga`` on the registrable
    domain. With ``domain`` (the ``cookie_domain`` option) the parents stop
    there. Names that are not valid cookie tokens are skipped.

    At most :data:`MAX_EXPIRY_HEADERS` headers are made, whole names only;
    the names left over are counted in ``deferred``. The browser stops
    sending the cookies it deletes, so a later response expires the rest.

    :param names: The cookie names to delete.
    :param host: The request's ``Host``, with or without a port; a bad one
        only loses its ``Domain`` headers.
    :param domain: The site's registrable domain, if configured.

    .. code-block:: python

        expiry_headers(["_ga"], "www.example.com").headers
        # host-only, Domain=www.example.com, Domain=example.com
    """
    domains: list[str | None] = [None, *_cookie_domains(host, domain)]
    headers: list[tuple[str, str]] = []
    deferred = 0
    for name in dict.fromkeys(names):
        if not _token_re.fullmatch(name):
            continue
        if len(headers) + len(domains) > MAX_EXPIRY_HEADERS:
            deferred += 1
            continue
        headers.extend(expiry_header(name, each) for each in domains)
    return Expiry(headers, deferred)


def expiry_header(name: str, domain: str | None = None) -> tuple[str, str]:
    """The ``Set-Cookie`` header that deletes the cookie ``name`` set with
    ``Domain=domain``, or host-only when ``domain`` is ``None``.

    ``name`` must be a valid cookie token (:func:`expiry_headers` checks).
    """
    return "Set-Cookie", dump_cookie(name, "", max_age=0, expires=0, domain=domain, max_size=0)


def consent_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int,
    secure: bool,
    now: float | None = None,
    path: str = "/",
    domain: str | None = None,
) -> tuple[str, str]:
    """The ``Set-Cookie`` header that stores the consent cookie.

    The cookie is ``HttpOnly`` (scripts have no business reading it) and
    ``SameSite=Lax`` (it is sent on top-level navigation from other sites
    but not on their embedded or POSTed requests).

    :param name: The cookie name.
    :param value: The signed value from :meth:`ConsentCodec.dumps`.
    :param max_age: Lifetime in seconds.
    :param secure: Add ``Secure``; pass ``True`` for HTTPS requests.
    :param path: The cookie's ``Path``: the app's mount prefix, so that apps mounted
        side by side keep their own choices.
    :param now: The current Unix time, used for ``Expires``. If not
        given, werkzeug computes ``Expires`` from its own clock.
    :param domain: The ``Domain`` attribute (the ``cookie_domain`` option);
        host-only when ``None``.
    """
    expires = None if now is None else now + max_age
    header = dump_cookie(
        name,
        value,
        max_age=max_age,
        expires=expires,
        path=path,
        domain=domain,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )
    return "Set-Cookie", header
