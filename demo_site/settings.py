"""The demo's configuration: consent categories and the secret key.

Kept apart from the app factory so the factory reads as wiring only, and so
the key handling can be tested without building an app.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: The environment variable production deployments set; comma-separate
#: several keys to rotate (the last one signs, all of them verify).
SECRET_KEY_ENV = "CONSENTGATE_SECRET_KEY"
#: File in the instance folder holding the generated development key.
DEV_KEY_FILE = "dev-secret-key"
#: SQLite database in the instance folder where every consent decision is recorded.
RECORDS_FILE = "consent.sqlite3"
#: The environment variable that serves the demo in opt-out mode (``opt-out``), as a
#: site under US state privacy laws would be; unset, it is opt-in (EU and UK).
MODE_ENV = "DEMO_CONSENT_MODE"

#: The gate's configuration (categories, privacy page), relative to the package: the
#: same file ``python -m consentgate scan --config demo_site/consent.toml`` checks.
CONSENT_CONFIG = "consent.toml"


def secret_keys(
    configured: str | bytes | list[str | bytes] | None,
    environ: Mapping[str, str],
    instance_path: Path,
    logger: logging.Logger,
) -> list[str | bytes]:
    """Find the keys that sign the consent cookie, oldest first.

    An explicitly configured key wins, then ``CONSENTGATE_SECRET_KEY`` from
    the environment; without either, a development key is kept in the
    instance folder so consent cookies survive restarts on a laptop.

    :param configured: ``CONSENTGATE_SECRET_KEY`` from the app's config, if any.
    :param environ: the process environment.
    :param instance_path: the app's instance folder.
    :param logger: where to warn that a development key is in use.
    """
    if configured:
        return [configured] if isinstance(configured, str | bytes) else list(configured)
    from_env = [key.strip() for key in environ.get(SECRET_KEY_ENV, "").split(",")]
    if any(from_env):
        return [key for key in from_env if key]
    return [development_key(instance_path, logger)]


def development_key(instance_path: Path, logger: logging.Logger) -> str:
    """Read the development key from the instance folder, creating it once.

    The key is written to a private temporary file first and then linked into
    place, which fails if the file exists: the file appears whole or not at
    all, so processes starting together all read the one key that won.

    :param instance_path: the folder to keep the key in; created if missing.
    :param logger: receives one warning naming the file.
    """
    path = instance_path / DEV_KEY_FILE
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        key = path.read_text("utf-8").strip()
        empty = not key  # left by an interrupted older version: replaced below
    except FileNotFoundError:
        key, empty = "", False
    if key:
        logger.warning(
            "Using the development secret key from %s; production must set %s.",
            path,
            SECRET_KEY_ENV,
        )
        return key
    key = secrets.token_urlsafe(32)
    fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".dev-secret-key-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
            handle.write(key + "\n")
        if empty:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:  # another process won: use its key
                return development_key(instance_path, logger)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    logger.warning(
        "Generated a development secret key in %s; production must set %s.",
        path,
        SECRET_KEY_ENV,
    )
    return key
