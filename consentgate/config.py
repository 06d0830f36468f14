"""The frozen settings object, and reading it from a TOML file or plain data.

Everything is checked at start-up: a mistake raises
:class:`~consentgate.checks.ConfigError` naming the option (``categories[1].trackers[0]``),
never a gate that silently lets a tracker through. The categories it holds are
:mod:`consentgate.categories`, their catalogue entries :mod:`consentgate.catalogue`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from .catalogue import CookieSpec, coerce
from .categories import Category
from .checks import (
    ConfigError,
    check_keys,
    check_type,
    describe,
    items,
    keyword_errors,
    require,
)
from .options import (
    check_jurisdiction,
    check_languages,
    check_options,
    cookie_domain,
    header_names,
    origins,
    paths,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from .jurisdiction import GpcPolicy, Mode
    from .records import Record, RecordStore

UndeclaredPolicy = Literal["allow", "warn", "block"]
UnreadablePolicy = Literal["block", "pass"]

#: Secrets shorter than this are easy to guess offline from one signed cookie.
MIN_SECRET_BYTES = 32
#: Placeholder keys from examples, which anyone can sign cookies with.
EXAMPLE_SECRETS = frozenset({"change-me", "changeme", "secret", "secret-key", "your-secret-key"})


@keyword_errors
@dataclass(frozen=True)
class Settings:
    """Everything the gate needs to know, validated once and then read-only.

    Build it directly, from plain data with :meth:`from_mapping`, or from a
    TOML file with :func:`load_config`. Every default is defined here. For example::

        Settings(secret_key=key, categories=[Category("necessary", required=True),
                                             Category("stats", trackers=["matomo"])])
    """

    #: Signing keys (str, bytes or a list): the last signs, all verify, so keys rotate. Required.
    #: Left out of ``repr()``, so a logged or printed settings object never shows it.
    secret_key: tuple[bytes, ...] = dataclasses.field(repr=False)
    #: The consent categories, in the order the banner lists them. Required.
    categories: tuple[Category, ...]
    #: Name of the cookie that holds the visitor's signed choice.
    cookie_name: str = "consentgate"
    #: Days a choice is remembered before asking again (browsers allow at most 400).
    max_age_days: int = 180
    #: Change it with the cookie policy: earlier choices no longer count. An int becomes a str.
    policy_version: str = "1"
    #: Path of the endpoint that the banner's form posts to.
    endpoint: str = "/consent"
    #: Link to the privacy and cookie policy, shown in the banner.
    privacy_url: str = "/privacy"
    #: ``Secure`` attribute of the consent cookie; None sets it when the request came over https.
    secure: bool | None = None
    #: ``Path`` of the consent cookie; None: the app's mount prefix (``SCRIPT_NAME``), or "/".
    cookie_path: str | None = None
    #: A ``Set-Cookie`` for a cookie no category declares: "allow", "warn" (log it) or "block".
    undeclared_cookies: UndeclaredPolicy = "allow"
    #: Insert the banner into HTML pages while the visitor has not decided.
    inject_banner: bool = True
    #: Insert the JavaScript API (state and script) into every HTML page, decided visitors'
    #: too, not only with the banner; such pages are always rewritten.
    inject_script: bool = False
    #: Path prefixes inside the app (``"/admin/"``) whose pages get no banner; still gated.
    exclude_paths: tuple[str, ...] = ()
    #: Bytes the HTML rewriter may hold; past this the page counts as unreadable.
    max_buffer: int = 1 << 20
    #: A page that cannot be gated (an unknown coding or charset, past max_buffer) for a
    #: visitor who refused something: "block" (502, or the page ends there) or "pass" it on.
    unreadable: UnreadablePolicy = "block"
    #: Most bytes a compressed page may inflate to (64 MiB, far above real pages); past it
    #: the page is cut off, so a compressed bomb costs a fraction of a second of CPU.
    max_inflated: int = 64 << 20
    #: Other origins allowed to post to the endpoint, e.g. ``"https://www.example.com"``.
    trusted_origins: tuple[str, ...] = ()
    #: The site's registrable domain (``"example.org"``): ``Domain`` of the consent cookie,
    #: and where expiring a refused cookie stops; None keeps the consent cookie host-only.
    cookie_domain: str | None = None
    #: Where each decision is recorded before its cookie is set: ``"sqlite:///consent.sqlite3"``
    #: (a path relative to the working directory; four slashes for an absolute one),
    #: ``"postgresql://..."``, a :class:`~consentgate.records.RecordStore`, or None (no records).
    records: str | RecordStore | None = None
    #: Called with each :class:`~consentgate.records.Record` once it is committed (to forward
    #: decisions elsewhere); Python only, not in TOML.
    on_decision: Callable[[Record], None] | None = None
    #: Keep a truncated client address in each record (IPv4 /24, IPv6 /48); off by default.
    record_ip_prefix: bool = False
    #: Insert Google Consent Mode's ``gtag('consent', 'default', ...)`` with the visitor's
    #: state into pages that keep a Google tag, when a category maps a consent type.
    consent_mode: bool = True
    #: Consent Mode: also ``gtag('set', 'ads_data_redaction', true)`` (ad click identifiers
    #: redacted while ``ad_storage`` is denied).
    ads_data_redaction: bool = False
    #: Consent Mode: also ``gtag('set', 'url_passthrough', true)`` (ad click identifiers
    #: passed in link URLs while storage is denied).
    url_passthrough: bool = False
    #: "opt-in" (nothing optional before consent: EU, UK) or "opt-out" (optional categories
    #: run until the visitor opts out: US state laws); used when there is no ``region``.
    mode: Mode = "opt-in"
    #: Called with each request's WSGI environ, returns its mode ("opt-in" or "opt-out"),
    #: e.g. from a CDN's country header; one that raises or answers anything else gives
    #: "opt-in", logged once. Python only, not in TOML.
    region: Callable[[WSGIEnvironment], str] | None = None
    #: Request headers the ``region`` callback reads (``"CF-IPCountry"``), added to ``Vary``.
    region_headers: tuple[str, ...] = ()
    #: Global Privacy Control (``Sec-GPC: 1``): "honour" it ("honor" works too) or "ignore" it.
    gpc: GpcPolicy = "honour"
    #: In opt-in mode, a browser sending GPC counts as having refused everything optional
    #: and is shown no banner.
    gpc_answers_banner: bool = False
    #: Seconds a placeholder's "Load this video" link stays valid: it lets that one embed
    #: of that one page through, and records nothing.
    load_once_seconds: int = 300
    #: Languages the consent UI is shown in, chosen per request (``Accept-Language``, the
    #: visitor's pick, the app's); empty: every language shipped (the 24 of the EU).
    languages: tuple[str, ...] = ()
    #: The language when no other fits; label tables must have it.
    default_language: str = "en"
    #: The site's own catalogue directories (``<lang>/LC_MESSAGES/consentgate.mo``), read
    #: before the shipped ones: to add a language or reword messages.
    locale_dirs: tuple[str, ...] = ()

    if TYPE_CHECKING:
        # What the constructor accepts; the fields above are what it stores (the
        # dataclass's own __init__ runs, this only types it).
        def __init__(
            self,
            secret_key: str | bytes | Sequence[str | bytes],
            categories: Iterable[Category],
            cookie_name: str = ...,
            max_age_days: int = ...,
            policy_version: str | int = ...,
            endpoint: str = ...,
            privacy_url: str = ...,
            secure: bool | None = ...,
            cookie_path: str | None = ...,
            undeclared_cookies: UndeclaredPolicy = ...,
            inject_banner: bool = ...,
            inject_script: bool = ...,
            exclude_paths: Iterable[str] = ...,
            max_buffer: int = ...,
            unreadable: UnreadablePolicy = ...,
            max_inflated: int = ...,
            trusted_origins: Iterable[str] = ...,
            cookie_domain: str | None = ...,
            records: str | RecordStore | None = ...,
            on_decision: Callable[[Record], None] | None = ...,
            record_ip_prefix: bool = ...,
            consent_mode: bool = ...,
            ads_data_redaction: bool = ...,
            url_passthrough: bool = ...,
            mode: Mode = ...,
            region: Callable[[WSGIEnvironment], str] | None = ...,
            region_headers: Iterable[str] = ...,
            gpc: GpcPolicy | Literal["honor"] = ...,
            gpc_answers_banner: bool = ...,
            load_once_seconds: int = ...,
            languages: Iterable[str] = ...,
            default_language: str = ...,
            locale_dirs: Iterable[str | os.PathLike[str]] = ...,
        ) -> None: ...

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        key: object = self.secret_key
        single = isinstance(key, str | bytes) or not isinstance(key, Sequence)
        given = (key,) if single else tuple(cast(Sequence[object], key))
        keys = [
            k.encode() if isinstance(k, str) else k for k in given if isinstance(k, str | bytes)
        ]
        if not keys or len(keys) != len(given) or not all(keys):
            # Never show the value: it is a secret.
            raise ConfigError("secret_key", "must be one or more non-empty str or bytes keys")
        set_("secret_key", tuple(keys))
        categories = items(self.categories, "categories", "Category objects")
        require(bool(categories), "categories", "needs at least one category", categories)
        names: set[str] = set()
        for i, category in enumerate(categories):
            if not isinstance(category, Category):
                why = f"must be a Category (from_mapping takes tables), got {describe(category)}"
                raise ConfigError(f"categories[{i}]", why)
            if category.name in names:
                raise ConfigError(f"categories[{i}].name", f"duplicate name {category.name!r}")
            names.add(category.name)
        set_("categories", categories)
        if isinstance(self.policy_version, int) and not isinstance(self.policy_version, bool):
            set_("policy_version", str(self.policy_version))
        set_("trusted_origins", origins(self.trusted_origins))
        set_("exclude_paths", paths(self.exclude_paths))
        set_("cookie_domain", cookie_domain(self.cookie_domain))
        if cast(str, self.gpc) == "honor":  # the US spelling
            set_("gpc", "honour")
        set_("region_headers", header_names(self.region_headers))
        check_options(self)
        check_jurisdiction(self)
        check_languages(self)

    @functools.cached_property
    def required_names(self) -> frozenset[str]:
        """Names of the categories that are always granted."""
        return frozenset(c.name for c in self.categories if c.required)

    @functools.cached_property
    def optional_names(self) -> tuple[str, ...]:
        """Names of the categories the visitor chooses, in configuration order."""
        return tuple(c.name for c in self.categories if not c.required)

    @functools.cached_property
    def gpc_names(self) -> frozenset[str]:
        """Names of the categories the Global Privacy Control signal refuses (opt-out mode)."""
        return frozenset(c.name for c in self.categories if c.gpc)

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """Names of all categories."""
        return frozenset(c.name for c in self.categories)

    @property
    def max_age(self) -> int:
        """Lifetime of the consent cookie in seconds."""
        return self.max_age_days * 86400

    def category(self, name: str) -> Category | None:
        """The category called ``name``, or None."""
        return next((c for c in self.categories if c.name == name), None)

    def declared_cookies(self) -> list[tuple[Category, CookieSpec]]:
        """Every declared cookie with its category, for the cookie table; the consent
        cookie comes first, under the first required category (if there is one)."""
        days = f"{self.max_age_days} days"
        consent = CookieSpec(self.cookie_name, "This site", "Remembers your cookie choices", days)
        first_required = next((c for c in self.categories if c.required), None)
        rows = []
        for category in self.categories:
            if category is first_required:
                rows.append((category, consent))
            rows.extend((category, s) for s in category.cookies if s.name != self.cookie_name)
        return rows

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated like a new object."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "") -> Settings:
        """Build settings from plain data such as parsed TOML or Flask config.

        Keys are the field names, categories tables or :class:`Category` objects;
        ``secret_key_env = "VAR"`` reads comma-separated keys from that variable.

        :param where: Where the data came from, added to error messages.
        :raise ConfigError: naming the key, with a "did you mean" hint if unknown.
        """
        try:
            check_keys(data, (*(f.name for f in dataclasses.fields(cls)), "secret_key_env"), "")
            kwargs = dict(data)
            if "secret_key_env" in kwargs:
                if "secret_key" in kwargs:
                    raise ConfigError("secret_key_env", "give it or secret_key, not both")
                variable = kwargs.pop("secret_key_env")
                check_type(variable, str, "secret_key_env", "an environment variable's name")
                keys = [k.strip() for k in os.environ.get(variable, "").split(",")]
                require(any(keys), "secret_key_env", "must name a set variable", variable)
                kwargs["secret_key"] = [k for k in keys if k]
            for key in ("secret_key", "categories"):
                if key not in kwargs:
                    raise ConfigError(key, "is required")
            listed = items(kwargs["categories"], "categories", "category tables")
            kwargs["categories"] = [
                coerce(Category, c, f"categories[{i}]") for i, c in enumerate(listed)
            ]
            return cls(**kwargs)
        except ConfigError as error:
            if not where:
                raise
            raise ConfigError(error.key, f"{error.why} (in {where})") from None


def build_settings(config: object, options: Mapping[str, Any]) -> Settings:
    """The settings of a gate built from Python: a :class:`Settings` (with ``options``
    replacing its fields), a mapping such as parsed TOML, or ``options`` alone.

    Mistakes raise :class:`ConfigError` naming the option, as in a TOML file, rather than
    the ``TypeError`` of a dataclass constructor.
    """
    if config is None:
        return Settings.from_mapping(options)
    if isinstance(config, Mapping):
        return Settings.from_mapping({**config, **options})
    if not isinstance(config, Settings):
        why = f"must be Settings (from load_config) or a mapping, got {describe(config)}"
        raise ConfigError("config", why)
    check_keys(options, tuple(f.name for f in dataclasses.fields(Settings)), "")
    return config.replace(**options)


def secret_warnings(settings: Settings) -> list[str]:
    """What is weak about the signing keys, for a warning at start-up."""
    warnings = []
    for i, key in enumerate(settings.secret_key):
        where = "secret_key" if len(settings.secret_key) == 1 else f"secret_key[{i}]"
        if key.decode("utf-8", "replace").strip().lower() in EXAMPLE_SECRETS:
            warnings.append(f"{where} is an example value: anyone can sign consent cookies")
        elif len(key) < MIN_SECRET_BYTES:
            warnings.append(f"{where} is shorter than {MIN_SECRET_BYTES} bytes: easy to guess")
    return warnings


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed TOML file at ``path``, for tools that need only some of its keys.

    :raise ConfigError: for an unreadable file or bad TOML (naming the line).
    """
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigError(os.fspath(path), f"cannot read the file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(os.fspath(path), f"invalid TOML: {error}") from None


def load_config(path: str | os.PathLike[str], **overrides: Any) -> Settings:
    """Read settings from a TOML file: :class:`Settings` fields at the top level, one
    ``[[categories]]`` table per category, ``secret_key_env = "VAR"`` to keep the key out.

    :param overrides: Values that replace or supply the file's, e.g. an app's own key:
        ``load_config("consent.toml", secret_key=app.secret_key)``.
    :raise ConfigError: for an unreadable file, bad TOML (naming the line) or a bad
        value (naming the key and the file).
    """
    where = os.fspath(path)
    data = read_toml(path)
    if "secret_key" in overrides:
        data.pop("secret_key_env", None)
    return Settings.from_mapping({**data, **overrides}, where=where)
