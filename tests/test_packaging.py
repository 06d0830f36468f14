"""What a fresh clone offers: licence, changelog, ignore rules and Makefile targets."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def make_dry_run(target: str, tmp_path: Path) -> str:
    """The commands ``make target`` would run for a clone without a ``.venv``."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = f"VENV={tmp_path / 'venv'}"
    return subprocess.run(
        ["make", "-n", "-C", str(ROOT), target, venv], capture_output=True, text=True, check=True
    ).stdout


def test_licence_file_matches_the_declared_licence() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert (ROOT / "LICENSE").read_text().startswith(f"{declared} License")


def test_changelog_has_the_current_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.parametrize(
    "path",
    [
        "build/lib/x.py",
        "dist/consentgate-0.1.0.tar.gz",
        "consentgate.egg-info/PKG-INFO",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".hypothesis/x",
        ".pytest_cache/x",
        ".venv/x",
        "consentgate/_speedups.cpython-311-x86_64-linux-gnu.so",
    ],
)
def test_build_outputs_and_caches_are_ignored(path: str) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", path])
    assert ignored.returncode == 0


def test_demo_installs_only_what_the_demo_needs(tmp_path: Path) -> None:
    installs = re.findall(r"pip install .*", make_dry_run("demo", tmp_path))
    assert installs and all("test" not in line and "dev" not in line for line in installs)


def test_check_runs_the_unit_tests_without_browsers(tmp_path: Path) -> None:
    assert "pytest -q --ignore=tests/browser" in make_dry_run("check", tmp_path)


def test_readme_starts_with_the_two_commands_and_names_the_port() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == [
        "make demo",
        "make test",
    ]
    assert "DEMO_PORT" in readme and "--port" in readme


def test_a_wheel_ships_every_catalogue_compiled_from_its_source(tmp_path: Path) -> None:
    """The build compiles each ``.po`` (none of the ``.mo`` are in git) into the wheel."""
    import sys
    import zipfile

    from consentgate.i18n import EU_LANGUAGES

    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("*.mo", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "consentgate", tree / "consentgate", ignore=skip)
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(tree),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("consentgate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in EU_LANGUAGES:
        for suffix in ("po", "mo"):
            assert f"consentgate/locale/{language}/LC_MESSAGES/consentgate.{suffix}" in names
    # The tracker catalogue's cookie texts: every .po of the tree, compiled beside it.
    cookie_texts = sorted((tree / "consentgate").glob("locale/*/LC_MESSAGES/catalogue.po"))
    assert cookie_texts, "no catalogue.po in the tree"
    for po in cookie_texts:
        source = po.relative_to(tree).as_posix()
        assert source in names and source.replace(".po", ".mo") in names
    assert "consentgate/locale/consentgate.pot" in names
    assert "consentgate/locale/catalogue.pot" in names
