"""Every sentence the gate shows a visitor, as a function of a catalogue.

Each message is marked for extraction (``t.gettext("...")`` or :func:`N_`) and
written as a whole sentence with named placeholders, so a translator can reorder
it; markup a sentence needs (a link) is inside the message, and what fills a
placeholder is escaped by the caller before it goes in. :mod:`consentgate.ui`
and the endpoint build their HTML from these; the Jinja templates hold the same
messages, so both give the visitor one wording, and the catalogue holds it once.

.. code-block:: python

    from consentgate.i18n import catalogue

    accept_label(catalogue("fr"))  # "Tout accepter"
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .catalogue import CookieSpec, preset_catalogue, tracker_catalogue
from .cookie_texts import translate_lifetime, translate_purpose
from .i18n import N_, Translations, localized

if TYPE_CHECKING:
    from .categories import Category
    from .config import Settings
    from .embeds import Placeholder

#: English, the language of the messages in the code (no catalogue needed).
ENGLISH = Translations()
#: What a visitor is told when their decision could not be recorded (HTML and JSON).
UNAVAILABLE = N_(
    "Your cookie choice could not be recorded just now, so it was not saved and nothing "
    "has changed."
)
#: The opt-out link and button of opt-out mode, in the words US state laws use.
# Translators: a link and a button in opt-out mode, in the words of US state privacy laws.
OPT_OUT_TEXT = N_("Do not sell or share my personal information")
#: What the banner's script says when a decision could not be saved (it has no
#: catalogue of its own: the banner carries the text in ``data-consentgate-error``).
SAVE_FAILED = N_("Your choice could not be saved, so nothing has changed. Please try again.")
#: The answer to a post from another site (403).
REFUSED = N_("Consent can only be given from this site's own pages.")
#: The answer to a form too large to read (413).
TOO_LARGE = N_("The form sent was too large to be read, so nothing has changed.")
#: The answer to a form that could not be read otherwise (400).
UNREADABLE = N_("The form sent could not be read, so nothing has changed.")
#: The answer to an "OK" posted where consent is asked for (400).
NO_NOTICE = N_(
    "This page is served where optional cookies need your consent, so a notice cannot be "
    "acknowledged here: please choose on the cookie settings page."
)
#: The title and the text of the page sent instead of one the gate could not check (502).
BAD_GATEWAY_TITLE = N_("Bad Gateway")
BAD_GATEWAY_TEXT = N_(
    "This page could not be checked for content you have not agreed to, so it was not "
    "sent. Please try again later."
)
#: The consent cookie's own row of the cookie table: who sets it and what for.
# Translators: the provider of the consent cookie in the cookie table: the site itself.
CONSENT_COOKIE_PROVIDER = N_("This site")
# Translators: the purpose of the consent cookie in the cookie table.
CONSENT_COOKIE_PURPOSE = N_("Remembers your cookie choices")
#: The preferences page's line in opt-out mode when the GPC signal turns categories off:
#: said by the built-in page and the Flask and Django templates alike.
# Translators: opt-out mode, when the browser's Global Privacy Control signal refuses
# some kinds of cookie: the page shows them off and locked.
GPC_LOCKED_STATUS = N_(
    "You have not opted out here, but your browser's Global Privacy Control signal "
    "turns off the kinds of cookie shown as off below; every kind ticked is in use."
)
#: Month names for the date of the visitor's last choice, as they follow a day number.
MONTHS = (
    # Translators: a month as it follows a day number in a date ("2 January 2026").
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    # Translators: the month (as in "2 May 2026"), not the verb.
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def heading(t: Translations) -> str:
    """The banner's and the notice's heading."""
    # Translators: the heading of the cookie banner.
    return t.gettext("Cookies on this site")


def accept_label(t: Translations) -> str:
    """The button that grants every category."""
    # Translators: a button of the cookie banner; as short as "Reject all" and as plain.
    return t.gettext("Accept all")


def reject_label(t: Translations) -> str:
    """The button that refuses every optional category, as prominent as accepting."""
    # Translators: a button of the cookie banner; as short as "Accept all" and as plain.
    return t.gettext("Reject all")


def choose_label(t: Translations) -> str:
    """The disclosure that opens the categories under the banner's buttons."""
    # Translators: opens the list of cookie categories under the banner's buttons.
    return t.gettext("Choose which cookies to allow")


