"""The catalogues, language negotiation and label tables (consentgate/i18n.py)."""

from __future__ import annotations

import gettext
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from consentgate import Category, ConfigError, Settings
from consentgate.consent import Consent, ConsentCodec
from consentgate.cookie_texts import (
    LIFETIME,
    catalogue_messages,
    translate_lifetime,
    translate_purpose,
    translations,
)
from consentgate.i18n import (
    EU_LANGUAGES,
    LOCALE_DIR,
    MAX_RANGES,
    Texts,
    catalogue,
    localized,
    match_language,
    negotiate,
    parse_accept_language,
    shipped_languages,
)
from consentgate.messages import declared_cookies

from .conftest import SECRET, categories

ROOT = Path(__file__).resolve().parents[1]
POT = LOCALE_DIR / "consentgate.pot"
#: The gettext domains the package ships: the gate's messages, the cookie table's texts.
DOMAINS = ("consentgate", "catalogue")
#: A python-format placeholder, and the markup a message may hold.
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _po(language: str, domain: str = "consentgate") -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def _key(message: Message) -> tuple[str | None, str]:
    """A message's identity in its catalogue: its context and (singular) msgid."""
    return message.context, message.id if isinstance(message.id, str) else message.id[0]


def _template_ids(domain: str = "consentgate") -> set[tuple[str | None, str]]:
    return {_key(m) for m in _read(LOCALE_DIR / f"{domain}.pot") if m.id}


def _shape(text: str) -> tuple[list[str], list[str]]:
    """What a translation must keep of its message: placeholders and markup."""
    return sorted(_PLACEHOLDER.findall(text)), sorted(_TAG.findall(text))


# --- the catalogues -----------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", EU_LANGUAGES)
def test_every_official_language_has_a_complete_catalogue(language: str, domain: str) -> None:
    """Every message of the template (the gate's, and the tracker catalogue's cookie
    texts) is translated, none fuzzy or empty, with the placeholders and markup of its
    message and as many plural forms as the language has."""
    path = _po(language, domain)
    assert path.is_file(), f"no catalogue for {language}: {path.relative_to(ROOT)}"
    catalog = _read(path)
    assert str(catalog.locale) == language
    assert catalog.num_plurals == get_plural(language).num_plurals, "Plural-Forms header"
    wanted = _template_ids(domain)
    found = {_key(m): m for m in catalog if m.id}
    assert sorted(wanted - set(found), key=str) == [], "messages missing"
    for key in wanted:
        message = found[key]
        assert not message.fuzzy, f"fuzzy: {key!r}"
        if isinstance(message.id, str):
            assert isinstance(message.string, str) and message.string.strip(), f"empty: {key!r}"
            assert _shape(message.string) == _shape(message.id), f"placeholders: {key!r}"
            continue
        forms = message.string
        assert isinstance(forms, tuple | list), f"plural forms: {key!r}"
        assert len(forms) == catalog.num_plurals, f"plural forms: {key!r}"
        for form in forms:
            assert form.strip(), f"empty plural form: {key!r}"
            # A form may leave the number out ("one second"), never add another value.
            assert set(_PLACEHOLDER.findall(form)) <= set(_PLACEHOLDER.findall(message.id[1]))


@pytest.mark.parametrize("language", shipped_languages())
def test_the_shipped_mo_says_what_the_po_says(language: str) -> None:
    """The compiled catalogue the package loads matches its source, message by message."""
    catalog = _read(_po(language))
    translations = catalogue(language)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert translations.gettext(message.id) == message.string
        else:
            singular, plural = message.id
            forms = message.string
            assert isinstance(forms, tuple | list)
            for n in (1, 2, 5, 21):
                index = _plural_index(catalog, n)
                assert translations.ngettext(singular, plural, n) == forms[index]


@pytest.mark.parametrize(
    "language", sorted(p.parts[-3] for p in LOCALE_DIR.glob("*/LC_MESSAGES/catalogue.po"))
)
def test_the_shipped_cookie_texts_mo_says_what_the_po_says(language: str) -> None:
    """The compiled ``catalogue`` domain matches its source: each purpose, and each
    lifetime under its context."""
    catalog = _read(_po(language, "catalogue"))
    shipped = translations(language)
    for message in catalog:
        if not message.id:
            continue
        assert isinstance(message.id, str) and isinstance(message.string, str)
        if message.context == LIFETIME:
            assert shipped.pgettext(LIFETIME, message.id) == message.string
        else:
            assert shipped.gettext(message.id) == message.string


