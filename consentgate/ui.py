"""The built-in banner and preferences page, for apps that bring no templates.

Both are plain HTML forms that post to the decision endpoint, so they work
with JavaScript turned off. The Flask extension renders its own Jinja
templates with the same form contract; everything else uses these.

Everything is rendered in the request's language from :mod:`consentgate.messages`.
The notice recorded with each decision is read from the rendered banner
(:func:`banner_notice`, :func:`consentgate.notice.notice_text`), so the wording on
record is the wording shown.
"""

from __future__ import annotations

import functools
from html import escape
from importlib.resources import files
from urllib.parse import quote

from . import messages as m
from .config import Settings
from .consent import Consent
from .embeds import Placeholder
from .i18n import Translations, catalogue, language_name
from .jurisdiction import DEFAULT_STATE, RequestState, gpc_refused
from .messages import category_description, category_label, purposes_list
from .notice import notice_text as notice_text
from .records import Notice

#: Styles for the built-in banner and page, scoped to the banner's id so they
#: never restyle the host page. The Flask templates use the same file.
BANNER_CSS = (files(__package__) / "static" / "consentgate" / "banner.css").read_text("utf-8")
#: Styles for embed placeholders, scoped to their class; sent once per page.
EMBED_CSS = (files(__package__) / "static" / "consentgate" / "embed.css").read_text("utf-8")
#: The script that swaps a placeholder for its embed in place, served at the endpoint.
EMBED_JS = (files(__package__) / "static" / "consentgate" / "embeds.js").read_bytes()
#: Where the endpoint serves :data:`EMBED_JS`, below its own path.
EMBED_JS_PATH = "/embeds.js"
_CSS_BYTES = BANNER_CSS.encode("utf-8")


def style_tag(nonce_attr: str = "") -> bytes:
    """The banner's ``<style>`` element, with the CSP nonce attribute
    (:func:`~consentgate.csp.nonce_attr`) when there is one.

    Kept apart from the banner's markup, which is cached: the nonce changes with
    every response, and adding it costs one concatenation.
    """
    return b"<style" + nonce_attr.encode("utf-8") + b">" + _CSS_BYTES + b"</style>"


def banner_html(
    settings: Settings, next_url: str, prefix: str = "", nonce_attr: str = "", language: str = "en"
) -> str:
    """Render the first-layer banner shown to a visitor who has not decided, with its style.

    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    :param language: the language to show it in (:func:`consentgate.i18n.negotiate`).
    """
    style = style_tag(nonce_attr).decode("utf-8")
    return style + banner_form(settings, next_url, prefix, language)


def banner_form(settings: Settings, next_url: str, prefix: str = "", language: str = "en") -> str:
    """Render the banner's markup (without its style, see :func:`style_tag`).

    Accept and reject are equal buttons side by side; per-category choice
    sits behind a ``<details>`` disclosure, with no optional box ticked.

    :param settings: the gate's settings (categories, privacy URL).
    :param next_url: the page to come back to after the decision, inside the app.
    :param prefix: the app's mount prefix (``/app``), written before the gate's paths.
    :param language: the language to show it in; the section carries it as ``lang``.
    """
    t = translations(settings, language)
    action, settings_url, purposes = _form_parts(settings, next_url, prefix, language)
    return (
        f'<section id="consentgate-banner" lang="{escape(language)}" '
        f'aria-labelledby="consentgate-title" data-consentgate-error="{_save_failed(t)}">'
        f'<form method="post" action="{action}">'
        f'<h2 id="consentgate-title">{escape(m.heading(t))}</h2>'
        f"<p>{_uses(t, purposes, settings_url)}</p>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        f"{escape(m.policy_link(t))}</a></p>"
        '<div class="consentgate-actions">'
        f'<button type="submit" name="action" value="accept_all">{escape(m.accept_label(t))}'
        "</button>"
        f'<button type="submit" name="action" value="reject_all">{escape(m.reject_label(t))}'
        "</button>"
        "</div>"
        f"<details><summary>{escape(m.choose_label(t))}</summary>"
        f"{_category_fieldset(settings, frozenset(), language=language)}"
        '<button class="consentgate-save" type="submit" name="action" value="save">'
        f"{escape(m.save_label(t))}</button></details>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="banner">'
        "</form></section>"
    )


def _uses(t: Translations, purposes: str, settings_url: str) -> str:
    """The banner's sentence on what the site uses, as HTML (``settings_url`` escaped)."""
    if not purposes:
        return escape(m.only_necessary(t))
    return m.banner_uses(t, escape(purposes), settings_url)


