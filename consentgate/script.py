"""The JavaScript API's server side: the state it starts from and the file it runs.

A page that loads ``consentgate.js`` carries the visitor's consent state as a
``<script type="application/json">`` written by the server, so the script knows
the choice before any other script runs, with no request of its own. The same
state, as a dict, is the JSON answer of the endpoint (GET and POST). The file
itself is served at a URL named after its content, so browsers may keep it
for a year and a new release is fetched at once.

Everything here is pure: the callers read the request and pass plain values in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from html import escape
from importlib.resources import files
from typing import Any

from .config import Settings
from .consent import Consent

#: The script as shipped in the package.
SCRIPT = (files(__package__) / "static" / "consentgate" / "consentgate.js").read_bytes()
#: Hex digits of the content's SHA-256 in the script's file name.
_DIGEST_LENGTH = 16
#: ``id`` of the element that holds the state in a page; the script reads it.
STATE_ID = "consentgate-state"
#: Characters a JSON text may hold that would end a ``<script>`` element or a
#: line early, written as escapes: the JSON means the same.
_SCRIPT_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
#: ``Cache-Control`` of the versioned script: its URL changes with its content.
IMMUTABLE = "public, max-age=31536000, immutable"
#: ``Content-Type`` of the script, as the HTML Standard names JavaScript.
JAVASCRIPT = "text/javascript; charset=utf-8"


def versioned_name(content: bytes) -> str:
    """The file name the script is served under: ``consentgate.<hash>.js``.

    .. code-block:: python

        versioned_name(SCRIPT)  # "consentgate.3f0c9a1be27d4c55.js"
    """
    return f"consentgate.{hashlib.sha256(content).hexdigest()[:_DIGEST_LENGTH]}.js"


#: The name of the shipped script, fixed for this release.
SCRIPT_NAME = versioned_name(SCRIPT)
#: The script's ETag: its content hash.
SCRIPT_ETAG = SCRIPT_NAME.split(".")[1]


def script_path(endpoint: str) -> str:
    """Where the script is served inside the app: under the decision endpoint.

    .. code-block:: python

        script_path("/consent")  # "/consent/consentgate.<hash>.js"
    """
    return f"{endpoint.rstrip('/')}/{SCRIPT_NAME}"


def consent_state(
    consent: Consent, settings: Settings, *, gpc: bool = False, mode: str = "opt-in"
) -> dict[str, Any]:
    """The visitor's consent as the JavaScript API and the JSON endpoint give it.

    ``granted`` and ``refused`` together name every configured category: what may
    run now and what may not (before a choice, every optional category is
    refused). ``decided`` says whether the visitor chose; ``decided_at`` (Unix
    seconds) and ``consent_id`` are ``None`` until then.

    :param gpc: whether the request carried Global Privacy Control (``Sec-GPC: 1``).
    :param mode: ``"opt-in"`` or ``"opt-out"``, the mode in effect for the request.
    """
    order = [category.name for category in settings.categories]
    return {
        "decided": consent.decided,
        "granted": [name for name in order if consent.allows(name)],
        "refused": [name for name in order if not consent.allows(name)],
        "policy_version": settings.policy_version,
        "consent_id": (consent.consent_id or None) if consent.decided else None,
        "decided_at": consent.decided_at if consent.decided else None,
        "gpc": gpc,
        "mode": mode,
    }


def state_json(state: Mapping[str, Any]) -> str:
    """``state`` (from :func:`consent_state`) as JSON text that can sit inside a
    ``<script>`` element: nothing in it can end the element or a line early."""
    return json.dumps(state, separators=(",", ":")).translate(_SCRIPT_ESCAPES)


def state_tags(data: str, prefix: str, endpoint: str, nonce: str = "") -> str:
    """The two tags that give a page the API: its state, then the deferred script.

    :param data: the state, from :func:`state_json`.
    :param prefix: the app's mount prefix, which the script's URL starts with and
        which ``consentgate.open()`` leaves out of the page it asks to come back to.
    :param endpoint: the decision endpoint, which the script is served under.
    :param nonce: the ``nonce="..."`` attribute (with its leading space) that a
        Content Security Policy asks of the page's scripts, or ``""``
        (:func:`~consentgate.csp.nonce_attr`). The state is data, which no policy
        blocks, but carries it too, like every inline script the gate adds.
    """
    src = escape(prefix + script_path(endpoint))
    mounted = f' data-prefix="{escape(prefix)}"' if prefix else ""
    return (
        f'<script type="application/json" id="{STATE_ID}"{nonce}>{data}</script>'
        f'<script src="{src}"{mounted} defer{nonce}></script>'
    )
