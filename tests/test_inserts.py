"""The gate's additions to pages, rendered once and kept: a kept one is what a fresh
render gives, and the caches stay bounded."""

from __future__ import annotations

import pytest

from consentgate import inserts
from consentgate.config import Settings
from consentgate.consent import Consent
from consentgate.gate import Gate
from consentgate.inserts import BannerKey, Inserts

from .conftest import SECRET, categories


def fresh(settings: Settings) -> Inserts:
    return Inserts(settings, lambda script_name: script_name)


@pytest.fixture
def settings() -> Settings:
    return Gate(secret_key=SECRET, categories=categories()).settings


UNDECIDED = Consent(frozenset({"necessary"}))
#: Equal to UNDECIDED, another object: found by equality, not identity.
UNDECIDED_AGAIN = Consent(frozenset({"necessary"}))
#: Undecided in another way (a language picked): a banner of its own under the same key.
PICKED = Consent(frozenset({"necessary"}), language="de")
OPT_OUT = Consent(frozenset({"necessary", "analytics"}), mode="opt-out")


def key(path: str = "/page", query: str = "", mode: str = "opt-in", gpc: bool = False) -> BannerKey:
    return ("", path, query, mode, gpc, "en")


@pytest.mark.parametrize(
    "banner_key",
    [
        pytest.param(key(), id="plain"),
        pytest.param(key(query="a=1&b=%C3%A9"), id="query"),
        pytest.param(key(mode="opt-out", gpc=True), id="opt-out with GPC"),
    ],
)
def test_a_kept_banner_is_a_fresh_one_for_each_consent_met_under_its_key(
    settings: Settings, banner_key: BannerKey
) -> None:
    kept = fresh(settings)
    # Consents that share a key take turns: each gets its own banner, never another's.
    for consent in (UNDECIDED, PICKED, UNDECIDED_AGAIN, OPT_OUT, UNDECIDED, PICKED):
        assert kept.banner(banner_key, consent, "") == fresh(settings).banner(
            banner_key, consent, ""
        )


def test_a_banner_with_a_nonce_is_rendered_around_the_kept_form(settings: Settings) -> None:
    kept = fresh(settings)
    nonce = ' nonce="abc"'
    plain = kept.banner(key(), UNDECIDED, "")
    assert kept.banner(key(), UNDECIDED, nonce) == fresh(settings).banner(key(), UNDECIDED, nonce)
    assert kept.banner(key(), UNDECIDED, nonce) != plain
    assert kept.banner(key(), UNDECIDED, "") == plain


def test_the_banner_cache_is_bounded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inserts, "BANNER_CACHE", 8)
    kept = fresh(settings)
    for n in range(50):
        kept.banner(key(path=f"/page/{n}"), UNDECIDED, "")
        assert len(kept._banners) <= 8
    assert kept._banners.nbytes <= inserts.BANNER_CACHE_BYTES
