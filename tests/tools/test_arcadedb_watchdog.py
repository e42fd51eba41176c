"""The ArcadeDB test server dies with the process that started it: a test run that is killed
(or interrupted) never leaves a JVM behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

_STARTER = """
import json, sys, time
from tools.arcadedb_server import start_arcadedb
server = start_arcadedb(sys.argv[1], heap="256m")
print(json.dumps({"pid": server.pid}), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is not alive
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_the_server_dies_when_its_starter_is_killed(tmp_path: Path) -> None:
    pytest.importorskip("arcadedb_embedded", reason="arcadedb-embedded is a dev dependency")
    root = Path(__file__).resolve().parents[2]
    starter = subprocess.Popen([sys.executable, "-c", _STARTER, str(tmp_path / "db")],
                               cwd=root, stdout=subprocess.PIPE, text=True)
    pid = 0
    try:
        assert starter.stdout is not None
        pid = int(json.loads(starter.stdout.readline())["pid"])
        assert _alive(pid)
        starter.send_signal(signal.SIGKILL)  # no finally, no atexit: only the kernel knows
        starter.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        assert not _alive(pid), "the ArcadeDB JVM outlived the process that started it"
    finally:
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        starter.kill()
