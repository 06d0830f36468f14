"""The Content Security Policy nonce for the inline scripts and styles the gate adds.

A site with a strict policy (``script-src 'nonce-...'; style-src 'nonce-...'``) makes a
fresh nonce per response and puts it on each inline ``<script>`` and ``<style>`` it trusts.
What the gate inserts (the banner's style, the Consent Mode snippet, the preferences page's
style) must carry the same nonce, or the browser refuses it. The app hands the nonce over in
the WSGI environ, before its response is gated:

.. code-block:: python

    environ["consentgate.csp_nonce"] = nonce  # the same value as in the CSP header

The Flask extension fills it from the ``CONSENTGATE_CSP_NONCE`` hook. Anything that adds an
inline script or style (the gate itself, a template) writes :func:`nonce_attr` in its start
tag.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["CSP_NONCE", "nonce_attr", "nonce_of"]

#: The WSGI environ key under which the app gives this response's CSP nonce (a str).
CSP_NONCE = "consentgate.csp_nonce"


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
