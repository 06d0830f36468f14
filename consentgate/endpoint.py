"""The decision endpoint: turn a posted form into a signed consent cookie.

This is the one implementation of taking a decision. The middleware's own
endpoint and the Flask blueprint both call :func:`decision_response`, so the
rules (same-site check, safe redirect, cookie attributes, expiry of cookies a
withdrawal refuses) cannot drift apart.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from .cookies import consent_cookie_header, expiry_header
from .decision import decide, is_cross_site, safe_next, wants_json

if TYPE_CHECKING:
    from .consent import Consent
    from .middleware import ConsentGate


class FormRequest(Request):
    """A request whose form parsing is capped, so a hostile post costs little."""

    #: Largest body accepted on the endpoint (413 beyond it, also for a chunked
    #: body when the server ends the stream); a consent form is a few hundred bytes.
    max_content_length = 16 * 1024
    #: Cap on buffered form data, and on the number of fields.
    max_form_memory_size = 16 * 1024
    max_form_parts = 200


def decision_response(gate: ConsentGate, request: Request) -> Response:
    """Take the decision posted in ``request`` and answer it.

    A cross-site post is refused with 403 and changes nothing. An unknown
    ``action`` is a 400. Otherwise the answer sets the consent cookie,
    expires cookies of categories the decision refuses, and is either a
    ``303`` back to the form's ``next`` path or, for clients preferring
    JSON, the new state.
    """
    settings = gate.settings
    if is_cross_site(
        host=request.host,
        scheme=request.scheme,
        origin=request.headers.get("Origin"),
        referer=request.headers.get("Referer"),
        sec_fetch_site=request.headers.get("Sec-Fetch-Site"),
        trusted_origins=settings.trusted_origins,
    ):
        return _plain(403, "Consent can only be given from this site's own pages.")
    try:
        form = _form(request)
    except HTTPException as error:  # too large, too many fields: werkzeug's own answer
        return error.get_response(request.environ)
    consent = decide(
        form.get("action"),
        form.getlist("category"),
        settings,
        now=int(gate.clock()),
        consent_id=secrets.token_urlsafe(9),
    )
    if consent is None:
        return _plain(400, "Unknown action: expected accept_all, reject_all or save.")
    if wants_json(request.headers.get("Accept")):
        response = Response(json.dumps({"consent": consent.as_dict()}), mimetype="application/json")
    else:
        location = request.script_root + safe_next(form.get("next"))
        response = Response(status=303, headers={"Location": location})
    _set_decision_cookies(gate, request, consent, response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _form(request: Request) -> MultiDict[str, str]:
    """The posted form, or 413 for a body the request's limits cut short.

    werkzeug stops reading a body without ``Content-Length`` (chunked) at
    ``max_content_length`` and parses what it has; such a body is refused
    whole instead, so a decision is never taken from part of a form.
    """
    form = request.form
    if request.content_length is None and getattr(request.stream, "is_exhausted", False):
        raise RequestEntityTooLarge()
    return form


def _set_decision_cookies(
    gate: ConsentGate, request: Request, consent: Consent, response: Response
) -> None:
    """Write the signed cookie and expire what the decision refuses."""
    settings = gate.settings
    if settings.cookie_domain is not None:
        # A host-only consent cookie from before cookie_domain was set is older, so
        # browsers send it first and it would shadow this one: retire it.
        response.headers.add(*expiry_header(settings.cookie_name))
    secure = settings.secure if settings.secure is not None else request.scheme == "https"
    name, value = consent_cookie_header(
        settings.cookie_name,
        gate.codec.dumps(consent),
        max_age=settings.max_age,
        secure=secure,
        domain=settings.cookie_domain,
    )
    response.headers.add(name, value)
    refused = gate.refused_request_cookies(request.headers.get("Cookie", ""), consent)
    for name, value in gate.expire_cookies(refused, request.environ):
        response.headers.add(name, value)


def _plain(status: int, message: str) -> Response:
    """A short text answer for a refused or malformed post."""
    return Response(message + "\n", status=status, mimetype="text/plain")
