"""The built-in cookie table's texts, translated: the ``catalogue`` gettext domain.

Each cookie of the tracker catalogue (``trackers.toml``) and of the framework
presets (``presets.toml``) has an English ``purpose`` and ``lifetime``, shown in
the cookie table. They are messages of their own gettext domain, ``catalogue``
(``consentgate/locale/catalogue.pot``, a ``catalogue.po`` per language): a
purpose's msgid is its English text, a lifetime's is its English text with the
context ``lifetime``, so "Session" as a lifetime never clashes with a purpose.

:func:`catalogue_messages` lists them from the TOML files (``make messages``
writes the template from it; a test checks the template is up to date), and
:func:`translate_purpose` / :func:`translate_lifetime` show them in a language,
falling back to the English text where a catalogue has none.

.. code-block:: python

    translate_lifetime("2 years", "de")  # "2 Jahre"
"""

from __future__ import annotations

import functools
import gettext
import tomllib
from collections.abc import Mapping, Sequence
from importlib.resources import files

from .i18n import LOCALE_DIR, load_chain

#: The gettext domain of the tracker catalogue's texts (``catalogue.po``/``.mo``).
DOMAIN = "catalogue"
#: The message context of a cookie's lifetime (a purpose has none).
LIFETIME = "lifetime"
#: The package's files whose cookies' purposes and lifetimes are messages.
SOURCES = ("trackers.toml", "presets.toml")
#: Catalogues of this domain kept loaded (one per language and site directories).
_MAX_CATALOGUES = 128

#: A message of the domain: (context or None, English text).
Key = tuple[str | None, str]


def catalogue_messages(
    sources: Mapping[str, str] | None = None,
) -> dict[Key, list[str]]:
    """Every distinct purpose and lifetime of the built-in cookies, in file order,
    each with where it is used ("trackers.toml [google-analytics] _ga purpose").

    :param sources: file name -> TOML text; the package's :data:`SOURCES` when None.
    """
    if sources is None:
        package = files(__package__)
        sources = {name: (package / name).read_text("utf-8") for name in SOURCES}
    messages: dict[Key, list[str]] = {}
    for filename, text in sources.items():
        for entry_id, entry in tomllib.loads(text).items():
            for cookie in entry.get("cookies", ()):
                where = f"{filename} [{entry_id}] {cookie['name']}"
                if cookie.get("purpose"):
                    messages.setdefault((None, cookie["purpose"]), []).append(f"{where} purpose")
                if cookie.get("lifetime"):
                    messages.setdefault((LIFETIME, cookie["lifetime"]), []).append(
                        f"{where} lifetime"
                    )
    return messages


@functools.lru_cache(maxsize=_MAX_CATALOGUES)
def translations(language: str, extra: tuple[str, ...] = ()) -> gettext.NullTranslations:
    """The ``catalogue`` domain's translations for ``language``: a site's directories
    (``extra``, the ``locale_dirs`` option) first, then the shipped ones; a null
    translation (the English text) where there are none."""
    found = load_chain(language, (*extra, str(LOCALE_DIR)), DOMAIN)
    return gettext.NullTranslations() if found is None else found


def translate_purpose(text: str, language: str, extra: Sequence[str] = ()) -> str:
    """A built-in cookie's purpose in ``language`` (the English ``text`` when the
    catalogue has no translation)."""
    return translations(language, tuple(extra)).gettext(text) if text else text


def translate_lifetime(text: str, language: str, extra: Sequence[str] = ()) -> str:
    """A built-in cookie's lifetime in ``language`` (the English ``text`` when the
    catalogue has no translation)."""
    return translations(language, tuple(extra)).pgettext(LIFETIME, text) if text else text
