"""The built-in banner and preferences page, for apps that bring no templates.

Both are plain HTML forms that post to the decision endpoint, so they work
with JavaScript turned off. The Flask extension renders its own Jinja
templates with the same form contract; everything else uses these.

The notice recorded with each decision is read from the rendered banner
(:func:`banner_notice`, :func:`notice_text`), so the wording on record is the
wording shown. The text is taken with the standard library's HTML parser: the
input is the gate's own markup (or the site's banner template), never a page
from the app, so the rewriter's streaming tokenizer has nothing to add here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from importlib.resources import files
from urllib.parse import quote

from .config import Category, Settings
from .consent import Consent
from .embeds import Placeholder
from .jurisdiction import DEFAULT_STATE, RequestState, gpc_refused
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
#: Elements that run on inside a line of text; every other element starts a new line.
_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd", "mark"}
    | {"q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"}
)
#: Elements whose content a visitor never reads as text.
_UNSEEN = frozenset({"head", "noscript", "script", "style", "template", "title"})
_SPACES = re.compile(r"\s+")
#: What a visitor is told when their decision could not be recorded (HTML and JSON).
UNAVAILABLE = (
    "Your cookie choice could not be recorded just now, so it was not saved and nothing "
    "has changed."
)
_CSS_BYTES = BANNER_CSS.encode("utf-8")
#: The opt-out link and button of opt-out mode, in the words US state laws use.
OPT_OUT_TEXT = "Do not sell or share my personal information"


def style_tag(nonce_attr: str = "") -> bytes:
    """The banner's ``<style>`` element, with the CSP nonce attribute
    (:func:`~consentgate.csp.nonce_attr`) when there is one.

    Kept apart from the banner's markup, which is cached: the nonce changes with
    every response, and adding it costs one concatenation.
    """
    return b"<style" + nonce_attr.encode("utf-8") + b">" + _CSS_BYTES + b"</style>"


def banner_html(settings: Settings, next_url: str, prefix: str = "", nonce_attr: str = "") -> str:
    """Render the first-layer banner shown to a visitor who has not decided, with its style.

    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    """
    style = style_tag(nonce_attr).decode("utf-8")
    return style + banner_form(settings, next_url, prefix)


def banner_form(settings: Settings, next_url: str, prefix: str = "") -> str:
    """Render the banner's markup (without its style, see :func:`style_tag`).

    Accept and reject are equal buttons side by side; per-category choice
    sits behind a ``<details>`` disclosure, with no optional box ticked.

    :param settings: the gate's settings (categories, privacy URL).
    :param next_url: the page to come back to after the decision, inside the app.
    :param prefix: the app's mount prefix (``/app``), written before the gate's paths.
    """
    action, settings_url, purposes = _form_parts(settings, next_url, prefix)
    optional = bool(purposes)
    uses = (
        f"We use necessary cookies so the site works. With your permission we would also use "
        f"{purposes}. Nothing optional is set unless you allow it, and you can change your "
        f'mind at any time from the <a href="{settings_url}">cookie settings page</a>.'
        if optional
        else "We use only necessary cookies, which the site needs to work."
    )
    return (
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        f'<form method="post" action="{action}">'
        '<h2 id="consentgate-title">Cookies on this site</h2>'
        f"<p>{uses}</p>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        "Privacy and cookie policy</a></p>"
        '<div class="consentgate-actions">'
        '<button type="submit" name="action" value="accept_all">Accept all</button>'
        '<button type="submit" name="action" value="reject_all">Reject all</button>'
        "</div>"
        "<details><summary>Choose which cookies to allow</summary>"
        f"{_category_fieldset(settings.categories, frozenset())}"
        '<button class="consentgate-save" type="submit" name="action" value="save">'
        "Save my choices</button></details>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="banner">'
        "</form></section>"
    )


def banner_notice(
    settings: Settings, language: str = "en", state: RequestState = DEFAULT_STATE
) -> Notice:
    """The notice the built-in banner shows: its text as :func:`notice_text` reads it.

    Taken from :func:`banner_html` itself (:func:`notice_form` in opt-out mode, with
    its line on the GPC signal when it is honoured), so the recorded wording is what
    the visitor read, whatever changes in the banner.
    """
    if state.mode == "opt-out":
        return Notice(language, notice_text(notice_form(settings, "/", gpc=state.gpc)))
    return Notice(language, notice_text(banner_html(settings, "/")))


def notice_text(html: str) -> str:
    """The text a visitor reads in a rendered banner, as one canonical string.

    One line per block of text (heading, paragraph, label, button), runs of white
    space made one space, styles and scripts left out; buttons and links keep their
    words, not their targets. The same wording always gives the same string, however
    the markup around it is indented, so its digest names the wording.
    """
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


class _TextReader(HTMLParser):
    """Collect an HTML fragment's visible text, line by line (see :func:`notice_text`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.unseen = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSEEN:
            self.unseen += 1
        elif tag not in _INLINE:
            self.break_line()
        values = dict(attrs)
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.line.append(values.get("value") or "")
            self.break_line()

    def handle_endtag(self, tag: str) -> None:
        if tag in _UNSEEN:
            self.unseen = max(0, self.unseen - 1)
        elif tag not in _INLINE:
            self.break_line()

    def handle_data(self, data: str) -> None:
        if not self.unseen:
            self.line.append(data)

    def break_line(self) -> None:
        line = _SPACES.sub(" ", "".join(self.line)).strip()
        if line:
            self.lines.append(line)
        self.line = []

    def text(self) -> str:
        self.break_line()
        return "\n".join(self.lines)


