"""Template tags: ``{% load consentgate %}``, then

- ``{% consent_banner %}`` places the banner by hand (the middleware then injects
  none); it renders nothing once the visitor has decided;
- ``{% consentgate_script %}`` places the JavaScript API (``window.consentgate``) in
  the ``<head>``, before the site's own scripts that read it;
- ``{% cookie_declaration %}`` renders the table of cookies per category, from the
  configuration, for the cookie policy page;
- ``{% consent_text "msgid" name=value %}`` and
  ``{% consent_plural "singular" "plural" count name=value %}`` say one of the
  gate's messages in the page's language (``consent_lang``), from the gate's own
  catalogue, not the site's (which ``{% translate %}`` reads); the values are
  escaped as Django escapes a variable, the message's own markup is kept. The
  consent templates use them, with the msgids of ``consentgate.pot``.

``{% if consent.analytics %}`` needs no tag: the context processor
(:mod:`consentgate.django.context_processors`) puts ``consent`` in every template.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from ...i18n import Translations, warn_once
from ...site_pages import placed_banner
from ...ui import translations
from ..conf import current
from ..render import declaration, page_renderer

register = template.Library()


@register.simple_tag(takes_context=True)
def consent_banner(context: template.Context) -> SafeString:
    """The banner (or opt-out notice) here, while the visitor has not decided."""
    request = _request(context, "consent_banner")
    return mark_safe(placed_banner(current().gate, request.META, page_renderer(request)))


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


@register.simple_tag(takes_context=True)
def consent_text(context: template.Context, message: str, **values: Any) -> SafeString:
    """``message`` in the page's language, ``%(name)s`` filled with ``values`` escaped.

    .. code-block:: html+django

        {% consent_text "%(label)s (always on)" label=row.label %}
    """
    return _fill(_catalogue(context).gettext(message), values, message)


@register.simple_tag(takes_context=True)
def consent_plural(
    context: template.Context, singular: str, plural: str, count: int, **values: Any
) -> SafeString:
    """The form of ``singular``/``plural`` the page's language uses for ``count``,
    ``%(count)s`` filled with it and ``%(name)s`` with ``values`` escaped."""
    text = _catalogue(context).ngettext(singular, plural, count)
    return _fill(text, {"count": count, **values}, singular if count == 1 else plural)


def _catalogue(context: Any) -> Translations:
    """The gate's catalogue for the page's language: ``consent_lang`` (the context
    processor's, and every consent template's), else the request's, else the
    site's default language."""
    settings = current().gate.settings
    language = context.get("consent_lang")
    if not isinstance(language, str) or not language:
        request = context.get("request")
        environ = request.META if isinstance(request, HttpRequest) else {}
        language = current().gate.languages.current(environ)
    return translations(settings, language)


def _fill(text: str, values: dict[str, Any], message: str) -> SafeString:
    """The translated ``text`` (trusted markup, like the Jinja templates') with its
    placeholders filled by ``values``, each escaped unless Django marked it safe.

    A translation whose placeholders do not fit (a site's own catalogue, say) gives
    way to ``message`` itself, and the log is told once: never a broken page."""
    if not values:
        return mark_safe(text)
    escaped = {name: conditional_escape(value) for name, value in values.items()}
    try:
        return mark_safe(text % escaped)
    except (KeyError, ValueError, TypeError):
        warn_once(
            f"translation:{message}",
            "consentgate: a translation of %r does not fit its placeholders; "
            "the message is shown untranslated",
            message,
        )
        return mark_safe(message % escaped)


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
