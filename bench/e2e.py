"""End to end: the demo site under gunicorn, loaded by wrk, with and without the gate.

Two gunicorn servers (2 sync workers each, on free ports of 127.0.0.1) serve
the demo app with and without the gate; ``wrk -t2 -c16 -d5s`` loads the home
page as an undecided, a refusing and an accepting visitor, and a static
file. Cases take turns over a few rounds; each figure is the median. wrk
and the servers share the machine's CPUs, as they would on a small host.

Besides requests/s (wall time, which whatever else runs on the machine
also moves), the CPU time the gunicorn processes used per request is read
from ``/proc``: on a shared machine it is the steadier measure of what the
gate costs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from consentgate.consent import Consent

from .apps import demo, gate_of

ROOT = Path(__file__).resolve().parents[1]
#: Static file target: the gate may cost at most this share of requests/s.
STATIC_TARGET = 0.03
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    """One wrk run: which server, which URL, which visitor."""

    name: str
    gated: bool
    path: str
    visitor: str  # "none", "undecided", "refused" or "accepted"


LOADS = (
    Load("home, no gate", False, "/", "none"),
    Load("home, undecided", True, "/", "undecided"),
    Load("home, refused", True, "/", "refused"),
    Load("home, accepted", True, "/", "accepted"),
    Load("static, no gate", False, "/static/site.css", "none"),
    Load("static, gated", True, "/static/site.css", "undecided"),
)


@dataclass
class E2EResult:
    """Requests/s and server CPU time per request of every load, by round."""

    rates: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # seconds per request
    problems: list[str] = field(default_factory=list)

    def rate(self, name: str) -> float:
        """Median requests/s of one load."""
        return statistics.median(self.rates[name])

    def cpu_per_request(self, name: str) -> float:
        """Median server CPU seconds per request of one load."""
        return statistics.median(self.cpu[name])

    def cpu_ratio(self, name: str, baseline: str) -> float:
        """Requests per CPU-second of ``name`` over ``baseline`` (median of rounds)."""
        pairs = zip(self.cpu[name], self.cpu[baseline], strict=True)
        return statistics.median(b / a for a, b in pairs)

    def ratios(self, name: str, baseline: str) -> list[float]:
        """Requests/s of ``name`` over ``baseline``, round by round."""
        return [a / b for a, b in zip(self.rates[name], self.rates[baseline], strict=True)]

    def ratio(self, name: str, baseline: str) -> float:
        """The median of :meth:`ratios`, which drifts in the machine's load affect less."""
        return statistics.median(self.ratios(name, baseline))

    def static_passed(self, *, cpu: bool) -> bool:
        """Whether the gate costs the static file at most :data:`STATIC_TARGET`.

        :param cpu: judge by requests per server CPU-second, else by requests/s.
        """
        ratio = self.cpu_ratio if cpu else self.ratio
        return ratio("static, gated", "static, no gate") >= 1 - STATIC_TARGET


def wrk_path() -> str | None:
    """Where wrk is installed, if it is."""
    return shutil.which("wrk")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running gunicorn: where it listens and its master's process id."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers (user + system)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # a process that just ended
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])
        return total / _TICK


@contextlib.contextmanager
def gunicorn(gated: bool) -> Iterator[Server]:
    """Serve the demo under gunicorn; yield it; stop it afterwards."""
    port = _free_port()
    app = f"bench.apps:demo(gated={gated})"
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", app]
    server = subprocess.Popen(command, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        yield Server(base, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/static/site.css", timeout=1) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base} within {timeout:.0f} s")


def cookies() -> dict[str, str]:
    """``Cookie`` header values for each visitor, minted with the demo gate's codec."""
    gate = gate_of(demo(gated=True))
    name = gate.settings.cookie_name
    now = int(time.time())
    refused = Consent(frozenset({"necessary"}), decided=True, decided_at=now)
    accepted = Consent(frozenset({"necessary", "analytics"}), decided=True, decided_at=now)
    return {
        "none": "",
        "undecided": "",
        "refused": f"{name}={gate.codec.dumps(refused)}",
        "accepted": f"{name}={gate.codec.dumps(accepted)}",
    }


def _fetch(url: str, cookie: str) -> bytes:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        body: bytes = response.read()
        return body


def check(bases: dict[bool, str], cookie: dict[str, str]) -> None:
    """Make sure each visitor gets the page the gate owes them before timing it."""
    gtag = b"googletagmanager.com/gtag/js"
    expected = {
        "none": (False, True),
        "undecided": (True, False),
        "refused": (False, False),
        "accepted": (False, True),
    }
    for load in LOADS:
        if load.path != "/":
            continue
        body = _fetch(bases[load.gated] + load.path, cookie[load.visitor])
        banner, tracker = expected[load.visitor]
        if (b"consentgate-banner" in body, gtag in body) != (banner, tracker):
            raise RuntimeError(f"{load.name}: unexpected page (banner/tracker presence)")


def run_wrk(url: str, cookie: str, seconds: int) -> tuple[float, int, str | None]:
    """Requests/s and requests of one ``wrk -t2 -c16`` run, and a problem wrk reported."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if match is None or count is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{output}")
    problem = re.search(r"(Non-2xx or 3xx responses: \d+|Socket errors: [^\n]*)", output)
    return float(match.group(1)), int(count.group(1)), problem.group(1) if problem else None


def run(*, quick: bool = False, seconds: int = 5) -> E2EResult:
    """Load every case in rounds (three, or one with ``quick``).

    Rounds go forwards and backwards through :data:`LOADS` in turn, and a
    one-second unmeasured run before each measured one warms the workers
    up, so that neither the order nor a cold server favours either app.
    """
    cookie = cookies()
    result = E2EResult()
    with gunicorn(gated=False) as bare, gunicorn(gated=True) as gated:
        servers = {False: bare, True: gated}
        check({key: server.base for key, server in servers.items()}, cookie)
        for round_ in range(1 if quick else 3):
            for load in LOADS if round_ % 2 == 0 else LOADS[::-1]:
                server = servers[load.gated]
                url = server.base + load.path
                run_wrk(url, cookie[load.visitor], 1)
                before = server.cpu_seconds()
                rate, count, problem = run_wrk(url, cookie[load.visitor], seconds)
                cpu = (server.cpu_seconds() - before) / max(count, 1)
                result.rates.setdefault(load.name, []).append(rate)
                result.cpu.setdefault(load.name, []).append(cpu)
                if problem:
                    result.problems.append(f"{load.name}: {problem}")
    return result


def ready() -> str | None:
    """Why the end-to-end benchmark cannot run here, or None when it can."""
    if wrk_path() is None:
        return "wrk not found; skipped (apt-get install wrk)"
    for module in ("gunicorn", "demo_site"):
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed; skipped"
    return None