def save_label(t: Translations) -> str:
    """The button that saves the ticked categories."""
    # Translators: a button that saves the ticked cookie categories.
    return t.gettext("Save my choices")


def ok_label(t: Translations) -> str:
    """The button that closes the opt-out notice."""
    # Translators: the button that closes the opt-out notice, keeping the defaults.
    return t.gettext("OK")


def policy_link(t: Translations) -> str:
    """The words of the link to the site's privacy and cookie policy."""
    # Translators: a link to the site's privacy and cookie policy page.
    return t.gettext("Privacy and cookie policy")


def only_necessary(t: Translations) -> str:
    """What the banner says when the site has no optional category."""
    return t.gettext("We use only necessary cookies, which the site needs to work.")


def banner_uses(t: Translations, purposes: str, settings_url: str) -> str:
    """The banner's sentence on what the site uses (HTML: it holds the link to the
    preferences page); ``purposes`` and ``settings_url`` must come escaped."""
    # Translators: %(purposes)s lists the optional cookie categories ("analytics, marketing");
    # keep the <a href="%(url)s"> link markup around the words that name the settings page.
    text = t.gettext(
        "We use necessary cookies so the site works. With your permission we would also "
        "use %(purposes)s. Nothing optional is set unless you allow it, and you can change "
        'your mind at any time from the <a href="%(url)s">cookie settings page</a>.'
    )
    return text % {"purposes": purposes, "url": settings_url}


def notice_uses(t: Translations, purposes: str) -> str:
    """The opt-out notice's sentence on what the site uses (``purposes`` unescaped)."""
    # Translators: opt-out mode (US state laws); %(purposes)s lists the optional categories.
    text = t.gettext(
        "We use necessary cookies so the site works, and %(purposes)s. You can opt out of "
        "the sale or sharing of your personal information at any time."
    )
    return text % {"purposes": purposes}


def gpc_text(t: Translations, mode: str, refused: str) -> str:
    """What the banner and page say when the GPC signal is honoured, in ``mode``
    (``refused``: the categories it refuses, as one list, unescaped)."""
    if mode == "opt-out":
        # Translators: %(purposes)s lists the cookie categories the signal refuses.
        text = t.gettext(
            "Your browser sends the Global Privacy Control signal. We honour it: we do not "
            "use %(purposes)s, whatever was chosen before."
        )
        return text % {"purposes": refused}
    return t.gettext(
        "Your browser sends the Global Privacy Control signal. We honour it: nothing "
        "optional is used unless you choose it here."
    )


def settings_title(t: Translations) -> str:
    """The preferences page's title and heading."""
    # Translators: the title and heading of the page where visitors change their choice.
    return t.gettext("Cookie settings")


def back_text(t: Translations) -> str:
    """The link back to the page the visitor came from."""
    return t.gettext("Back to the page you were on")


def status_text(t: Translations, decided: bool, opt_out: bool, gpc_locked: bool = False) -> str:
    """The preferences page's line on the consent in effect; ``gpc_locked`` when the
    GPC signal refuses categories the page then shows locked off (opt-out mode)."""
    if decided:
        return t.gettext("You have made a choice; you can change it here.")
    if opt_out and gpc_locked:
        return t.gettext(GPC_LOCKED_STATUS)
    if opt_out:
        return t.gettext(
            "You have not opted out here: every kind of cookie ticked below is in use."
        )
    return t.gettext("You have not made a choice yet, so only necessary cookies are in use.")


def language_label(t: Translations) -> str:
    """The label of the preferences page's list of languages."""
    # Translators: the label of the list of languages on the cookie settings page.
    return t.gettext("Language")


def change_language(t: Translations) -> str:
    """The button that shows the cookie settings page in the language picked."""
    # Translators: a button next to the list of languages; it reloads the page in the one picked.
    return t.gettext("Change language")


def legend(t: Translations) -> str:
    """The caption of the category checkboxes."""
    # Translators: the caption of the list of cookie categories, each with a checkbox.
    return t.gettext("Cookie categories")


def always_on(t: Translations, label: str) -> str:
    """A required category's label, saying it cannot be turned off."""
    # Translators: a cookie category that cannot be turned off ("Necessary (always on)").
    return t.gettext("%(label)s (always on)") % {"label": label}


def gpc_off(t: Translations, label: str) -> str:
    """A category the Global Privacy Control signal refuses, saying so."""
    # Translators: a cookie category refused by the browser's Global Privacy Control signal.
    return t.gettext("%(label)s (off: Global Privacy Control)") % {"label": label}


