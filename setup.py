"""Build hook for the optional compiled scanner; all other metadata is in pyproject.toml.

``consentgate._speedups`` is built where a C compiler and the Python headers are found.
Where they are not, the install goes on with one line saying so, and the pure-Python
gate runs (``consentgate.accelerated`` is then False), as markupsafe does with its
``_speedups``.
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

#: What a missing or failing compiler raises while the extension is built.
_BUILD_ERRORS = (CCompilerError, CompileError, ExecError, PlatformError, OSError)
_FALLBACK = "consentgate: no C compiler could build the speedups; the pure-Python gate is used"


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


setup(
    ext_modules=[Extension("consentgate._speedups", ["consentgate/_speedups.c"], optional=True)],
    cmdclass={"build_ext": OptionalBuildExt},
)
