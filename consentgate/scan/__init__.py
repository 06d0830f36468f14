"""``consentgate scan``: visit a live site as three visitors and check it against its config.

The pieces, one job each: :mod:`.chromium` finds the browser, :mod:`.browser` visits one
page as one visitor, :mod:`.runner` visits many in parallel and crawls, :mod:`.classify`
gives everything seen its category and finds the problems, :mod:`.report`,
:mod:`.html_report` and :mod:`.suggest` tell the site owner, :mod:`.cli` is the command.
Only the values of :mod:`.model` are imported here: the rest needs the ``scan`` extra.
"""

from __future__ import annotations

from .model import PROBLEMS as PROBLEMS
from .model import STATES as STATES
from .model import CookieSeen as CookieSeen
from .model import Finding as Finding
from .model import Observation as Observation
from .model import RequestSeen as RequestSeen
from .model import ScanResult as ScanResult
from .model import StorageSeen as StorageSeen
from .model import Visit as Visit

__all__ = [
    "PROBLEMS",
    "STATES",
    "CookieSeen",
    "Finding",
    "Observation",
    "RequestSeen",
    "ScanResult",
    "StorageSeen",
    "Visit",
]
