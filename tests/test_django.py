"""The README's Django section, pasted as it stands into a new project and served for real:
the Django app (settings, urls, a template) and the plain WSGI route (wsgi.py, consent.toml)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

README = Path(__file__).resolve().parents[1] / "README.md"
SECRET = "django-test-secret-0123456789abcdef"
ADMIN, PASSWORD = "admin", "a-long-test-password-1"
#: How long the server may take to answer its first request.
STARTUP_SECONDS = 60


#: Where the README's plain WSGI route for Django starts, after the app's.
WSGI_ROUTE = "#### Django without the app"


def readme_snippets(route: str = "") -> dict[str, str]:
    """The code blocks of the README's Django section, by the file each one names on its
    first line; ``route`` "app" or "wsgi" keeps that part of the section only."""
    text = README.read_text("utf-8")
    section = text[text.index("### Django") : text.index("### Flask")]
    app, _, wsgi = section.partition(WSGI_ROUTE)
    part = {"app": app, "wsgi": wsgi}.get(route, section)
    blocks = re.findall(r"```(?:python|toml|html)\n(.*?)```", part, re.DOTALL)
    return {_file_named(block.splitlines()[0]): block for block in blocks}


def _file_named(first_line: str) -> str:
    found = re.search(r"[\w./-]+\.(?:py|toml|html)", first_line)
    assert found, f"a README block names no file: {first_line!r}"
    return found.group()


def write_snippets(project: Path, route: str) -> None:
    """Write the route's files into the project; a settings block is added at the end."""
    for name, code in readme_snippets(route).items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if "(add at the end)" in code.splitlines()[0]:
            code = path.read_text("utf-8") + "\n" + code
        path.write_text(code, "utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped:\n{log.read_text()}")
        try:
            requests.get(base + "/admin/login/", timeout=5)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail("the server did not answer")


@pytest.fixture(params=["app", "wsgi"])
def django_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new Django project with the README's files of one route, served by waitress;
    yields its URL (the test reads the route from ``request.param``)."""
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", tmp_path], check=True)
    write_snippets(tmp_path, request.param)
    env = {**os.environ, "CONSENTGATE_SECRET_KEY": SECRET, "PYTHONPATH": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=tmp_path, env=env, check=True)
    admin = {"DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    subprocess.run(
        [*manage, "createsuperuser", "--noinput", "--email=admin@example.com"],
        cwd=tmp_path,
        env={**env, **admin},
        check=True,
    )
    port, log = free_port(), tmp_path / "server.log"
    command: list[str | Path] = [
        bin_dir / "waitress-serve",
        f"--listen=127.0.0.1:{port}",
        "mysite.wsgi:application",
    ]
    with log.open("wb") as stderr:
        # Another working directory: the configuration must be found from wsgi.py.
        server = subprocess.Popen(command, cwd=tmp_path.parent, env=env, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_readme_names_the_files_it_writes() -> None:
    assert set(readme_snippets("app")) == {
        "mysite/settings.py",
        "mysite/urls.py",
        "mysite/templates/home.html",
    }
    assert set(readme_snippets("wsgi")) == {"mysite/wsgi.py", "mysite/consent.toml"}


def test_readme_django_section_runs_as_pasted(
    django_site: str, request: pytest.FixtureRequest
) -> None:
    app = request.node.callspec.params["django_site"] == "app"
    visitor = requests.Session()
    home = visitor.get(django_site + "/")
    assert 'id="consentgate-banner"' in home.text
    if app:  # the template's tags and the gate's cuts
        assert "googletagmanager" not in home.text and "Thanks" not in home.text
        assert "<code>csrftoken</code>" in home.text  # {% cookie_declaration %}

    login = visitor.get(django_site + "/admin/login/")
    assert login.status_code == 200 and "consentgate-banner" not in login.text
    # undeclared_cookies = "block", yet Django's own cookies get through: sign-in works.
    token = visitor.cookies.get("csrftoken")
    assert token
    form = {"username": ADMIN, "password": PASSWORD, "next": "/admin/"}
    signed_in = visitor.post(
        django_site + "/admin/login/", data={**form, "csrfmiddlewaretoken": token}
    )
    assert visitor.cookies.get("sessionid")
    assert "Site administration" in signed_in.text and "consentgate-banner" not in signed_in.text

    action = "accept_all" if app else "reject_all"
    decided = visitor.post(django_site + "/consent", data={"action": action, "next": "/"})
    assert decided.history[0].status_code == 303
    assert "consentgate" in visitor.cookies
    assert "consentgate-banner" not in decided.text
    if app:
        assert "googletagmanager" in decided.text and "Thanks for allowing" in decided.text
