from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from consentgate.consent import Consent, ConsentCodec

from .conftest import retained_bytes

NOW = 1_716_000_000
DAY = 86400
REQUIRED = frozenset({"necessary"})
KNOWN = frozenset({"necessary", "preferences", "analytics", "marketing"})


def make_codec(
    keys: tuple[bytes, ...] = (b"current key",), version: str = "1", max_age: int = 180 * DAY
) -> ConsentCodec:
    return ConsentCodec(keys, required=REQUIRED, known=KNOWN, version=version, max_age=max_age)


def decided(*names: str, at: int = NOW, version: str = "1", consent_id: str = "c1") -> Consent:
    return Consent(
        granted=frozenset(names) | REQUIRED,
        decided=True,
        version=version,
        decided_at=at,
        consent_id=consent_id,
    )


def sign_raw(payload: object, key: bytes = b"current key") -> str:
    """A cookie value carrying an arbitrary payload under a valid signature."""
    return URLSafeSerializer(key, salt="consentgate").dumps(payload)


def test_undecided_allows_only_required() -> None:
    consent = Consent.undecided(REQUIRED)
    assert not consent.decided
    assert consent.allows("necessary")
    assert not consent.allows("analytics")


def test_as_dict_is_json_ready_and_sorted() -> None:
    consent = decided("marketing", "analytics", consent_id="abc")
    assert consent.as_dict() == {
        "decided": True,
        "granted": ["analytics", "marketing", "necessary"],
        "version": "1",
        "decided_at": NOW,
        "consent_id": "abc",
    }


@pytest.mark.parametrize(
    "consent",
    [
        pytest.param(decided(), id="reject-all"),
        pytest.param(decided("analytics"), id="one-optional"),
        pytest.param(decided("preferences", "analytics", "marketing"), id="accept-all"),
        pytest.param(decided("analytics", consent_id=""), id="no-consent-id"),
    ],
)
def test_round_trip(consent: Consent) -> None:
    codec = make_codec()
    assert codec.loads(codec.dumps(consent), now=NOW + 60) == consent


def test_a_choice_made_in_opt_out_mode_keeps_its_mode() -> None:
    codec = make_codec()
    consent = Consent(KNOWN, decided=True, version="1", decided_at=NOW, mode="opt-out")
    assert codec.loads(codec.dumps(consent), now=NOW + 60).mode == "opt-out"
    opt_in = decided("analytics")
    assert codec.loads(codec.dumps(opt_in), now=NOW + 60).mode == "opt-in"
    # Only opt-out mode is marked: an opt-in cookie is as short as it always was.
    assert len(codec.dumps(consent)) > len(codec.dumps(Consent(KNOWN, True, "1", NOW)))


@pytest.mark.parametrize("mark", ["opt-in", "", 1, None], ids=["opt-in", "empty", "int", "null"])
def test_an_unknown_sixth_item_reads_as_undecided(mark: object) -> None:
    offered = "analytics,marketing,preferences"
    value = sign_raw(["1", "analytics", NOW, "c1", offered, mark])
    assert not make_codec().loads(value, now=NOW).decided


def test_cookie_stays_compact() -> None:
    codec = make_codec()
    consent = decided("preferences", "analytics", "marketing", consent_id="x" * 22)
    value = codec.dumps(consent)
    assert len(value) <= 160
    assert all(c.isalnum() or c in "-_." for c in value)


def test_required_names_are_implied_not_stored() -> None:
    codec = make_codec()
    value = codec.dumps(decided("analytics"))
    bigger = ConsentCodec(
        (b"current key",),
        required=REQUIRED | {"security"},
        known=KNOWN | {"security"},
        version="1",
        max_age=180 * DAY,
    )
    assert bigger.loads(value, now=NOW).granted == {"necessary", "security", "analytics"}


def test_old_key_in_rotation_still_verifies() -> None:
    old = make_codec(keys=(b"old key",))
    value = old.dumps(decided("analytics"))
    rotated = make_codec(keys=(b"old key", b"new key"))
    assert rotated.loads(value, now=NOW) == decided("analytics")


def test_last_key_signs() -> None:
    rotated = make_codec(keys=(b"old key", b"new key"))
    value = rotated.dumps(decided("analytics"))
    assert make_codec(keys=(b"new key",)).loads(value, now=NOW).decided
    assert not make_codec(keys=(b"old key",)).loads(value, now=NOW).decided


def test_unknown_categories_are_dropped() -> None:
    value = sign_raw(["1", "analytics,removed", NOW, "c1"])
    consent = make_codec().loads(value, now=NOW)
    assert consent.decided
    assert consent.granted == {"necessary", "analytics"}