def notice_form(settings: Settings, next_url: str, prefix: str = "", *, gpc: bool) -> str:
    """Render the notice that replaces the banner in opt-out mode (without its style,
    see :func:`style_tag`).

    Optional categories already run, so there is no accept/reject pair: the
    notice says what is used and links to the preferences page, where the
    visitor opts out; "OK" keeps the defaults and hides the notice.

    :param gpc: the browser's Global Privacy Control signal is honoured: say so.
    """
    action, settings_url, purposes = _form_parts(settings, next_url, prefix)
    optional = bool(purposes)
    uses = (
        f"We use necessary cookies so the site works, and {purposes}. You can opt out of "
        "the sale or sharing of your personal information at any time."
        if optional
        else "We use only necessary cookies, which the site needs to work."
    )
    return (
        '<section id="consentgate-banner" class="consentgate-notice" '
        'aria-labelledby="consentgate-title">'
        f'<form method="post" action="{action}">'
        '<h2 id="consentgate-title">Cookies on this site</h2>'
        f"<p>{uses}</p>{gpc_html(settings, _OPT_OUT_GPC) if gpc else ''}"
        f'<p><a href="{settings_url}">{OPT_OUT_TEXT}</a></p>'
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        "Privacy and cookie policy</a></p>"
        '<div class="consentgate-actions">'
        '<button type="submit" name="action" value="acknowledge">OK</button>'
        "</div>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="banner">'
        "</form></section>"
    )


#: What the banner and page say when the signal is honoured, per mode.
_OPT_OUT_GPC = "we do not use {refused}, whatever was chosen before."
_OPT_IN_GPC = "nothing optional is used unless you choose it here."


def gpc_html(settings: Settings, tail: str) -> str:
    """The paragraph that tells the visitor their browser's signal is honoured."""
    refused = [c.label.lower() for c in settings.categories if c.name in settings.gpc_names]
    words = tail.format(refused=", ".join(refused))
    return (
        '<p class="consentgate-gpc">Your browser sends the Global Privacy Control signal. '
        f"We honour it: {escape(words)}</p>"
    )


