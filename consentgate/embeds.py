"""Click-to-load embeds: what stands in for a refused video, map or post, and "load once".

A refused embed (an ``<iframe>`` of a catalogue entry with an ``embed`` table) is replaced
by a placeholder of the same size that names its provider and offers two form posts:
load it this once, or always allow its category. This module is the pure core of that:

- :class:`EmbedFinder` tells which catalogue entry an element is, per category;
- :func:`element_id` gives an embed an id that is the same on every load of the page;
- :func:`size_style` keeps the embed's size, so nothing moves when it loads;
- :class:`LoadOnceCodec` signs the short-lived token that lets one embed of one page
  through one response, without any consent being recorded;
- :class:`PageEmbeds` answers the rewriter's questions for one response
  (:class:`~consentgate.rewriter.EmbedsLike`), with a renderer the adapter chooses.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote_plus, urlencode

from itsdangerous import BadData, URLSafeSerializer

from .catalogue import Tracker, tracker_catalogue
from .categories import Category
from .config import Settings
from .i18n import Translations, localized
from .rules import Rules
from .tokens import WIDGETS

#: The query parameter that carries a load-once token back to the page.
TOKEN_PARAM = "consentgate_load"
#: Request header a script sends to have every embed of the page carry its id.
IDS_HEADER = "HTTP_CONSENTGATE_EMBED_IDS"
#: Longest element id taken from a page or a form; a longer own ``id`` is replaced by one
#: made from the embed's address.
MAX_ID = 100
#: Longest token read from a query string; a real one is about 120 characters.
_MAX_TOKEN = 512
#: Where an embed's address is, in order: iframes, then widgets' links to their post.
_ADDRESS_ATTRS = ("src", "data-src", "cite", "data-instgrm-permalink", "data-href", "data-url")
#: Placeholders one page gets at most; embeds past them are removed, as without any.
MAX_PLACEHOLDERS = 500
#: Properties of an embed's ``style`` that size it, copied onto its placeholder.
_SIZE_PROPERTIES = frozenset(
    ["width", "height", "aspect-ratio", "min-width", "min-height", "max-width", "max-height"]
)
#: A CSS value for those: lengths, percentages, ratios, ``auto``, ``calc()``; no ``url()``.
_SIZE_VALUE = re.compile(r"[0-9a-z.%/ +*(),-]{1,64}")
#: HTML's "rules for parsing dimension values": digits, a fraction, then ``%`` or anything.
_DIMENSION = re.compile(r"[\t\n\f\r ]*(\d{1,5}(?:\.\d+)?)(%?)")
#: A YouTube player address that the privacy-enhanced domain serves the same way.
_YOUTUBE_EMBED = re.compile(
    r"(?P<scheme>(?:https?:)?//)(?:www\.|m\.)?youtube\.com(?P<rest>/embed/[^\s\\]*)", re.I
)


def element_id(attrs: Mapping[str, str], seen: dict[str, int]) -> str:
    """The id of an embed: its own ``id``, else one made from its address and how many
    embeds with that address came before it on the page (counted in ``seen``).

    The same page gives the same ids on every load, so a form posted from one load names
    the element in the next.
    """
    own = attrs.get("id", "").strip()
    if own and len(own) <= MAX_ID and not any(c.isspace() for c in own):
        return own
    src = next((attrs[k] for k in _ADDRESS_ATTRS if attrs.get(k)), "")
    digest = hashlib.blake2s(src.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return f"consentgate-embed-{digest}" + (f"-{count}" if count else "")


def _dimension(value: str | None) -> str | None:
    """A ``width`` or ``height`` attribute as CSS, or None if it gives no size."""
    m = _DIMENSION.match(value or "")
    if m is None or float(m[1]) == 0:
        return None
    return f"{m[1]}{m[2] or 'px'}"


def size_style(attrs: Mapping[str, str]) -> str:
    """CSS that gives a placeholder the size of the embed ``attrs`` describe.

    The ``width`` and ``height`` attributes, their ratio as ``aspect-ratio`` (so a width
    the site's CSS narrows keeps the shape), then the sizing declarations of the
    embed's own ``style``, which win as they do on the embed. Without any, the stylesheet's
    defaults apply (16:9 for a video), at zero specificity under the site's own rules.
    """
    width, height = _dimension(attrs.get("width")), _dimension(attrs.get("height"))
    decls = []
    if width is not None:
        decls.append(f"width:{width}")
    if height is not None:
        decls.append(f"height:{height}")
    if width and height and width.endswith("px") and height.endswith("px"):
        decls.append(f"aspect-ratio:{width[:-2]}/{height[:-2]}")
    for decl in attrs.get("style", "").split(";"):
        prop, colon, value = decl.partition(":")
        prop, value = prop.strip().lower(), value.strip().lower()
        if colon and prop in _SIZE_PROPERTIES and _SIZE_VALUE.fullmatch(value):
            decls.append(f"{prop}:{value}")
    return ";".join(decls)


def nocookie_src(src: str) -> str | None:
    """``src`` on ``www.youtube-nocookie.com`` if it is a YouTube player address, else None.

    The privacy-enhanced domain sets no cookie until the video plays (it still stores
    then, so the embed stays gated).
    """
    m = _YOUTUBE_EMBED.fullmatch(src.strip())
    return None if m is None else f"{m['scheme']}www.youtube-nocookie.com{m['rest']}"


class LoadOnceCodec:
    """Sign and check the token that lets one embed of one page load once.

    The token names the element and the page's path and expires ``max_age`` seconds after
    it is made. It travels in the query string of the page it is for, never in a cookie,
    and nothing is recorded: the visitor's consent stays as it was.

    .. code-block:: python

        codec = LoadOnceCodec([b"key"], max_age=300)
        token = codec.dumps("intro-video", "/ka2/", now=time.time())
        codec.loads(token, "/ka2/", now=time.time())  # "intro-video"
    """

    def __init__(self, secret_keys: Sequence[bytes], max_age: int) -> None:
        self._serializer = URLSafeSerializer(list(secret_keys), salt="consentgate.load-once")
        self.max_age = max_age

    def dumps(self, element: str, path: str, now: float) -> str:
        """A token for ``element`` on the page at ``path``."""
        return self._serializer.dumps([element, path, int(now) + self.max_age])

    def loads(self, token: str, path: str, now: float) -> str | None:
        """The element a valid, unexpired token names for ``path``; None otherwise."""
        if len(token) > _MAX_TOKEN or not token.isascii():
            return None
        try:
            payload = self._serializer.loads(token)
        except BadData:
            return None
        if not isinstance(payload, list) or len(payload) != 3:
            return None
        element, for_path, expires = payload
        valid = isinstance(element, str) and type(expires) is int and for_path == path
        return element if valid and now <= expires else None


def split_token(query: str) -> tuple[str, str | None]:
    """``query`` without the load-once parameter, the rest byte for byte, and that
    parameter's value (the first, or None)."""
    if TOKEN_PARAM not in query:
        return query, None
    kept, token = [], None
    for piece in query.split("&"):
        name, _, value = piece.partition("=")
        if unquote_plus(name) != TOKEN_PARAM:
            kept.append(piece)
        elif token is None:
            token = unquote_plus(value)
    return "&".join(kept), token


def with_token(next_url: str, token: str, fragment: str) -> str:
    """``next_url`` with the token added to its query and ``#fragment`` at the end."""
    path = next_url.partition("#")[0]
    sep = "&" if "?" in path else "?"
    return f"{path}{sep}{urlencode({TOKEN_PARAM: token})}#{fragment}"


class EmbedFinder:
    """Which embed a classified element is, among the catalogue entries of its category.

    Built once per gate; a category with no embed entry has none.
    """

    def __init__(self, categories: Sequence[Category]) -> None:
        catalogue = tracker_catalogue()
        #: Categories whose YouTube embeds load from the privacy-enhanced domain.
        self.nocookie = frozenset(c.name for c in categories if c.youtube_nocookie)
        self._by_category: dict[str, tuple[Rules, tuple[Tracker, ...]]] = {}
        #: A widget's class name -> its category and catalogue entry (the first listed).
        self._widgets: dict[str, tuple[str, Tracker]] = {}
        for category in categories:
            found = [catalogue[t] for t in category.trackers]
            trackers = tuple(t for t in found if t.embed is not None)
            for tracker in trackers:
                for name in tracker.embed.widget_classes if tracker.embed else ():
                    self._widgets.setdefault(name, (category.name, tracker))
            if trackers:
                names = [Category(f"e{i}", sources=t.sources) for i, t in enumerate(trackers)]
                self._by_category[category.name] = (Rules(names), trackers)
        #: The gated widgets' classes, longest first (a key of compiled patterns).
        self.widget_classes = tuple(sorted(self._widgets, key=lambda c: (-len(c), c)))

    def __bool__(self) -> bool:
        return bool(self._by_category)

    def widget(self, attrs: Mapping[str, str]) -> tuple[str, Tracker] | None:
        """The category and entry of a widget's element, by its first widget class."""
        if not self._widgets:
            return None
        found = (self._widgets.get(name) for name in attrs.get("class", "").split())
        return next((hit for hit in found if hit is not None), None)

    def find(self, tag: str, attrs: Mapping[str, str], category: str) -> Tracker | None:
        """The embed entry of ``category`` that the element belongs to, or None."""
        if tag in WIDGETS:
            hit = self.widget(attrs)
            return hit[1] if hit is not None and hit[0] == category else None
        entry = self._by_category.get(category)
        if entry is None:
            return None
        index = entry[0].classify_element(tag, attrs)
        return None if index is None else entry[1][int(index[1:])]


@dataclass(frozen=True)
class Placeholder:
    """Everything a placeholder template shows, for one refused embed.

    :param id: the element's id (:func:`element_id`), the placeholder's own and the
        ``#fragment`` the forms come back to.
    :param kind: "video", "map", "post", "audio", "calendar" or "form".
    :param name: the service (``"YouTube"``); ``provider`` the company (``"Google"``).
    :param style: CSS keeping the embed's size (:func:`size_style`).
    :param classes: the embed's own ``class``, so the site's CSS sizes both alike.
    :param granted: the optional categories the visitor granted, kept by "always allow".
    :param next_url: the page to come back to, inside the app, with ``#id``.
    :param assets: stylesheet and script markup for the first placeholder of a page.
    :param widget: it stands for a script-built widget, which the swap script leaves to
        the plain form post (scripts of a fetched page do not run).
    """

    id: str
    kind: str
    name: str
    provider: str
    privacy_url: str
    category: str
    category_label: str
    style: str
    classes: str
    action: str
    next_url: str
    granted: tuple[str, ...]
    assets: str
    widget: bool = False
    #: The language of the page's consent UI (the placeholder's ``lang``), and its catalogue.
    language: str = "en"
    translations: Translations = field(default_factory=Translations, compare=False, repr=False)

    @property
    def sends_to(self) -> str:
        """Who gets the data: ``"YouTube (Google)"``, or ``"Vimeo"`` when they are one."""
        return self.name if self.provider in self.name else f"{self.name} ({self.provider})"


@dataclass(frozen=True)
class PageContext:
    """What a response's placeholders share: where forms post and come back, who decides.

    :param loaded: the element a valid load-once token lets through, if any.
    :param mark_ids: give every embed its id (a script swapping embeds in asks for it).
    """

    settings: Settings
    action: str
    next_url: str
    granted: frozenset[str]
    assets: str
    loaded: str | None = None
    mark_ids: bool = False
    #: The language the placeholders speak, and its catalogue.
    language: str = "en"
    translations: Translations = field(default_factory=Translations, compare=False)


class PageEmbeds:
    """The rewriter's :class:`~consentgate.rewriter.EmbedsLike` for one response.

    :param context: makes the :class:`PageContext`, on the first embed (most pages have
        none, and then cost nothing).
    :param render: turns a :class:`Placeholder` into markup (the built-in
        :func:`consentgate.ui.placeholder_html`, or the Flask template).
    :param warn: told (a kind, a message) when a page has more embeds than
        :data:`MAX_PLACEHOLDERS`, or a placeholder fails to render (the embed is then
        removed, as without placeholders).
    """

    def __init__(
        self,
        finder: EmbedFinder,
        context: Callable[[], PageContext],
        render: Callable[[Placeholder], str],
        warn: Callable[[str, str], None],
    ) -> None:
        self._finder, self._make_context, self._render, self._warn = finder, context, render, warn
        self._seen: dict[str, int] = {}
        self._count = 0
        #: Entries whose widget was let through once: their script is, too.
        self._widget_scripts: set[str] = set()

    @functools.cached_property
    def _context(self) -> PageContext:
        return self._make_context()

    def refused(
        self, tag: str, attrs: Mapping[str, str], category: str
    ) -> bytes | dict[str, str] | None:
        """The placeholder for a refused embed, or the attributes it gets when let through."""
        tracker = self._finder.find(tag, attrs, category)
        if tracker is None or tracker.embed is None:
            return None
        if tag == "script":  # a widget's script, let through with the widget
            return {} if tracker.id in self._widget_scripts else None
        ident = element_id(attrs, self._seen)
        if ident == self._context.loaded:
            if tag in WIDGETS:
                self._widget_scripts.add(tracker.id)
            return self.accepted(tag, attrs, category, ident)
        self._count += 1
        if self._count > MAX_PLACEHOLDERS:
            message = f"a page has more than {MAX_PLACEHOLDERS} embeds; the rest are removed"
            self._warn("embeds-max", message)
            return None
        placeholder = self._placeholder(tag, tracker, attrs, category, ident)
        try:
            return self._render(placeholder).encode("utf-8")
        except Exception as error:  # a site's template: its mistake must not break the page
            message = f"a placeholder could not be rendered ({error!r}); its embed was removed"
            self._warn("embeds-render", message)
            return None

    @property
    def widget_classes(self) -> tuple[str, ...]:
        """The classes of the gated widgets' elements."""
        return self._finder.widget_classes

    def widget(self, tag: str, attrs: Mapping[str, str]) -> str | None:
        """The category of a widget's element."""
        hit = self._finder.widget(attrs)
        return None if hit is None else hit[0]

    def accepted(
        self, tag: str, attrs: Mapping[str, str], category: str, ident: str | None = None
    ) -> dict[str, str]:
        """Attributes for an accepted embed: its id when asked, the nocookie address."""
        changes = {}
        if ident is None and self._context.mark_ids and self._finder.find(tag, attrs, category):
            ident = element_id(attrs, self._seen)
        if ident is not None and attrs.get("id") != ident:
            changes["id"] = ident
        if category in self._finder.nocookie:
            src = nocookie_src(attrs.get("src") or attrs.get("data-src") or "")
            if src is not None:
                changes["src"] = src
        return changes

    def _placeholder(
        self, tag: str, tracker: Tracker, attrs: Mapping[str, str], category: str, ident: str
    ) -> Placeholder:
        context, assets, widget = self._context, "", tag in WIDGETS
        if self._count == 1:
            assets = context.assets
        found = context.settings.category(category)
        default = context.settings.default_language
        where = f"category {category!r} label"
        label = localized(found.label, context.language, default, where) if found else category
        granted = context.granted - context.settings.required_names
        assert tracker.embed is not None
        return Placeholder(
            id=ident,
            kind=tracker.embed.kind,
            name=tracker.name,
            provider=tracker.provider,
            privacy_url=tracker.privacy_url,
            category=category,
            category_label=label,
            style=size_style(attrs),
            # A widget's classes are what its script looks for: not on the placeholder.
            classes="" if widget else attrs.get("class", "").strip(),
            widget=widget,
            action=context.action,
            next_url=f"{context.next_url.partition('#')[0]}#{ident}",
            granted=tuple(sorted(granted)),
            assets=assets,
            language=context.language,
            translations=context.translations,
        )
