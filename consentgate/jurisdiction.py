"""Jurisdictions: the opt-in and opt-out modes, and the Global Privacy Control signal.

In ``opt-in`` mode (the EU and UK model) nothing optional runs before the visitor
agrees. In ``opt-out`` mode (the US state-law model) optional categories run until
the visitor opts out, and a browser sending ``Sec-GPC: 1`` has opted out of every
category marked ``gpc`` before any click. A ``region`` callback picks the mode per
request, so one site serves both.

The stored choice (the signed cookie) and the consent in effect differ: this module
turns the one into the other for a request's :class:`RequestState`. It is pure: the
gate reads the request and passes plain values in.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .consent import Consent

if TYPE_CHECKING:
    from .config import Settings

Mode = Literal["opt-in", "opt-out"]
#: The modes, the fail-closed one first.
MODES: tuple[Mode, ...] = ("opt-in", "opt-out")
GpcPolicy = Literal["honour", "ignore"]
#: What ``gpc`` may be set to; ``honor`` is read as ``honour``.
GPC_POLICIES = ("honour", "ignore")


class RequestState(NamedTuple):
    """What, besides the cookie, decides the consent in effect for one request."""

    #: The mode in effect: ``"opt-in"`` or ``"opt-out"``.
    mode: Mode
    #: Whether the browser's Global Privacy Control signal is honoured for this request.
    gpc: bool


#: A request with no region callback, in opt-in mode, without a signal acted on.
DEFAULT_STATE = RequestState("opt-in", False)
#: Every state there is, for readings computed once.
ALL_STATES = tuple(RequestState(m, g) for m in MODES for g in (False, True))


def sends_gpc(value: str | None) -> bool:
    """Whether a ``Sec-GPC`` header value is the signal: ``1``, as the GPC
    specification defines it; any other value counts as no signal."""
    return value is not None and value.strip() == "1"


def gpc_applies(settings: Settings, mode: Mode) -> bool:
    """Whether a browser's GPC signal changes anything in ``mode``: in opt-out mode
    it refuses the ``gpc`` categories; in opt-in mode it answers the banner only
    with ``gpc_answers_banner`` (nothing optional runs before consent anyway)."""
    if settings.gpc != "honour":
        return False
    return mode == "opt-out" or settings.gpc_answers_banner


def checked_mode(
    region: Callable[[Any], object], environ: Any, warn: Callable[[str, str], None]
) -> Mode:
    """The mode the ``region`` callback gives for ``environ``; opt-in when it raises or
    answers anything but ``"opt-in"``/``"opt-out"``, with one warning per kind of mistake.

    A mistake so fails closed: the visitor is asked before anything optional runs.
    """
    try:
        answer = region(environ)
    except Exception as error:  # a bug in the site's callback must not cost a 500
        warn(
            "region-error",
            f"the region callback raised {type(error).__name__}: {reprlib.repr(str(error))}; "
            "such requests are served in opt-in mode",
        )
        return "opt-in"
    if answer == "opt-in" or answer == "opt-out":
        return answer
    warn(
        "region-answer",
        f"the region callback returned {reprlib.repr(answer)}, not 'opt-in' or 'opt-out'; "
        "such requests are served in opt-in mode",
    )
    return "opt-in"


def effective_consent(stored: Consent, state: RequestState, settings: Settings) -> Consent:
    """The consent in effect for a request, from the choice its cookie holds.

    - A choice made in opt-in mode means what it says in both modes.
    - In opt-in mode, a choice made in opt-out mode that grants something optional
      (acknowledging a notice, boxes left ticked) is no consent: the visitor is asked.
    - In opt-out mode an undecided visitor has every category granted.
    - When the GPC signal is honoured: in opt-out mode the ``gpc`` categories are
      refused whatever the cookie says; in opt-in mode an undecided visitor counts
      as having refused everything optional (see :func:`answered_by_gpc`).
    """
    required = settings.required_names
    if state.mode == "opt-in":
        if stored.decided and stored.mode == "opt-out" and not stored.granted <= required:
            stored = Consent.undecided(required)
        if state.gpc and not stored.decided:
            return Consent(required, decided=True, version=settings.policy_version)
        return stored
    consent = stored if stored.decided else dataclasses.replace(stored, granted=settings.names)
    if state.gpc and consent.granted & settings.gpc_names:
        consent = dataclasses.replace(consent, granted=consent.granted - settings.gpc_names)
    return consent


def answered_by_gpc(state: RequestState, effective: Consent) -> bool:
    """Whether the GPC signal stands in for a decision the visitor has not taken
    (opt-in mode with ``gpc_answers_banner``): the decision a record should hold.

    Such a consent is decided but was never taken, so it has no ``decided_at``.
    """
    return state.gpc and state.mode == "opt-in" and effective.decided and not effective.decided_at


def gpc_refused(settings: Settings, state: RequestState) -> frozenset[str]:
    """The categories refused by the signal alone for this request: shown locked off
    on the preferences page, whatever the visitor ticks."""
    return settings.gpc_names if state.gpc and state.mode == "opt-out" else frozenset()


def vary_headers(settings: Settings) -> tuple[str, ...]:
    """The request headers a gated page depends on: ``Cookie``, ``Sec-GPC`` when the
    signal may change the page, and the ``region_headers`` a region callback reads."""
    vary = ["Cookie"]
    if settings.gpc == "honour" and (
        settings.region is not None or settings.mode == "opt-out" or settings.gpc_answers_banner
    ):
        vary.append("Sec-GPC")
    if settings.region is not None:
        vary.extend(settings.region_headers)
    return tuple(vary)
