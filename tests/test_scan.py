"""consentgate scan without a browser: classification, findings, exit codes, reports.

Visits are built by hand as the browser driver would record them; the browser tests
(``tests/browser/test_scan.py``) run the real thing against real sites.
"""

from __future__ import annotations

import html
import io
import json
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consentgate import Category, Settings
from consentgate.__main__ import main
from consentgate.scan import STATES, CookieSeen, RequestSeen, StorageSeen, Visit
from consentgate.scan.browser import VisitOptions
from consentgate.scan.classify import Classifier, assess, exit_code, site_of
from consentgate.scan.html_report import html_report
from consentgate.scan.report import ProgressBar, json_report, text_report
from consentgate.scan.runner import Plan, _breadth_first, _follow
from consentgate.scan.serve import load_app
from consentgate.scan.suggest import known_cookie, suggestions

PAGE = "https://www.example.org/"
SETTINGS = Settings(
    secret_key="unit-test-secret-0123456789abcdef0123",
    categories=[
        Category("necessary", required=True, presets=["flask"]),
        Category(
            "analytics",
            trackers=["google-analytics"],
            sources=["/js/counter.js"],
            cookies=["visits", "old_counter"],
        ),
        Category("marketing", sources=["ads.example.net"]),
    ],
)


@pytest.fixture
def classifier() -> Classifier:
    return Classifier(SETTINGS)


def visit(state: str = "undecided", page: str = PAGE, **things: object) -> Visit:
    return Visit(page, state, **things)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "category"),
    [
        pytest.param("https://www.google-analytics.com/g/collect?v=2", "analytics", id="catalogue"),
        pytest.param("https://www.example.org/js/counter.js", "analytics", id="same-site-path"),
        pytest.param("https://cdn.example.org/js/counter.js", None, id="other-host-path"),
        pytest.param("https://px.ads.example.net/p.gif", "marketing", id="subdomain"),
        pytest.param("https://www.example.org/style.css", None, id="own-resource"),
    ],
)
def test_requests_get_the_category_the_gate_gives_their_url(
    classifier: Classifier, url: str, category: str | None
) -> None:
    assert classifier.request(RequestSeen(url, "script"), PAGE) == category


def test_a_request_without_a_category_takes_its_initiating_scripts(
    classifier: Classifier,
) -> None:
    beacon = RequestSeen("https://collector.example.com/b", "ping", PAGE + "js/counter.js")
    assert classifier.request(beacon, PAGE) == "analytics"


def test_cookies_and_storage_keys_are_placed_by_the_declarations(
    classifier: Classifier,
) -> None:
    assert classifier.cookie("consentgate") == "necessary"  # the consent cookie
    assert classifier.cookie("session") == "necessary"  # a preset
    assert classifier.cookie("_ga_ABC123") == "analytics"  # a catalogue glob
    assert classifier.cookie("visits") == "analytics"
    assert classifier.cookie("mystery") is None


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("static.example.org", "example.org"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("[::1]", "::1"),
    ],
)
def test_sites_are_registrable_domains(host: str, site: str) -> None:
    assert site_of(host) == site


def test_each_kind_of_problem_is_found_once_with_its_states_and_pages(
    classifier: Classifier,
) -> None:
    leak = CookieSeen("_ga", ".example.org")
    undeclared = RequestSeen("https://widgets.example.com/w.js", "script", PAGE)
    visits = [
        visit("undecided", cookies=(leak,), requests=(undeclared,)),
        visit("refused", cookies=(leak, CookieSeen("consentgate", "www.example.org"))),
        visit(
            "accepted",
            cookies=(leak, CookieSeen("visits", "www.example.org")),
            storage=(StorageSeen("https://www.example.org", "localStorage", "mystery"),),
            requests=(RequestSeen(PAGE + "js/counter.js", "script", PAGE),),
        ),
        visit("undecided", page=PAGE + "b", requests=(undeclared,)),
    ]
    result = assess(visits, classifier)
    found = {(f.problem, f.kind, f.name, f.category, f.states, f.pages) for f in result.findings}
    assert found == {
        ("ungranted", "cookie", "_ga", "analytics", ("undecided", "refused"), (PAGE,)),
        (
            "undeclared",
            "request",
            "widgets.example.com",
            None,
            ("undecided",),
            (PAGE, PAGE + "b"),
        ),
        ("undeclared", "storage", "mystery", None, ("accepted",), (PAGE,)),
        ("stale", "cookie", "old_counter", "analytics", (), ()),
    }
    # The catalogue's and the presets' cookies never seen are not stale: a tracker
    # sets some of its cookies on some sites.
    assert exit_code(result) == 1
    assert exit_code(result, ["undeclared", "stale"]) == 1