def _notice_uses(t: Translations, purposes: str) -> str:
    """The opt-out notice's sentence on what the site uses, as HTML."""
    return escape(m.notice_uses(t, purposes) if purposes else m.only_necessary(t))


def _save_failed(t: Translations) -> str:
    """What the banner's script shows when a decision is not saved, escaped for an
    attribute (``data-consentgate-error``): the script itself has no catalogue."""
    return escape(t.gettext(m.SAVE_FAILED))


def translations(settings: Settings, language: str) -> Translations:
    """The catalogue for ``language``, with the site's own ``locale_dirs`` first."""
    return catalogue(language, settings.default_language, settings.locale_dirs)


def banner_notice(
    settings: Settings, language: str = "en", state: RequestState = DEFAULT_STATE
) -> Notice:
    """The notice the built-in banner shows: its text as :func:`notice_text` reads it.

    Taken from :func:`banner_html` itself (:func:`notice_form` in opt-out mode, with
    its line on the GPC signal when it is honoured), so the recorded wording is what
    the visitor read, in their language, whatever changes in the banner.
    """
    if state.mode == "opt-out":
        form = notice_form(settings, "/", gpc=state.gpc, language=language)
        return Notice(language, notice_text(form))
    return Notice(language, notice_text(banner_html(settings, "/", language=language)))


def notice_form(
    settings: Settings, next_url: str, prefix: str = "", *, gpc: bool, language: str = "en"
) -> str:
    """Render the notice that replaces the banner in opt-out mode (without its style,
    see :func:`style_tag`).

    Optional categories already run, so there is no accept/reject pair: the
    notice says what is used and links to the preferences page, where the
    visitor opts out; "OK" keeps the defaults and hides the notice.

    :param gpc: the browser's Global Privacy Control signal is honoured: say so.
    :param language: the language to show it in; the section carries it as ``lang``.
    """
    t = translations(settings, language)
    action, settings_url, purposes = _form_parts(settings, next_url, prefix, language)
    gpc_note = gpc_html(settings, "opt-out", language) if gpc else ""
    return (
        f'<section id="consentgate-banner" class="consentgate-notice" lang="{escape(language)}" '
        f'aria-labelledby="consentgate-title" data-consentgate-error="{_save_failed(t)}">'
        f'<form method="post" action="{action}">'
        f'<h2 id="consentgate-title">{escape(m.heading(t))}</h2>'
        f"<p>{_notice_uses(t, purposes)}</p>{gpc_note}"
        f'<p><a href="{settings_url}">{escape(t.gettext(m.OPT_OUT_TEXT))}</a></p>'
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        f"{escape(m.policy_link(t))}</a></p>"
        '<div class="consentgate-actions">'
        f'<button type="submit" name="action" value="acknowledge">{escape(m.ok_label(t))}'
        "</button>"
        "</div>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="banner">'
        "</form></section>"
    )


def gpc_html(settings: Settings, mode: str, language: str = "en") -> str:
    """The paragraph that tells the visitor their browser's signal is honoured."""
    refused = purposes_list(settings, language, lambda c: c.name in settings.gpc_names)
    words = m.gpc_text(translations(settings, language), mode, refused)
    return f'<p class="consentgate-gpc">{escape(words)}</p>'


def preferences_page(
    settings: Settings,
    consent: Consent,
    next_url: str,
    prefix: str = "",
    back: str | None = None,
    nonce_attr: str = "",
    state: RequestState = DEFAULT_STATE,
    language: str = "en",
) -> str:
    """Render the stand-alone preferences page served at the endpoint.

    The checkboxes show the consent in effect right now, so the page doubles
    as a way to check and to withdraw consent. In opt-out mode its refusal
    button is the opt-out; categories the GPC signal refuses are shown off
    and locked. When decisions are recorded, it also shows the visitor's
    consent id and when they last decided (:func:`receipt_html`). With more
    than one language, a picker sends the visitor's choice (kept in the cookie).

    :param next_url: where the form leads after saving, inside the app.
    :param prefix: the app's mount prefix, written before every path.
    :param back: the page inside the app the visitor came from, linked to.
    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    :param state: the request's mode and whether its GPC signal is honoured.
    :param language: the page's language (its ``<html lang>``).
    """
    t = translations(settings, language)
    back_link = (
        f'<p><a href="{escape(prefix + back)}">{escape(m.back_text(t))}</a></p>' if back else ""
    )
    opt_out = state.mode == "opt-out"
    gpc_note = gpc_html(settings, state.mode, language) if state.gpc else ""
    refuse = (
        f'<button type="submit" name="action" value="opt_out">{escape(t.gettext(m.OPT_OUT_TEXT))}'
        "</button>"
        if opt_out
        else f'<button type="submit" name="action" value="reject_all">{escape(m.reject_label(t))}'
        "</button>"
    )
    locked = gpc_refused(settings, state)
    fieldset = _category_fieldset(settings, consent.granted, locked, language)
    title = escape(m.settings_title(t))
    action = escape(prefix + settings.endpoint)
    return (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>{style_tag(nonce_attr).decode('utf-8')}"
        "</head><body><main>"
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        f'<form method="post" action="{action}">'
        f'<h1 id="consentgate-title">{title}</h1>'
        f"<p>{escape(m.status_text(t, consent.decided, opt_out, bool(locked)))}</p>"
        f"{receipt_html(settings, consent, language)}"
        f"{gpc_note}{fieldset}{language_picker(settings, language, action)}"
        '<div class="consentgate-actions">'
        f'<button type="submit" name="action" value="save">{escape(m.save_label(t))}</button>'
        f'<button type="submit" name="action" value="accept_all">{escape(m.accept_label(t))}'
        f"</button>{refuse}</div>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        f"{escape(m.policy_link(t))}</a></p>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="preferences">'
        f"</form></section>{back_link}</main></body></html>"
    )


