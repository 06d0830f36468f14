"""Django responses as the core reads them, and back.

The core speaks in a status line and a list of headers
(:data:`~consentgate.passage.Head`), ``Set-Cookie`` among them. Django keeps the
headers in a case-insensitive dict and the cookies apart, in ``response.cookies``,
whose morsels its handlers write out with ``OutputString()``. :func:`head_of`
joins the two, :func:`apply_head` splits the gate's answer back: the app's own
morsels stay as they were, and the gate's ``Set-Cookie`` values (expiring
refused cookies, storing a decision) go in as morsels that write themselves out
exactly as the core made them.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.http.response import HttpResponseBase

from ..cookies import set_cookie_name

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as WerkzeugResponse

    from ..passage import Head

logger = logging.getLogger("consentgate")


class RawCookie(Morsel[str]):
    """A ``Set-Cookie`` value from the core, written out as it is.

    Django's handlers write each morsel of ``response.cookies`` with
    ``output()``; this one gives back the header value the core built (one name
    may have several, one per ``Domain``), while its key and value read like any
    other morsel's for Django's test client.
    """

    def __init__(self, header: str) -> None:
        super().__init__()
        name = set_cookie_name(header)
        value = header.partition(";")[0].partition("=")[2].strip()
        self.set(name, value, value)  # CookieError for a name Django could not hold
        self.header = header

    def OutputString(self, attrs: Any = None) -> str:
        return self.header


def head_of(response: HttpResponseBase) -> Head:
    """The response's status line and headers, its cookies as ``Set-Cookie``."""
    headers = list(response.items())
    headers += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
    return f"{response.status_code} {response.reason_phrase}", headers


def apply_head(response: HttpResponseBase, head: Head) -> HttpResponseBase:
    """Give ``response`` the status and headers the gate answered for it."""
    status, headers = head
    code, _, reason = status.partition(" ")
    if int(code) != response.status_code:
        response.status_code, response.reason_phrase = int(code), reason
    own: dict[str, tuple[str, Morsel[str] | None]] = {
        morsel.OutputString(): (key, morsel) for key, morsel in response.cookies.items()
    }
    cookies = SimpleCookie()
    for name in list(response.headers):
        del response.headers[name]
    for name, value in headers:
        if name.lower() != "set-cookie":
            previous = response.headers.get(name)
            response.headers[name] = value if previous is None else f"{previous}, {value}"
            continue
        key, morsel = own.pop(value) if value in own else _raw(value, cookies)
        if morsel is not None:
            dict.__setitem__(cookies, key, morsel)  # a morsel as it is, not a new value
    response.cookies = cookies
    return response


def _raw(header: str, cookies: SimpleCookie) -> tuple[str, Morsel[str] | None]:
    """A morsel for one of the gate's ``Set-Cookie`` values, under a key of its own."""
    try:
        morsel = RawCookie(header)
    except CookieError:
        # Not a cookie Django can send: fail closed, it is not sent.
        logger.warning("a Set-Cookie the gate made could not be sent by Django: %.60r", header)
        return "", None
    key, n = morsel.key, 1
    while key in cookies:
        key, n = f"{morsel.key}\x00{n}", n + 1
    return key, morsel


def from_werkzeug(answer: WerkzeugResponse) -> HttpResponse:
    """A Django response with the status, headers and body of the core's answer."""
    response = HttpResponse(answer.get_data(), status=answer.status_code)
    apply_head(response, (answer.status, answer.headers.to_wsgi_list()))
    return response
