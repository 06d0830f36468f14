"""The context processor: the visitor's consent in every template.

.. code-block:: python

    TEMPLATES[0]["OPTIONS"]["context_processors"].append(
        "consentgate.django.context_processors.consent"
    )

Then ``{% if consent.analytics %}`` tells whether the visitor allows the category
``analytics``; ``consent_url`` is the cookie settings page (link to it from the
footer, so a visitor can change their mind) and ``consent_settings`` the gate's
settings.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .render import template_context


def consent(request: HttpRequest) -> dict[str, Any]:
    """``consent``, ``consent_url`` and the rest of the consent templates' context."""
    return template_context(request)
