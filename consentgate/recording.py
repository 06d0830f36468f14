"""The gate's side of the records: what a decision's record holds, and writing it.

:func:`build_record` is pure: it turns a decision and what is known about its
request into a :class:`~consentgate.records.Record`. :class:`Recorder` is the
glue the decision endpoint calls: it opens the store once per process (lazily,
so each forked worker opens its own), caches the notice per language, commits
the record before the decision's cookie is set, and runs the ``on_decision``
hook after the commit. A store that fails in any way turns into
:class:`~consentgate.records.StoreUnavailable`, logged at a bounded rate, and
the endpoint answers ``503`` without a cookie.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .records import Notice, Record, RecordStore, StoreUnavailable, open_store

if TYPE_CHECKING:
    from .config import Settings
    from .consent import Consent

logger = logging.getLogger("consentgate")

#: Values of the form's ``entry_point`` field that are recorded as sent; any other
#: value reads as ``"other"``, so a client cannot fill the records with its own words.
ENTRY_POINTS = frozenset({"banner", "preferences", "placeholder", "api"})
#: The action of a decision that takes back a category granted before.
WITHDRAW = "withdraw"
#: Longest ``consentgate.language`` value recorded (a BCP 47 tag); longer reads as "en".
_MAX_LANGUAGE = 35
#: Seconds after a failure of the store during which decisions are refused without
#: trying it, so that a database that is down ties up one worker at a time, not all.
STORE_PAUSE = 1.0
#: Languages whose notice is kept rendered.
MAX_LANGUAGES = 64
#: Seconds between two log lines about the same kind of failure (store or hook);
#: the failures in between are counted and reported with the next line.
LOG_INTERVAL = 60.0


def entry_point(value: str | None, json_client: bool) -> str:
    """Where a decision was taken, from the form's ``entry_point`` field.

    A known value is kept; a missing one is ``"api"`` for a script asking for JSON
    (it posted no form of ours) and ``"other"`` otherwise, as is any unknown value.
    """
    if value is None:
        return "api" if json_client else "other"
    return value if value in ENTRY_POINTS else "other"


def ip_prefix(address: str | None) -> str | None:
    """The network a client address belongs to: ``/24`` for IPv4, ``/48`` for IPv6.

    An IPv4-mapped IPv6 address counts as IPv4. Anything that is not an address
    gives None.

    .. code-block:: python

        ip_prefix("203.0.113.57")  # "203.0.113.0/24"
        ip_prefix("2001:db8:1234:5678::1")  # "2001:db8:1234::/48"
    """
    if not address or len(address) > 64:
        return None
    try:
        ip = ipaddress.ip_address(address.strip().partition("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def action_of(button: str, previous: Consent, consent: Consent) -> str:
    """The recorded action: the button pressed, or ``"withdraw"`` when the decision
    refuses a category the visitor's previous decision granted."""
    if previous.decided and previous.granted - consent.granted:
        return WITHDRAW
    return button


def build_record(
    consent: Consent,
    previous: Consent,
    *,
    button: str,
    entry: str,
    notice: Notice,
    now: float,
    settings: Settings,
    request: Mapping[str, Any],
) -> Record:
    """The record of ``consent``, the decision just taken.

    :param previous: the visitor's consent before it (undecided if none), to tell a
        withdrawal from a first choice.
    :param button: the form's ``action`` (``accept_all``, ``reject_all``, ``save``).
    :param entry: where it was taken, from :func:`entry_point`.
    :param notice: the wording shown; the record keeps its digest.
    :param now: the time of the decision, as a Unix time (sub-second, so a visitor's
        decisions within one second still read in order).
    :param request: the WSGI environ, read for ``REMOTE_ADDR`` (only with
        ``record_ip_prefix``), ``consentgate.gpc`` and ``consentgate.mode``.
    """
    return Record(
        consent_id=consent.consent_id,
        decided_at=datetime.fromtimestamp(now, UTC),
        action=action_of(button, previous, consent),
        entry_point=entry,
        granted=tuple(sorted(consent.granted)),
        refused=tuple(sorted(settings.names - consent.granted)),
        policy_version=settings.policy_version,
        notice_digest=notice.digest,
        language=notice.language,
        gpc=request.get("consentgate.gpc") is True,
        mode=str(request.get("consentgate.mode", "opt-in")),
        ip_prefix=ip_prefix(request.get("REMOTE_ADDR")) if settings.record_ip_prefix else None,
    )


def language_of(environ: Mapping[str, Any]) -> str:
    """The language the visitor was shown the notice in (``"en"`` until translations)."""
    language = environ.get("consentgate.language", "en")
    ok = isinstance(language, str) and 0 < len(language) <= _MAX_LANGUAGE
    return language if ok else "en"


