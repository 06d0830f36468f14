"""Open a page in the system Chromium as one visitor and record what the browser holds.

Each visit gets a fresh browser context. A visitor who decides posts to the site's
consent endpoint from the page itself, as the banner's script does, so the site sets
its own consent cookie; the page is then opened again and watched. Requests come from
Playwright's ``request`` event (every frame, failed ones too) with the initiators that
a CDP session reports; cookies from the context; storage keys from every frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .chromium import CHROMIUM_ARGS
from .model import CookieSeen, RequestSeen, State, StorageSeen, Visit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Request

#: What the scanning browser does unlike a test's. It lets third parties keep cookies and
#: storage (partitioned), as Chrome does for most visitors, where this Chromium blocks them,
#: so what an embedded frame keeps is seen. Chromium reads only the last
#: ``--disable-features``, so the entries of Playwright's own list that keep the browser
#: quiet and http URLs on http are repeated.
SCAN_ARGS = (
    "--disable-features="
    + ",".join(
        (
            "TrackingProtection3pcd",
            "AvoidUnnecessaryBeforeUnloadCheckSync",
            "DestroyProfileOnBrowserClose",
            "HttpsUpgrades",
            "HttpsFirstBalancedModeAutoEnable",
            "MediaRouter",
            "PaintHolding",
            "OptimizationHints",
            "NetworkTimeServiceQuerying",
            "PreconnectToSearch",
        )
    ),
)
#: How a visit's error starts when the URL led to something other than a page.
NOT_HTML = "not an HTML page"
#: The consent endpoint's ``action`` for each visitor who decides.
ACTIONS: dict[State, str] = {"refused": "reject_all", "accepted": "accept_all"}

#: Run in every frame before its scripts: notes each cookie a script writes and the
#: browser keeps (a later response may expire it again, as the gate does for a cookie
#: the visitor refused: it was still set). Deletions are not writes.
_WATCH_COOKIES = """(() => {
    const real = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    if (!real || !real.set) return;
    const written = [];
    const kept = (doc, name) => real.get.call(doc).split(';').some(
        (c) => c.split('=')[0].trim() === name);
    Object.defineProperty(Document.prototype, 'cookie', {
        configurable: true,
        enumerable: real.enumerable,
        get() { return real.get.call(this); },
        set(value) {
            real.set.call(this, value);
            try {
                const text = String(value);
                const name = text.split(';')[0].split('=')[0].trim();
                const domain = /;\\s*domain\\s*=\\s*([^;]*)/i.exec(text);
                if (name && kept(this, name)) {
                    if (written.length < 1000) {
                        written.push([name, domain ? domain[1].trim() : location.hostname]);
                    }
                }
            } catch (e) {}
        },
    });
    Object.defineProperty(window, '__consentgateScanCookies', {value: written});
})();"""
#: A frame's origin, its storage keys, the cookie names its ``document.cookie`` shows
#: and the cookies its scripts wrote (name and domain).
_STORAGE_KEYS = """() => {
    const keys = (area) => {
        try { return Object.keys(window[area]).slice(0, 1000); } catch (e) { return []; }
    };
    let cookies = [];
    try { cookies = document.cookie.split(';').map((c) => c.split('=')[0].trim()); } catch (e) {}
    const written = window.__consentgateScanCookies || [];
    return [location.origin, keys('localStorage'), keys('sessionStorage'), cookies, written];
}"""
#: The browser's cookie store takes a script's ``document.cookie`` writes asynchronously:
#: wait up to this many times 50 ms for every name the frames show to be there.
_COOKIE_POLLS = 40
_LINKS = """() => Array.from(document.links).slice(0, 10000).map(
    (a) => a.hasAttribute('download') ? '' : a.href)"""
#: Requests recorded per visit; a page that makes more is reported as not fully seen
#: (the JavaScript above caps storage keys and script-written cookies at 1000 a frame).
MAX_REQUESTS = 10_000
_DECIDE = """async ([endpoint, action]) => {
    const response = await fetch(new URL(endpoint, location.href), {
        method: 'POST',
        credentials: 'same-origin',
        redirect: 'manual',
        headers: {'Accept': 'application/json'},
        body: new URLSearchParams({action}),
    });
    return response.type === 'opaqueredirect' ? 303 : response.status;
}"""


@dataclass(frozen=True)
class VisitOptions:
    """How to visit: the endpoint to post decisions to and the time limits, in seconds."""

    endpoint: str
    consent_cookie: str
    timeout: float
    settle: float


def launch(playwright: Any, executable: str, *args: str) -> Browser:
    """The system Chromium, headless and quiet (never a downloaded browser).

    :param args: More command-line switches (Chromium ignores ones it does not know).
    """
    browser: Browser = playwright.chromium.launch(
        executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *SCAN_ARGS, *args]
    )
    return browser


def visit(browser: Browser, url: str, state: State, options: VisitOptions) -> Visit:
    """Open ``url`` in a fresh context as a visitor in ``state``; never raises for the page."""
    context = browser.new_context()
    context.set_default_timeout(options.timeout * 1000)
    try:
        return _visit(context, url, state, options)
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if "Download is starting" in message:
            message = f"{NOT_HTML} (a download)"
        return Visit(url, state, error=message)
    finally:
        context.close()


def _visit(context: BrowserContext, url: str, state: State, options: VisitOptions) -> Visit:
    context.add_init_script(_WATCH_COOKIES)
    page = context.new_page()
    recorder = _Recorder(page)
    context.on("request", recorder.add)
    if state != "undecided":
        page.goto(url, wait_until="domcontentloaded")
        _decide(context, page, state, options)
        # Leave the undecided page (its last beacons go out now) before the record
        # starts, then open it again: only the decided visitor's page is recorded.
        page.goto("about:blank")
        recorder.clear()
    response = page.goto(url, wait_until="load")
    if response is not None:
        content_type = response.headers.get("content-type", "")
        if "html" not in content_type:
            return Visit(url, state, error=f"{NOT_HTML} ({content_type or 'no type'})")
        if response.status >= 500:  # the site is failing, not showing what it does
            return Visit(url, state, error=f"the page answered {response.status}")
    _settle(page, options.settle)
    storage, names, written = _storage(page)
    return Visit(
        url,
        state,
        cookies=_cookies(context, page, names, written),
        storage=storage,
        requests=recorder.seen(),
        links=tuple(link for link in page.evaluate(_LINKS) if link),
        error=f"more than {MAX_REQUESTS} requests: the rest not recorded"
        if recorder.overflow
        else "",
    )


def _decide(context: BrowserContext, page: Page, state: State, options: VisitOptions) -> None:
    """Post the visitor's decision from the page, as the banner does, and check it took."""
    status = page.evaluate(_DECIDE, [options.endpoint, ACTIONS[state]])
    names = {c.get("name") for c in context.cookies()}
    if status not in (200, 303) or options.consent_cookie not in names:
        raise DecisionError(
            f"posting {ACTIONS[state]} to {options.endpoint} answered {status} and set no "
            f"{options.consent_cookie!r} cookie (is --endpoint right?)"
        )