def language_picker(settings: Settings, language: str, action: str = "") -> str:
    """A ``<select name="lang">`` of the site's languages, each in its own name, the
    current one selected; empty when the site has one language.

    It sits in the decision form, so saving keeps the language in the consent cookie;
    its "Change language" button sends the same form as a GET to the page
    (``formaction``), which answers in the language picked, without deciding anything.

    :param action: the page's URL (the endpoint), escaped.
    """
    if len(settings.languages) < 2:
        return ""
    t = translations(settings, language)
    options = "".join(
        f'<option value="{escape(tag)}" lang="{escape(tag)}"'
        f"{' selected' if tag == language else ''}>{escape(language_name(tag))}</option>"
        for tag in settings.languages
    )
    return (
        '<p class="consentgate-language"><label for="consentgate-lang">'
        f"{escape(m.language_label(t))}</label> "
        f'<select id="consentgate-lang" name="lang">{options}</select> '
        f'<button type="submit" formmethod="get" formaction="{action}">'
        f"{escape(m.change_language(t))}</button></p>"
    )


def shows_receipt(settings: Settings, consent: Consent) -> bool:
    """Whether the preferences page shows the visitor their consent id: they decided,
    and the site keeps records of decisions (a store or an ``on_decision`` hook)."""
    recorded = settings.records is not None or settings.on_decision is not None
    return recorded and consent.decided and bool(consent.consent_id)


def receipt_html(settings: Settings, consent: Consent, language: str = "en") -> str:
    """The visitor's consent id and the time of their last decision, to quote in a
    request about their data; empty when :func:`shows_receipt` says no."""
    if not shows_receipt(settings, consent):
        return ""
    t = translations(settings, language)
    machine, readable = m.decision_time(consent.decided_at, t)
    text = m.receipt_text(t, escape(consent.consent_id), machine, escape(readable))
    return f'<p id="consentgate-receipt">{text}</p>'


def unavailable_page(
    prefix: str,
    next_url: str,
    retry_after: int,
    nonce_attr: str = "",
    t: Translations = m.ENGLISH,
    language: str = "en",
) -> str:
    """The page answered when a decision could not be recorded: nothing changed, and
    the visitor is asked to try again, with a way back to the page they were on.

    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    :param t: the catalogue of the page's ``language``.
    """
    title = escape(m.not_saved_title(t))
    return (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>{style_tag(nonce_attr).decode('utf-8')}"
        "</head><body><main>"
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        f'<h1 id="consentgate-title">{title}</h1>'
        f"<p>{escape(t.gettext(m.UNAVAILABLE))} {escape(m.retry_text(t, retry_after))}</p>"
        f'<p><a href="{escape(prefix + next_url)}">{escape(m.back_text(t))}</a></p>'
        "</section></main></body></html>"
    )


def bad_gateway_page(settings: Settings, language: str) -> bytes:
    """The page sent instead of one the gate could not check (502), in ``language``."""
    return _bad_gateway(language, settings.default_language, settings.locale_dirs)


@functools.lru_cache(maxsize=64)
def _bad_gateway(language: str, default: str, dirs: tuple[str, ...]) -> bytes:
    t = catalogue(language, default, dirs)
    title, text = escape(t.gettext(m.BAD_GATEWAY_TITLE)), escape(t.gettext(m.BAD_GATEWAY_TEXT))
    return (
        f"<!DOCTYPE html>\n<html lang={language}><meta charset=utf-8><title>502 {title}</title>\n"
        f"<h1>{title}</h1>\n<p>{text}</p>\n"
    ).encode()