def preferences_page(
    settings: Settings,
    consent: Consent,
    next_url: str,
    prefix: str = "",
    back: str | None = None,
    nonce_attr: str = "",
    state: RequestState = DEFAULT_STATE,
) -> str:
    """Render the stand-alone preferences page served at the endpoint.

    The checkboxes show the consent in effect right now, so the page doubles
    as a way to check and to withdraw consent. In opt-out mode its refusal
    button is the opt-out; categories the GPC signal refuses are shown off
    and locked. When decisions are recorded, it also shows the visitor's
    consent id and when they last decided (:func:`receipt_html`).

    :param next_url: where the form leads after saving, inside the app.
    :param prefix: the app's mount prefix, written before every path.
    :param back: the page inside the app the visitor came from, linked to.
    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    :param state: the request's mode and whether its GPC signal is honoured.
    """
    back_link = (
        f'<p><a href="{escape(prefix + back)}">Back to the page you were on</a></p>' if back else ""
    )
    opt_out = state.mode == "opt-out"
    if consent.decided:
        status = "You have made a choice; you can change it here."
    elif opt_out:
        status = "You have not opted out here: every kind of cookie ticked below is in use."
    else:
        status = "You have not made a choice yet, so only necessary cookies are in use."
    gpc_note = gpc_html(settings, _OPT_OUT_GPC if opt_out else _OPT_IN_GPC) if state.gpc else ""
    refuse = (
        f'<button type="submit" name="action" value="opt_out">{OPT_OUT_TEXT}</button>'
        if opt_out
        else '<button type="submit" name="action" value="reject_all">Reject all</button>'
    )
    locked = gpc_refused(settings, state)
    fieldset = _category_fieldset(settings.categories, consent.granted, locked)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Cookie settings</title>{style_tag(nonce_attr).decode('utf-8')}"
        "</head><body><main>"
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        f'<form method="post" action="{escape(prefix + settings.endpoint)}">'
        f'<h1 id="consentgate-title">Cookie settings</h1><p>{status}</p>'
        f"{receipt_html(settings, consent)}"
        f"{gpc_note}{fieldset}"
        '<div class="consentgate-actions">'
        '<button type="submit" name="action" value="save">Save my choices</button>'
        '<button type="submit" name="action" value="accept_all">Accept all</button>'
        f"{refuse}</div>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        "Privacy and cookie policy</a></p>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        '<input type="hidden" name="entry_point" value="preferences">'
        f"</form></section>{back_link}</main></body></html>"
    )


def shows_receipt(settings: Settings, consent: Consent) -> bool:
    """Whether the preferences page shows the visitor their consent id: they decided,
    and the site keeps records of decisions (a store or an ``on_decision`` hook)."""
    recorded = settings.records is not None or settings.on_decision is not None
    return recorded and consent.decided and bool(consent.consent_id)


def decision_time(consent: Consent) -> tuple[str, str]:
    """When ``consent`` was decided, in UTC: machine-readable (for ``<time datetime>``)
    and for people, e.g. ``("2026-12-02T02:15:36Z", "2 December 2026, 02:15 UTC")``."""
    when = datetime.fromtimestamp(consent.decided_at, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{when.day} {when:%B %Y, %H:%M} UTC"


def receipt_html(settings: Settings, consent: Consent) -> str:
    """The visitor's consent id and the time of their last decision, to quote in a
    request about their data; empty when :func:`shows_receipt` says no."""
    if not shows_receipt(settings, consent):
        return ""
    machine, readable = decision_time(consent)
    return (
        f'<p id="consentgate-receipt">Your consent id is <code>{escape(consent.consent_id)}'
        f'</code>; your last choice was recorded on <time datetime="{machine}">{readable}'
        "</time>. Quote this id if you ask us about the data we hold on you or about your "
        "consent.</p>"
    )


def unavailable_page(prefix: str, next_url: str, retry_after: int, nonce_attr: str = "") -> str:
    """The page answered when a decision could not be recorded: nothing changed, and
    the visitor is asked to try again, with a way back to the page they were on.

    :param nonce_attr: the CSP nonce attribute for the ``<style>`` element, or ``""``.
    """
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Your choice was not saved</title>{style_tag(nonce_attr).decode('utf-8')}"
        "</head><body><main>"
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        '<h1 id="consentgate-title">Your choice was not saved</h1>'
        f"<p>{escape(UNAVAILABLE)} Please try again in {retry_after} seconds.</p>"
        f'<p><a href="{escape(prefix + next_url)}">Back to the page you were on</a></p>'
        "</section></main></body></html>"
    )