def decision_time(decided_at: int, t: Translations = ENGLISH) -> tuple[str, str]:
    """When a choice was made, in UTC: machine-readable (for ``<time datetime>``)
    and for people, e.g. ``("2026-12-02T02:15:36Z", "2 December 2026, 02:15 UTC")``."""
    when = datetime.fromtimestamp(decided_at, UTC)
    # Translators: a date and time in UTC; reorder the parts as your language writes dates.
    readable = t.gettext("%(day)s %(month)s %(year)s, %(time)s UTC") % {
        "day": when.day,
        "month": t.gettext(MONTHS[when.month - 1]),
        "year": when.year,
        "time": f"{when:%H:%M}",
    }
    return when.strftime("%Y-%m-%dT%H:%M:%SZ"), readable


def receipt_text(t: Translations, consent_id: str, machine: str, readable: str) -> str:
    """The sentence with the visitor's consent id (HTML; the values must come escaped)."""
    # Translators: keep the <code> and <time> markup around the id and the date.
    text = t.gettext(
        "Your consent id is <code>%(id)s</code>; your last choice was recorded on <time "
        'datetime="%(datetime)s">%(date)s</time>. Quote this id if you ask us about the '
        "data we hold on you or about your consent."
    )
    return text % {"id": consent_id, "datetime": machine, "date": readable}


def days_text(t: Translations, days: int) -> str:
    """A cookie's lifetime in days, for the cookie table."""
    # Translators: how long a cookie is kept, in the cookie table.
    return t.ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def not_saved_title(t: Translations) -> str:
    """The title and heading of the page answered when a decision was not recorded."""
    # Translators: the title of the page shown when a cookie choice could not be recorded.
    return t.gettext("Your choice was not saved")


def retry_text(t: Translations, seconds: int) -> str:
    """Ask the visitor to try again in ``seconds``."""
    text = t.ngettext(
        "Please try again in %(count)s second.", "Please try again in %(count)s seconds.", seconds
    )
    return text % {"count": seconds}


#: The words of an embed's placeholder, per kind (:data:`~consentgate.catalogue.EMBED_KINDS`):
#: its title, what loading it does, and its button.
EMBED_TEXTS = {
    "video": (
        # Translators: the title of a blocked embed; %(service)s is "YouTube", "Vimeo"...
        N_("%(service)s video"),
        N_("Loading this video sends data to %(recipient)s and lets it set cookies."),
        # Translators: a button that loads one blocked embed, this time only.
        N_("Load this video"),
    ),
    "map": (
        N_("%(service)s map"),
        N_("Loading this map sends data to %(recipient)s and lets it set cookies."),
        N_("Load this map"),
    ),
    "post": (
        # Translators: a social media post (a tweet, an Instagram post).
        N_("%(service)s post"),
        N_("Loading this post sends data to %(recipient)s and lets it set cookies."),
        N_("Load this post"),
    ),
    "audio": (
        N_("%(service)s audio"),
        N_("Loading this audio sends data to %(recipient)s and lets it set cookies."),
        N_("Load this audio"),
    ),
    "calendar": (
        # Translators: a booking calendar (Calendly).
        N_("%(service)s calendar"),
        N_("Loading this calendar sends data to %(recipient)s and lets it set cookies."),
        N_("Load this calendar"),
    ),
    "form": (
        N_("%(service)s form"),
        N_("Loading this form sends data to %(recipient)s and lets it set cookies."),
        N_("Load this form"),
    ),
}


@dataclass(frozen=True)
class EmbedWords:
    """What a placeholder says, in its language (the Flask template gets it as ``words``)."""

    title: str
    explanation: str
    load: str
    allow: str
    privacy: str


def embed_words(p: Placeholder, t: Translations = ENGLISH) -> EmbedWords:
    """The words of the placeholder ``p`` (unescaped), translated by ``t``."""
    title, explanation, load = EMBED_TEXTS.get(p.kind, EMBED_TEXTS["video"])
    return EmbedWords(
        title=t.gettext(title) % {"service": p.name},
        explanation=t.gettext(explanation) % {"recipient": p.sends_to},
        load=t.gettext(load),
        # Translators: a button that grants a cookie category ("Always allow media").
        allow=t.gettext("Always allow %(category)s") % {"category": p.category_label},
        privacy=t.gettext("Privacy policy of %(service)s") % {"service": p.name},
    )


