"""The one policy every benchmark and peer applies.

Two categories, ``necessary`` and ``analytics`` (Google Analytics, Tag
Manager, Matomo, the Meta pixel and Hotjar); the visitor refused analytics
and no banner is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from consentgate.categories import Category
from consentgate.config import Settings
from consentgate.consent import Consent
from consentgate.rules import Rules

#: Trackers of the ``analytics`` category.
TRACKERS = ("google-analytics", "google-tag-manager", "matomo", "meta-pixel", "hotjar")
#: Secret of the benchmark's gates; any value does.
SECRET_KEY = "bench-not-secret"


class Rewriter(Protocol):
    """What a gate looks like to the benchmarks: push bytes in, get bytes out."""

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


RewriterFactory = Callable[[], Rewriter]


def categories() -> tuple[Category, ...]:
    """``necessary`` (required) and ``analytics`` with :data:`TRACKERS`."""
    return (
        Category("necessary", required=True),
        Category("analytics", trackers=TRACKERS),
    )


def settings(**options: object) -> Settings:
    """Gate settings with the benchmark's categories and key."""
    return Settings(secret_key=SECRET_KEY, categories=categories(), **options)  # type: ignore[arg-type]


def rules() -> Rules:
    """The compiled rules of :func:`categories`."""
    return Rules(categories())


def refused() -> Consent:
    """A visitor who decided and refused analytics."""
    return Consent(frozenset({"necessary"}), decided=True, version="1", decided_at=int(time.time()))


def accepted() -> Consent:
    """A visitor who decided and granted every category."""
    return Consent(
        frozenset({"necessary", "analytics"}),
        decided=True,
        version="1",
        decided_at=int(time.time()),
    )