def test_only_ungranted_findings_fail_unless_asked(classifier: Classifier) -> None:
    visits = [visit(cookies=(CookieSeen("mystery", "www.example.org"),))]
    result = assess(visits, classifier)
    assert {f.problem for f in result.findings} == {"undeclared", "stale"}
    assert exit_code(result) == 0
    assert exit_code(result, ["stale"]) == 1
    assert exit_code(result, ["undeclared"]) == 1


def test_a_page_that_could_not_be_seen_makes_the_scan_incomplete(
    classifier: Classifier,
) -> None:
    result = assess([visit(), visit("refused", error="timed out")], classifier)
    assert exit_code(result) == 3
    # Nothing is called stale when a page went unseen: it may have held the cookie.
    assert [f for f in result.findings if f.problem == "stale"] == []


def test_the_reports_show_the_findings_and_escape_what_pages_control(
    classifier: Classifier,
) -> None:
    nasty = '<img src=x onerror=alert(1)>"&'
    visits = [
        visit(storage=(StorageSeen("https://www.example.org", "localStorage", nasty),)),
        visit("refused", error="\x1b[31mboom"),
    ]
    result = assess(visits, classifier)
    page = html_report(result, classifier, 3)
    assert nasty not in page and html.escape(nasty) in page
    assert "<script" not in page
    text = text_report(result, classifier, 3)
    assert "UNDECLARED" in text and "\x1b" not in text.split("Could not scan")[0]
    data = json.loads(json_report(result, 3, suggestions="# toml"))
    assert (data["exit_code"], data["suggestions"]) == (3, "# toml")
    assert data["errors"] == [{"page": PAGE, "state": "refused", "error": "\x1b[31mboom"}]
    assert {f["name"] for f in data["findings"]} == {nasty}


def test_suggestions_are_toml_a_category_accepts(classifier: Classifier) -> None:
    visits = [
        visit(
            cookies=(
                CookieSeen("_hjSessionUser_42", "www.example.org"),
                CookieSeen("_fbp", ".example.org"),
                CookieSeen('odd"name', "www.example.org"),
            )
        )
    ]
    text = suggestions(assess(visits, classifier).findings)
    data = tomllib.loads(text)
    by_name = {c["name"]: c for c in data["categories"]}
    assert by_name["analytics"]["trackers"] == ["hotjar"]
    assert by_name["marketing"]["trackers"] == ["meta-pixel"]
    fbp = by_name["marketing"]["cookies"][0]
    assert (fbp["name"], fbp["provider"], fbp["lifetime"]) == ("_fbp", "Meta", "90 days")
    for table in data["categories"]:
        Category(**table)  # pastes as it stands
    assert '#   "odd\\"name"' in text


def test_an_exact_catalogue_name_wins_over_a_glob() -> None:
    match = known_cookie("_hjid")
    assert match is not None and match[1].name == "_hjid"


@pytest.mark.parametrize(
    ("link", "followed"),
    [
        ("https://www.example.org/about", True),
        ("https://www.example.org/about.html", True),
        ("https://www.example.org/consent", False),
        ("https://www.example.org/consent/", False),
        ("https://www.example.org/annual-report.PDF", False),
        ("https://other.example.org/", False),
        ("mailto:info@example.org", False),
    ],
)
def test_a_crawl_follows_same_site_pages_only(link: str, followed: bool) -> None:
    assert _follow(PAGE, link, "/consent") is followed


def test_wsgi_apps_are_named_like_flask_names_them() -> None:
    assert callable(load_app("demo_site:create_app()"))
    for wrong in ("demo_site", "demo_site:nothing", "no_such_module:app", "demo_site:1x"):
        with pytest.raises(ValueError):
            load_app(wrong)


def scan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "consentgate", "scan", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_without_a_browser_the_scan_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {"CONSENTGATE_CHROMIUM": str(tmp_path / "no-chromium"), "PATH": "/usr/bin:/bin"}
    done = scan("--config", "demo_site/consent.toml", "http://127.0.0.1:9/", env=env)
    assert done.returncode == 2
    assert "Chromium not found" in done.stderr and "apt-get install chromium" in done.stderr


def test_a_bad_config_is_named_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "consent.toml"
    config.write_text('[[categories]]\nname = "Bad Name"\n')
    assert main(["scan", "--config", str(config), "http://127.0.0.1:9/"]) == 2
    assert "categories[0].name" in capsys.readouterr().err


