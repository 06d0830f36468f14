"""What a scan records and concludes: plain, immutable values.

A :class:`Visit` is what one visitor's browser held and sent on one page; an
:class:`Observation` is one of those things with the category the configuration
gives it; a :class:`Finding` is a problem, with every visitor state and page it
was seen in. Nothing here touches a browser, so reports and tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["undecided", "refused", "accepted"]
#: The three visitors each page is opened by, in report order.
STATES: tuple[State, ...] = ("undecided", "refused", "accepted")
Kind = Literal["cookie", "storage", "request"]
Problem = Literal["ungranted", "undeclared", "stale"]
#: The kinds of finding; ``ungranted`` always fails a scan, the others on request.
PROBLEMS: tuple[Problem, ...] = ("ungranted", "undeclared", "stale")


@dataclass(frozen=True)
class CookieSeen:
    """A cookie the browser held at the end of the visit."""

    name: str
    domain: str
    path: str = "/"


@dataclass(frozen=True)
class StorageSeen:
    """A ``localStorage`` or ``sessionStorage`` key of one frame's origin."""

    origin: str
    area: Literal["localStorage", "sessionStorage"]
    key: str


@dataclass(frozen=True)
class RequestSeen:
    """A request the page (or one of its frames) made, as the browser saw it.

    :param resource_type: Playwright's type: ``script``, ``image``, ``xhr``, ``ping``...
    :param initiator: URL of the script or document that caused it, or "".
    """

    url: str
    resource_type: str
    initiator: str = ""


@dataclass(frozen=True)
class Visit:
    """One visitor state on one page: what was set and sent, or why it could not be seen."""

    page: str
    state: State
    cookies: tuple[CookieSeen, ...] = ()
    storage: tuple[StorageSeen, ...] = ()
    requests: tuple[RequestSeen, ...] = ()
    links: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class Observation:
    """A cookie, storage key or request with the category the configuration assigns it.

    :param name: The cookie or storage key's name, or the request's host and path.
    :param where: The cookie's domain, the storage key's origin and area, or the
        request's type and initiator.
    :param category: The category, or None when no category declares it.
    :param third_party: Whether it belongs to another site than the page.
    """

    kind: Kind
    name: str
    where: str
    category: str | None
    third_party: bool
    page: str
    state: State


@dataclass(frozen=True)
class Finding:
    """A problem the scan found, with every state and page it showed in.

    ``ungranted``: something of a category the visitor had not granted was set or
    loaded. ``undeclared``: a cookie, storage key or third-party request no category
    declares. ``stale``: a declared cookie no visitor ever held.
    """

    problem: Problem
    kind: Kind
    name: str
    category: str | None
    states: tuple[State, ...] = ()
    pages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanResult:
    """Everything a report shows: the visits, what they held, and the findings."""

    visits: tuple[Visit, ...]
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]

    @property
    def pages(self) -> tuple[str, ...]:
        """The pages scanned, in the order they were first visited."""
        return tuple(dict.fromkeys(v.page for v in self.visits))

    @property
    def errors(self) -> tuple[Visit, ...]:
        """The visits that failed: the scan could not see those pages."""
        return tuple(v for v in self.visits if v.error)
