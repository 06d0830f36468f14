"""Build hooks; all other metadata is in pyproject.toml.

Two jobs, both run by every build (a wheel, an sdist install, and the editable install
of ``make test`` and ``make demo`` on a fresh clone):

- The gate's translations: ``build_py`` compiles each ``consentgate.po`` and
  ``catalogue.po`` (the tracker catalogue's cookie texts) to ``.mo``
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
    """Write the ``.mo`` beside every ``.po`` (both domains, ``consentgate`` and the
    tracker catalogue's ``catalogue``) that is newer."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parts[-3], domain=po.stem)
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def write_catalogue_template(locale: Path = LOCALE) -> Path:
    """Write ``catalogue.pot``: every purpose and lifetime of the built-in cookies
    (``consentgate.cookie_texts``), each with where it is used, for translators."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from consentgate.cookie_texts import DOMAIN, catalogue_messages

    catalog = Catalog(project="consentgate", version="0.1.0", domain=DOMAIN)
    for (context, text), uses in catalogue_messages().items():
        kind = "a cookie's lifetime" if context else "a cookie's purpose"
        comments = [f"Translators: {kind} in the cookie table. Used by:", *uses]
        catalog.add(text, context=context, auto_comments=comments)
    target = locale / f"{DOMAIN}.pot"
    with target.open("wb") as out:
        write_po(out, catalog, width=0, omit_header=False)
    return target


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
