"""The workbench served by ``streamlit run dashboards/app.py`` on a free loopback port, for the
browser tests and the app benchmark: started in its own process group, waited for until its
health check answers, and stopped with every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServedWorkbench", "WorkbenchStartError", "free_port", "served_workbench"]

ROOT = Path(__file__).resolve().parents[1]


class WorkbenchStartError(RuntimeError):
    """The server exited or did not answer its health check in time (its log is in the
    message)."""


@dataclass(frozen=True)
class ServedWorkbench:
    url: str
    proc: subprocess.Popen[bytes]
    start_seconds: float
    """From starting the process to its first healthy answer."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_workbench(db: Path, users: Path, audit: Path, log: Path, *,
                     start_seconds: float = 120.0,
                     started: Callable[[subprocess.Popen[bytes]], None] | None = None,
                     ) -> Iterator[ServedWorkbench]:
    """The workbench over the store ``db`` with the user file ``users`` and audit log
    ``audit`` (no other ``YIBAO_*`` setting of this process leaks in), its output in ``log``;
    ``started(proc)`` is called as soon as the process exists (e.g. to sample its memory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(YIBAO_DB=str(db), YIBAO_USERS=str(users), YIBAO_AUDIT_LOG=str(audit))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    begin = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboards/app.py",
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             # a source edit during the run would put a "File change / Rerun" bar on screen
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if started is not None:
            started(proc)
        _wait_healthy(proc, url, log, start_seconds)
        yield ServedWorkbench(url=url, proc=proc, start_seconds=time.perf_counter() - begin)
    finally:
        _stop(proc)


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WorkbenchStartError(f"streamlit exited with {proc.returncode}:\n"
                                      f"{log.read_text()}")
        with (suppress(urllib.error.URLError, OSError),
              urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp):
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise WorkbenchStartError(f"streamlit did not answer {url}/_stcore/health within "
                              f"{seconds:.0f} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and every process it started (its own process group)."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
