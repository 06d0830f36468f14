"""The visitor's consent and its signed cookie form.

A :class:`Consent` is an immutable value: which categories the visitor
granted, whether they decided at all, under which policy version, and
when. :class:`ConsentCodec` turns it into a compact signed cookie value
and back. Reading a cookie never raises: anything that is not a valid,
current, unexpired consent of this site reads as "undecided", so a bad
cookie costs the visitor a banner, never a server error.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

from .cache import Memo

#: Longest cookie value :meth:`ConsentCodec.loads` looks at. Browsers cap a
#: cookie at about 4 KiB, so anything longer did not come from this codec.
MAX_COOKIE_LENGTH = 4096

#: How far in the future a ``decided_at`` may lie before the cookie is
#: refused, to absorb clock skew between servers sharing the secret key.
FUTURE_TOLERANCE = 86400

#: Longest ``consent_id`` accepted from a cookie.
MAX_CONSENT_ID_LENGTH = 64

#: The sixth payload item of a choice made in opt-out mode.
_OPT_OUT = "opt-out"
#: Longest language tag kept in a cookie (BCP 47 tags are shorter).
MAX_LANGUAGE_LENGTH = 35

#: Cookie values whose verification is kept, and the bytes they may hold.
_VERIFY_CACHE = 4096
_VERIFY_CACHE_BYTES = 2 << 20


@dataclass(frozen=True)
class Consent:
    """What a visitor agreed to.

    ``granted`` always contains the required category names, so
    ``consent.allows(name)`` is the only check callers need. Build one
    with :meth:`undecided`, :func:`consentgate.decision.decide` or
    :meth:`ConsentCodec.loads` rather than by hand, since those keep
    that promise.

    :param granted: Names of the categories the visitor allowed.
    :param decided: Whether the visitor made a choice. An undecided
        visitor sees the banner.
    :param version: The policy version the choice was made under.
    :param decided_at: When the choice was made, as a Unix timestamp.
    :param consent_id: An opaque id for the record of this choice.
    :param mode: The mode the choice was made in, ``"opt-in"`` or ``"opt-out"``.
        In opt-in mode a choice made in opt-out mode grants nothing optional
        (:func:`~consentgate.jurisdiction.effective_consent`).
    :param language: The language the visitor picked for the consent UI on the
        preferences page, or ``""`` (the browser's language is used).

    .. code-block:: python

        consent = Consent.undecided({"necessary"})
        consent.allows("analytics")  # False
    """

    granted: frozenset[str]
    decided: bool = False
    version: str = ""
    decided_at: int = 0
    consent_id: str = ""
    mode: str = "opt-in"
    language: str = ""

    @classmethod
    def undecided(cls, required: Iterable[str]) -> Consent:
        """No choice made yet: only the required categories are allowed."""
        return cls(granted=frozenset(required))

    def allows(self, name: str) -> bool:
        """Whether the category ``name`` is allowed."""
        return name in self.granted

    def as_dict(self) -> dict[str, t.Any]:
        """A JSON-ready form, with ``granted`` as a sorted list so the
        output is stable.
        """
        return {
            "decided": self.decided,
            "granted": sorted(self.granted),
            "version": self.version,
            "decided_at": self.decided_at,
            "consent_id": self.consent_id,
        }


class ConsentCodec:
    """Sign a :class:`Consent` into a cookie value and verify it back.

    The payload is the JSON list ``[version, "a,b", decided_at,
    consent_id, "a,b,c"]``, where ``"a,b"`` names the granted optional
    categories (required ones are implied, which keeps the cookie short) and
    ``"a,b,c"`` the optional categories the visitor was asked about. A
    category added since then was never offered, so the cookie reads as
    undecided and the visitor is asked, whatever ``accept_all`` meant before.
    Cookies written without the fifth item are read as before. A choice made
    in opt-out mode has a sixth item, ``"opt-out"``. A visitor's pick of language
    is a seventh item (the sixth is then the mode, ``"opt-in"`` or ``"opt-out"``),
    so every cookie written before it still verifies. It is signed
    with :class:`itsdangerous.URLSafeSerializer`.

    :param secret_keys: Signing keys, oldest first. The last one signs,
        all of them verify, so a new key can be appended without
        invalidating the cookies visitors already hold.
    :param required: Names of the required categories, always granted.
    :param known: Names of all configured categories. Unknown names in a
        cookie (a category that was removed) are dropped.
    :param version: The current policy version. A cookie from another
        version reads as undecided, so the visitor is asked again.
    :param max_age: Seconds a choice stays valid after ``decided_at``.
    :param salt: Separates these signatures from other uses of the key.

    .. code-block:: python

        codec = ConsentCodec(
            [b"old key", b"new key"],
            required=frozenset({"necessary"}),
            known=frozenset({"necessary", "analytics"}),
            version="1",
            max_age=180 * 86400,
        )
        value = codec.dumps(consent)
        codec.loads(value, now=time.time()) == consent
    """

    def __init__(
        self,
        secret_keys: Sequence[bytes],
        *,
        required: frozenset[str],
        known: frozenset[str],
        version: str,
        max_age: int,
        salt: str = "consentgate",
    ) -> None:
        if not secret_keys:
            raise ValueError("ConsentCodec needs at least one secret key.")

        self.required = frozenset(required)
        self.known = frozenset(known) | self.required
        self._offered = ",".join(sorted(self.known - self.required))
        self.version = version
        self.max_age = max_age
        self._serializer = URLSafeSerializer(list(secret_keys), salt=salt)
        # A per-instance cache: the same cookie arrives with every request
        # of a visit, and checking the HMAC and parsing JSON each time is
        # the expensive part. Time-dependent checks stay outside it.
        self._verify = Memo(
            self._verify_uncached, max_entries=_VERIFY_CACHE, max_bytes=_VERIFY_CACHE_BYTES
        ).__getitem__

    def dumps(self, consent: Consent) -> str:
        """The signed cookie value for ``consent``.

        ``consent.version`` is written when set, else the codec's version.
        """
        names = ",".join(sorted(consent.granted - self.required))
        payload = [
            consent.version or self.version,
            names,
            int(consent.decided_at),
            consent.consent_id,
            self._offered,
        ]
        if consent.language:
            payload += [consent.mode, consent.language]
        elif consent.mode == "opt-out":
            payload.append(_OPT_OUT)
        return self._serializer.dumps(payload)

    def loads(self, value: str | None, now: float) -> Consent:
        """The consent stored in a cookie value, or an undecided one.

        Never raises. A missing, oversized, tampered, foreign or malformed
        value, one from another policy version, one older than
        ``max_age`` or dated more than a day ahead of ``now`` all give
        ``Consent.undecided(required)``.

        :param value: The raw cookie value, or ``None`` if absent.
        :param now: The current Unix time.
        """
        if not value or len(value) > MAX_COOKIE_LENGTH or not value.isascii():
            return Consent.undecided(self.required)

        consent = self._verify(value)

        if (
            consent is None
            or consent.version != self.version
            or consent.decided_at < now - self.max_age
            or consent.decided_at > now + FUTURE_TOLERANCE
        ):
            return Consent.undecided(self.required)

        return consent

    def signed_id(self, value: str | None) -> str:
        """The consent id in a cookie this site signed, even one that no longer counts
        (another policy version, past ``max_age``, categories added since); ``""`` for
        anything else.

        A visitor asked again keeps their id, so their history reads as one.
        """
        if not value or len(value) > MAX_COOKIE_LENGTH or not value.isascii():
            return ""
        payload = self._payload(value)
        return payload[3] if payload is not None and _is_id(payload[3]) else ""

    def _payload(self, value: str) -> list[t.Any] | None:
        """The signed list in ``value`` (four to seven items: the sixth only ``"opt-out"``,
        or with a seventh, the mode and the language), or None."""
        try:
            payload = self._serializer.loads(value)
        except BadData:
            return None
        if not isinstance(payload, list) or len(payload) not in (4, 5, 6, 7):
            return None
        if len(payload) == 6 and payload[5] != _OPT_OUT:
            return None
        if len(payload) == 7 and not (payload[5] in ("opt-in", _OPT_OUT) and _is_tag(payload[6])):
            return None
        return payload

    def _was_offered_all(self, offered: object) -> bool:
        """Whether the visitor was asked about every optional category there is now."""
        if not isinstance(offered, str):
            return False
        return self.known - self.required <= set(offered.split(","))

    def _verify_uncached(self, value: str) -> Consent | None:
        """Check the signature and the payload's shape, without looking at
        the clock or the policy version.
        """
        payload = self._payload(value)
        if payload is None:
            return None

        version, names, decided_at, consent_id = payload[:4]
        if len(payload) >= 5 and not self._was_offered_all(payload[4]):
            return None

        if (
            not isinstance(version, str)
            or not isinstance(names, str)
            or type(decided_at) is not int
            or not _is_id(consent_id)
        ):
            return None

        granted = {name for name in names.split(",") if name in self.known}
        return Consent(
            granted=frozenset(granted) | self.required,
            decided=True,
            version=version,
            decided_at=decided_at,
            consent_id=consent_id,
            mode=payload[5] if len(payload) >= 6 else "opt-in",
            language=payload[6] if len(payload) == 7 else "",
        )


def _is_tag(value: object) -> bool:
    """Whether a cookie's language item is one this codec writes: a short ASCII tag."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_LANGUAGE_LENGTH
        and value.replace("-", "").isalnum()
        and value.isascii()
    )


def _is_id(value: object) -> bool:
    """Whether a cookie's ``consent_id`` item is one this codec writes: a short string."""
    return isinstance(value, str) and len(value) <= MAX_CONSENT_ID_LENGTH
