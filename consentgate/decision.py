"""What the consent endpoint decides, apart from how it is reached.

These functions are the one place that turns a posted choice into a
:class:`~consentgate.consent.Consent`, judges whether a post may be trusted
(:func:`is_cross_site`), where the visitor may be sent back to
(:func:`safe_next`) and whether they want JSON. They are pure: the caller
reads the request and passes plain values in.
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .consent import Consent

if t.TYPE_CHECKING:
    from .config import Settings

#: Layers of percent-encoding :func:`safe_next` peels off before giving up.
_MAX_DECODE_ROUNDS = 4

_DEFAULT_PORTS = {"http": 80, "https": 443}

#: Longest ``Origin``, ``Referer`` or ``Host`` read; longer counts as cross-site.
#: Chromium sends at most 4096 bytes of referrer (its origin beyond that).
_MAX_ORIGIN_HEADER = 4096

#: Longest ``Accept`` read; a longer one is ignored (the form's redirect). Browsers
#: send a few hundred bytes, and parsing costs werkzeug about 10 µs a byte.
_MAX_ACCEPT = 1024

#: ``(scheme, host, port)``, the parts of an origin that are compared.
_Origin: t.TypeAlias = tuple[str, str, int | None]


def _is_control(char: str) -> bool:
    return char < " " or char == "\x7f"


def _layer_is_safe(value: str, *, raw: bool) -> bool:
    """Whether one layer of a ``next`` value stays on this site.

    Browsers drop tabs and newlines from URLs and read ``\\`` as ``/``,
    so ``/\\evil.example`` and ``/\\t/evil.example`` both mean
    ``//evil.example``: another host. Dot segments are refused too, since
    ``/..//evil.example`` normalises to ``//evil.example``. Decoded layers
    may hold spaces and backslashes in the query, where they are harmless.
    """
    if any(_is_control(char) for char in value):
        return False

    if raw and ("\\" in value or any(char.isspace() for char in value)):
        return False

    end = min((i for i in (value.find("?"), value.find("#")) if i != -1), default=len(value))
    path = value[:end]

    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return False

    if any(char.isspace() and char != " " for char in path):
        return False

    return not any(segment in {".", ".."} for segment in path.split("/"))


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default``.

    Used for the ``next`` field of the consent form, to avoid an open
    redirect. Only an absolute path is accepted: it starts with a single
    ``/`` and has no ``\\``, whitespace, control characters or dot
    segments. Each layer of percent-encoding is peeled off and checked
    again, in case something downstream decodes the value: the decoded
    path must still start with a single ``/``, without ``\\``, control
    characters, whitespace other than a plain space, or dot segments.
    Encoded spaces in a path or query are kept, as ordinary links have
    them.

    .. code-block:: python

        safe_next("/ka2/partnerships?lang=en#top")  # unchanged
        safe_next("//evil.example")  # "/"
        safe_next("/%2F%2Fevil.example")  # "/"
    """
    if not value:
        return default

    layer = value

    for round_ in range(_MAX_DECODE_ROUNDS):
        if not _layer_is_safe(layer, raw=round_ == 0):
            return default

        decoded = unquote(layer)

        if decoded == layer:
            return value

        layer = decoded

    return default


def safe_prefix(script_name: str) -> str | None:
    """The mount prefix ``SCRIPT_NAME`` without its trailing ``/``, or ``None``
    if it could lead off the site.

    Every URL the gate writes (form actions, ``next``, ``Location``) starts
    with the prefix, and a server may take it from a client's header
    (``X-Forwarded-Prefix``), so it passes the checks of :func:`safe_next`:
    ``//evil.example`` or ``/\\evil.example`` would make ``Location:
    //evil.example/page`` a redirect to another host.

    .. code-block:: python

        safe_prefix("/app")  # "/app"
        safe_prefix("")  # "" (mounted at the root)
        safe_prefix("//evil.example")  # None
    """
    prefix = script_name.rstrip("/")
    if not prefix:
        return "" if not script_name or script_name == "/" else None
    return prefix if safe_next(prefix, default="") == prefix else None


def _origin_of(scheme: str, netloc: str) -> _Origin | None:
    """``(scheme, host, port)`` with the default port filled in, or
    ``None`` if it cannot be parsed.
    """
    scheme = scheme.lower()

    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None

    if not host or parts.path or parts.query or parts.fragment or parts.username is not None:
        return None

    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme)


def _parse_origin(origin: str) -> _Origin | None:
    """Parse a serialised origin such as ``https://example.com:8443``."""
    scheme, sep, netloc = origin.strip().partition("://")
    return _origin_of(scheme, netloc) if sep and scheme else None


def _referer_origin(referer: str) -> _Origin | None:
    try:
        parts = urlsplit(referer.strip())
    except ValueError:
        return None

    return _origin_of(parts.scheme, parts.netloc) if parts.scheme else None


