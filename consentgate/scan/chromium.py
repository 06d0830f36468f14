"""Where the system Chromium is and how to start it quietly.

Shared by ``consentgate scan`` and the browser tests, so both drive the same browser
the same way. Nothing here imports Playwright: the scanner can say what is missing
before it needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: Where Debian and Ubuntu install Chromium; ``$CONSENTGATE_CHROMIUM`` comes first.
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Quiet, sandbox-free headless Chromium that never phones home.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium(environ: Mapping[str, str]) -> str | None:
    """The Chromium to drive: ``$CONSENTGATE_CHROMIUM`` or a standard path, if executable."""
    configured = environ.get("CONSENTGATE_CHROMIUM")
    candidates = (configured,) if configured else CHROMIUM_PATHS
    return next((p for p in candidates if Path(p).is_file() and os.access(p, os.X_OK)), None)


def missing_message(environ: Mapping[str, str]) -> str:
    """What to do when :func:`find_chromium` finds nothing."""
    where = environ.get("CONSENTGATE_CHROMIUM") or " or ".join(CHROMIUM_PATHS)
    return (
        f"Chromium not found at {where}: apt-get install chromium "
        "(or set CONSENTGATE_CHROMIUM to the browser's path)"
    )
