"""Translations: the gate's catalogues, the visitor's language, translated labels.

Every word the gate shows is a gettext message, marked in :mod:`consentgate.ui`
and the Jinja templates and extracted with Babel into
``consentgate/locale/consentgate.pot``; each language has its ``.po`` source
beside it, compiled to ``.mo`` when the package is built (see ``setup.py``).
This module loads the compiled catalogues with the standard library's
:mod:`gettext`, once per language, and chooses a request's language from what
the app, the visitor's consent cookie and ``Accept-Language`` say
(:func:`negotiate` is pure and bounded, whatever the header holds).

.. code-block:: python

    t = catalogue("de")
    t.gettext("Accept all")  # "Alle akzeptieren"
    negotiate("de-AT,de;q=0.9,en;q=0.5", ("en", "de", "fr"))  # "de"
"""

from __future__ import annotations

import functools
import gettext
import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

logger = logging.getLogger("consentgate")

#: The gettext domain of the gate's messages (``consentgate.po``/``.mo``).
DOMAIN = "consentgate"
#: Where the shipped catalogues live: ``<lang>/LC_MESSAGES/consentgate.mo``.
LOCALE_DIR = Path(str(files(__package__) / "locale"))
#: The 24 official languages of the European Union, which the gate ships.
EU_LANGUAGES = (
    *("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr"),
    *("hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"),
)
#: Each language in its own name, for the preferences page's picker.
NAMES = {
    "bg": "български",
    "cs": "čeština",
    "da": "dansk",
    "de": "Deutsch",
    "el": "ελληνικά",
    "en": "English",
    "es": "español",
    "et": "eesti",
    "fi": "suomi",
    "fr": "français",
    "ga": "Gaeilge",
    "hr": "hrvatski",
    "hu": "magyar",
    "it": "italiano",
    "lt": "lietuvių",
    "lv": "latviešu",
    "mt": "Malti",
    "nl": "Nederlands",
    "pl": "polski",
    "pt": "português",
    "ro": "română",
    "sk": "slovenčina",
    "sl": "slovenščina",
    "sv": "svenska",
}
#: Longest ``Accept-Language`` header read; the rest is ignored (the header of a
#: real browser is well under 200 characters).
MAX_HEADER = 1024
#: Most language ranges read from ``Accept-Language``.
MAX_RANGES = 32
#: Catalogues kept loaded: the languages a site serves, and then some.
_MAX_CATALOGUES = 128
#: A language tag as BCP 47 writes it, near enough to refuse junk (``*`` apart).
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_QVALUE = re.compile(r"q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)", re.IGNORECASE)

#: What :func:`catalogue` gives: gettext's translations (a null one is English).
Translations = gettext.NullTranslations

#: The WSGI environ (or ASGI scope) key of the request's language: an app sets it to
#: choose the language itself; the gate sets it to the language it chose, which the
#: banner, the pages and the consent records read.
LANGUAGE_KEY = "consentgate.language"
#: Set by the gate when ``Accept-Language`` chose the language (the answer then
#: varies with it): holds the language it chose.
NEGOTIATED_KEY = "consentgate.language_negotiated"
#: ``Accept-Language`` headers whose answer is kept (each at most MAX_HEADER long).
_NEGOTIATED_CACHE = 1024

