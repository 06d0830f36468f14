"""The Content Security Policy nonce for the inline scripts and styles the gate adds.

A site with a strict policy (``script-src 'nonce-...'; style-src 'nonce-...'``) makes a
fresh nonce per response and puts it on each inline ``<script>`` and ``<style>`` it trusts.
What the gate inserts (the banner's style, the Consent Mode snippet, the preferences page's
style) must carry the same nonce, or the browser refuses it. The app hands the nonce over in
the WSGI environ, before its response is gated:

.. code-block:: python

    environ["consentgate.csp_nonce"] = nonce  # the same value as in the CSP header

The Flask extension fills it from the ``CONSENTGATE_CSP_NONCE`` hook. When the app gives
none, the gate takes the nonce from the response's own ``Content-Security-Policy`` header
(:func:`header_nonce`), so a policy set inside the app still lets the gate's additions run.
Anything that adds an inline script or style (the gate itself, a template) writes
:func:`nonce_attr` in its start tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["CSP_NONCE", "header_nonce", "nonce_attr", "nonce_of"]

#: The WSGI environ key under which the app gives this response's CSP nonce (a str).
CSP_NONCE = "consentgate.csp_nonce"
#: Longest ``Content-Security-Policy`` header read for a nonce; the rest is not looked at.
_MAX_POLICY = 16 * 1024
#: A nonce source as CSP3 writes it: ``'nonce-'`` and a base64 value.
_NONCE_SOURCE = re.compile(r"'nonce-([A-Za-z0-9+/_-]+=*)'", re.ASCII)


def nonce_of(environ: WSGIEnvironment) -> str:
    """This response's CSP nonce, or ``""`` when the app gave none (or not a string)."""
    nonce = environ.get(CSP_NONCE)
    return nonce if isinstance(nonce, str) else ""


def nonce_attr(environ: WSGIEnvironment) -> str:
    """The `` nonce="..."`` attribute text for an inline script or style start tag,
    HTML-escaped, with its leading space; ``""`` when the app gave no nonce.

    >>> nonce_attr({"consentgate.csp_nonce": "r4nd0m"})
    ' nonce="r4nd0m"'
    >>> f"<script{nonce_attr({})}>"
    '<script>'
    """
    nonce = nonce_of(environ)
    return f' nonce="{escape(nonce, quote=True)}"' if nonce else ""


def header_nonce(headers: Iterable[tuple[str, str]]) -> str:
    """The nonce that the response's ``Content-Security-Policy`` allows inline scripts
    with, or ``""``: the first ``'nonce-...'`` of ``script-src``, else of ``default-src``
    (which only counts for scripts where ``script-src`` is absent).

    >>> header_nonce([("Content-Security-Policy", "default-src 'self'; script-src 'nonce-r4nd0m'")])
    'r4nd0m'
    """
    # Every gated page passes here, and most have no policy: compare lengths first.
    policies = [v for k, v in headers if len(k) == 23 and k.lower() == "content-security-policy"]
    if not policies:
        return ""
    found = {"script-src": "", "default-src": ""}
    for value in policies:
        for directive in value[:_MAX_POLICY].replace(",", ";").split(";"):
            words = directive.split()
            key = words[0].lower() if words else ""
            if key in found and not found[key]:
                nonces = (m[1] for m in map(_NONCE_SOURCE.fullmatch, words[1:]) if m)
                found[key] = next(nonces, "")
    return found["script-src"] or found["default-src"]
