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
from .embeds import Placeholder

#: Styles for the built-in banner and page, scoped to the banner's id so they
#: never restyle the host page. The Flask templates use the same file.
BANNER_CSS = (files(__package__) / "static" / "consentgate" / "banner.css").read_text("utf-8")
_STYLE = f"<style>{BANNER_CSS}</style>"
#: Styles for embed placeholders, scoped to their class; sent once per page.
EMBED_CSS = (files(__package__) / "static" / "consentgate" / "embed.css").read_text("utf-8")
#: The script that swaps a placeholder for its embed in place, served at the endpoint.
EMBED_JS = (files(__package__) / "static" / "consentgate" / "embeds.js").read_bytes()
#: Where the endpoint serves :data:`EMBED_JS`, below its own path.
EMBED_JS_PATH = "/embeds.js"


def banner_html(settings: Settings, next_url: str, prefix: str = "") -> str:
    """Render the first-layer banner shown to a visitor who has not decided.

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
        f'{_STYLE}<section id="consentgate-banner" aria-labelledby="consentgate-title">'
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


def preferences_page(
    settings: Settings, consent: Consent, next_url: str, prefix: str = "", back: str | None = None
) -> str:
    """Render the stand-alone preferences page served at the endpoint.

    The checkboxes show what the visitor's cookie holds right now, so the
    page doubles as a way to check and to withdraw consent.

    :param next_url: where the form leads after saving, inside the app.
    :param prefix: the app's mount prefix, written before every path.
    :param back: the page inside the app the visitor came from, linked to.
    """
    back_link = (
        f'<p><a href="{escape(prefix + back)}">Back to the page you were on</a></p>' if back else ""
    )
    status = (
        "You have made a choice; you can change it here."
        if consent.decided
        else "You have not made a choice yet, so only necessary cookies are in use."
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Cookie settings</title>{_STYLE}</head><body><main>"
        '<section id="consentgate-banner" aria-labelledby="consentgate-title">'
        f'<form method="post" action="{escape(prefix + settings.endpoint)}">'
        f'<h1 id="consentgate-title">Cookie settings</h1><p>{status}</p>'
        f"{_category_fieldset(settings.categories, consent.granted)}"
        '<div class="consentgate-actions">'
        '<button type="submit" name="action" value="save">Save my choices</button>'
        '<button type="submit" name="action" value="accept_all">Accept all</button>'
        '<button type="submit" name="action" value="reject_all">Reject all</button>'
        "</div>"
        f'<p><a href="{escape(site_url(prefix, settings.privacy_url))}">'
        "Privacy and cookie policy</a></p>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f"</form></section>{back_link}</main></body></html>"
    )


def site_url(prefix: str, url: str) -> str:
    """``url`` as the browser should get it: a path (``/privacy``) is inside the app,
    so it goes behind the mount prefix; a full URL is left as it is."""
    return prefix + url if url.startswith("/") and not url.startswith("//") else url


def _category_fieldset(categories: tuple[Category, ...], granted: frozenset[str]) -> str:
    """One labelled checkbox per category; required ones shown on and locked."""
    rows = []
    for category in categories:
        field_id = f"consentgate-{escape(category.name)}"
        if category.required:
            control = f'<input type="checkbox" id="{field_id}" checked disabled>'
            suffix = " (always on)"
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
        f'<input type="hidden" name="next" value="{escape(p.next_url)}">'
        "</form></div>"
    )
