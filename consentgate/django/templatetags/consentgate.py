"""Template tags: ``{% load consentgate %}``, then

- ``{% consent_banner %}`` places the banner by hand (the middleware then injects
  none); it renders nothing once the visitor has decided;
- ``{% consentgate_script %}`` places the JavaScript API (``window.consentgate``) in
  the ``<head>``, before the site's own scripts that read it;
- ``{% cookie_declaration %}`` renders the table of cookies per category, from the
  configuration, for the cookie policy page.

``{% if consent.analytics %}`` needs no tag: the context processor
(:mod:`consentgate.django.context_processors`) puts ``consent`` in every template.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from ..conf import current
from ..render import declaration, render_banner

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_banner(context: template.Context) -> SafeString:
    """The banner (or opt-out notice) here, while the visitor has not decided."""
    request = _request(context, "consent_banner")
    request.META["consentgate.banner_placed"] = True
    if request.META["consentgate.consent"].decided:
        return mark_safe("")
    return render_banner(request) + consentgate_script(context)


@register.simple_tag(takes_context=True)
def consentgate_script(context: template.Context) -> SafeString:
    """The JavaScript API's state and script; once per page (later calls add nothing)."""
    environ = _request(context, "consentgate_script").META
    return mark_safe(current().gate.place_script(environ))


@register.simple_tag(takes_context=True)
def cookie_declaration(context: template.Context) -> SafeString:
    """The table of cookies per category (its labels in the page's language)."""
    gate = current().gate
    request = context.get("request")
    environ = request.META if isinstance(request, HttpRequest) else {}
    return declaration(gate.settings, gate.languages.current(environ))


def _request(context: Any, tag: str) -> HttpRequest:
    """The request the template renders for; the tag cannot work without it."""
    request = context.get("request")
    if not isinstance(request, HttpRequest) or "consentgate.consent" not in request.META:
        raise template.TemplateSyntaxError(
            f"{{% {tag} %}} needs the request (render with a RequestContext and "
            "'django.template.context_processors.request'), and ConsentGateMiddleware "
            "in MIDDLEWARE"
        )
    return request