_warned: set[str] = set()


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here (it is translated
    where it is shown, in the request's language)."""
    return message


def warn_once(kind: str, message: str, *args: object) -> None:
    """Log ``message`` the first time a problem of this ``kind`` is met (a missing
    catalogue or label translation), so the log is told once, not per request."""
    if kind not in _warned and len(_warned) < 1024:
        _warned.add(kind)
        logger.warning(message, *args)


def shipped_languages(directory: Path = LOCALE_DIR) -> tuple[str, ...]:
    """The languages with a compiled catalogue in ``directory``, sorted."""
    if not directory.is_dir():
        return ()
    return tuple(
        sorted(
            entry.name
            for entry in directory.iterdir()
            if (entry / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
        )
    )


@functools.lru_cache(maxsize=_MAX_CATALOGUES)
def catalogue(
    language: str, default: str = "en", extra: tuple[str, ...] = ()
) -> gettext.NullTranslations:
    """The translations for ``language``, loaded once and kept.

    A site's own catalogue directories (``extra``, the ``locale_dirs`` option) come
    first, message by message, then the shipped one. A language with no catalogue
    anywhere falls back to ``default`` (logged once); English needs none.

    :param language: a tag such as ``"de"``, as :func:`negotiate` returns.
    :param default: the site's ``default_language``.
    :param extra: directories laid out as ``<lang>/LC_MESSAGES/consentgate.mo``.
    """
    found = load_chain(language, (*extra, str(LOCALE_DIR)))
    if found is None:
        if language not in ("en", default):
            warn_once(
                f"catalogue:{language}",
                "no catalogue for language %r: the consent UI is shown in %r",
                language,
                default,
            )
            return catalogue(default, default, extra)
        return gettext.NullTranslations()
    return found


def load_chain(
    language: str, dirs: Sequence[str], domain: str = DOMAIN
) -> gettext.GNUTranslations | None:
    """The compiled catalogues of ``domain`` for ``language`` in each of ``dirs`` that
    has one, chained so that the first holding a message gives it; None when none has.

    :param dirs: directories laid out as ``<lang>/LC_MESSAGES/<domain>.mo``.
    """
    found = [t for d in dirs if (t := _load(d, language, domain)) is not None]
    if not found:
        return None
    for first, then in itertools.pairwise(found):
        first.add_fallback(then)
    return found[0]


def _load(directory: str, language: str, domain: str) -> gettext.GNUTranslations | None:
    path = Path(directory) / language / "LC_MESSAGES" / f"{domain}.mo"
    if not path.is_file():
        return None
    with path.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def language_name(tag: str) -> str:
    """``tag`` in its own language ("Deutsch"), or the tag itself for one not in
    :data:`NAMES`."""
    return NAMES.get(tag) or NAMES.get(tag.partition("-")[0].lower()) or tag


def has_catalogue(language: str, extra: Sequence[str] = ()) -> bool:
    """Whether ``language`` can be shown: English (the code's own), or a compiled
    catalogue in a site's directory or the shipped ones."""
    if language == "en":
        return True
    dirs = [*extra, str(LOCALE_DIR)]
    return any((Path(d) / language / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file() for d in dirs)


class Texts(Mapping[str, str]):
    """A read-only, hashable table of translations (language tag -> text), as a
    category's ``label`` or ``description`` may be."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __repr__(self) -> str:
        return f"Texts({self._items!r})"


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """The language ranges of an ``Accept-Language`` header, most wanted first.

    Only the first :data:`MAX_HEADER` characters and :data:`MAX_RANGES` ranges are
    read; junk ranges are skipped, ties keep the header's order, and ranges with
    ``q=0`` are kept (they refuse a language) at the end.
    """
    ranges: list[tuple[str, float]] = []
    for item in header[:MAX_HEADER].split(",")[:MAX_RANGES]:
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if tag != "*" and not _TAG.fullmatch(tag):
            continue
        quality = 1.0
        if params.strip():
            match = _QVALUE.fullmatch(params.strip())
            if match is None:
                continue
            quality = float(match.group(1))
        ranges.append((tag.lower(), quality))
    ranges.sort(key=lambda pair: -pair[1])
    return ranges


def negotiate(header: str | None, available: Sequence[str]) -> str | None:
    """The language of ``available`` an ``Accept-Language`` header asks for, or None.

    Ranges are tried by quality; each matches an available tag exactly, then by
    cutting subtags off its end (``de-AT`` gets ``de``, ``pt-BR`` gets ``pt``), then
    as the prefix of one (``zh`` gets ``zh-Hant``). ``*`` takes the first available
    language not refused with ``q=0``. Matching ignores case; the available tag is
    returned as it is written.
    """
    if not header or not available:
        return None
    lower = {tag.lower(): tag for tag in available}
    ranges = parse_accept_language(header)
    refused = {tag for tag, quality in ranges if quality == 0}
    for tag, quality in ranges:
        if quality == 0:
            break
        if tag == "*":
            rest = [t for k, t in lower.items() if k not in refused]
            return rest[0] if rest else None
        found = _lookup(tag, lower, refused)
        if found is not None:
            return found
    return None


def _lookup(tag: str, lower: Mapping[str, str], refused: set[str]) -> str | None:
    """RFC 4647 lookup of one range, then the first available tag it is a prefix of."""
    parts = tag.split("-")
    while parts:
        candidate = "-".join(parts)
        if candidate in lower and candidate not in refused:
            return lower[candidate]
        parts.pop()
    prefix = tag + "-"
    for key, value in lower.items():
        if key.startswith(prefix) and key not in refused:
            return value
    return None


def match_language(tag: object, available: Sequence[str]) -> str | None:
    """``tag`` (an app's choice, a cookie's or a form's) as one of ``available``:
    exactly or by its primary language (``de_AT``, ``de-AT`` give ``de``); None for
    anything else, so a hostile value never picks a catalogue."""
    if not isinstance(tag, str) or len(tag) > 35:
        return None
    tag = tag.replace("_", "-")
    if not _TAG.fullmatch(tag):
        return None
    return _lookup(tag.lower(), {t.lower(): t for t in available}, set())


class LanguageChooser:
    """Choose a request's language, in this order: the app's choice (``environ``
    :data:`LANGUAGE_KEY`), the visitor's pick (kept in the consent cookie),
    ``Accept-Language`` negotiated against ``languages``, then ``default``.

    The gate's adapters call :meth:`choose` when a request comes in and
    :meth:`negotiated` for a page they rewrite; negotiation is memoised per
    header value, so a visit costs a dictionary lookup.
    """

    def __init__(self, languages: Sequence[str], default: str) -> None:
        self.languages = tuple(languages)
        self.default = default
        #: The site's tags as written: most tags the gate meets are one of them.
        self._exact = frozenset(self.languages)
        #: Accept-Language header -> the language it gets: a plain dict, as this is
        #: on every request's path; at most :data:`_NEGOTIATED_CACHE` headers of at most
        #: :data:`MAX_HEADER` characters are kept.
        self._negotiated: dict[str, str] = {}

    def _negotiate(self, header: str) -> str:
        found = self._negotiated.get(header)
        if found is None:
            found = negotiate(header, self.languages) or self.default
            if len(header) <= MAX_HEADER and len(self._negotiated) < _NEGOTIATED_CACHE:
                self._negotiated[header] = found
        return found

    def choose(self, environ: MutableMapping[str, Any], picked: str = "") -> str:
        """The request's language, written to ``environ[LANGUAGE_KEY]``; when
        ``Accept-Language`` chose it, also to ``environ[NEGOTIATED_KEY]``.

        :param picked: the language the visitor picked (:attr:`Consent.language`).
        """
        # Every request passes here; most carry neither the app's choice nor a pick.
        chosen = environ.get(LANGUAGE_KEY)
        language = None if chosen is None else self.match(chosen)
        if language is None and picked:
            language = self.match(picked)
        if language is None:
            header = environ.get("HTTP_ACCEPT_LANGUAGE")
            if header:
                language = self._negotiated.get(header) or self._negotiate(header)
            else:
                language = self.default
            environ[NEGOTIATED_KEY] = language
        environ[LANGUAGE_KEY] = language
        return language

    def match(self, tag: object) -> str | None:
        """``tag`` as one of the site's languages (:func:`match_language`), or None."""
        if tag in self._exact:
            return tag  # narrowed to str: the set holds only str
        return match_language(tag, self.languages) if tag else None

    def current(self, environ: Mapping[str, Any]) -> str:
        """The language of this request as it stands now: the app may have set
        :data:`LANGUAGE_KEY` while answering."""
        return self.match(environ.get(LANGUAGE_KEY)) or self.default

    def negotiated(self, environ: Mapping[str, Any]) -> str | None:
        """The request's language when ``Accept-Language`` chose it (a page the gate
        writes into then gets ``Content-Language`` and ``Vary: Accept-Language``),
        else None: the app or the visitor chose, or the site has one language."""
        language: str | None = environ.get(NEGOTIATED_KEY)
        if language is None or language != environ.get(LANGUAGE_KEY) or len(self._exact) < 2:
            return None  # the app or the visitor chose since, or there is nothing to choose
        return language  # one of the site's, or the default: what current() would say


def localized(
    text: str | Mapping[str, str], language: str, default: str, what: str = "label"
) -> str:
    """One text of a table of translations (``{"en": ..., "fr": ...}``), in
    ``language``; the ``default`` language's when it has none (logged once). A plain
    string is the same in every language."""
    if isinstance(text, str):
        return text
    found = text.get(language)
    if found is None:
        base = language.partition("-")[0]
        found = text.get(base)
    if found is not None:
        return found
    warn_once(
        f"label:{what}:{language}",
        "%s has no %r translation: the %r one is shown",
        what,
        language,
        default,
    )
    return text.get(default) or next(iter(text.values()), "")


def check_table(value: object, key: str, languages: Iterable[str] = ()) -> None:
    """Raise :class:`ValueError` naming the problem unless ``value`` is a string or a
    non-empty table of language tag -> string (``languages``: tags it must hold)."""
    if isinstance(value, str):
        return
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a string or a table of translations (language = text)")
    for tag, text in value.items():
        if not isinstance(tag, str) or not _TAG.fullmatch(tag):
            raise ValueError(f"has {tag!r}, which is not a language tag")
        if not isinstance(text, str):
            raise ValueError(f"{tag} must be a string, got {type(text).__name__}")
    missing = [lang for lang in languages if lang not in value]
    if missing:
        raise ValueError(f"has no translation for {', '.join(missing)}")