def _plural_index(catalog: Catalog, n: int) -> int:
    """The plural form ``n`` takes, by the catalogue's own ``Plural-Forms`` rule."""
    compiled = gettext.c2py(catalog.plural_expr)
    return int(compiled(n))


def test_the_template_holds_every_message_of_the_code(tmp_path: Path) -> None:
    """Extracting again finds exactly the messages of the committed template, so a new
    or changed message cannot reach the code without reaching the translators."""
    out = tmp_path / "fresh.pot"
    keywords = ["-k", "N_", "-k", "consent_gettext", "-k", "consent_ngettext:1,2"]
    subprocess.run(
        [
            *(sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg"),
            *(*keywords, "-o", str(out), "--no-wrap", "."),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    fresh = {_key(m) for m in _read(out) if m.id}
    assert fresh == _template_ids()


def test_the_cookie_texts_template_holds_every_purpose_and_lifetime() -> None:
    """``catalogue.pot`` holds exactly the purposes and lifetimes of trackers.toml and
    presets.toml, so a new tracker cannot ship text translators never saw (``make
    messages`` writes it again)."""
    fresh = set(catalogue_messages())
    template = _template_ids("catalogue")
    assert sorted(fresh - template, key=str) == [], "not in catalogue.pot: run make messages"
    assert sorted(template - fresh, key=str) == [], "no longer used: run make messages"


def test_the_cookie_texts_template_says_where_each_text_is_used() -> None:
    """Each message tells translators which cookie uses it, and whether as its
    purpose or its lifetime."""
    uses = catalogue_messages()
    assert uses[(LIFETIME, "2 years")][0] == "trackers.toml [google-analytics] _ga lifetime"
    template = {_key(m): m for m in _read(LOCALE_DIR / "catalogue.pot") if m.id}
    message = template[(None, "Keeps you signed in")]
    assert "presets.toml [django] sessionid purpose" in message.auto_comments


def test_cookie_texts_are_read_from_any_toml() -> None:
    """A purpose and a lifetime with the same words stay two messages."""
    toml = '[x]\ncookies = [{ name = "a", purpose = "Session", lifetime = "Session" }]\n'
    assert catalogue_messages({"t.toml": toml}) == {
        (None, "Session"): ["t.toml [x] a purpose"],
        (LIFETIME, "Session"): ["t.toml [x] a lifetime"],
    }


def test_a_cookie_text_without_translation_stays_english(tmp_path: Path) -> None:
    """A text no catalogue holds, and a language with no ``catalogue`` domain, give
    the English text; a site's ``locale_dirs`` catalogue goes first."""
    assert translate_purpose("Keeps the site's theme", "de") == "Keeps the site's theme"
    assert translate_lifetime("2 years", "eo") == "2 years"
    assert translate_lifetime("2 years", "de") == "2 Jahre"
    catalog = Catalog(locale="de", domain="catalogue")
    catalog.add("2 years", "zwei Jahre", context=LIFETIME)
    target = tmp_path / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "catalogue.mo").open("wb") as file:
        write_mo(file, catalog)
    site = (str(tmp_path),)
    assert translate_lifetime("2 years", "de", site) == "zwei Jahre"
    assert translate_lifetime("24 hours", "de", site) == "24 Stunden"
    # A lifetime's translation is not a purpose's: the context keeps them apart.
    assert translate_purpose("2 years", "de", site) == "2 years"


def test_a_site_catalogue_goes_first_and_the_shipped_one_fills_in(tmp_path: Path) -> None:
    catalog = Catalog(locale="fr", domain="consentgate")
    catalog.add("Accept all", "J'accepte tout")
    target = tmp_path / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "consentgate.mo").open("wb") as file:
        write_mo(file, catalog)
    t = catalogue("fr", "en", (str(tmp_path),))
    assert t.gettext("Accept all") == "J'accepte tout"
    assert t.gettext("Reject all") == "Tout refuser"  # from the shipped catalogue


def test_a_language_without_catalogue_falls_back_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        first = catalogue("xx-test", "fr")
        catalogue("xx-test", "fr")
    assert first.gettext("Accept all") == "Tout accepter"
    assert [r.getMessage() for r in caplog.records].count(
        "no catalogue for language 'xx-test': the consent UI is shown in 'fr'"
    ) == 1


# --- negotiation ----------------------------------------------------------------

SITE = ("en", "de", "fr", "pt", "sv")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("de", "de", id="exact"),
        pytest.param("de-AT", "de", id="region-to-language"),
        pytest.param("pt-BR,pt;q=0.9,en;q=0.8", "pt", id="pt-BR"),
        pytest.param("FR-ca", "fr", id="case"),
        pytest.param("it,fr;q=0.5,de;q=0.7", "de", id="q-values-order"),
        pytest.param("fr;q=0.3, sv", "sv", id="implicit-q1-wins"),
        pytest.param("en;q=0.5, de;q=0.5", "en", id="tie-keeps-header-order"),
        pytest.param("*", "en", id="wildcard-first-language"),
        pytest.param("ja, *;q=0.1", "en", id="wildcard-after-unknown"),
        pytest.param("en;q=0, *", "de", id="wildcard-not-refused"),
        pytest.param("de;q=0, de-AT", None, id="refused-stays-refused"),
        pytest.param("ja, zh-Hant", None, id="nothing-matches"),
        pytest.param("de;q=2, fr", "fr", id="bad-q-skipped"),
        pytest.param("de;q=0.5x, fr;q=0.1", "fr", id="junk-q-skipped"),
        pytest.param("<script>, fr", "fr", id="junk-tag-skipped"),
        pytest.param(",,;, ;q=1", None, id="junk-only"),
        pytest.param("", None, id="empty"),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert negotiate(header, SITE) == expected


def test_a_prefix_range_takes_a_longer_site_tag() -> None:
    assert negotiate("zh", ("en", "zh-Hant")) == "zh-Hant"


def test_a_100_kb_header_is_read_only_so_far() -> None:
    header = ",".join(["xx-YY;q=0.9"] * 9000) + ",de"
    assert len(header) > 100_000
    assert len(parse_accept_language(header)) <= MAX_RANGES
    assert negotiate(header, SITE) is None  # "de" lies past what is read
    assert negotiate("de," + header, SITE) == "de"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("de_AT", "de"),
        ("pt-BR", "pt"),
        ("xx", None),
        ("", None),
        ("de;q=1", None),
        ("d" * 100, None),
        (None, None),
    ],
)
def test_an_apps_or_cookies_tag_matches_a_site_language(tag: object, expected: str | None) -> None:
    assert match_language(tag, SITE) == expected


