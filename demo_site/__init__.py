"""A small site about Erasmus+ Key Action 2, behind a consentgate consent gate.

It is the package's worked example: a normal Flask site whose templates embed
Google Analytics and a self-hosted counter the usual way, with
:class:`consentgate.flask.FlaskConsent` deciding what reaches each visitor.

Run it with ``python -m demo_site``; ``--mode opt-out`` (or ``DEMO_CONSENT_MODE=opt-out``)
serves it the way a site under US state privacy laws would be: analytics on until the
visitor opts out, and off for a browser that sends Global Privacy Control.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from consentgate.flask import FlaskConsent

from . import views
from .analytics import DEFAULT_LIMIT, PageViewLog
from .settings import CONSENT_CONFIG, MODE_ENV, RECORDS_FILE, secret_keys


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the demo app.

    :param test_config: settings applied over the defaults, e.g.
        ``{"TESTING": True, "CONSENTGATE_SECRET_KEY": "..."}``.

    >>> app = create_app({"CONSENTGATE_SECRET_KEY": "not-secret"})
    >>> app.name
    'demo_site'
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        CONSENTGATE_CONFIG=CONSENT_CONFIG,
        CONSENTGATE_BASE_TEMPLATE="base.html",
        CONSENTGATE_MODE=os.environ.get(MODE_ENV) or "opt-in",
        ANALYTICS_MAX_PAGE_VIEWS=DEFAULT_LIMIT,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Every decision is recorded before its cookie is set (four slashes: an absolute path).
    app.config.setdefault(
        "CONSENTGATE_RECORDS", f"sqlite:///{Path(app.instance_path) / RECORDS_FILE}"
    )
    _use_secret_keys(app)
    app.extensions[views.PAGE_VIEWS] = PageViewLog(app.config["ANALYTICS_MAX_PAGE_VIEWS"])
    app.register_blueprint(views.bp)
    FlaskConsent(app)
    return app


def _use_secret_keys(app: Flask) -> None:
    """Share one key (or rotation list) between Flask and the consent cookie."""
    keys = secret_keys(
        app.config.get("CONSENTGATE_SECRET_KEY"),
        os.environ,
        Path(app.instance_path),
        app.logger,
    )
    app.config["CONSENTGATE_SECRET_KEY"] = keys[-1] if len(keys) == 1 else keys
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = keys[-1]
        app.config["SECRET_KEY_FALLBACKS"] = keys[:-1]
