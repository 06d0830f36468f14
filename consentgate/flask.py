"""Flask integration: the gate, a ``consent`` blueprint and template helpers.

.. code-block:: python

    app.config.from_mapping(CONSENTGATE_SECRET_KEY="...", CONSENTGATE_CATEGORIES=[...])
    consent = FlaskConsent(app)

The extension wraps ``app.wsgi_app`` with :class:`~consentgate.ConsentGate`,
serves the decision endpoint and the preferences page from a blueprint inside
the site's own layout, and renders the banner with the app's Jinja loader, so a
``consentgate/banner.html`` in the app's templates folder replaces the default.
The decision itself is taken by :func:`consentgate.endpoint.decision_response`,
the same code the plain middleware runs; which page is due and what each template
gets is decided by :mod:`consentgate.site_pages`, as for Django: this module only
renders them with Jinja.

Under a strict Content Security Policy, ``CONSENTGATE_CSP_NONCE`` is a callable that
returns the response's nonce (with Flask-Talisman: ``lambda: flask.request.csp_nonce``);
it fills ``environ["consentgate.csp_nonce"]`` and the templates' ``consentgate_nonce``.

The consent UI speaks the request's language (:mod:`consentgate.i18n`): the app's
choice is ``CONSENTGATE_LOCALE_SELECTOR`` (a callable returning a language tag) or,
without one, Flask-Babel's locale when the app uses Flask-Babel. The templates get
``consent_gettext``/``consent_ngettext`` (the gate's own catalogue, apart from the
app's ``_``) and ``consent_lang``.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any

import click
from flask import Blueprint, Flask, Response, current_app, render_template, request
from markupsafe import Markup

from .checks import ConfigError
from .config import Settings, load_config
from .consent import Consent
from .csp import CSP_NONCE, nonce_attr
from .embeds import Placeholder
from .endpoint import FormRequest, embed_script, script_response, use_language
from .http import HTML_TYPES
from .i18n import language_name
from .messages import (
    category_description,
    category_label,
    declared_cookies,
    embed_words,
    purposes_list,
)
from .middleware import ConsentGate
from .records import cli as records_cli
from .script import SCRIPT_NAME
from .site_pages import (
    SitePage,
    placed_banner,
    preferences_response,
    prepare_banner,
    shared_context,
    site_decision_response,
)
from .ui import EMBED_JS_PATH, translations

_PREFIX = "CONSENTGATE_"
#: Keys that configure the extension itself rather than the gate.
_OWN_KEYS = {
    "CONSENTGATE_CONFIG",
    "CONSENTGATE_BASE_TEMPLATE",
    "CONSENTGATE_CSP_NONCE",
    "CONSENTGATE_LOCALE_SELECTOR",
}

blueprint = Blueprint("consent", __name__, template_folder="templates")


class FlaskConsent:
    """The consentgate Flask extension.

    :param app: the app to set up now; or call :meth:`init_app` later.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Wrap ``app`` with the gate and register the blueprint and helpers."""
        app.config.setdefault("CONSENTGATE_BASE_TEMPLATE", "consentgate/base.html")
        app.config.setdefault("CONSENTGATE_CSP_NONCE", None)
        app.config.setdefault("CONSENTGATE_LOCALE_SELECTOR", None)
        for key, what in (
            ("CONSENTGATE_CSP_NONCE", "the CSP nonce"),
            ("CONSENTGATE_LOCALE_SELECTOR", "a language tag"),
        ):
            hook = app.config[key]
            if hook is not None and not callable(hook):
                why = f"must be a callable returning {what}, got {type(hook).__name__}"
                raise ConfigError(key, why)
        settings = settings_from_config(app)
        gate = ConsentGate(app.wsgi_app, settings, serve_endpoint=False)
        app.wsgi_app = gate  # type: ignore[method-assign]
        app.extensions["consentgate"] = gate
        app.register_blueprint(blueprint, url_prefix=settings.endpoint)
        app.context_processor(_template_context)
        app.before_request(_app_language)
        app.after_request(_prepare_banner)


def settings_from_config(app: Flask) -> Settings:
    """Build the gate's settings from ``CONSENTGATE_*`` keys (and a TOML file).

    Keys mirror :class:`~consentgate.config.Settings` fields in upper case;
    ``CONSENTGATE_CONFIG`` names a TOML file (relative to the app's root) whose
    values the keys override. The secret key defaults to the app's own.
    """
    options = {
        key[len(_PREFIX) :].lower(): value
        for key, value in app.config.items()
        if key.startswith(_PREFIX) and key not in _OWN_KEYS
    }
    fallback = (
        {} if "secret_key" in options or not app.secret_key else {"secret_key": app.secret_key}
    )
    path = app.config.get("CONSENTGATE_CONFIG")
    if not path:
        return Settings.from_mapping({**fallback, **options}, where="app.config")
    path = os.path.join(app.root_path, path)
    try:
        return load_config(path, **options)
    except ConfigError as error:
        # The file may leave the key to the app; only then is SECRET_KEY used.
        if error.key != "secret_key" or not fallback:
            raise
        return load_config(path, **fallback, **options)


def _gate() -> ConsentGate:
    gate: ConsentGate = current_app.extensions["consentgate"]
    return gate


@blueprint.cli.command(
    "records",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def records_command(args: tuple[str, ...]) -> None:
    """Show, export, count or purge the consent records (--help lists the commands).

    The same commands as ``python -m consentgate records``, on the app's own store.
    """
    settings = _gate().settings
    prog = "flask consent records"
    code = records_cli.main(args, settings.records, settings.max_age_days, prog=prog)
    if code:
        raise SystemExit(code)


def _consent() -> Consent:
    consent: Consent = request.environ["consentgate.consent"]
    return consent


@blueprint.route("", methods=["GET", "HEAD", "POST"], strict_slashes=False)
def preferences() -> Any:
    """Show the visitor's choices (GET; JSON to a script) or take a new decision (POST);
    the pages are the app's templates, in its layout (``CONSENTGATE_BASE_TEMPLATE``)."""
    posted = FormRequest(request.environ)
    if request.method == "POST":
        return site_decision_response(_gate(), posted, _render)
    return preferences_response(_gate(), posted, _render)


@blueprint.route(EMBED_JS_PATH, methods=["GET", "HEAD"])
def embeds_script() -> Any:
    """The script that swaps a placeholder for its embed in place."""
    return embed_script()


def _render(page: SitePage) -> str:
    """One of the consent templates (the app's own if it has it), with the request's
    template context: the core's HTML marked safe, the layout given to those that
    extend it."""
    values: dict[str, Any] = {**page.values, **_marked(page.markup)}
    if page.in_layout:
        values["base_template"] = current_app.config["CONSENTGATE_BASE_TEMPLATE"]
    return render_template(page.template, **values)


@blueprint.route(f"/{SCRIPT_NAME}", methods=["GET", "HEAD"])
def script() -> Any:
    """The JavaScript API's script, at the versioned URL the pages name."""
    return script_response(request)


def _app_language() -> None:
    """Take the app's choice of language, if it makes one: ``CONSENTGATE_LOCALE_SELECTOR``,
    else Flask-Babel's locale when the app uses Flask-Babel. A choice that is none of
    the gate's ``languages`` leaves the gate's own (the visitor's pick, then theirs)."""
    gate = current_app.extensions.get("consentgate")
    if gate is None:
        return
    selector: Callable[[], object] | None = current_app.config["CONSENTGATE_LOCALE_SELECTOR"]
    choice = selector() if selector is not None else _flask_babel_locale()
    if choice:
        use_language(gate, request.environ, str(choice))


def _flask_babel_locale() -> object:
    """Flask-Babel's locale for this request, when the app set Flask-Babel up with a
    locale selector (without one it always answers its default, which would hide the
    visitor's pick and their browser's language)."""
    babel = current_app.extensions.get("babel")
    if getattr(babel, "locale_selector", None) is None:
        return None
    try:
        flask_babel = importlib.import_module("flask_babel")
    except ImportError:
        return None
    return flask_babel.get_locale()


def _words(settings: Settings, language: str) -> dict[str, Any]:
    """What the templates need to speak ``language``: the gate's catalogue
    (``consent_gettext(message, **values)``, its values escaped) and the categories'
    words in it."""
    t = translations(settings, language)

    def consent_gettext(message: str, **values: object) -> Markup:
        text = Markup(t.gettext(message))
        return text % values if values else text

    def consent_ngettext(singular: str, plural: str, n: int, **values: object) -> Markup:
        return Markup(t.ngettext(singular, plural, n)) % {"count": n, **values}

    def consent_purposes(which: str = "optional") -> str:
        if which == "gpc":
            return purposes_list(settings, language, lambda c: bool(c.gpc))
        return purposes_list(settings, language, lambda c: not c.required)

    return {
        "consent_gettext": consent_gettext,
        "consent_ngettext": consent_ngettext,
        "consent_purposes": consent_purposes,
        "consent_label": lambda c: category_label(settings, c, language),
        "consent_description": lambda c: category_description(settings, c, language),
        "consent_declared": lambda: declared_cookies(settings, t, language),
        # (tag, the language's own name) of each language, for a site's own switcher.
        "consent_languages": [(tag, language_name(tag)) for tag in settings.languages],
    }


def _template_context() -> dict[str, Any]:
    """The consent templates' context, in the site's templates too (see the README)."""
    gate = current_app.extensions.get("consentgate")
    if gate is None or "consentgate.consent" not in request.environ:
        return {}
    _nonce_attr()  # asks the CONSENTGATE_CSP_NONCE hook before the nonce is written
    shared = shared_context(gate, request.environ)
    return {
        **shared.values,
        **_marked(shared.markup),
        **_words(gate.settings, str(shared.values["consent_lang"])),
        "consent": _consent(),
        "consent_banner": consent_banner,
        "consentgate_script": consentgate_script,
        "cookie_declaration": cookie_declaration,
    }


def _marked(markup: Mapping[str, str]) -> dict[str, Markup]:
    """The core's HTML, marked safe for Jinja."""
    return {key: Markup(html) for key, html in markup.items()}


def _nonce_attr() -> str:
    """The `` nonce="..."`` attribute for this response's inline scripts and styles.

    The app's own ``environ["consentgate.csp_nonce"]`` wins; else ``CONSENTGATE_CSP_NONCE``
    is asked, once the request's own hooks have run (Flask-Talisman makes its nonce in a
    ``before_request``), and its answer kept in the environ for the gate.
    """
    environ = request.environ
    hook: Callable[[], object] | None = current_app.config.get("CONSENTGATE_CSP_NONCE")
    if CSP_NONCE not in environ and hook is not None:
        nonce = hook()
        if isinstance(nonce, str) and nonce:
            environ[CSP_NONCE] = nonce
    return nonce_attr(environ)


def consent_banner() -> Markup:
    """Place the banner by hand; the middleware then injects no second one."""
    _nonce_attr()  # asks the CONSENTGATE_CSP_NONCE hook, which the API's tags read
    return Markup(placed_banner(_gate(), request.environ, _render))


def consentgate_script() -> Markup:
    """The JavaScript API (``window.consentgate``): the visitor's state and the script.

    Once per page: later calls, and the banner, then add nothing. Put it in the
    ``<head>``, before the site's own scripts that read the state.
    """
    _nonce_attr()  # asks the CONSENTGATE_CSP_NONCE hook, which script_tags reads after
    return Markup(_gate().place_script(request.environ))


def cookie_declaration() -> Markup:
    """The table of cookies per category, generated from the configuration."""
    return Markup(render_template("consentgate/declaration.html"))


def _prepare_banner(response: Response) -> Response:
    """Render the banner in the site's templates for the middleware to inject, hand it
    this response's CSP nonce, and let it render embed placeholders with
    ``consentgate/placeholder.html``."""
    if response.mimetype not in HTML_TYPES:
        return response
    _nonce_attr()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    request.environ["consentgate.placeholder"] = functools.partial(_render_placeholder, app)
    gate = current_app.extensions.get("consentgate")
    if gate is not None:
        prepare_banner(gate, request.environ, _render)
    return response


def _render_placeholder(app: Flask, placeholder: Placeholder) -> str:
    """A placeholder from the app's templates; called while the body streams, when no
    request context is left, so the template gets only ``placeholder``."""
    template = app.jinja_env.get_template("consentgate/placeholder.html")
    words = embed_words(placeholder, placeholder.translations)
    return template.render(placeholder=placeholder, words=words)
