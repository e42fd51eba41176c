"""``yibao user add/list`` and ``yibao workbench``: users are hashed, the server really starts."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from dashboards.auth import authenticate
from tests.detected import Detected
from yibao.cli import cli


def test_user_add_and_list(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    runner = CliRunner()
    result = runner.invoke(cli, ["user", "add", "wang", "--role", "investigator", "--name",
                                 "王调查", "--password-stdin", "--users", str(users)],
                           input="pa55-word\n")
    assert result.exit_code == 0, result.stderr
    assert "pa55-word" not in users.read_text(encoding="utf-8")
    assert authenticate(users, "wang", "pa55-word") is not None
    listed = runner.invoke(cli, ["user", "list", "--users", str(users)])
    assert listed.stdout.split("\t")[:3] == ["wang", "investigator", "王调查"]


def test_user_add_refuses_unknown_role(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["user", "add", "x", "--role", "admin", "--no-password",
                                      "--users", str(tmp_path / "u.toml")])
    assert result.exit_code == 2


def test_workbench_without_store_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["workbench", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "yibao demo" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return bool(r.read() == b"ok")
    except OSError:
        return False


def _start_workbench(db: Path, users: Path) -> tuple[subprocess.Popen[bytes], int]:
    """'yibao workbench' in a process group of its own, once its server answers."""
    port = _free_port()
    yibao = Path(sys.executable).with_name("yibao")
    proc = subprocess.Popen(
        [str(yibao), "workbench", "--db", str(db), "--users", str(users), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _serving(port):
        time.sleep(0.5)
    return proc, port


def test_workbench_serves_the_app(detected: Detected, tmp_path: Path) -> None:
    proc, port = _start_workbench(detected.db, tmp_path / "users.toml")
    try:
        assert _serving(port)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_sigterm_to_the_workbench_stops_the_server(detected: Detected, tmp_path: Path) -> None:
    """A SIGTERM to 'yibao workbench' (not to its process group) stops the server too."""
    proc, port = _start_workbench(detected.db, tmp_path / "users.toml")
    try:
        assert _serving(port)
        proc.send_signal(signal.SIGTERM)  # as a service manager or 'kill PID' would
        proc.wait(timeout=20)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _serving(port):
            time.sleep(0.5)
        assert not _serving(port), "the Streamlit server outlived 'yibao workbench'"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
