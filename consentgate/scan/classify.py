"""Give each thing a visitor's browser held or sent its category, and find the problems.

Pure: the gate's own :class:`~consentgate.rules.Rules` place cookie names, storage
keys and request URLs, so the scan and the gate can never disagree about what
belongs where.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from ..catalogue import CookieSpec, preset_catalogue, tracker_catalogue
from ..config import Settings
from ..rules import Rules
from .model import (
    PROBLEMS,
    STATES,
    Finding,
    Kind,
    Observation,
    Problem,
    RequestSeen,
    ScanResult,
    State,
    Visit,
)

#: Exit codes of ``consentgate scan``.
EXIT_CLEAN = 0
#: A finding that fails the scan: always ``ungranted``, others with ``--fail-on``.
EXIT_FINDINGS = 1
#: The scan could not start: a usage or configuration error, no Playwright or no browser.
EXIT_CANNOT_RUN = 2
#: A page could not be loaded or a decision not taken: the scan is incomplete.
EXIT_INCOMPLETE = 3


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list the package ships; never fetched


def site_of(host: str) -> str:
    """The registrable domain (``example.co.uk``) of a host, as browsers tell sites apart.

    An IP address, ``localhost`` or a bare public suffix is a site of its own.
    """
    host = host.lower().strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _suffixes().privatesuffix(host) or host
    return host


def host_of(url: str) -> str:
    """The host of a URL in lower case, or "" (``data:``, ``blob:``)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


class Classifier:
    """The configuration's view of what a browser held: a category for each thing, or None.

    :param settings: The gate's settings (``load_config``); its categories decide.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules = Rules(settings.categories)
        declared = settings.declared_cookies()
        #: The consent cookie's category: the first required one (it is always granted).
        self.consent_category = next(
            (c.name for c, s in declared if s.name == settings.cookie_name), None
        )

    def cookie(self, name: str) -> str | None:
        """The category that declares a cookie (or storage key) of this name."""
        if name == self.settings.cookie_name:
            return self.consent_category or "consent"
        return self.rules.classify_cookie(name)

    def request(self, request: RequestSeen, page: str) -> str | None:
        """The category a request belongs to: its URL's, else its initiator's.

        A same-origin URL is also tried as a path, as the site's own markup writes it
        (``/static/analytics.js``), for the same-site source patterns.
        """
        for url in (request.url, request.initiator):
            if url and (category := self.rules.classify_url(*_readings(url, page))):
                return category
        return None

    def granted(self, state: State) -> frozenset[str]:
        """The categories a visitor in this state has granted."""
        if state == "accepted":
            return self.settings.names | {"consent"}
        return self.settings.required_names | {"consent"}

    def observe(self, visit: Visit) -> list[Observation]:
        """Everything one visit held and sent, each with its category."""
        site = site_of(host_of(visit.page))
        seen: list[Observation] = []
        for c in visit.cookies:
            third = site_of(c.domain.lstrip(".")) != site
            seen.append(self._seen("cookie", c.name, c.domain, self.cookie(c.name), third, visit))
        for s in visit.storage:
            third = site_of(host_of(s.origin)) != site
            where = f"{s.origin} {s.area}"
            seen.append(self._seen("storage", s.key, where, self.cookie(s.key), third, visit))
        for r in visit.requests:
            host = host_of(r.url)
            if not host:
                continue
            third = site_of(host) != site
            where = r.resource_type + (f" from {r.initiator}" if r.initiator else "")
            category = self.request(r, visit.page)
            seen.append(self._seen("request", _short(r.url), where, category, third, visit))
        return seen

    @staticmethod
    def _seen(
        kind: Kind, name: str, where: str, category: str | None, third: bool, visit: Visit
    ) -> Observation:
        return Observation(kind, name, where, category, third, visit.page, visit.state)

    def problem(self, seen: Observation) -> Problem | None:
        """What is wrong with one observation, if anything.

        A first-party request no category names is the site's own page, style or
        image: only third-party requests need declaring.
        """
        if seen.category is None:
            return "undeclared" if seen.kind != "request" or seen.third_party else None
        return None if seen.category in self.granted(seen.state) else "ungranted"

    def stale(self, observations: Iterable[Observation]) -> list[CookieSpec]:
        """The site's own cookie declarations that no visitor ever held.

        Cookies that come from a tracker id are left out: the catalogue lists every
        cookie a tracker may set, not the ones each site gets.
        """
        names = {o.name for o in observations if o.kind in ("cookie", "storage")}
        stale = []
        for category in self.settings.categories:
            listed = {s for t in _entries(category.trackers, category.presets) for s in t}
            for spec in category.cookies:
                if spec not in listed and not any(fnmatch.fnmatchcase(n, spec.name) for n in names):
                    stale.append(spec)
        return stale


def _entries(trackers: Sequence[str], presets: Sequence[str]) -> list[tuple[CookieSpec, ...]]:
    known, frameworks = tracker_catalogue(), preset_catalogue()
    return [known[t].cookies for t in trackers] + [frameworks[p].cookies for p in presets]


def _readings(url: str, page: str) -> tuple[str, ...]:
    """A URL as the page may have written it: absolute, and as a path when same-origin."""
    try:
        parts, here = urlsplit(url), urlsplit(page)
    except ValueError:
        return (url,)
    if (parts.scheme, parts.netloc) == (here.scheme, here.netloc):
        return (url, parts.path or "/")
    return (url,)


def _short(url: str) -> str:
    """A request as a report names it: host and path, without scheme, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{parts.netloc}{parts.path}"


def assess(visits: Sequence[Visit], classifier: Classifier) -> ScanResult:
    """Classify every visit and gather the findings, each once with all its states and pages."""
    observations = [o for visit in visits for o in classifier.observe(visit)]
    grouped: dict[tuple[Problem, Kind, str, str | None], list[Observation]] = {}
    for seen in observations:
        problem = classifier.problem(seen)
        if problem is not None:
            name = _finding_name(problem, seen)
            grouped.setdefault((problem, seen.kind, name, seen.category), []).append(seen)
    findings = [
        Finding(
            problem,
            kind,
            name,
            category,
            tuple(s for s in STATES if any(o.state == s for o in seen)),
            tuple(dict.fromkeys(o.page for o in seen)),
        )
        for (problem, kind, name, category), seen in grouped.items()
    ]
    if not any(v.error for v in visits):  # an unseen page may hold what looks stale
        findings += [
            Finding("stale", "cookie", spec.name, _category_of(classifier.settings, spec))
            for spec in classifier.stale(observations)
        ]
    findings.sort(key=lambda f: (PROBLEMS.index(f.problem), f.kind, f.name, f.category or ""))
    return ScanResult(tuple(visits), tuple(observations), tuple(findings))


def _finding_name(problem: Problem, seen: Observation) -> str:
    """What a finding names: an undeclared third party by its host (and port), as a
    source pattern would declare it; anything else as it was seen."""
    if problem == "undeclared" and seen.kind == "request":
        return seen.name.partition("/")[0]
    return seen.name


def _category_of(settings: Settings, spec: CookieSpec) -> str | None:
    return next((c.name for c in settings.categories if spec in c.cookies), None)


def exit_code(result: ScanResult, fail_on: Iterable[Problem] = ()) -> int:
    """The scan's exit code: findings that fail it first, then an incomplete scan.

    :param fail_on: Problems that fail the scan besides ``ungranted``, which always does.
    """
    failing = {"ungranted", *fail_on}
    if any(f.problem in failing for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_INCOMPLETE if result.errors else EXIT_CLEAN
