"""Browsers visiting pages at once, each in a thread of its own, none allowed to hang.

Playwright's sync API belongs to the thread that started it, so each worker thread
drives its own Playwright and Chromium. A visit has time limits of its own, but a page
whose script never yields can still hold the browser's answer back forever: a worker
busy past its deadline is given up, its visit reported as failed, and a new worker
takes its place. Its Chromium, started with a switch that marks it, is killed where
``/proc`` lists processes (Linux), so a page spinning forever costs no more CPU; the
blocked call then fails and the worker's thread ends.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import secrets
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .browser import VisitOptions, launch, visit
from .model import State, Visit

if TYPE_CHECKING:
    from playwright.sync_api import Browser

Task = tuple[str, State]
#: Seconds a visit may run beyond its own limits (two loads, the settling) before its
#: worker is given up.
GRACE = 10.0
#: How often, in seconds, the pool looks for workers past their deadline.
_POLL = 0.5


class Pool:
    """Worker threads with a Chromium each, started on first use; :meth:`close` them.

    :param grace: Seconds beyond a visit's own limits before its worker is given up.
    """

    def __init__(
        self, workers: int, chromium: str, options: VisitOptions, grace: float = GRACE
    ) -> None:
        self._size, self._chromium, self._options = max(1, workers), chromium, options
        self._deadline = 2 * options.timeout + options.settle + grace
        self._tasks: queue.Queue[Task | None] = queue.Queue()
        self._results: queue.Queue[Visit | BaseException] = queue.Queue()
        self._lock = threading.Lock()
        self._busy: dict[int, tuple[Task, float]] = {}
        self._live: dict[int, threading.Thread] = {}
        #: The switch that marks each worker's Chromium, so it can be found and killed.
        self._markers: dict[int, str] = {}
        self._ids = itertools.count()

    def run(self, tasks: Sequence[Task]) -> Iterator[Visit]:
        """Queue the tasks; yield their visits as they finish (failed ones included)."""
        while len(self._live) < min(self._size, len(tasks)):
            self._start()
        for task in tasks:
            self._tasks.put(task)
        pending = len(tasks)
        while pending:
            try:
                result = self._results.get(timeout=_POLL)
            except queue.Empty:
                for late in self._give_up_late():
                    pending -= 1
                    yield late
                continue
            if isinstance(result, BaseException):  # a browser did not start
                with contextlib.suppress(queue.Empty):
                    while True:  # nothing more to visit
                        self._tasks.get_nowait()
                raise result
            pending -= 1
            yield result

    def _start(self) -> None:
        worker = next(self._ids)
        self._markers[worker] = f"--consentgate-scan-worker={secrets.token_hex(8)}"
        thread = threading.Thread(target=self._work, args=(worker,), daemon=True)
        self._live[worker] = thread
        thread.start()

    def _give_up_late(self) -> list[Visit]:
        """Failed visits for the workers past their deadline, each replaced by a new one."""
        now = time.monotonic()
        with self._lock:
            late = [
                (w, task)
                for w, (task, started) in self._busy.items()
                if now - started > self._deadline
            ]
            for worker, _ in late:
                del self._busy[worker], self._live[worker]
        for worker, _ in late:
            _kill_marked(self._markers.pop(worker))
            self._start()
        why = f"the page did not answer within {self._deadline:g} s (a script busy forever?)"
        return [Visit(url, state, error=why) for _, (url, state) in late]

    def _work(self, worker: int) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = launch(playwright, self._chromium, self._markers[worker])
                try:
                    self._serve(worker, browser)
                finally:
                    browser.close()
        except BaseException as error:
            if worker in self._live:  # a worker given up fails when its browser is killed
                self._results.put(error)

    def _serve(self, worker: int, browser: Browser) -> None:
        while (task := self._tasks.get()) is not None:
            with self._lock:
                self._busy[worker] = (task, time.monotonic())
            result = visit(browser, *task, self._options)
            with self._lock:
                if self._busy.pop(worker, None) is None:
                    return  # given up: its visit was reported failed, its place taken
            self._results.put(result)

    def close(self) -> None:
        """Stop the workers and their browsers (those given up end with the process)."""
        threads = list(self._live.values())
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join()


def _kill_marked(marker: str) -> None:
    """Kill the processes whose command line holds ``marker`` (the browser's main one)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            if marker.encode() in arguments:
                os.kill(int(entry.name), signal.SIGKILL)