# --- label tables -----------------------------------------------------------------


def test_a_label_table_gives_each_language_its_text() -> None:
    label = Texts({"en": "Statistics", "fr": "Statistiques", "pt": "Estatísticas"})
    assert localized(label, "fr", "en") == "Statistiques"
    assert localized(label, "pt-BR", "en") == "Estatísticas"
    assert localized("Statistics", "fr", "en") == "Statistics"


def test_a_missing_translation_falls_back_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    label = Texts({"en": "Statistics", "fr": "Statistiques"})
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        assert localized(label, "sv", "en", "category 'stats' label") == "Statistics"
        assert localized(label, "sv", "en", "category 'stats' label") == "Statistics"
    assert len(caplog.records) == 1
    assert "category 'stats' label has no 'sv' translation" in caplog.records[0].getMessage()


def test_categories_take_label_tables_from_toml_or_python() -> None:
    category = Category(
        "stats", label={"en": "Statistics", "fr": "Statistiques"}, description="Counts visits."
    )
    assert isinstance(category.label, Texts) and category.label["fr"] == "Statistiques"
    assert hash(category) == hash(
        Category("stats", label=dict(category.label), description="Counts visits.")
    )
    Settings(secret_key=SECRET, categories=[*categories(), category])


@pytest.mark.parametrize(
    ("label", "key", "why"),
    [
        pytest.param({}, "label", "must be a string or a table", id="empty-table"),
        pytest.param({"en": 3}, "label", "en must be a string", id="not-a-string"),
        pytest.param({"e n": "x"}, "label", "not a language tag", id="bad-tag"),
        pytest.param(["Statistics"], "label", "must be a string or a table", id="list"),
    ],
)
def test_a_bad_label_table_is_refused_naming_the_key(label: object, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Category("stats", label=label)  # type: ignore[arg-type]
    assert raised.value.key == key and why in raised.value.why


def test_a_label_table_needs_the_default_language() -> None:
    stats = Category("stats", label={"fr": "Statistiques"})
    with pytest.raises(ConfigError) as raised:
        Settings(secret_key=SECRET, categories=[*categories(), stats])
    assert raised.value.key == "categories[2].label"
    assert "no 'en' text" in raised.value.why
    Settings(secret_key=SECRET, categories=[*categories(), stats], default_language="fr")


def test_a_site_cookie_may_give_its_purpose_and_lifetime_as_tables() -> None:
    """A site's own cookie row is shown in the language from its tables; a string purpose
    as written, a string lifetime worded as the catalogue's in the language (the
    catalogue has "30 days", not "31 days"); a table needs the default language's text."""
    theme = {
        "name": "theme",
        "purpose": {"en": "Keeps the colour scheme", "de": "Speichert das Farbschema"},
        "lifetime": {"en": "1 year", "de": "ein Jahr"},
    }
    plain = {"name": "seen", "purpose": "Hides the tour", "lifetime": "30 days"}
    odd = {"name": "odd", "lifetime": "31 days"}
    prefs = Category("prefs", cookies=[theme, plain, odd])
    assert isinstance(prefs.cookies[0].purpose, Texts)
    settings = Settings(secret_key=SECRET, categories=[*categories(), prefs])
    rows = {spec.name: spec for _, spec in declared_cookies(settings, catalogue("de"), "de")}
    assert (rows["theme"].purpose, rows["theme"].lifetime) == (
        "Speichert das Farbschema",
        "ein Jahr",
    )
    assert (rows["seen"].purpose, rows["seen"].lifetime) == ("Hides the tour", "30 Tage")
    assert rows["odd"].lifetime == "31 days"
    fr = {spec.name: spec for _, spec in declared_cookies(settings, catalogue("fr"), "fr")}
    assert fr["theme"].lifetime == "1 year"  # no French: the default language's
    french_only = Category("prefs", cookies=[{"name": "x", "lifetime": {"fr": "1 an"}}])
    with pytest.raises(ConfigError) as raised:
        Settings(secret_key=SECRET, categories=[*categories(), french_only])
    assert raised.value.key == "categories[2].cookies[0].lifetime"
    with pytest.raises(ConfigError) as raised:
        Category("prefs", cookies=[{"name": "x", "purpose": 3}])
    assert raised.value.key == "cookies[0].purpose"


# --- the options --------------------------------------------------------------------


def test_languages_default_to_every_shipped_catalogue() -> None:
    settings = Settings(secret_key=SECRET, categories=categories())
    assert settings.languages == shipped_languages()
    assert {"en", "de", "fr"} <= set(settings.languages)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        pytest.param({"languages": ["en", "tlh"]}, "languages[1]", id="no-catalogue"),
        pytest.param({"languages": ["de", "fr"]}, "default_language", id="default-not-listed"),
        pytest.param({"default_language": "tlh"}, "default_language", id="unknown-default"),
        pytest.param({"locale_dirs": ["/nonexistent"]}, "locale_dirs[0]", id="no-directory"),
        pytest.param({"languages": "en"}, "languages", id="a-string"),
    ],
)
def test_language_options_are_checked_at_start_up(options: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(secret_key=SECRET, categories=categories(), **options)
    assert raised.value.key == key


def test_a_site_directory_may_add_a_language(tmp_path: Path) -> None:
    catalog = Catalog(locale="eo", domain="consentgate")
    catalog.add("Accept all", "Akcepti ĉion")
    (tmp_path / "eo" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "eo" / "LC_MESSAGES" / "consentgate.mo").open("wb") as file:
        write_mo(file, catalog)
    settings = Settings(
        secret_key=SECRET, categories=categories(), languages=["en", "eo"], locale_dirs=[tmp_path]
    )
    assert settings.languages == ("en", "eo") and settings.locale_dirs == (str(tmp_path),)


# --- the language in the consent cookie ------------------------------------------


def _codec() -> ConsentCodec:
    return ConsentCodec(
        [SECRET.encode()],
        required=frozenset({"necessary"}),
        known=frozenset({"necessary", "analytics"}),
        version="1",
        max_age=86400,
    )


@pytest.mark.parametrize("mode", ["opt-in", "opt-out"])
def test_the_cookie_keeps_the_language_picked(mode: str) -> None:
    codec = _codec()
    consent = Consent(
        frozenset({"necessary", "analytics"}),
        decided=True,
        version="1",
        decided_at=1000,
        consent_id="abc",
        mode=mode,
        language="de",
    )
    assert codec.loads(codec.dumps(consent), now=1000) == consent


def test_cookies_from_before_languages_still_verify() -> None:
    codec = _codec()
    signer = codec._serializer
    for payload in (
        ["1", "analytics", 1000, "abc"],
        ["1", "analytics", 1000, "abc", "analytics"],
        ["1", "analytics", 1000, "abc", "analytics", "opt-out"],
    ):
        consent = codec.loads(signer.dumps(payload), now=1000)
        assert consent.decided and consent.allows("analytics") and consent.language == ""


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(["opt-in", ""], id="empty"),
        pytest.param(["opt-in", "d" * 36], id="too-long"),
        pytest.param(["opt-in", "de;x"], id="not-a-tag"),
        pytest.param(["opt-in", 3], id="not-a-string"),
        pytest.param(["sideways", "de"], id="bad-mode"),
    ],
)
def test_a_cookie_with_a_bad_language_reads_as_undecided(tail: list[object]) -> None:
    codec = _codec()
    value = codec._serializer.dumps(["1", "analytics", 1000, "abc", "analytics", *tail])
    assert not codec.loads(value, now=1000).decided


