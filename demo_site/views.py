"""The site's pages and the page-view beacon endpoint.

Pages are plain templates; the consent gate around the app decides which
scripts in them reach the browser, so no view needs to know about consent
except the beacon, which double-checks it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, render_template, request

from .analytics import MAX_BEACON_BYTES, BeaconError, PageViewLog, parse_beacon
from .chart import Bar, bar_chart_svg
from .content import BUDGET_EUR_BILLION, MAP_URL, PROGRAMME_PERIOD, RESOURCES, TARGETS, VIDEO_URL

bp = Blueprint("pages", __name__)

#: Key of the page-view log in ``app.extensions``.
PAGE_VIEWS = "demo_site.page_views"


def page_views() -> PageViewLog:
    """The current app's in-memory page-view log."""
    log: PageViewLog = current_app.extensions[PAGE_VIEWS]
    return log


@bp.get("/")
def index() -> str:
    """The overview of Key Action 2."""
    return render_template(
        "index.html", targets=TARGETS, budget=BUDGET_EUR_BILLION, video_url=VIDEO_URL
    )


@bp.get("/strategic-partnerships")
def strategic_partnerships() -> str:
    """What strategic partnerships are and how long they run."""
    return render_template("strategic_partnerships.html", targets=TARGETS, map_url=MAP_URL)


@bp.get("/alliances")
def alliances() -> str:
    """Knowledge Alliances and Sector Skills Alliances."""
    return render_template("alliances.html", targets=TARGETS)


@bp.get("/facts")
def facts() -> str:
    """Targets and budget, as a chart with a table beside it."""
    chart = bar_chart_svg(
        [Bar(f.title, f.value, f.display) for f in TARGETS],
        title="Key Action 2 targets up to 2020",
        desc=(
            "Horizontal bars on one linear scale: "
            + "; ".join(f"{f.label}: {f.display}" for f in TARGETS)
            + "."
        ),
        chart_id="targets-chart",
    )
    return render_template(
        "facts.html",
        chart=chart,
        targets=TARGETS,
        budget=BUDGET_EUR_BILLION,
        period=PROGRAMME_PERIOD,
    )


@bp.get("/resources")
def resources() -> str:
    """Links to official material on Key Action 2."""
    return render_template("resources.html", resources=RESOURCES)


@bp.get("/privacy")
def privacy() -> str:
    """The privacy and cookie policy, with the generated cookie table."""
    return render_template("privacy.html")


@bp.get("/analytics")
def analytics() -> str:
    """The page views the self-hosted counter has received."""
    log = page_views()
    return render_template(
        "analytics.html",
        views=log.recent(),
        limit=log.limit,
        visitor=request.cookies.get("ka2_visitor"),
        allowed=_analytics_allowed(),
    )


@bp.post("/analytics/beacon")
def beacon() -> Response:
    """Record one page view sent by ``static/analytics.js``.

    Answers 204 on success and 400 for a body that is too large or not a
    page view. A beacon from a visitor whose consent cookie does not allow
    analytics (a stale tab, a hand-made request) is answered 204 too, but
    not recorded: the server keeps its side of the promise on its own.
    """
    if (request.content_length or 0) > MAX_BEACON_BYTES:
        return _bad_request("Page view too large.")
    body = request.stream.read(MAX_BEACON_BYTES + 1)
    try:
        view = parse_beacon(body, request.mimetype, datetime.now(UTC))
    except BeaconError as error:
        return _bad_request(f"Not a page view: {error}.")
    if _analytics_allowed():
        page_views().record(view)
    return Response(status=204)


@bp.app_errorhandler(404)
def not_found(error: Exception) -> tuple[str, int]:
    """A page-not-found page inside the site's layout."""
    return render_template("404.html"), 404


def _analytics_allowed() -> bool:
    """Whether the consent gate says this request's visitor allows analytics.

    Without a gate in front of the app there is no consent to read, and the
    answer is no.
    """
    consent = request.environ.get("consentgate.consent")
    return bool(consent is not None and consent.allows("analytics"))


def _bad_request(message: str) -> Response:
    return Response(message + "\n", status=400, mimetype="text/plain")