def test_an_unknown_problem_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["scan", "--config", "demo_site/consent.toml", "--fail-on", "typo", "http://x/"])
    assert exited.value.code == 2 and "unknown 'typo'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["example.org/"], "not an http(s) URL: 'example.org/'", id="no-scheme"),
        pytest.param([], "give URLs to scan", id="no-url"),
        pytest.param(["--wsgi", "demo_site"], "--wsgi: 'demo_site' is not", id="bad-wsgi"),
        pytest.param(
            ["--html", "/no/such/dir/r.html", "http://x/"], "--html: no folder", id="html"
        ),
    ],
)
def test_usage_mistakes_are_told_before_a_browser_starts(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--config", "demo_site/consent.toml", *args]) == 2
    assert message in capsys.readouterr().err


def test_without_playwright_the_scan_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    assert main(["scan", "--config", "demo_site/consent.toml", "http://127.0.0.1:9/"]) == 2
    err = capsys.readouterr().err
    assert "playwright is not installed: pip install 'consentgate[scan]'" in err


#: A made-up site: each page's links.
SITE_LINKS = {
    PAGE: (PAGE + "a", PAGE + "b#top", PAGE + "consent", PAGE + "doc"),
    PAGE + "a": (PAGE + "c", PAGE),
    PAGE + "b": (PAGE + "d",),
}


class FakePool:
    """Answers each visit at once with the links of a made-up site."""

    def run(self, tasks: list[tuple[str, str]]) -> Iterator[Visit]:
        for url, state in reversed(tasks):  # finishing in any order
            error = "not an HTML page (application/pdf)" if url.endswith("doc") else ""
            yield visit(state, url, links=SITE_LINKS.get(url, ()), error=error)


@pytest.mark.parametrize(
    ("crawl", "pages"),
    [
        pytest.param(0, [PAGE], id="no-crawl"),
        pytest.param(3, [PAGE, PAGE + "a", PAGE + "b"], id="first-level"),
        pytest.param(9, [PAGE, PAGE + "a", PAGE + "b", PAGE + "c", PAGE + "d"], id="all"),
    ],
)
def test_a_crawl_goes_breadth_first_up_to_its_limit(crawl: int, pages: list[str]) -> None:
    options = VisitOptions("/consent", "consentgate", 1, 1)
    plan = Plan((PAGE,), crawl, 1, options, "/usr/bin/chromium")
    progress: list[tuple[int, int]] = []
    pool: Any = FakePool()
    visits = _breadth_first(plan, pool, lambda done, total, _: progress.append((done, total)))
    assert [v.page for v in visits] == [p for p in pages for _ in STATES]
    assert [v.state for v in visits[:3]] == list(STATES)
    assert progress[-1][0] == progress[-1][1]  # the bar ends full


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_on_a_terminal_only() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(stream, width=10)
        bar(3, 6, "https://www.example.org/\x1b[2Jpage")
        bar.finish()
    assert "[#####.....] 3/6 https://www.example.org/?[2Jpage" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_every_catalogue_entry_names_the_category_it_is_suggested_for() -> None:
    from consentgate.catalogue import preset_catalogue, tracker_catalogue

    trackers = {t.id: t.category for t in tracker_catalogue().values()}
    assert set(trackers.values()) == {"analytics", "marketing", "media"}
    assert trackers["meta-pixel"] == "marketing" and trackers["matomo"] == "analytics"
    assert trackers["youtube"] == "media" and trackers["google-ads"] == "marketing"
    assert {p.category for p in preset_catalogue().values()} == {"necessary"}


def test_a_failing_factory_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import demo_site

    def broken() -> None:
        raise RuntimeError("no database")

    monkeypatch.setattr(demo_site, "create_app", broken)
    with pytest.raises(ValueError, match=r"demo_site:create_app\(\) failed: no database"):
        load_app("demo_site:create_app()")


def test_a_browser_that_does_not_start_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_browser = shutil.which("false")
    if not_a_browser is None:
        pytest.skip("no 'false' command to stand in for a broken browser")
    monkeypatch.setenv("CONSENTGATE_CHROMIUM", not_a_browser)
    assert main(["scan", "--config", "demo_site/consent.toml", "http://127.0.0.1:9/"]) == 2
    assert "Chromium did not start" in capsys.readouterr().err


def test_served_app_closes_a_response_the_browser_hung_up_on() -> None:
    """Werkzeug skips close() when the client drops mid-drain; the handler closes it."""
    from consentgate.scan import serve

    closed: list[bool] = []

    class Body(list[bytes]):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "image/svg+xml")])
        return Body([b"<svg/>"])

    environ: dict[str, Any] = {}
    body = serve._remembering(app)(environ, lambda *args: None)
    handler = serve._QuietHandler.__new__(serve._QuietHandler)
    handler.connection_dropped(ConnectionResetError(), environ)
    assert body == [b"<svg/>"] and closed == [True]
    handler.connection_dropped(ConnectionResetError(), None)  # no request read yet
    assert closed == [True]