def is_cross_site(
    *,
    host: str,
    scheme: str,
    origin: str | None,
    referer: str | None,
    sec_fetch_site: str | None,
    trusted_origins: Sequence[str] = (),
) -> bool:
    """Whether a request to the consent endpoint came from another site.

    Such a post is refused, so another site cannot record a choice on the
    visitor's behalf. ``Sec-Fetch-Site: cross-site`` decides outright.
    Otherwise the ``Origin`` header is compared with this site's origin
    ``scheme://host`` and the ``trusted_origins``; ``Origin: null``
    (sandboxed frames, some redirects) counts as cross-site. Without an
    ``Origin``, the origin of the ``Referer`` is compared instead. With
    neither, the request passes: old browsers and ``curl`` send none.
    Anything that cannot be parsed, or any of these headers longer than
    browsers send (4096 bytes), counts as cross-site.

    :param host: The request's ``Host``, with or without a port.
    :param scheme: ``http`` or ``https``.
    :param origin: The ``Origin`` header, if any.
    :param referer: The ``Referer`` header, if any.
    :param sec_fetch_site: The ``Sec-Fetch-Site`` header, if any.
    :param trusted_origins: Other origins allowed to post, such as
        ``https://www.example.com``.
    """
    if sec_fetch_site is not None and sec_fetch_site.strip().lower() == "cross-site":
        return True

    if any(len(value or "") > _MAX_ORIGIN_HEADER for value in (host, origin, referer)):
        return True

    if origin:
        if origin.strip().lower() == "null":
            return True

        claimed = _parse_origin(origin)
    elif referer:
        claimed = _referer_origin(referer)
    else:
        return False

    if claimed is None:
        return True

    allowed = [_origin_of(scheme, host)]
    allowed.extend(_parse_origin(trusted.rstrip("/")) for trusted in trusted_origins)
    return claimed not in allowed


def referer_path(referer: str | None, *, host: str, scheme: str, prefix: str) -> str | None:
    """The page inside the app that a same-site ``Referer`` names, for a link back to
    it; ``None`` for another site's page, a page outside the mount ``prefix``, or an
    unsafe path.
    """
    if not referer or _referer_origin(referer) != _origin_of(scheme, host):
        return None
    parts = urlsplit(referer.strip())
    path = parts.path
    if prefix:
        if path != prefix and not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix) :] or "/"
    url = f"{path}?{parts.query}" if parts.query else path
    return safe_next(url, default="") or None


def behind_proxy(
    *, host: str, scheme: str, origin: str | None, referer: str | None, sec_fetch_site: str | None
) -> bool:
    """Whether a post refused by :func:`is_cross_site` looks like a proxy's doing rather
    than another site's: the browser says the post is same-origin, or it came from this
    host over the other scheme (TLS ends at a proxy that does not pass the scheme on).
    """
    if sec_fetch_site:
        return sec_fetch_site.strip().lower() == "same-origin"
    claimed = _parse_origin(origin) if origin else _referer_origin(referer) if referer else None
    own = _origin_of(scheme, host)
    if claimed is None or own is None or claimed[0] not in _DEFAULT_PORTS:
        return False
    return claimed[1] == own[1] and claimed[0] != own[0]


def wants_json(accept: str | None) -> bool:
    """Whether the client prefers ``application/json`` to ``text/html``.

    A script calling the endpoint with ``fetch`` asks for JSON; a plain
    form post accepts HTML or ``*/*`` and gets a redirect. On a tie, HTML
    wins. A header over 1024 bytes is not read (no browser sends one), so
    it costs nothing and gets the redirect.
    """
    if not accept or len(accept) > _MAX_ACCEPT:
        return False

    parsed = parse_accept_header(accept, MIMEAccept)
    return parsed.best_match(["text/html", "application/json"]) == "application/json"


def decide(
    action: str | None,
    categories: Sequence[str],
    settings: Settings,
    *,
    now: int,
    consent_id: str,
    mode: str = "opt-in",
) -> Consent | None:
    """The consent a posted choice stands for, or ``None`` if the action
    is not one of ``accept_all``, ``reject_all``, ``opt_out``, ``save`` or,
    in opt-out mode, ``acknowledge``.

    ``accept_all`` grants every configured category, ``reject_all`` and
    ``opt_out`` (opt-out mode's name for it) only the required ones, and
    ``save`` the required ones plus those listed in ``categories`` that exist
    and are optional; other names are ignored. ``acknowledge`` (the opt-out
    notice's "OK") keeps opt-out mode's default: everything granted.

    :param action: The button the visitor pressed.
    :param categories: The category names ticked in the form.
    :param settings: The gate's settings, for the category names and the
        policy version.
    :param now: The current Unix time, stored as ``decided_at``.
    :param consent_id: An id for this choice, stored in the cookie.
    :param mode: The mode the choice is made in, kept with it: in opt-in mode, a
        choice made in opt-out mode grants nothing optional.
    """
    required = settings.required_names

    if action == "accept_all" or (action == "acknowledge" and mode == "opt-out"):
        granted = settings.names
    elif action in ("reject_all", "opt_out"):
        granted = required
    elif action == "save":
        optional = set(settings.optional_names)
        chosen = {name.strip() for name in categories} & optional
        granted = required | chosen
    else:
        return None

    return Consent(
        granted=frozenset(granted) | required,
        decided=True,
        version=settings.policy_version,
        decided_at=now,
        consent_id=consent_id,
        mode=mode,
    )