def category_label(settings: Settings, category: Category, language: str) -> str:
    """The category's label in ``language`` (its table's ``default_language`` entry
    when it has none)."""
    return localized(
        category.label, language, settings.default_language, f"category {category.name!r} label"
    )


def category_description(settings: Settings, category: Category, language: str) -> str:
    """The category's description in ``language``, as :func:`category_label`."""
    where = f"category {category.name!r} description"
    return localized(category.description, language, settings.default_language, where)


def declared_cookies(
    settings: Settings, t: Translations, language: str = "en"
) -> list[tuple[Category, CookieSpec]]:
    """:meth:`Settings.declared_cookies <consentgate.config.Settings.declared_cookies>`
    in ``language``: the consent cookie's own row (provider, purpose, lifetime)
    translated by ``t``; each built-in cookie's purpose and lifetime (from the tracker
    catalogue or a preset) by :mod:`consentgate.cookie_texts` (the English text where
    a translation is missing); a site's own rows as written, or from their tables
    of translations (:func:`~consentgate.i18n.localized`)."""
    own = CookieSpec(
        settings.cookie_name,
        t.gettext(CONSENT_COOKIE_PROVIDER),
        t.gettext(CONSENT_COOKIE_PURPOSE),
        days_text(t, settings.max_age_days),
    )
    rows = []
    for category, spec in settings.declared_cookies():
        if spec.name == settings.cookie_name:
            rows.append((category, own))
        elif _wording(spec) in built_in_cookies():
            rows.append((category, _built_in_row(settings, t, spec, language)))
        else:
            rows.append((category, _site_row(settings, t, spec, language)))
    return rows


def _built_in_row(settings: Settings, t: Translations, spec: CookieSpec, lang: str) -> CookieSpec:
    """A cookie of the tracker catalogue or a preset, in ``lang``."""
    dirs = settings.locale_dirs
    return dataclasses.replace(
        spec,
        provider=_provider(t, spec),
        purpose=translate_purpose(str(spec.purpose), lang, dirs),
        lifetime=translate_lifetime(str(spec.lifetime), lang, dirs),
    )


def _provider(t: Translations, spec: CookieSpec) -> str:
    """The cookie's provider, "This site" (a preset's or the site's own) translated."""
    if spec.provider == CONSENT_COOKIE_PROVIDER:
        return t.gettext(CONSENT_COOKIE_PROVIDER)
    return spec.provider


def _site_row(settings: Settings, t: Translations, spec: CookieSpec, lang: str) -> CookieSpec:
    """A site's own cookie in ``lang``: its purpose and lifetime tables (if any), a
    lifetime written as one of the catalogue's ("1 year", "Session") and the provider
    "This site" translated too; other text as written."""
    default, where = settings.default_language, f"cookie {spec.name!r}"
    lifetime = spec.lifetime
    if isinstance(lifetime, str):
        lifetime = translate_lifetime(lifetime, lang, settings.locale_dirs)
    return dataclasses.replace(
        spec,
        provider=_provider(t, spec),
        purpose=localized(spec.purpose, lang, default, f"{where} purpose"),
        lifetime=localized(lifetime, lang, default, f"{where} lifetime"),
    )


@functools.cache
def built_in_cookies() -> frozenset[tuple[object, ...]]:
    """The wording (:func:`_wording`) of every cookie row of the tracker catalogue and the
    presets, as the package ships them: a row worded as one of them, under any name (a
    renamed framework cookie keeps its preset's words), has its purpose and lifetime
    translated."""
    entries = [*tracker_catalogue().values(), *preset_catalogue().values()]
    return frozenset(_wording(spec) for entry in entries for spec in entry.cookies)


def _wording(spec: CookieSpec) -> tuple[object, ...]:
    return spec.provider, spec.purpose, spec.lifetime, spec.domain


#: Languages whose nouns keep their capital inside a sentence, so a category's label
#: is not lower-cased when the banner lists it.
_CAPITALISED_NOUNS = frozenset({"de", "lb"})


def purposes_list(settings: Settings, language: str, which: Callable[[Category], bool]) -> str:
    """The labels of the categories ``which`` picks, in ``language``, as one list to sit
    inside a sentence (lower-cased, except where nouns keep their capital)."""
    labels = [category_label(settings, c, language) for c in settings.categories if which(c)]
    if language.partition("-")[0] not in _CAPITALISED_NOUNS:
        labels = [label.lower() for label in labels]
    return ", ".join(labels)
