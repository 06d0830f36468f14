"""Shared fixtures: a small site to gate, and ways to talk to it."""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import settings
from werkzeug.test import Client

from consentgate import Category, ConsentGate
from consentgate.scan.serve import served

from . import pgcluster
from .jinja_cache import SharedTemplateCode

# Timing is no part of a test's verdict: a busy machine must not fail an example.
settings.register_profile("consentgate", deadline=None)
settings.load_profile("consentgate")

SECRET = "test-secret-key-0123456789abcdef"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

GTAG = (
    b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script>\n'
    b"<script>window.dataLayer = window.dataLayer || [];\n"
    b"function gtag(){dataLayer.push(arguments);}\n"
    b"gtag('js', new Date()); gtag('config', 'G-TEST');</script>\n"
)
PAGE = (
    b"<!DOCTYPE html><html lang=en><head><title>Home</title>\n"
    + GTAG
    + b'<script src="/static/app.js"></script>\n'
    b"</head><body><h1>Hello</h1><p>Content stays.</p></body></html>\n"
)

#: The Google Consent Mode default the gate writes for a visitor who accepted the
#: test categories' analytics (Google Analytics maps ``analytics_storage``).
ANALYTICS_DEFAULT = (
    b"<script>window.dataLayer=window.dataLayer||[];(function(){"
    b"function gtag(){dataLayer.push(arguments);}"
    b'gtag("consent","default",{"ad_storage":"denied","ad_user_data":"denied",'
    b'"ad_personalization":"denied","analytics_storage":"granted",'
    b'"functionality_storage":"denied","personalization_storage":"denied",'
    b'"security_storage":"denied"});})();</script>'
)
#: :data:`PAGE` as a visitor who accepted analytics gets it: unchanged but for the
#: Consent Mode default before its first script.
PAGE_ACCEPTED = PAGE.replace(b"<script async", ANALYTICS_DEFAULT + b"<script async", 1)


def categories() -> list[Category]:
    """Necessary plus analytics with Google Analytics and a site cookie."""
    return [
        Category("necessary", required=True, label="Necessary cookies", cookies=["session"]),
        Category(
            "analytics",
            label="Analytics cookies",
            description="Count visits so we can improve the site.",
            trackers=["google-analytics"],
            cookies=["visits"],
        ),
    ]


def html_app(
    body: bytes = PAGE, headers: Iterable[tuple[str, str]] = ()
) -> Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]:
    """A WSGI app answering every request with ``body`` as HTML."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                *headers,
            ],
        )
        return [body]

    return app


def retained_bytes(run: Callable[[], object]) -> int:
    """Memory still allocated after ``run``, as tracemalloc counts it."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="session", autouse=True)
def shared_template_code() -> Iterator[None]:
    """Every Flask app of the session reuses the templates an earlier one compiled
    (``tests/jinja_cache.py``): most tests build an app of their own."""
    options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "jinja_options", options)
        yield


@pytest.fixture
def make_gate() -> Callable[..., ConsentGate]:
    """Build a ConsentGate with the test secret and categories."""

    def build(app: Any = None, **options: Any) -> ConsentGate:
        options.setdefault("secret_key", SECRET)
        options.setdefault("categories", categories())
        return ConsentGate(app or html_app(), **options)

    return build


@pytest.fixture
def client(make_gate: Callable[..., ConsentGate]) -> Client:
    """A test client for the gated sample page."""
    return Client(make_gate())


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serve a WSGI app with Werkzeug on a free port of 127.0.0.1; yields its base URL."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(served(app))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.PgCluster]:
    """One throw-away PostgreSQL server for the session (see ``tests/pgcluster.py``).

    Skips with the reason when this machine has no server binaries; with ``CI=true``
    a missing server fails instead, as a missing browser does.
    """
    reason = pgcluster.missing_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with pgcluster.running_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(pg_cluster: pgcluster.PgCluster) -> str:
    """The URL of a new, empty database on the session's cluster, one per test."""
    if not pg_cluster.is_running():  # an outage test that failed half-way stopped it
        pg_cluster.start()
    return pg_cluster.create_database()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in
    the main thread from its first use to the end of the session, and there ``asyncio``
    cannot run another (the ASGI tests) nor Django touch its database."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


#: The Django example project, which the Django app's tests drive in this process.
DJANGO_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "django"


def setup_django() -> None:
    """Set Django up, once per session, with ``examples/django``'s settings."""
    from django.conf import settings as django_settings

    if django_settings.configured:
        return
    import django

    sys.path.insert(0, str(DJANGO_EXAMPLE))
    os.environ["DJANGO_SETTINGS_MODULE"] = "example.settings"
    django.setup()


@pytest.fixture(scope="session")
def django_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Django set up once for the session with ``examples/django``'s settings, and a
    test database (migrated, in a file any thread opens) for its admin."""
    from django.db import connections
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_django()
    test_db = tmp_path_factory.mktemp("django") / "test.sqlite3"
    connections["default"].settings_dict["TEST"]["NAME"] = str(test_db)
    setup_test_environment()
    # Set up and torn down in one thread: the connections made are that thread's.
    with ThreadPoolExecutor(max_workers=1) as worker:
        databases = worker.submit(setup_databases, verbosity=0, interactive=False).result()
        yield
        worker.submit(teardown_databases, databases, verbosity=0).result()
    teardown_test_environment()
