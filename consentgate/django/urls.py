"""The endpoint's URLs, at the ``endpoint`` option's path (``/consent`` by default).

Include them at the site's root, so the forms the gate writes post where the
views are:

.. code-block:: python

    urlpatterns = [path("", include("consentgate.django.urls")), ...]

The names are ``consentgate:preferences`` (the page and the decision),
``consentgate:script`` and ``consentgate:embeds``.
"""

from __future__ import annotations

from django.urls import path

from ..script import SCRIPT_NAME
from ..ui import EMBED_JS_PATH
from . import views
from .conf import current

app_name = "consentgate"

#: The endpoint's path without its leading slash, as Django's patterns have it.
_stem = current().gate.settings.endpoint.strip("/")

urlpatterns = [
    path(_stem, views.preferences, name="preferences"),
    path(f"{_stem}/", views.preferences),
    path(f"{_stem}{EMBED_JS_PATH}", views.embeds_script, name="embeds"),
    path(f"{_stem}/{SCRIPT_NAME}", views.script, name="script"),
]
