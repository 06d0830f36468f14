"""Compile the gate's translations (``.po`` -> ``.mo``) whenever the package is built.

Everything else about the build is in ``pyproject.toml``. The ``.po`` sources are the
only translations kept in git; a wheel, an sdist install and an editable install
(``make test``, ``make demo`` on a fresh clone) all run ``build_py``, which compiles
them with Babel (a build requirement) beside their source, so the package data
includes them. ``tests/test_i18n.py`` checks that the shipped ``.mo`` match the ``.po``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).parent / "consentgate" / "locale"


def compile_catalogues(locale: Path = LOCALE) -> list[Path]:
    """Write ``consentgate.mo`` beside every ``consentgate.po`` that is newer."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/consentgate.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3], domain="consentgate")
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class BuildWithCatalogues(build_py):
    """``build_py`` that compiles the catalogues first, so they are package data."""

    def run(self) -> None:
        compile_catalogues()
        super().run()


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildWithCatalogues})
