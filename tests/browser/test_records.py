"""Consent records seen from a browser: each choice recorded, the id shown to quote,
and a store that fails leaves the visitor undecided with a page that says so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consentgate.recording import Recorder
from consentgate.records import Record, open_store

from ..recordstores import FailingStore
from .support import BANNER, PREFERENCES, DemoSite, Visitor

pytestmark = pytest.mark.browser


def history(site: DemoSite, consent_id: str) -> list[Record]:
    """The visitor's records, as the site owner reads them."""
    store: Any = open_store(site.app.config["CONSENTGATE_RECORDS"])
    try:
        return list(store.history(consent_id))
    finally:
        store.close()


def test_each_choice_is_recorded_and_its_id_is_shown_to_quote(visitor: Visitor) -> None:
    visitor.goto("/facts")
    visitor.press(visitor.page.locator(BANNER).get_by_role("button", name="Accept all"))
    consent = visitor.consent()
    assert consent.allows("analytics")

    visitor.goto(PREFERENCES)
    receipt = visitor.page.locator("#consentgate-receipt")
    assert consent.consent_id in receipt.inner_text()
    stamp = receipt.locator("time").get_attribute("datetime") or ""
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z") == datetime.fromtimestamp(
        consent.decided_at, UTC
    )
    visitor.page.get_by_label("Analytics cookies").uncheck()
    visitor.press(visitor.page.get_by_role("button", name="Save my choices"))

    assert visitor.consent().consent_id == consent.consent_id
    first, second = history(visitor.site, consent.consent_id)
    assert (first.action, first.entry_point, first.granted) == (
        "accept_all",
        "banner",
        tuple(sorted(visitor.site.settings.names)),  # every category the demo has
    )
    assert (second.action, second.entry_point, second.refused) == (
        "withdraw",
        "preferences",
        ("analytics",),
    )


def test_a_failing_store_leaves_the_visitor_undecided_and_told(make_visitor: Any) -> None:
    visitor: Visitor = make_visitor(java_script_enabled=False)
    gate = visitor.site.gate
    gate.recorder = Recorder(gate.settings.replace(records=FailingStore()))
    visitor.goto("/resources")
    visitor.press(visitor.page.locator(BANNER).get_by_role("button", name="Accept all"))

    heading = visitor.page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Your choice was not saved"
    assert not visitor.consent().decided
    assert visitor.tracking() == []
    visitor.page.get_by_role("link", name="Back to the page you were on").click()
    visitor.page.wait_for_load_state()
    assert visitor.url_path() == "/resources"
    assert visitor.banner_shown()
    assert visitor.tracking() == []


def test_with_javascript_a_failing_store_keeps_the_banner_and_says_so(
    make_visitor: Any,
) -> None:
    visitor: Visitor = make_visitor(java_script_enabled=True)
    gate = visitor.site.gate
    gate.recorder = Recorder(gate.settings.replace(records=FailingStore()))
    visitor.goto("/resources")
    page = visitor.page
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator(BANNER).get_by_role("button", name="Accept all").click()
    assert answer.value.status == 503
    alert = page.locator(BANNER).get_by_role("alert")
    alert.wait_for()
    assert "could not be saved" in alert.inner_text()
    assert visitor.banner_shown() and visitor.url_path() == "/resources"
    assert not visitor.consent().decided
    assert visitor.tracking() == []


@pytest.mark.parametrize("javascript", [False, True], ids=["no-script", "script"])
def test_a_failing_store_says_so_in_the_visitors_language(
    make_visitor: Any, javascript: bool
) -> None:
    visitor: Visitor = make_visitor(java_script_enabled=javascript, locale="fr-FR")
    gate = visitor.site.gate
    gate.recorder = Recorder(gate.settings.replace(records=FailingStore()))
    visitor.goto("/resources")
    page = visitor.page
    page.locator(BANNER).get_by_role("button", name="Tout accepter").click()
    if javascript:
        alert = page.locator(BANNER).get_by_role("alert")
        alert.wait_for()
        assert alert.inner_text().startswith("Votre choix n\u2019a pas pu être enregistré")
    else:
        page.wait_for_load_state()
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text() == "Votre choix n\u2019a pas été enregistré"
        assert "Veuillez réessayer dans 30 secondes." in page.locator("main").inner_text()
    assert not visitor.consent().decided