def site_url(prefix: str, url: str) -> str:
    """``url`` as the browser should get it: a path (``/privacy``) is inside the app,
    so it goes behind the mount prefix; a full URL is left as it is."""
    return prefix + url if url.startswith("/") and not url.startswith("//") else url


def _category_fieldset(
    settings: Settings,
    granted: frozenset[str],
    locked: frozenset[str] = frozenset(),
    language: str = "en",
) -> str:
    """One labelled checkbox per category; required ones shown on and locked, and the
    ``locked`` ones (refused by the GPC signal) shown off and locked."""
    t = translations(settings, language)
    rows = []
    for category in settings.categories:
        field_id = f"consentgate-{escape(category.name)}"
        label = category_label(settings, category, language)
        if category.required:
            control = f'<input type="checkbox" id="{field_id}" checked disabled>'
            label = m.always_on(t, label)
        elif category.name in locked:
            control = f'<input type="checkbox" id="{field_id}" disabled>'
            label = m.gpc_off(t, label)
        else:
            checked = " checked" if category.name in granted else ""
            control = (
                f'<input type="checkbox" id="{field_id}" name="category" '
                f'value="{escape(category.name)}"{checked}>'
            )
        text = category_description(settings, category, language)
        description = f" {escape(text)}" if text else ""
        rows.append(
            f'<label for="{field_id}">{control}<span><strong>{escape(label)}'
            f"</strong>{description}</span></label>"
        )
    legend = escape(m.legend(t))
    return f"<fieldset><legend>{legend}</legend>{''.join(rows)}</fieldset>"


def embed_assets(script_url: str, nonce: str | None = None) -> str:
    """The stylesheet and script that the first placeholder of a page brings along.

    :param script_url: where the endpoint serves the script (``/consent/embeds.js``).
    :param nonce: the response's CSP nonce, if it has one.
    """
    attr = f' nonce="{escape(nonce)}"' if nonce else ""
    return (
        f'<style{attr}>{EMBED_CSS}</style><script{attr} src="{escape(script_url)}" defer></script>'
    )


def placeholder_html(p: Placeholder) -> str:
    """Render the placeholder of a refused embed (the Flask extension renders
    ``consentgate/placeholder.html`` instead, with the same form contract).

    Two submit buttons of one form: ``load_once`` (with ``element``) and ``save`` (with
    the categories already granted and this one). ``formaction`` keeps them posting to
    the endpoint even where the embed sat inside a form of the site's.
    """
    pid, action = escape(p.id), escape(p.action)
    words = m.embed_words(p, p.translations)
    privacy = (
        f' <a href="{escape(p.privacy_url)}">{escape(words.privacy)}</a>' if p.privacy_url else ""
    )
    granted = "".join(
        f'<input type="hidden" name="category" value="{escape(name)}">'
        for name in (*p.granted, p.category)
    )
    button = f'<button type="submit" formaction="{action}" formmethod="post" name="action"'
    classes = escape(f"consentgate-embed {p.classes}".strip())
    return (
        f'{p.assets}<div id="{pid}" class="{classes}" '
        f'style="{escape(p.style)}" role="group" lang="{escape(p.language)}" '
        f'aria-labelledby="{pid}-title" '
        f'data-consentgate-category="{escape(p.category)}" '
        f'data-consentgate-kind="{escape(p.kind)}"{" data-consentgate-widget" if p.widget else ""}>'
        f'<form method="post" action="{action}">'
        f'<p class="consentgate-embed-title" id="{pid}-title">{escape(words.title)}</p>'
        f"<p>{escape(words.explanation)}{privacy}</p>"
        '<div class="consentgate-embed-actions">'
        f'{button} value="load_once">{escape(words.load)}</button>'
        f'{button} value="save">{escape(words.allow)}</button></div>'
        f'<input type="hidden" name="element" value="{pid}">{granted}'
        '<input type="hidden" name="entry_point" value="placeholder">'
        f'<input type="hidden" name="next" value="{escape(p.next_url)}">'
        "</form></div>"
    )


def _form_parts(
    settings: Settings, next_url: str, prefix: str, language: str
) -> tuple[str, str, str]:
    """What the banner and the opt-out notice both write, escaped: the endpoint the
    form posts to and the preferences page's URL leading back to ``next_url`` (escaped),
    and the optional categories' labels as one list (empty when there are none)."""
    action = escape(prefix + settings.endpoint)
    settings_url = escape(f"{prefix}{settings.endpoint}?next={quote(next_url, safe='/')}")
    return action, settings_url, purposes_list(settings, language, lambda c: not c.required)
