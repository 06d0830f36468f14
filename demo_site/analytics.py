"""The demo's own page-view counter: parse beacons, keep the latest in memory.

``static/analytics.js`` only reaches the browser after the visitor accepts
analytics cookies, so the log this module keeps shows the gate at work: it
stays empty before consent and after refusal. Nothing is written to disk;
a restart forgets everything.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

#: Largest beacon body accepted, in bytes; a page view needs far less.
MAX_BEACON_BYTES = 2048
#: How many page views one app instance remembers.
DEFAULT_LIMIT = 500

_VISITOR = re.compile(r"[A-Za-z0-9_-]{8,64}")
_MAX_PATH = 512
_MAX_TITLE = 200


class BeaconError(ValueError):
    """A beacon body that is not a well-formed page view."""


@dataclass(frozen=True)
class PageView:
    """One page view as the server received it.

    :param received: when the beacon arrived (server clock, UTC).
    :param path: the page's path, without query string or fragment.
    :param title: the page's title, whitespace-normalised and shortened.
    :param visitor: the random id from the ``ka2_visitor`` cookie.
    """

    received: datetime
    path: str
    title: str
    visitor: str


def parse_beacon(body: bytes, mimetype: str, received: datetime) -> PageView:
    """Turn a beacon body into a :class:`PageView`, or raise :class:`BeaconError`.

    ``navigator.sendBeacon`` sends a JSON string as ``text/plain``, so JSON is
    read whatever the declared type, except that a urlencoded form body is
    read as a form. Every failure, however odd the input, is a
    :class:`BeaconError`, so the endpoint can answer 400 and never 500.

    :param body: the raw request body, already size-limited by the caller.
    :param mimetype: the request's content type without parameters.
    :param received: the time to stamp on the page view.
    """
    if len(body) > MAX_BEACON_BYTES:
        raise BeaconError("body too large")
    try:
        text = body.decode("utf-8")
        if mimetype == "application/x-www-form-urlencoded":
            fields: Any = {k: v[0] for k, v in parse_qs(text, max_num_fields=10).items()}
        else:
            fields = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BeaconError("body is neither JSON nor a form") from error
    if not isinstance(fields, dict):
        raise BeaconError("body is not an object")
    return PageView(
        received=received,
        path=_path(fields.get("path")),
        title=_title(fields.get("title", "")),
        visitor=_visitor(fields.get("visitor")),
    )


def _path(value: object) -> str:
    """A same-site absolute path, printable and of sensible length."""
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or value.startswith("//")
        or len(value) > _MAX_PATH
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise BeaconError("path must be a short same-site absolute path")
    return value


def _title(value: object) -> str:
    """The title with runs of whitespace collapsed; long titles are shortened."""
    if not isinstance(value, str):
        raise BeaconError("title must be a string")
    return " ".join("".join(c for c in value if c.isprintable()).split())[:_MAX_TITLE]


def _visitor(value: object) -> str:
    """The random visitor id the script generated."""
    if not isinstance(value, str) or not _VISITOR.fullmatch(value):
        raise BeaconError("visitor must be 8 to 64 letters, digits, '-' or '_'")
    return value


class PageViewLog:
    """The most recent page views, shared by all threads of one app.

    A bounded deque keeps memory flat however much traffic arrives; the lock
    makes each append and snapshot atomic under a threaded server.

    :param limit: how many page views to keep; older ones drop off.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._views: deque[PageView] = deque(maxlen=limit)
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """How many page views are kept at most."""
        return self._views.maxlen or 0

    def record(self, view: PageView) -> None:
        """Remember ``view``, dropping the oldest one when full."""
        with self._lock:
            self._views.append(view)

    def recent(self) -> list[PageView]:
        """A snapshot of the kept page views, newest first."""
        with self._lock:
            return list(reversed(self._views))

    def __len__(self) -> int:
        with self._lock:
            return len(self._views)
