"""The Django app's configuration: ``settings.CONSENTGATE`` read once into a gate.

The dict has the keys of the TOML file (``secret_key``, ``categories``, ``endpoint``
...), plus two of the app's own (:data:`OWN_KEYS`). It is checked when Django starts
(:meth:`~consentgate.django.apps.ConsentGateConfig.ready`), and a mistake stops the
start with :class:`~django.core.exceptions.ImproperlyConfigured` naming the key:

.. code-block:: python

    CONSENTGATE = {
        "categories": [
            {"name": "necessary", "required": True},
            {"name": "analytics", "trackers": ["google-analytics"]},
        ],
    }

Django's own cookies (``csrftoken``, ``sessionid``, ``messages``, ``django_language``,
under the names the site's settings give them) are declared in the first required
category unless a category already lists the ``"django"`` preset, so that
``undeclared_cookies = "block"`` never blocks a sign-in.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from ..catalogue import CookieSpec, preset_catalogue
from ..categories import Category
from ..checks import ConfigError
from ..config import Settings, load_config
from ..gate import Gate

#: Keys of ``CONSENTGATE`` that configure the Django app rather than the gate: a TOML
#: file whose values the other keys override (relative to ``BASE_DIR``), and the layout
#: the preferences page extends.
OWN_KEYS = ("config", "base_template")
#: The template the preferences page extends: the site's own layout, by Django's custom.
BASE_TEMPLATE = "base.html"
#: The layout used when the site has no ``base.html`` (blocks ``title`` and ``content``).
FALLBACK_BASE_TEMPLATE = "consentgate/base.html"
#: Django's settings naming its own cookies, and each one's default (the preset's name).
_COOKIE_SETTINGS = {
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
    "LANGUAGE_COOKIE_NAME": "django_language",
}
#: Settings whose change (``override_settings`` in tests) makes the gate be built anew.
_WATCHED = frozenset({"CONSENTGATE", "SECRET_KEY", *_COOKIE_SETTINGS})


@dataclasses.dataclass(frozen=True)
class DjangoConsent:
    """The app's state: the gate and the app's own options."""

    gate: Gate
    #: The layout the preferences page extends, or None for the site's ``base.html``
    #: (:data:`BASE_TEMPLATE`, else :data:`FALLBACK_BASE_TEMPLATE`).
    base_template: str | None


@functools.cache
def current() -> DjangoConsent:
    """The app's state, built from the settings on first use and kept."""
    options = getattr(settings, "CONSENTGATE", None)
    if options is None:
        options = {}
    if not isinstance(options, dict):
        why = f"must be a dict of consentgate options, got {type(options).__name__}"
        raise ImproperlyConfigured(f"CONSENTGATE: {why}")
    options = dict(options)
    base = options.pop("base_template", None)
    if base is not None and not isinstance(base, str):
        raise ImproperlyConfigured("CONSENTGATE['base_template']: must be a template name")
    try:
        gate_settings = with_django_cookies(_settings(options))
        return DjangoConsent(Gate(gate_settings, serve_endpoint=False), base)
    except ConfigError as error:
        raise ImproperlyConfigured(f"CONSENTGATE[{error.key!r}]: {error.why}") from error


def _settings(options: dict[str, Any]) -> Settings:
    """The gate's settings from the dict (and its TOML file); the key defaults to
    Django's ``SECRET_KEY``."""
    path = options.pop("config", None)
    fallback = {} if "secret_key" in options else {"secret_key": settings.SECRET_KEY}
    if path is None:
        where = "settings.CONSENTGATE"
        return Settings.from_mapping({**fallback, **options}, where=where)
    if not isinstance(path, str | os.PathLike):
        raise ConfigError("config", "must be the path of a TOML file")
    path = os.path.join(getattr(settings, "BASE_DIR", ""), path)
    try:
        return load_config(path, **options)
    except ConfigError as error:
        # The file may leave the key to Django; only then is SECRET_KEY used.
        if error.key != "secret_key" or "secret_key" in options:
            raise
        return load_config(path, **fallback, **options)


def with_django_cookies(config: Settings) -> Settings:
    """``config`` with Django's own cookies declared in its first required category,
    unless a category already has the ``"django"`` preset (then left as it is)."""
    if any("django" in c.presets for c in config.categories):
        return config
    first = next((c for c in config.categories if c.required), None)
    if first is None:
        return config
    renamed = [
        dataclasses.replace(spec, name=getattr(settings, key))
        for key, default in _COOKIE_SETTINGS.items()
        for spec in preset_catalogue()["django"].cookies
        if spec.name == default and getattr(settings, key, default) != default
    ]
    category = _with_preset(first, renamed)
    return config.replace(
        categories=tuple(category if c is first else c for c in config.categories)
    )


def _with_preset(category: Category, renamed: list[CookieSpec]) -> Category:
    # Explicit cookies first: a renamed cookie keeps the preset's purpose and lifetime.
    return dataclasses.replace(
        category,
        cookies=(*renamed, *category.cookies),
        presets=(*category.presets, "django"),
    )


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: object) -> None:
    """Build the gate anew when a test overrides the settings it reads."""
    if setting in _WATCHED:
        current.cache_clear()
