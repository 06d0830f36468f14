"""The built-in banner and preferences page, for apps that bring no templates.

Both are plain HTML forms that post to the decision endpoint, so they work
with JavaScript turned off. The Flask extension renders its own Jinja
templates with the same form contract; everything else uses these.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from urllib.parse import quote

from .config import Category, Settings
from .consent import Consent
from .jurisdiction import DEFAULT_STATE, RequestState, gpc_refused

#: Styles for the built-in banner and page, scoped to the banner's id so they
#: never restyle the host page. The Flask templates use the same file.
BANNER_CSS = (files(__package__) / "static" / "consentgate" / "banner.css").read_text("utf-8")
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
    action = escape(prefix + settings.endpoint)
    settings_url = escape(f"{prefix}{settings.endpoint}?next={quote(next_url, safe='/')}")
    optional = [c for c in settings.categories if not c.required]
    purposes = ", ".join(escape(c.label.lower()) for c in optional)
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
        "</form></section>"
    )


def notice_form(settings: Settings, next_url: str, prefix: str = "", *, gpc: bool) -> str:
    """Render the notice that replaces the banner in opt-out mode (without its style,
    see :func:`style_tag`).

    Optional categories already run, so there is no accept/reject pair: the
    notice says what is used and links to the preferences page, where the
    visitor opts out; "OK" keeps the defaults and hides the notice.

    :param gpc: the browser's Global Privacy Control signal is honoured: say so.
    """
    action = escape(prefix + settings.endpoint)
    settings_url = escape(f"{prefix}{settings.endpoint}?next={quote(next_url, safe='/')}")
    optional = [c for c in settings.categories if not c.required]
    purposes = ", ".join(escape(c.label.lower()) for c in optional)
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
    and locked.

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
        f"{gpc_note}{fieldset}"
        '<div class="consentgate-actions">'
        '<button type="submit" name="action" value="save">Save my choices</button>'
        '<button type="submit" name="action" value="accept_all">Accept all</button>'
        f"{refuse}</div>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        "Privacy and cookie policy</a></p>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f"</form></section>{back_link}</main></body></html>"
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
