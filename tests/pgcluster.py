"""A throw-away PostgreSQL cluster for the tests: ``initdb`` into a temporary directory
(in memory, ``/dev/shm``, where there is room), a free port on 127.0.0.1, its unix
socket in the same directory, gone at the end.

The server binaries are found with ``pg_config --bindir``, in ``/usr/lib/postgresql/*/bin``
(newest first) or on ``PATH``. ``initdb`` refuses to run as root, so as root (CI) the
cluster runs as the ``postgres`` user that Debian's package creates, owning the directory.

``stop(mode="immediate")`` and ``start()`` (same port, same data) simulate a database that
dies and comes back. Use it through the ``pg_cluster``/``postgres_url`` fixtures in
``conftest.py``; without binaries they skip, and fail when ``CI=true``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: What a directory must hold to run a cluster from it.
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
#: The unprivileged account Debian's postgresql package creates.
SYSTEM_USER = "postgres"
#: Seconds pg_ctl waits for the server to start or stop.
WAIT_SECONDS = 60
#: Ports tried before giving up, when another process takes a free port first.
STARTS = 3
#: Where the cluster's directory goes when there is room: memory (tmpfs), so that a
#: database per test, and deleting them all at the end, costs no disk writes.
MEMORY_DIR = "/dev/shm"
#: Free bytes :data:`MEMORY_DIR` must have (a session's databases take about 1 GB);
#: with less, or none, the cluster goes to the system's temporary directory.
MEMORY_DIR_ROOM = 2 * 1024**3


def _has_server(bindir: str) -> bool:
    return all(os.access(os.path.join(bindir, b), os.X_OK) for b in SERVER_BINARIES)


def _pg_config_bindir() -> str | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _version(bindir: str) -> tuple[int, ...]:
    number = Path(bindir).parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def find_bindir() -> str | None:
    """The directory of the PostgreSQL server binaries, or None if there are none."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    on_path = shutil.which("initdb")
    candidates = [_pg_config_bindir(), *debian, os.path.dirname(on_path) if on_path else None]
    # A symlink on PATH (/usr/local/bin/initdb) points into the real directory.
    resolved = [os.path.dirname(os.path.realpath(on_path))] if on_path else []
    return next((d for d in [*candidates, *resolved] if d and _has_server(d)), None)


def cluster_parent() -> str | None:
    """:data:`MEMORY_DIR` when it is a writable folder with room, else None (the default
    temporary directory)."""
    try:
        room = shutil.disk_usage(MEMORY_DIR).free
    except OSError:
        return None
    writable = os.access(MEMORY_DIR, os.W_OK | os.X_OK)
    return MEMORY_DIR if writable and room >= MEMORY_DIR_ROOM else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PgCluster:
    """One PostgreSQL server in a temporary directory, for one test session.

    :param bindir: where ``initdb``, ``pg_ctl`` and ``postgres`` are.
    """

    _names = itertools.count(1)

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="consentgate-pg-", dir=cluster_parent()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        # As root, run everything as the unprivileged system user, who owns the directory.
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", SYSTEM_USER, "--"]

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, os.path.join(self.bindir, program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_SECONDS + 30)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{log[-2000:]}")

    def init(self) -> None:
        """``initdb`` with trust authentication for the superuser ``postgres``."""
        args = ("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._run("initdb", *args, "--no-locale", "--no-sync")

    def start(self) -> None:
        """Start (or restart) the server on the same port and data; waits until it answers."""
        # fsync=off: a test cluster never outlives the machine; commits are still crash-safe
        # against the server dying (stop(mode="immediate")), which is what tests simulate.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(WAIT_SECONDS), "start")  # fmt: skip

    def is_running(self) -> bool:
        """Whether the server answers ``pg_ctl status`` (a test may have stopped it)."""
        command = [*self._as, os.path.join(self.bindir, "pg_ctl"), "-D", str(self.data), "status"]
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clean) or ``immediate`` (as if it crashed)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(WAIT_SECONDS), "stop")

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database`` over TCP on 127.0.0.1."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (``name`` or a fresh one); returns its URL."""
        name = name or f"test_{next(self._names)}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def remove(self) -> None:
        """Stop the server if it runs and delete the directory."""
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def missing_reason() -> str | None:
    """Why no cluster can run here, or None when one can."""
    if find_bindir() is None:
        return (
            "PostgreSQL server binaries not found (pg_config --bindir, "
            "/usr/lib/postgresql/*/bin, PATH): apt-get install postgresql to run these tests"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"running as root and no {SYSTEM_USER!r} user to run the server as"
    return None


@contextmanager
def running_cluster(bindir: str | None = None) -> Iterator[PgCluster]:
    """A started cluster, stopped and deleted when the block ends."""
    cluster = PgCluster(bindir or find_bindir() or "")
    try:
        cluster.init()
        for attempt in range(STARTS):
            try:
                cluster.start()
                break
            except RuntimeError:  # another test run took the port in the meantime
                if attempt == STARTS - 1:
                    raise
                cluster.port = free_port()
        yield cluster
    finally:
        cluster.remove()
