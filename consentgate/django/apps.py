"""The Django app: ``"consentgate.django"`` in ``INSTALLED_APPS``.

Its :meth:`~ConsentGateConfig.ready` reads ``settings.CONSENTGATE`` once, so a
mistake stops Django's start with an error naming the key, and registers a
system check that the middleware is installed, first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

from .conf import current

#: The middleware's dotted path, as ``MIDDLEWARE`` lists it.
MIDDLEWARE = "consentgate.django.middleware.ConsentGateMiddleware"


class ConsentGateConfig(AppConfig):
    """consentgate's Django app (templates, template tags, the endpoint's views)."""

    name = "consentgate.django"
    label = "consentgate"
    verbose_name = "Cookie consent"

    def ready(self) -> None:
        current()  # checks the settings now, not on the first request
        checks.register(check_middleware)


def check_middleware(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[Any]:
    """The middleware must be in ``MIDDLEWARE``, and should come first: it then sees the
    cookies every other middleware sets, and they see the request as it changed it."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE not in middleware:
        return [
            checks.Error(
                f"{MIDDLEWARE} is not in MIDDLEWARE: nothing is gated",
                hint=f"Add {MIDDLEWARE!r} first in MIDDLEWARE.",
                id="consentgate.E001",
            )
        ]
    if middleware[0] != MIDDLEWARE:
        return [
            checks.Warning(
                f"{MIDDLEWARE} is not first in MIDDLEWARE: cookies set by the middleware "
                "above it are not gated",
                hint=f"Move {MIDDLEWARE!r} to the top of MIDDLEWARE.",
                id="consentgate.W001",
            )
        ]
    return []
