"""consentgate scan against sites it did not write: the demo, and a leaky fixture site.

The demo must come out clean for every visitor; the leaky site (``leaky_site.py``)
must yield exactly the problems planted in it, each with its category, and the exit
codes a deployment guard relies on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

import demo_site
from consentgate.__main__ import main
from consentgate.scan.browser import VisitOptions
from consentgate.scan.pool import Pool
from demo_site import create_app

from .conftest import SECRET
from .leaky_site import CONFIG, leaky_site, other_site
from .support import SITE_PAGES, served

pytestmark = pytest.mark.browser

DEMO_CONFIG = Path(__file__).parents[2] / "demo_site" / "consent.toml"


@pytest.fixture
def leaky(chromium_path: str) -> Iterator[tuple[str, str]]:
    """The leaky site on 127.0.0.1 and its scripts' site on localhost: (site, other)."""
    with served(other_site()) as other_url:
        other = other_url.replace("127.0.0.1", "localhost")
        with served(leaky_site(other)) as site:
            yield site, other


def scan(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "consentgate", "scan", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_the_demo_is_clean_for_every_visitor(
    chromium_path: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In process, the demo served by the scan itself (``--wsgi``), as ``make scan-demo``;
    its key, records and page views kept in a temporary folder."""

    def demo() -> Flask:
        app = create_app({"CONSENTGATE_SECRET_KEY": SECRET, "CONSENTGATE_RECORDS": records})
        app.instance_path = str(tmp_path / "instance")
        return app

    records = f"sqlite:///{tmp_path / 'records.sqlite3'}"
    monkeypatch.setattr(demo_site, "create_app", demo)
    report = tmp_path / "report.html"
    args = ["--config", str(DEMO_CONFIG), "--json", "--html", str(report), *SITE_PAGES]
    code = main(["scan", "--wsgi", "demo_site:create_app()", *args])
    data = json.loads(capsys.readouterr().out)
    assert (code, data["findings"], data["errors"]) == (0, [], [])
    assert [urlsplit(page).path for page in data["pages"]] == list(SITE_PAGES)
    seen = {(o["state"], o["kind"], o["name"], o["category"]) for o in data["observations"]}
    # The scan did see the analytics the demo has, where it is allowed.
    assert ("accepted", "cookie", "ka2_visitor", "analytics") in seen
    assert ("accepted", "request", "www.googletagmanager.com/gtag/js", "analytics") in seen
    assert {s for s, *_ in seen} == {"undecided", "refused", "accepted"}
    assert {c for s, _, _, c in seen if s != "accepted"} <= {None, "necessary"}
    page = report.read_text("utf-8")
    assert "No findings" in page and f"Checked against {DEMO_CONFIG}" in page


def test_the_leaky_site_yields_exactly_what_was_planted(leaky: tuple[str, str]) -> None:
    site, other = leaky
    done = scan("--config", str(CONFIG), "--crawl", "10", "--json", site + "/")
    assert done.returncode == 1, done.stderr  # a cookie of a category nobody granted
    data = json.loads(done.stdout)
    home = site + "/"
    # Followed: /second (once, fragment dropped); skipped: the consent page, the PDF
    # and the other site.
    assert data["pages"] == [home, site + "/second"]
    other_host = other.removeprefix("http://")
    everyone = ["undecided", "refused", "accepted"]
    found = {
        (f["problem"], f["kind"], f["name"], f["category"], tuple(f["states"]), tuple(f["pages"]))
        for f in data["findings"]
    }
    assert found == {
        # The inline script's cookie, before consent and after refusal.
        ("ungranted", "cookie", "fixture_stats", "analytics", ("undecided", "refused"), (home,)),
        # The tag with no category, the key it keeps and the one its frame keeps.
        ("undeclared", "request", other_host, None, tuple(everyone), (home,)),
        ("undeclared", "storage", "widget_state", None, tuple(everyone), (home,)),
        ("undeclared", "storage", "widget_frame", None, tuple(everyone), (home,)),
        # The server's cookie nobody declared.
        ("undeclared", "cookie", "_hjSessionUser_42", None, tuple(everyone), (home,)),
        # Declared, never set.
        ("stale", "cookie", "legacy_id", "analytics", (), ()),
    }
    # The frame's key is the other site's, in its own origin.
    frame_key = {
        (o["where"], o["third_party"]) for o in data["observations"] if o["name"] == "widget_frame"
    }
    assert frame_key == {(other + " localStorage", True)}
    # The declared tracker was gated properly: loaded only for the visitor who accepted.
    tracker = other_host + "/tracker.js"
    loaded = {o["state"] for o in data["observations"] if o["name"] == tracker}
    assert loaded == {"accepted"}


def test_the_exit_code_follows_fail_on_and_suggest_prints_the_catalogue(
    leaky: tuple[str, str],
) -> None:
    site, _ = leaky
    # Only the second page: nothing there a visitor did not grant, but a stale declaration.
    clean = scan("--config", str(CONFIG), site + "/second")
    assert clean.returncode == 0, clean.stdout
    assert "STALE" in clean.stdout and "legacy_id" in clean.stdout
    strict = scan("--config", str(CONFIG), "--fail-on", "stale", "--suggest", site + "/")
    assert strict.returncode == 1
    toml = strict.stdout[strict.stdout.index("# Cookies the scan found") :]
    categories = tomllib.loads(toml)["categories"]
    assert [(c["name"], c["trackers"]) for c in categories] == [("analytics", ["hotjar"])]
    assert categories[0]["cookies"][0]["name"] == "_hjSessionUser_*"


def test_a_page_that_never_yields_is_given_up_not_waited_for(
    leaky: tuple[str, str], chromium_path: str
) -> None:
    site, _ = leaky
    options = VisitOptions("/consent", "consentgate", timeout=2, settle=0.5)
    pool = Pool(1, chromium_path, options, grace=1)
    try:
        busy, second = pool.run([(site + "/busy", "undecided"), (site + "/second", "undecided")])
    finally:
        pool.close()
    assert busy.page == site + "/busy" and "did not answer" in busy.error
    # Another browser took its place and went on.
    assert second.page == site + "/second" and second.error == ""
