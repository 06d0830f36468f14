"""The consent UI rendered from Django templates, so a site overrides any one of them.

Templates live in ``templates/consentgate/`` (banner, notice, categories, gpc,
declaration, placeholder, preferences, unavailable, base); a site replaces one by
putting a file of the same name in its own templates folder, which Django's
loaders search first. Each gets :func:`template_context`: the visitor's consent
(``{% if consent.analytics %}``), the form's URL and what the forms show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_supported_language_variant

from ..endpoint import use_language
from ..jurisdiction import gpc_refused
from ..messages import (
    category_description,
    category_label,
    declared_cookies,
    embed_words,
    purposes_list,
)
from ..site_pages import Render, SitePage, shared_context
from ..ui import translations
from .conf import BASE_TEMPLATE, FALLBACK_BASE_TEMPLATE, current

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ..categories import Category
    from ..config import Settings
    from ..consent import Consent
    from ..embeds import Placeholder

#: Set in ``request.META`` once LocaleMiddleware's language was handed to the core.
_APP_LANGUAGE_SEEN = "consentgate.django.app_language"


class TemplateConsent:
    """The visitor's consent as templates read it: ``consent.analytics`` is whether
    the category ``analytics`` is allowed; ``decided``, ``granted`` and
    ``consent_id`` are the :class:`~consentgate.consent.Consent`'s own."""

    def __init__(self, consent: Consent, names: frozenset[str]) -> None:
        self._consent = consent
        self._names = names

    def __getitem__(self, name: str) -> bool:
        # Django's templates look a name up as a key first: categories answer, and
        # anything else falls through to the attributes.
        if name not in self._names:
            raise KeyError(name)
        return self._consent.allows(name)

    @property
    def decided(self) -> bool:
        """Whether the visitor made a choice (in opt-out mode: opted out or said OK)."""
        return self._consent.decided

    @property
    def granted(self) -> frozenset[str]:
        """The names of the categories the consent grants."""
        return self._consent.granted

    @property
    def consent_id(self) -> str:
        """The id the visitor's decisions are recorded under; ``""`` before one."""
        return self._consent.consent_id

    def allows(self, name: str) -> bool:
        """Whether the category ``name`` is allowed."""
        return self._consent.allows(name)


def use_app_language(request: HttpRequest) -> None:
    """Hand LocaleMiddleware's language (``request.LANGUAGE_CODE``) to the core, once a
    request, when the site chose it: it then goes before the language the visitor
    picked on the preferences page and before ``Accept-Language``. LocaleMiddleware
    runs after the gate's middleware saw the request, so this is done when the app's
    views or templates first need the language; once done, what the core decides
    later (a language the visitor picks with a decision) stands."""
    environ = request.META
    if environ.get(_APP_LANGUAGE_SEEN):
        return
    environ[_APP_LANGUAGE_SEEN] = True
    if _site_chose_language(request):
        use_language(current().gate, environ, getattr(request, "LANGUAGE_CODE", None))


def _site_chose_language(request: HttpRequest) -> bool:
    """Whether LocaleMiddleware took its language from the site, as Django's
    ``get_language_from_request`` looks: a URL under ``i18n_patterns`` or the language
    cookie the site's language switcher sets. What it read off ``Accept-Language``
    is no choice: the core reads that header itself, after the visitor's pick."""
    prefixed, _ = is_language_prefix_patterns_used(
        getattr(request, "urlconf", django_settings.ROOT_URLCONF)
    )
    cookie = request.COOKIES.get(django_settings.LANGUAGE_COOKIE_NAME)
    if prefixed or not cookie:
        return prefixed
    try:
        return bool(get_supported_language_variant(cookie))
    except LookupError:
        return False


def template_context(request: HttpRequest) -> dict[str, Any]:
    """What the consent templates (and the site's, by the context processor) read:
    :func:`~consentgate.site_pages.shared_context`, the consent as templates read it,
    and the words and checkboxes of the categories in the page's language.

    Empty when the middleware did not see the request (it is not in ``MIDDLEWARE``).
    """
    environ = request.META
    consent: Consent | None = environ.get("consentgate.consent")
    if consent is None:
        return {}
    use_app_language(request)
    gate = current().gate
    settings = gate.settings
    shared = shared_context(gate, environ)
    language = gate.languages.current(environ)
    locked = gpc_refused(settings, gate.request_state(environ))
    return {
        **shared.values,
        **{key: mark_safe(html) for key, html in shared.markup.items()},
        "consent": TemplateConsent(consent, settings.names),
        "consent_optional": purposes_list(settings, language, lambda c: not c.required),
        "consent_gpc_refused": purposes_list(
            settings, language, lambda c: c.name in settings.gpc_names
        ),
        "consent_categories": [
            _row(settings, c, consent.allows(c.name), c.name in locked, language)
            for c in settings.categories
        ],
    }


def _row(
    settings: Settings, category: Category, checked: bool, locked: bool, language: str
) -> dict[str, Any]:
    """One category's checkbox: on and locked when required, off and locked when the
    GPC signal refuses it (opt-out mode), else as the consent in effect has it; its
    label and description in the page's language."""
    return {
        "category": category,
        "label": category_label(settings, category, language),
        "description": category_description(settings, category, language),
        "required": category.required,
        "gpc_locked": locked,
        "checked": checked,
    }


def page_renderer(request: HttpRequest) -> Render:
    """Renders a consent page (:class:`~consentgate.site_pages.SitePage`) from the
    site's templates with :func:`template_context`: the core's HTML marked safe, the
    layout (:func:`base_template`) given to the pages that extend it."""

    def render(page: SitePage) -> str:
        context = template_context(request)
        context.update(page.values)
        context.update((key, mark_safe(html)) for key, html in page.markup.items())
        if page.in_layout:
            context["base_template"] = base_template()
        return render_to_string(page.template, context, request)

    return render


def base_template() -> str:
    """The layout the pages extend: the configured one, else the site's ``base.html``,
    else the app's minimal one."""
    configured = current().base_template
    if configured is not None:
        return configured
    try:
        get_template(BASE_TEMPLATE)
    except TemplateDoesNotExist:
        return FALLBACK_BASE_TEMPLATE
    return BASE_TEMPLATE


def placeholder_renderer() -> Callable[[Placeholder], str]:
    """A refused embed's placeholder from ``consentgate/placeholder.html``; called while
    the body streams, so the template gets only ``placeholder`` and ``words``, its
    text in the page's language (:class:`consentgate.messages.EmbedWords`)."""
    template = get_template("consentgate/placeholder.html")

    def render(placeholder: Placeholder) -> str:
        words = embed_words(placeholder, placeholder.translations)
        return str(template.render({"placeholder": placeholder, "words": words}))

    return render


def declaration(settings: Settings, language: str) -> SafeString:
    """The table of cookies per category, from ``consentgate/declaration.html``, the
    category labels and the rows (:func:`~consentgate.messages.declared_cookies`: the
    consent cookie's, the built-in cookies' purposes and lifetimes) in ``language``."""
    by_category: dict[str, list[Any]] = {c.name: [] for c in settings.categories}
    t = translations(settings, language)
    for category, cookie in declared_cookies(settings, t, language):
        by_category[category.name].append(cookie)
    tables = [
        (
            {"label": category_label(settings, c, language), "required": c.required},
            by_category[c.name],
        )
        for c in settings.categories
    ]
    context = {"consent_tables": tables, "consent_lang": language}
    return render_to_string("consentgate/declaration.html", context)