class _Throttled:
    """Log one kind of failure at most once per :data:`LOG_INTERVAL`, with a count of
    those left out, so a client repeating a failing request cannot flood the log."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.last: float | None = None
        self.missed = 0
        self.lock = threading.Lock()

    def __call__(self, error: BaseException | None) -> None:
        """Log ``error`` unless one was logged within :data:`LOG_INTERVAL`; count it then.
        ``None`` only counts (a failure already reported)."""
        now = time.monotonic()
        with self.lock:
            if error is None or (self.last is not None and now - self.last < LOG_INTERVAL):
                self.missed += 1
                return
            self.last, missed, self.missed = now, self.missed, 0
        more = f" ({missed} more since the last report)" if missed else ""
        logger.error("%s%s", self.message, more, exc_info=error)


class Recorder:
    """Write one gate's records: the store, the notices and the hook.

    The store object is made at once, so a mistake in the ``records`` URL (or a
    missing driver) is a :class:`~consentgate.ConfigError` at start-up; it connects
    only on the first decision. A forked worker makes its own.

    :param settings: the gate's settings (``records``, ``on_decision``).
    :param opener: turns ``settings.records`` into a store: :func:`~consentgate.records.open_store`.
    """

    def __init__(
        self,
        settings: Settings,
        opener: Callable[[str | RecordStore], RecordStore] = open_store,
    ) -> None:
        self.settings = settings
        self.opener = opener
        self._store: tuple[int, RecordStore] | None = None
        if settings.records is not None:
            self._store = (os.getpid(), opener(settings.records))
        self._notices: dict[str, Notice] = {}
        #: Until when (``time.monotonic``) decisions are refused without asking the store.
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._store_failed = _Throttled(
            "consent records: the store failed, so the decision was refused with 503 and "
            "no cookie was set"
        )
        self._notice_failed = _Throttled(
            "consent records: the banner's notice could not be rendered, so the decision "
            "was refused with 503 and no cookie was set"
        )
        self._hook_failed = _Throttled(
            "consent records: on_decision raised; the decision stands (it was committed)"
        )

    @property
    def active(self) -> bool:
        """Whether decisions are recorded or handed to a hook at all."""
        return self.settings.records is not None or self.settings.on_decision is not None

    def notice(self, language: str, render: Callable[[str], Notice]) -> Notice:
        """The notice in ``language``, rendered once per language by ``render``.

        At most :data:`MAX_LANGUAGES` are kept; a language past them is rendered
        each time (languages come from the site's own list, so this never happens
        in practice, but a bug that passes a client's header through stays bounded).
        A ``render`` that fails raises :class:`StoreUnavailable` (logged): a decision
        whose notice is unknown cannot be recorded.
        """
        notice = self._notices.get(language)
        if notice is None:
            try:
                notice = render(language)
            except Exception as error:  # a broken banner template: no record, no decision
                self._notice_failed(error)
                raise StoreUnavailable(f"the notice could not be rendered: {error}") from error
            if len(self._notices) < MAX_LANGUAGES:
                self._notices.setdefault(language, notice)
        return notice

    def store(self) -> RecordStore:
        """This process's store, opened on first use: a forked worker opens its own."""
        records = self.settings.records
        assert records is not None
        pid = os.getpid()
        held = self._store
        if held is not None and held[0] == pid:
            return held[1]
        with self._lock:
            if self._store is None or self._store[0] != pid:
                self._store = (pid, self.opener(records))
            return self._store[1]

    def commit(self, record: Record, notice: Notice) -> None:
        """Append ``record`` durably, or raise :class:`StoreUnavailable` (logged).

        Any failure of the store, not only its own ``StoreUnavailable``, counts:
        a decision without its record must not take effect. For :data:`STORE_PAUSE`
        after a failure the store is not asked at all.
        """
        if self.settings.records is None:
            return
        if time.monotonic() < self._paused_until:
            self._store_failed(None)
            raise StoreUnavailable("the store failed a moment ago; it is left alone briefly")
        try:
            self.store().append(record, notice)
        except Exception as error:
            # Decisions meanwhile are refused at once: an unreachable database would
            # otherwise hold a worker for the store's whole timeout on every post.
            self._paused_until = time.monotonic() + STORE_PAUSE
            self._store_failed(error)
            raise StoreUnavailable(str(error)) from error

    def after(self, record: Record) -> None:
        """Run ``on_decision`` with the committed ``record``; its failure is only logged."""
        hook = self.settings.on_decision
        if hook is None:
            return
        try:
            hook(record)
        except Exception as error:
            self._hook_failed(error)

    def close(self) -> None:
        """Close this process's store, if it opened one."""
        held, self._store = self._store, None
        if held is not None and held[0] == os.getpid():
            held[1].close()