def _valid() -> str:
    return make_codec().dumps(decided("analytics"))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(_valid()[:-3] + "AAA", id="tampered-signature"),
        pytest.param("A" + _valid()[1:], id="tampered-payload"),
        pytest.param(_valid()[:20], id="truncated"),
        pytest.param(_valid().split(".")[0], id="no-signature"),
        pytest.param(
            make_codec(keys=(b"someone else",)).dumps(decided("analytics")),
            id="unknown-key",
        ),
        pytest.param(
            URLSafeSerializer(b"current key", salt="other").dumps(["1", "analytics", NOW, ""]),
            id="other-salt",
        ),
        pytest.param(_valid() + "A" * 4096, id="oversized"),
        pytest.param("garbage!!", id="garbage"),
        pytest.param("....", id="dots"),
        pytest.param("\x00\x01\x02", id="control-chars"),
        pytest.param("consentement-é.ü", id="non-ascii"),
        pytest.param("\ud800.abc", id="lone-surrogate"),
        pytest.param(sign_raw({"granted": "analytics"}), id="payload-not-a-list"),
        pytest.param(sign_raw(["1", "analytics", NOW]), id="payload-too-short"),
        pytest.param(sign_raw(["1", ["analytics"], NOW, ""]), id="names-not-a-string"),
        pytest.param(sign_raw(["1", "analytics", str(NOW), ""]), id="time-not-an-int"),
        pytest.param(sign_raw(["1", "analytics", True, ""]), id="time-is-a-bool"),
        pytest.param(sign_raw([1, "analytics", NOW, ""]), id="version-not-a-string"),
        pytest.param(sign_raw(["1", "analytics", NOW, "x" * 65]), id="consent-id-too-long"),
        pytest.param(
            make_codec(version="0").dumps(decided("analytics", version="0")),
            id="other-policy-version",
        ),
        pytest.param(make_codec().dumps(decided("analytics", at=NOW - 181 * DAY)), id="expired"),
        pytest.param(make_codec().dumps(decided("analytics", at=NOW + 2 * DAY)), id="future"),
    ],
)
def test_bad_values_read_as_undecided(value: str | None) -> None:
    consent = make_codec().loads(value, now=NOW)
    assert consent == Consent.undecided(REQUIRED)
    assert consent.allows("necessary")
    assert not consent.allows("analytics")


def test_unique_long_cookie_values_pin_bounded_memory() -> None:
    codec = make_codec()

    def verify() -> None:
        for i in range(6000):
            codec.loads(f"{i:08}." + "A" * 4000, NOW)

    assert retained_bytes(verify) < 4 << 20


def test_expiry_is_checked_against_now_even_when_cached() -> None:
    codec = make_codec(max_age=DAY)
    value = codec.dumps(decided("analytics"))
    assert codec.loads(value, now=NOW + DAY - 1).decided
    assert not codec.loads(value, now=NOW + DAY + 1).decided


def test_small_clock_skew_is_tolerated() -> None:
    codec = make_codec()
    value = codec.dumps(decided("analytics", at=NOW + 3600))
    assert codec.loads(value, now=NOW).decided


def test_new_policy_version_asks_again() -> None:
    value = make_codec(version="2024-01").dumps(decided("analytics", version="2024-01"))
    assert make_codec(version="2024-01").loads(value, now=NOW).decided
    assert not make_codec(version="2024-05").loads(value, now=NOW).decided


def test_dumps_defaults_to_codec_version() -> None:
    codec = make_codec(version="7")
    value = codec.dumps(decided("analytics", version=""))
    assert codec.loads(value, now=NOW).version == "7"


def test_no_secret_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="secret key"):
        make_codec(keys=())


@given(st.text(max_size=300))
def test_loads_never_raises(value: str) -> None:
    assert make_codec().loads(value, now=NOW) == Consent.undecided(REQUIRED)


def test_cookie_from_before_a_category_was_added_reads_as_undecided() -> None:
    value = make_codec().dumps(decided("preferences", "analytics", "marketing"))
    extended = ConsentCodec(
        (b"current key",),
        required=REQUIRED,
        known=KNOWN | {"social"},
        version="1",
        max_age=180 * DAY,
    )
    assert not extended.loads(value, NOW).decided
    assert make_codec().loads(value, NOW).allows("marketing")


def test_cookie_without_the_offered_categories_is_still_read() -> None:
    value = sign_raw(["1", "analytics", NOW, "c1"])
    assert make_codec().loads(value, NOW) == decided("analytics")


def test_signed_id_survives_what_makes_a_cookie_not_count() -> None:
    old = make_codec(version="2024-01").dumps(decided("analytics", version="2024-01"))
    expired = make_codec().dumps(decided("analytics", at=NOW - 400 * DAY))
    current = make_codec(version="2024-05")
    assert not current.loads(old, now=NOW).decided
    assert current.signed_id(old) == "c1"
    assert make_codec().signed_id(expired) == "c1"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="missing"),
        pytest.param(make_codec((b"another key",)).dumps(decided()), id="foreign"),
        pytest.param(sign_raw(["1", "", NOW, "x" * 65]), id="id-too-long"),
        pytest.param(sign_raw(["1", "", NOW, 7]), id="id-not-a-string"),
        pytest.param(sign_raw({"id": "c1"}), id="not-a-list"),
        pytest.param("é" + make_codec().dumps(decided()), id="not-ascii"),
    ],
)
def test_signed_id_is_empty_for_what_this_site_did_not_sign(value: str | None) -> None:
    assert make_codec().signed_id(value) == ""
