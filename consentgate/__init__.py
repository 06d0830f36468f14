"""consentgate: server-side cookie consent for any WSGI or ASGI app.

What the visitor did not accept never reaches the browser: trackers are cut
out of HTML responses as they stream, and cookies of refused categories are
dropped or expired. :class:`ConsentGate` wraps a WSGI app;
:class:`consentgate.asgi.ConsentGateMiddleware` an ASGI one.
"""

from __future__ import annotations

from .catalogue import CookieSpec as CookieSpec
from .categories import Category as Category
from .checks import ConfigError as ConfigError
from .config import Settings as Settings
from .config import load_config as load_config
from .consent import Consent as Consent
from .middleware import ConsentGate as ConsentGate
from .speedups import ACCELERATED as accelerated

__all__ = [
    "Category",
    "ConfigError",
    "Consent",
    "ConsentGate",
    "CookieSpec",
    "Settings",
    "accelerated",
    "load_config",
]
