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

from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from ..csp import nonce_attr
from ..messages import category_description, category_label, declared_cookies, purposes_list
from ..paths import app_path
from ..records import Notice
from ..ui import BANNER_CSS, notice_text, site_url, translations
from .conf import current

if TYPE_CHECKING:
    from django.http import HttpRequest

    from ..config import Category, Settings
    from ..consent import Consent
    from ..embeds import Placeholder


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


def template_context(request: HttpRequest) -> dict[str, Any]:
    """What the consent templates (and the site's, by the context processor) read.

    Empty when the middleware did not see the request (it is not in ``MIDDLEWARE``).
    """
    environ = request.META
    consent: Consent | None = environ.get("consentgate.consent")
    if consent is None:
        return {}
    gate = current().gate
    settings = gate.settings
    mode = environ.get("consentgate.mode", "opt-in")
    gpc = bool(environ.get("consentgate.gpc"))
    prefix = gate.mount_prefix(environ)
    language = gate.languages.current(environ)
    return {
        "consent": TemplateConsent(consent, settings.names),
        "consent_mode": mode,
        "consent_gpc": gpc,
        "consent_settings": settings,
        "consent_url": prefix + settings.endpoint,
        "consent_privacy_url": site_url(prefix, settings.privacy_url),
        "consent_lang": language,
        "consent_optional": purposes_list(settings, language, lambda c: not c.required),
        "consent_gpc_refused": purposes_list(
            settings, language, lambda c: c.name in settings.gpc_names
        ),
        "consent_categories": [
            _row(settings, c, consent, (mode, gpc, language)) for c in settings.categories
        ],
        "consentgate_css": mark_safe(BANNER_CSS),
        "consentgate_nonce": mark_safe(nonce_attr(environ)),
    }


def _row(
    settings: Settings, category: Category, consent: Consent, state: tuple[str, bool, str]
) -> dict[str, Any]:
    """One category's checkbox: on and locked when required, off and locked when the
    GPC signal refuses it (opt-out mode), else as the consent in effect has it; its
    label and description in the page's language."""
    mode, gpc, language = state
    return {
        "category": category,
        "label": category_label(settings, category, language),
        "description": category_description(settings, category, language),
        "required": category.required,
        "gpc_locked": not category.required and gpc and mode == "opt-out" and category.gpc,
        "checked": consent.allows(category.name),
    }


def banner_template(request: HttpRequest) -> str:
    """The banner in opt-in mode; in opt-out mode, the notice that replaces it."""
    if request.META.get("consentgate.mode") == "opt-out":
        return "consentgate/notice.html"
    return "consentgate/banner.html"


def render_banner(request: HttpRequest, next_url: str | None = None) -> SafeString:
    """The banner (or opt-out notice) from the site's templates, leading back here."""
    context = template_context(request)
    context["next_url"] = app_path(request.META) if next_url is None else next_url
    return render_to_string(banner_template(request), context, request)


def banner_notice(request: HttpRequest) -> Callable[[str], Notice]:
    """The notice the site's banner template shows, for the decision's record: read
    from the rendered template, so the record names what was shown."""

    def notice(language: str) -> Notice:
        return Notice(language, notice_text(render_banner(request, "/")))

    return notice


def placeholder_renderer() -> Callable[[Placeholder], str]:
    """A refused embed's placeholder from ``consentgate/placeholder.html``; called while
    the body streams, so the template gets only ``placeholder``."""
    template = get_template("consentgate/placeholder.html")

    def render(placeholder: Placeholder) -> str:
        return str(template.render({"placeholder": placeholder}))

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
    return render_to_string("consentgate/declaration.html", {"consent_tables": tables})