class DecisionError(RuntimeError):
    """The site did not take the visitor's decision."""


def _settle(page: Page, seconds: float) -> None:
    """Wait until the network has been idle for half a second, at most ``seconds``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # A page that polls forever is recorded as it is by then.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=seconds * 1000)


def _cookies(
    context: BrowserContext, page: Page, names: set[str], written: list[CookieSeen]
) -> tuple[CookieSeen, ...]:
    """Every cookie of the context, once those the frames show have all arrived, and
    every cookie a script wrote meanwhile, even if it is gone again."""
    for _ in range(_COOKIE_POLLS):
        cookies = context.cookies()
        if names <= {c.get("name") for c in cookies}:
            break
        page.wait_for_timeout(50)
    held = [CookieSeen(c.get("name", ""), c.get("domain", ""), c.get("path", "/")) for c in cookies]
    known = {c.name for c in held}
    return tuple(held + [c for c in dict.fromkeys(written) if c.name not in known])


def _storage(page: Page) -> tuple[tuple[StorageSeen, ...], set[str], list[CookieSeen]]:
    """Storage keys of every frame's origin, each origin once; the cookie names the
    frames show, and the cookies their scripts wrote."""
    found: dict[tuple[str, str, str], StorageSeen] = {}
    names: set[str] = set()
    written: list[CookieSeen] = []
    for frame in page.frames:
        try:
            origin, local, session, cookies, writes = frame.evaluate(_STORAGE_KEYS)
        except Exception:  # a frame gone, or an opaque origin: nothing to read
            continue
        names.update(name for name in cookies if name)
        written += [CookieSeen(str(name), str(domain)) for name, domain in writes]
        for key in local:
            found.setdefault((origin, "l", key), StorageSeen(origin, "localStorage", key))
        for key in session:
            found.setdefault((origin, "s", key), StorageSeen(origin, "sessionStorage", key))
    return tuple(found.values()), names, written


class _Recorder:
    """The requests of one context, with initiators from a CDP session on its page."""

    def __init__(self, page: Page) -> None:
        self._requests: list[Request] = []
        #: Whether requests were left out past :data:`MAX_REQUESTS`.
        self.overflow = False
        self._initiators: dict[str, str] = {}
        session = page.context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._initiator)
        session.send("Network.enable")

    def add(self, request: Request) -> None:
        if len(self._requests) < MAX_REQUESTS:
            self._requests.append(request)
        else:
            self.overflow = True

    def clear(self) -> None:
        self._requests.clear()
        self.overflow = False

    def _initiator(self, event: dict[str, Any]) -> None:
        url = event.get("request", {}).get("url", "")
        if len(self._initiators) < MAX_REQUESTS:
            self._initiators.setdefault(url, _initiator_url(event.get("initiator", {})))

    def seen(self) -> tuple[RequestSeen, ...]:
        return tuple(
            RequestSeen(r.url, r.resource_type, self._initiator_of(r)) for r in self._requests
        )

    def _initiator_of(self, request: Request) -> str:
        """The script that made the request, the request it redirected from, or its frame."""
        if request.redirected_from is not None:
            return request.redirected_from.url
        found = self._initiators.get(request.url, "")
        if found:
            return found
        try:
            frame = request.frame
        except Exception:
            return ""
        return "" if frame.url == request.url else frame.url


def _initiator_url(initiator: dict[str, Any]) -> str:
    """The script or document a CDP initiator names: its URL, else the top stack frame's."""
    url: str = initiator.get("url", "")
    stack: dict[str, Any] | None = initiator.get("stack")
    while not url and stack:
        frames: Sequence[dict[str, Any]] = stack.get("callFrames", ())
        url = next((f["url"] for f in frames if f.get("url")), "")
        stack = stack.get("parent")
    return url
