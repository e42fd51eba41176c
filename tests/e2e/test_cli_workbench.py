"""``yibao user add/list/unlock/locks`` and ``yibao workbench``: users are hashed, locks are lifted
and audited, the server really starts, with error details off."""

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

import pytest
from click.testing import CliRunner

from dashboards.audit import read_audit
from dashboards.auth import add_user, authenticate
from dashboards.sign_in_limit import SignInLimits, SignInThrottle, sign_in_with_password
from tests.detected import Detected
from yibao.cli import cli
from yibao.cli_workbench import streamlit_command


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


def test_the_workbench_command_line_turns_error_details_off(tmp_path: Path) -> None:
    """Wherever 'yibao workbench' is started from (not only the repository root, whose
    .streamlit/config.toml Streamlit reads), tracebacks stay out of the browser."""
    cmd = streamlit_command(address="0.0.0.0", port=8600)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    options = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert options["--client.showErrorDetails"] == "none"
    assert options["--server.maxUploadSize"] == "50"
    assert options["--browser.gatherUsageStats"] == "false"
    assert (options["--server.address"], options["--server.port"]) == ("0.0.0.0", "8600")
    # a value the installed Streamlit accepts
    from streamlit.config import ShowErrorDetailsConfigOptions

    assert options["--client.showErrorDetails"] in set(ShowErrorDetailsConfigOptions)


def test_user_unlock_lifts_a_lock_and_is_audited(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    users, audit = tmp_path / "users.toml", tmp_path / "audit.jsonl"
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(audit))  # its sealing key beside it, not in cwd
    add_user(users, "wang", role="investigator", password="right-pass")
    throttle = SignInThrottle(tmp_path / "users.signin.sqlite", SignInLimits(lockout_after=3))
    for _ in range(3):
        sign_in_with_password(users, "wang", "guess", throttle=throttle, audit_log=audit,
                              address="10.0.0.5")
    assert sign_in_with_password(users, "wang", "right-pass", throttle=throttle,
                                 audit_log=audit).refused == "locked"
    runner = CliRunner()
    env = {"YIBAO_AUDIT_LOG": str(audit)}
    listed = runner.invoke(cli, ["user", "locks", "--users", str(users)], env=env)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.split("\t")[0] == "wang"
    assert listed.stdout.rstrip("\n").split("\t")[2:] == ["3", "10.0.0.5"]
    result = runner.invoke(cli, ["user", "unlock", "wang", "--users", str(users)], env=env)
    assert result.exit_code == 0, result.output
    assert "unlocked: wang" in result.stderr
    assert sign_in_with_password(users, "wang", "right-pass", throttle=throttle,
                                 audit_log=audit).user is not None
    again = runner.invoke(cli, ["user", "unlock", "wang", "--users", str(users),
                                "--audit", str(audit)])
    assert again.exit_code == 0
    assert "was not locked" in again.stderr
    entries = [(e.action, e.role, e.subject, e.context) for e in read_audit(audit)]
    assert [a for a, *_ in entries] == ["sign_in_failed"] * 3 + [
        "sign_in_locked", "sign_in_refused", "sign_in_unlock", "sign_in_unlock"]
    assert entries[-2][1:] == ("administrator", "wang", "yibao user unlock")
    assert entries[-1][3] == "yibao user unlock (was not locked)"
    assert read_audit(audit)[-1].user  # the operating-system account that ran it


def test_user_unlock_with_an_unwritable_audit_log_fails_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unlock the audit log cannot record is not done."""
    users = tmp_path / "users.toml"
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    throttle = SignInThrottle(tmp_path / "users.signin.sqlite", SignInLimits(lockout_after=1))
    sign_in_with_password(users, "wang", "guess", throttle=throttle,
                          audit_log=tmp_path / "audit.jsonl")
    result = CliRunner().invoke(cli, ["user", "unlock", "wang", "--users", str(users)],
                                env={"YIBAO_AUDIT_LOG": str(tmp_path)})  # a folder
    assert result.exit_code == 2
    assert "wang was not unlocked: the audit log" in result.stderr
    assert "YIBAO_AUDIT_LOG" in result.stderr
    assert "Traceback" not in result.output
    assert [lock.username for lock in throttle.locks()] == ["wang"]
