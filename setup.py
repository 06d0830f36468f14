"""Build hooks; all other metadata is in pyproject.toml.

Two jobs, both run by every build (a wheel, an sdist install, and the editable install
of ``make test`` and ``make demo`` on a fresh clone):

- The gate's translations: ``build_py`` compiles each ``consentgate.po`` to ``.mo``
  beside it with Babel (a build requirement) before the package data is collected, so
  the package ships them; the ``.po`` are the only translations kept in git, and
  ``tests/test_i18n.py`` checks that the shipped ``.mo`` match them.
- The optional compiled scanner: ``consentgate._speedups`` is built where a C compiler
  and the Python headers are found. Where they are not, the install goes on with one
  line saying so, and the pure-Python gate runs (``consentgate.accelerated`` is then
  False), as markupsafe does with its ``_speedups``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

LOCALE = Path(__file__).parent / "consentgate" / "locale"
#: What a missing or failing compiler raises while the extension is built.
_BUILD_ERRORS = (CCompilerError, CompileError, ExecError, PlatformError, OSError)
_FALLBACK = "consentgate: no C compiler could build the speedups; the pure-Python gate is used"


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


class OptionalBuildExt(build_ext):
    """Build the extension if possible; never fail the install because of it."""

    def run(self) -> None:
        try:
            super().run()
        except _BUILD_ERRORS:
            print(_FALLBACK, file=sys.stderr)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except _BUILD_ERRORS:
            print(_FALLBACK, file=sys.stderr)


if __name__ == "__main__":  # a build; the Makefile imports compile_catalogues alone
    setup(
        ext_modules=[
            Extension("consentgate._speedups", ["consentgate/_speedups.c"], optional=True)
        ],
        cmdclass={"build_py": BuildWithCatalogues, "build_ext": OptionalBuildExt},
    )