# --- the Django app's templates ---------------------------------------------------

DJANGO_TEMPLATES = ROOT / "consentgate" / "django" / "templates" / "consentgate"
#: A string literal in a ``{% consent_text %}`` or ``{% consent_plural %}`` tag.
_DJANGO_TAG = re.compile(r"{%\s*consent_(?:text|plural)\s+(.*?)%}", re.DOTALL)
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')
#: What is not a sentence of a template: comments, tags, variables, markup, entities.
_NOT_TEXT = re.compile(
    r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{%.*?%}|{{.*?}}|<[^>]*>|&\w+;", re.DOTALL
)


def _django_msgids(source: str) -> list[str]:
    """The msgids of the tags: their leading string literals (then come variables)."""
    ids = []
    for arguments in _DJANGO_TAG.findall(source):
        while literal := _LITERAL.match(arguments.lstrip()):
            ids.append(literal[1] if literal[1] is not None else literal[2])
            arguments = arguments.lstrip()[literal.end() :]
    return ids


def _template_all_ids() -> set[str]:
    """Every msgid of the template, plural ones too."""
    return {i for m in _read(POT) if m.id for i in ((m.id,) if isinstance(m.id, str) else m.id)}


@pytest.mark.parametrize("name", sorted(p.name for p in DJANGO_TEMPLATES.glob("*.html")))
def test_the_django_templates_say_only_messages_of_the_template(name: str) -> None:
    source = (DJANGO_TEMPLATES / name).read_text(encoding="utf-8")
    ids = _template_all_ids()
    assert [m for m in _django_msgids(source) if m not in ids] == []
    # No English written into the markup: every word comes from the catalogue.
    assert re.findall(r"[A-Za-z]{2,}", _NOT_TEXT.sub(" ", source)) == []


def test_the_django_templates_say_what_the_jinja_templates_say() -> None:
    jinja = ROOT / "consentgate" / "templates" / "consentgate"
    call = re.compile(r"consent_n?gettext\(\s*((?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[\s,])+)")
    said_in_jinja = {
        (double or single).replace('\\"', '"')
        for path in jinja.glob("*.html")
        for arguments in call.findall(path.read_text(encoding="utf-8"))
        for double, single in _LITERAL.findall(arguments)
    }
    said_in_django = {
        m for path in DJANGO_TEMPLATES.glob("*.html") for m in _django_msgids(path.read_text())
    }
    assert len(said_in_jinja) > 30 and said_in_jinja == said_in_django
