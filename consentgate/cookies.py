"""Reading, filtering and expiring cookies, as plain functions on header
strings.

Nothing here touches a request or the clock: the middleware passes header
values in and gets header values back. :func:`filter_set_cookies` and
:func:`cookie_value` run on every response and request, so they avoid a
full cookie parse whenever they can.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable

from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

#: Characters of an RFC 6265 cookie name. Names outside it are never
#: echoed back in a header, since they may carry control characters.
_token_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: A host name made of ASCII letter-digit-hyphen labels.
_hostname_re = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*"
)


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
    """
    if not cookie_header:
        return []

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


def _cookie_domains(host: str) -> list[str]:
    """The ``Domain`` values a cookie visible on ``host`` may have been
    set with: the host itself and each parent, but not the bare TLD.

    IP addresses, ``localhost`` and anything that is not a plain host name
    have none, since browsers only keep host-only cookies there.
    """
    host = host.strip().lower().rstrip(".")

    if host.startswith("["):
        return []

    host = host.rpartition(":")[0] if ":" in host else host

    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return []

    if "." not in host or not _hostname_re.fullmatch(host):
        return []

    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def expiry_headers(names: Iterable[str], host: str) -> list[tuple[str, str]]:
    """``Set-Cookie`` headers that delete each named cookie.

    A cookie can only be deleted with the ``Domain`` it was set with, and
    the server cannot see that. So each name is expired host-only and
    with ``Domain=`` the host and each of its parents except the bare
    TLD: trackers such as Google Analytics set ``_ga`` on the registrable
    domain. Names that are not valid cookie tokens are skipped.

    :param names: The cookie names to delete.
    :param host: The request's ``Host``, with or without a port.

    .. code-block:: python

        expiry_headers(["_ga"], "www.example.com")
        # host-only, Domain=www.example.com, Domain=example.com
    """
    domains: list[str | None] = [None, *_cookie_domains(host)]
    headers = []

    for name in dict.fromkeys(names):
        if not _token_re.fullmatch(name):
            continue

        for domain in domains:
            value = dump_cookie(name, "", max_age=0, expires=0, domain=domain, max_size=0)
            headers.append(("Set-Cookie", value))

    return headers


def consent_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int,
    secure: bool,
    now: float | None = None,
    path: str = "/",
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
    """
    expires = None if now is None else now + max_age
    header = dump_cookie(
        name,
        value,
        max_age=max_age,
        expires=expires,
        path=path,
        secure=secure,
        httponly=True,
        samesite="Lax",
    )
    return "Set-Cookie", header
