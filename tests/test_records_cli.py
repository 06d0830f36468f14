"""``python -m consentgate records`` and ``flask consent records``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from consentgate.__main__ import main
from consentgate.flask import FlaskConsent
from consentgate.records import Notice, open_store
from consentgate.records.report import older_than, parse_time

from .conftest import SECRET
from .records_support import NOTICE, NOTICE_FR, T0, count, days, record

NOW = datetime.now(UTC)
NOTICE_DE = Notice("de", "Wir verwenden Cookies.")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store on each backend: three decisions of March 2026, one of yesterday and one
    thirty years old."""
    if request.param == "sqlite":
        location = f"sqlite:///{tmp_path}/consent.sqlite3"
    else:
        location = request.getfixturevalue("postgres_url")
    store = open_store(location)
    store.append(record("alice", T0, notice=NOTICE_FR), NOTICE_FR)
    refuse: dict[str, Any] = {
        "granted": ("necessary",),
        "refused": ("analytics",),
        "action": "reject_all",
    }
    store.append(record("alice", T0 + days(1), entry_point="preferences", **refuse), NOTICE)
    store.append(record("bob", T0 + days(1.25)), NOTICE)
    # Purged by --older-than 29y for decades yet, unlike everything else here.
    store.append(record("old", NOW - days(30 * 366), notice=NOTICE_DE), NOTICE_DE)
    store.append(record("recent", NOW - days(1)), NOTICE)
    store.close()
    yield location


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["records", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_history_with_the_notice_text(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--records", url, "show", "alice")
    assert code == 0
    assert out.index("2026-03-01 12:00:00 UTC  accept_all (banner)") < out.index(
        "2026-03-02 12:00:00 UTC  reject_all (preferences)"
    )
    assert "    | Nous utilisons des cookies." in out  # the French notice, word for word
    assert "    | Analytics: count visits so we can improve the site." in out
    assert "  refused: analytics" in out


def test_show_a_notice_seen_twice_is_printed_once(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(url)
    store.append(record("bob", T0 + days(2)), NOTICE)
    store.close()
    code, out, _ = run(capsys, "--records", url, "show", "bob")
    assert code == 0
    assert out.count("We use cookies.") == 1 and out.count(": as above") == 1


def test_show_an_unknown_id_says_so(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--records", url, "show", "nobody")
    assert (code, out) == (1, "")
    assert "no decisions recorded for consent id 'nobody'" in err


def test_export_csv_between_two_dates(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("export", "--since", "2026-03-01", "--until", "2026-03-02", "--format", "csv")
    code, out, _ = run(capsys, "--records", url, *argv)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    # --until as a date counts that whole day.
    assert [(r["consent_id"], r["action"]) for r in rows] == [
        ("alice", "accept_all"),
        ("alice", "reject_all"),
        ("bob", "accept_all"),
    ]
    assert rows[1]["decided_at"] == "2026-03-02T12:00:00Z"
    assert (rows[1]["granted"], rows[1]["refused"]) == ("necessary", "analytics")
    assert rows[0]["notice_digest"] == NOTICE_FR.digest


def test_export_jsonl_to_a_file(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.jsonl"
    argv = ("export", "--since", "2026-03-02T00:00:00+00:00", "--format", "jsonl")
    code, out, err = run(capsys, "--records", url, *argv, "--output", str(target))
    assert (code, out) == (0, "")
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["consent_id"] for line in lines] == ["alice", "bob", "recent"]
    assert lines[0]["granted"] == ["necessary"] and lines[0]["gpc"] is False
    assert "3 decision(s) written" in err
    assert list(target.parent.iterdir()) == [target]  # no partial file left behind


def test_stats_reports_days_actions_and_acceptance(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("stats", "--since", "2026-03-01", "--until", "2026-03-02")
    code, out, _ = run(capsys, "--records", url, *argv)
    assert code == 0
    assert out.startswith("3 decisions from 2026-03-01 00:00:00 UTC to 2026-03-03 00:00:00 UTC")
    assert "  2026-03-01         1\n  2026-03-02         2" in out
    assert "  accept_all         2" in out
    assert "  analytics   66.7%  (2 granted, 1 refused)" in out


def test_purge_dry_run_then_purge(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--records", url, "purge", "--older-than", "29y", "--dry-run")
    assert code == 0
    assert out.startswith("Would delete 1 decision taken before ")
    assert out.endswith(" and 1 notice that no remaining decision points to.\n")
    assert count(url, "consentgate_decisions") == 5
    code, out, _ = run(capsys, "--records", url, "purge", "--older-than", "29y")
    assert code == 0 and out.startswith("Deleted 1 decision taken before ")
    assert count(url, "consentgate_decisions") == 4
    assert count(url, "consentgate_notices") == 2
    code, out, _ = run(capsys, "--records", url, "show", "old")
    assert code == 1


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        pytest.param("30d", "would delete decisions still in effect", id="too-short"),
        pytest.param("6m", "not a duration", id="months-are-ambiguous"),
    ],
)
def test_purge_refuses_what_it_should_not_do(
    url: str, capsys: pytest.CaptureFixture[str], duration: str, message: str
) -> None:
    code, out, err = run(capsys, "--records", url, "purge", "--older-than", duration)
    assert (code, out) == (2, "")
    assert message in err
    assert count(url, "consentgate_decisions") == 5


def test_config_file_needs_no_secret(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "consent.toml"
    lines = [f'records = "{url}"', 'secret_key_env = "NOT_SET_IN_THIS_SHELL"', "max_age_days = 30"]
    config.write_text("\n".join(lines) + '\n[[categories]]\nname = "necessary"\n')
    code, out, err = run(capsys, "--config", str(config), "purge", "--older-than", "20d")
    assert code == 2 and "a choice lasts 30 days (max_age_days)" in err
    code, out, _ = run(capsys, "--config", str(config), "purge", "--older-than", "40d", "--dry-run")
    assert code == 0 and out.startswith("Would delete ")  # 40d > max_age_days


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param('secret_key = "x"\n', "records: must be set to a store URL", id="no-records"),
        pytest.param('records = "mysql://x"\n', "records: must be 'sqlite", id="bad-url"),
        pytest.param("records = [\n", "invalid TOML", id="bad-toml"),
    ],
)
def test_config_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    config = tmp_path / "consent.toml"
    config.write_text(content)
    code, out, err = run(capsys, "--config", str(config), "stats")
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err


def test_a_missing_sqlite_file_is_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--records", f"sqlite:///{tmp_path}/typo.sqlite3", "stats")
    assert code == 2 and "no records database at" in err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from .pgcluster import free_port

    unreachable = f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/none"
    code, out, err = run(capsys, "--records", unreachable, "stats")
    assert (code, out) == (1, "")
    assert err.startswith("consentgate records: error: the records cannot be read")
    assert "hunter2" not in err and err.count("\n") == 1


def test_a_bad_date_is_a_usage_error(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["records", "--records", url, "export", "--since", "last week", "--format", "csv"])
    assert exit.value.code == 2
    assert "not a date: 'last week'" in capsys.readouterr().err


def flask_app(records: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        CONSENTGATE_SECRET_KEY=SECRET,
        CONSENTGATE_CATEGORIES=[{"name": "necessary", "required": True}, {"name": "analytics"}],
        CONSENTGATE_RECORDS=records,
    )
    FlaskConsent(app)
    return app


def test_flask_cli_runs_the_same_commands_on_the_apps_store(url: str) -> None:
    runner = flask_app(url).test_cli_runner()
    shown = runner.invoke(args=["consent", "records", "show", "alice"])
    assert shown.exit_code == 0 and "    | Nous utilisons des cookies." in shown.output
    missing = runner.invoke(args=["consent", "records", "show", "nobody"])
    assert missing.exit_code == 1
    helped = runner.invoke(args=["consent", "records", "--help"])
    assert helped.exit_code == 0 and "flask consent records" in helped.output
    for command in ("show", "export", "stats", "purge"):
        assert command in helped.output


def test_flask_cli_without_records_says_so() -> None:
    result = flask_app(None).test_cli_runner().invoke(args=["consent", "records", "stats"])
    assert result.exit_code == 2
    assert "records: is not set" in result.output


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        pytest.param("400d", datetime(2025, 1, 15, tzinfo=UTC), id="days"),
        pytest.param("2w", datetime(2026, 2, 5, tzinfo=UTC), id="weeks"),
        pytest.param("3y", datetime(2023, 2, 19, tzinfo=UTC), id="years"),
    ],
)
def test_durations_count_back_from_now(duration: str, expected: datetime) -> None:
    now = datetime(2026, 2, 19, tzinfo=UTC)
    assert older_than(duration, now) == expected


def test_a_leap_day_goes_back_whole_years() -> None:
    assert older_than("1y", datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2027, 2, 28, tzinfo=UTC)


def test_times_are_utc_unless_they_say_otherwise() -> None:
    assert parse_time("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_time("2026-03-01", end=True) == datetime(2026, 3, 2, tzinfo=UTC)
    assert parse_time("2026-03-01T12:00+02:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_time("2026-03-01T12:00", end=True) == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_an_unwritable_output_is_a_one_line_error(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing-dir" / "out.csv"
    argv = ("export", "--since", "2026-03-01", "--format", "csv", "--output", str(target))
    code, out, err = run(capsys, "--records", url, *argv)
    assert (code, out) == (1, "")
    assert "No such file or directory" in err and "Traceback" not in err
