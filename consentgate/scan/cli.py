"""``python -m consentgate scan``: check that a live site obeys its visitors' choices.

Exit codes: 0 clean; 1 a finding that fails the scan (``ungranted`` always,
``undeclared`` and ``stale`` with ``--fail-on``); 2 the scan could not start (usage,
configuration, no Playwright, no Chromium); 3 a page could not be scanned.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..checks import ConfigError
from ..config import Settings, load_config
from .chromium import find_chromium, missing_message
from .model import PROBLEMS, Problem

#: Seconds a page may take to load (and a decision to be taken) before it counts as failed.
DEFAULT_TIMEOUT = 15.0
#: Most seconds to wait, after the load event, for the network to be idle for half a second.
DEFAULT_SETTLE = 5.0
#: Browsers visiting pages at once (each a Chromium of its own).
DEFAULT_JOBS = min(3, os.cpu_count() or 1)
#: Stands in for the signing key, which a scan never needs.
_NO_KEY = "consentgate-scan-never-signs-anything"


def add_parser(subparsers: Any) -> None:
    """Add ``scan`` to the ``python -m consentgate`` commands."""
    parser = subparsers.add_parser(
        "scan",
        help="visit pages as three visitors and check what they get against the config",
        description=__doc__.split("\n\n", 1)[1].replace("``", "").strip() if __doc__ else None,
    )
    _what_options(parser.add_argument_group("what to scan"))
    _report_options(parser.add_argument_group("report"))
    _browser_options(parser.add_argument_group("browser"))
    parser.set_defaults(run=run)


def _what_options(group: Any) -> None:
    group.add_argument("urls", nargs="*", metavar="URL", help="pages to scan (paths with --wsgi)")
    group.add_argument("--config", required=True, type=Path, help="the site's consent.toml")
    group.add_argument(
        "--crawl", type=_count, default=0, metavar="N", help="follow same-site links, up to N pages"
    )
    group.add_argument(
        "--endpoint", help="path the decisions are posted to (default: the config's endpoint)"
    )
    group.add_argument(
        "--wsgi",
        metavar="MODULE:APP",
        help="serve this WSGI app (MODULE:FACTORY() calls it) on 127.0.0.1 "
        "and scan it; URLs are then paths, default /",
    )


def _report_options(group: Any) -> None:
    group.add_argument("--json", action="store_true", help="print JSON instead of tables")
    group.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML report")
    group.add_argument(
        "--suggest", action="store_true", help="print TOML for undeclared cookies it knows"
    )
    group.add_argument(
        "--fail-on",
        type=_problems,
        default=(),
        metavar="LIST",
        help="also fail on these findings: undeclared,stale (or all)",
    )


def _browser_options(group: Any) -> None:
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a page may take to load (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--settle",
        type=_seconds,
        default=DEFAULT_SETTLE,
        help=f"most seconds to wait for the network to settle (default {DEFAULT_SETTLE:g})",
    )
    group.add_argument(
        "--jobs",
        type=_positive,
        default=DEFAULT_JOBS,
        help=f"browsers visiting at once (default {DEFAULT_JOBS})",
    )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if not 0 < number <= 600:
        raise ValueError(value)
    return number


def _problems(value: str) -> tuple[Problem, ...]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if names == ["all"]:
        return PROBLEMS
    wrong = [n for n in names if n not in PROBLEMS]
    if wrong:
        raise argparse.ArgumentTypeError(f"unknown {wrong[0]!r}: use {', '.join(PROBLEMS)}")
    return tuple(n for n in PROBLEMS if n in names)


def _fail(message: str) -> int:
    from .classify import EXIT_CANNOT_RUN

    print(f"consentgate scan: {message}", file=sys.stderr)
    return EXIT_CANNOT_RUN


def run(args: argparse.Namespace) -> int:
    """Check what can be checked before a browser starts, then scan; returns the exit code."""
    try:
        settings = load_config(args.config, secret_key=_NO_KEY)
    except ConfigError as error:
        return _fail(str(error))
    mistake = _usage_mistake(args)
    if mistake:
        return _fail(mistake)
    try:
        import playwright.sync_api  # noqa: F401
        import publicsuffixlist  # noqa: F401
    except ImportError as error:
        package = (error.name or "playwright").partition(".")[0]
        return _fail(f"{package} is not installed: pip install 'consentgate[scan]'")
    from .serve import load_app, served

    try:
        app = load_app(args.wsgi) if args.wsgi else None
    except ValueError as error:
        return _fail(f"--wsgi: {error}")
    chromium = find_chromium(os.environ)
    if chromium is None:
        return _fail(missing_message(os.environ))
    if app is None:
        return _scan(args, settings, chromium)
    with served(app) as base:
        args.urls = [urljoin(base + "/", url.lstrip("/")) for url in args.urls or ["/"]]
        return _scan(args, settings, chromium)


def _usage_mistake(args: argparse.Namespace) -> str:
    """What is wrong with the URLs or ``--html``, or ""."""
    if args.html is not None and not args.html.resolve().parent.is_dir():
        return f"--html: no folder {args.html.resolve().parent}"
    if args.wsgi:
        return ""
    wrong = [url for url in args.urls if urlsplit(url).scheme not in ("http", "https")]
    if wrong:
        return f"not an http(s) URL: {wrong[0]!r}"
    return "" if args.urls else "give URLs to scan (or --wsgi MODULE:APP)"


def _scan(args: argparse.Namespace, settings: Settings, chromium: str) -> int:
    from .browser import VisitOptions
    from .classify import EXIT_CANNOT_RUN, Classifier, assess, exit_code
    from .html_report import html_report
    from .report import ProgressBar, json_report, text_report
    from .runner import Plan, scan
    from .suggest import suggestions

    options = VisitOptions(
        args.endpoint or settings.endpoint, settings.cookie_name, args.timeout, args.settle
    )
    plan = Plan(tuple(args.urls), args.crawl, args.jobs, options, chromium)
    progress = ProgressBar(sys.stderr)
    try:
        visits = scan(plan, progress)
    except Exception as error:  # only starting a browser can fail: visits report their own
        progress.finish()
        return _fail(f"Chromium did not start: {str(error).strip().splitlines()[0]}")
    progress.finish()
    classifier = Classifier(settings)
    result = assess(visits, classifier)
    code = exit_code(result, args.fail_on)
    if args.html:
        try:
            about = f"Checked against {args.config} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."
            args.html.write_text(html_report(result, classifier, code, about), "utf-8")
        except OSError as error:
            print(f"consentgate scan: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            code = code or EXIT_CANNOT_RUN
    suggested = suggestions(result.findings) if args.suggest else None
    if args.json:
        print(json_report(result, code, suggested))
    else:
        print(text_report(result, classifier, code))
        print(suggested or "", end="")
    return code
