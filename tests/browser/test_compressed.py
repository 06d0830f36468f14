"""A compressed site in a real browser: Flask-Compress under gunicorn, Chromium's own headers.

Chromium asks for ``gzip, deflate, br, zstd``; Flask-Compress answers in the
first it supports. The gate must read that, or make the app choose one it can:
either way the visitor gets the banner and Chromium never contacts Google.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Request, Route

from .support import BANNER, is_analytics_url

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Return once ``url`` answers; fail if gunicorn exits or 20 s pass."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail("gunicorn did not answer within 20 s")


@pytest.fixture
def base_url() -> Iterator[str]:
    """The site under gunicorn, on a socket of 127.0.0.1 this test opened (no port race)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"fd://{listener.fileno()}",
        "--workers",
        "1",
        "--chdir",
        str(ROOT),
        "tests.browser.compressed_site:create_app()",
    ]
    proc = subprocess.Popen(command, pass_fds=(listener.fileno(),), stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        listener.close()


def test_undecided_visitor_of_a_compressed_site_gets_the_banner_and_no_google(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context()
    attempted: list[str] = []
    context.on("request", lambda request: attempted.append(request.url))

    def local_only(route: Route, request: Request) -> None:
        if request.url.startswith(base_url):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", local_only)
    page = context.new_page()
    response = page.goto(base_url)
    assert response is not None and response.ok
    headers = response.all_headers()
    sent = {coding.strip() for coding in headers["x-accept-encoding-sent"].split(",")}
    assert {"gzip", "br", "zstd"} <= sent
    assert headers.get("content-encoding") in ("gzip", "deflate", "br", "zstd")
    assert page.locator(BANNER).is_visible()
    page.wait_for_load_state("load")
    assert [url for url in attempted if is_analytics_url(url)] == []
    context.close()