def site_url(prefix: str, url: str) -> str:
    """``url`` as the browser should get it: a path (``/privacy``) is inside the app,
    so it goes behind the mount prefix; a full URL is left as it is."""
    return prefix + url if url.startswith("/") and not url.startswith("//") else url


def _category_fieldset(
    categories: tuple[Category, ...], granted: frozenset[str], locked: frozenset[str] = frozenset()
) -> str:
    """One labelled checkbox per category; required ones shown on and locked, and the
    ``locked`` ones (refused by the GPC signal) shown off and locked."""
    rows = []
    for category in categories:
        field_id = f"consentgate-{escape(category.name)}"
        if category.required:
            control = f'<input type="checkbox" id="{field_id}" checked disabled>'
            suffix = " (always on)"
        elif category.name in locked:
            control = f'<input type="checkbox" id="{field_id}" disabled>'
            suffix = " (off: Global Privacy Control)"
        else:
            checked = " checked" if category.name in granted else ""
            control = (
                f'<input type="checkbox" id="{field_id}" name="category" '
                f'value="{escape(category.name)}"{checked}>'
            )
            suffix = ""
        description = f" {escape(category.description)}" if category.description else ""
        rows.append(
            f'<label for="{field_id}">{control}<span><strong>{escape(category.label)}'
            f"{suffix}</strong>{description}</span></label>"
        )
    return f"<fieldset><legend>Cookie categories</legend>{''.join(rows)}</fieldset>"


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
    privacy = (
        f' <a href="{escape(p.privacy_url)}">Privacy policy of {escape(p.name)}</a>'
        if p.privacy_url
        else ""
    )
    granted = "".join(
        f'<input type="hidden" name="category" value="{escape(name)}">'
        for name in (*p.granted, p.category)
    )
    button = f'<button type="submit" formaction="{action}" formmethod="post" name="action"'
    classes = escape(f"consentgate-embed {p.classes}".strip())
    return (
        f'{p.assets}<div id="{pid}" class="{classes}" '
        f'style="{escape(p.style)}" role="group" aria-labelledby="{pid}-title" '
        f'data-consentgate-category="{escape(p.category)}" '
        f'data-consentgate-kind="{escape(p.kind)}"{" data-consentgate-widget" if p.widget else ""}>'
        f'<form method="post" action="{action}">'
        f'<p class="consentgate-embed-title" id="{pid}-title">{escape(p.name)} {p.kind}</p>'
        f"<p>Loading this {p.kind} sends data to {escape(p.sends_to)} and lets it set "
        f"cookies.{privacy}</p>"
        '<div class="consentgate-embed-actions">'
        f'{button} value="load_once">Load this {p.kind}</button>'
        f'{button} value="save">Always allow {escape(p.category_label)}</button></div>'
        f'<input type="hidden" name="element" value="{pid}">{granted}'
        '<input type="hidden" name="entry_point" value="placeholder">'
        f'<input type="hidden" name="next" value="{escape(p.next_url)}">'
        "</form></div>"
    )


def _form_parts(settings: Settings, next_url: str, prefix: str) -> tuple[str, str, str]:
    """What the banner and the opt-out notice both write, escaped: the endpoint the
    form posts to, the preferences page's URL leading back to ``next_url``, and the
    optional categories' labels as one list (empty when there are none)."""
    action = escape(prefix + settings.endpoint)
    settings_url = escape(f"{prefix}{settings.endpoint}?next={quote(next_url, safe='/')}")
    optional = [c for c in settings.categories if not c.required]
    return action, settings_url, ", ".join(escape(c.label.lower()) for c in optional)
