"""``yibao demo``: what it writes is ignored by git, and it ends by starting the workbench
(address and demo accounts printed; ``--no-workbench`` and ``--json`` stop before)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tools.workbench_server import free_port
from yibao.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCALE = "10000"  # the smallest scale the synthesiser takes


def _yibao() -> list[str]:
    return [sys.executable, "-c", "from yibao.cli import main; main()"]


def _env() -> dict[str, str]:
    """The environment without the settings of whoever runs the tests (so the demo's default
    paths apply)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with the project's .gitignore, to run the demo in."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    return tmp_path


def _untracked(repo: Path) -> list[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                         check=True, capture_output=True, text=True).stdout
    return [line[3:] for line in out.splitlines()]


def _ignored(repo: Path, paths: list[str]) -> set[str]:
    out = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=repo,
                         capture_output=True, text=True).stdout
    return set(out.splitlines())


def test_what_the_demo_writes_is_ignored_by_git(repo: Path) -> None:
    done = subprocess.run([*_yibao(), "demo", "--scale", SCALE, "--no-workbench"], cwd=repo,
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "demo accounts" in done.stderr
    assert (repo / "demo" / "yibao.duckdb").exists()
    assert (repo / "demo" / "users.toml").exists()
    assert any((repo / "demo" / "data").iterdir())
    assert _untracked(repo) == [".gitignore"]
    # what the workbench and the ledger write later beside the store, and the brief's output
    settings = Settings(db=Path("demo/yibao.duckdb"))
    later = [str(p) for p in (settings.users_path, settings.audit_path, settings.leads_path,
                              settings.key_path, settings.signin_state_path)]
    from yibao.cli_brief import brief_command

    out = next(p for p in brief_command.params if p.name == "out").default
    assert isinstance(out, Path)
    brief = [str(out), str(out.with_suffix(".png")), str(out.with_suffix(".html"))]
    assert _ignored(repo, later + brief) == set(later + brief)


def test_json_and_no_workbench_do_not_start_it(repo: Path) -> None:
    """Scripts and CI get their prompt back: --json prints the summary and stops."""
    done = subprocess.run([*_yibao(), "demo", "--scale", SCALE, "--json"], cwd=repo,
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert '"suspicious"' in done.stdout
    assert "workbench:" not in done.stderr


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                    timeout=2) as response:
            return bool(response.status == 200 and response.read().strip() == b"ok")
    except OSError:
        return False


def test_the_demo_ends_by_starting_the_workbench(repo: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*_yibao(), "demo", "--scale", SCALE, "--port", str(port)],
                            cwd=repo, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    said: list[str] = []
    stream = proc.stdout
    assert stream is not None
    reader = threading.Thread(target=lambda: said.extend(iter(stream.readline, "")),
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while not _healthy(port):
            assert proc.poll() is None, "".join(said)
            assert time.monotonic() < deadline, "".join(said)
            time.sleep(0.5)
        output = "".join(said)
        assert f"http://127.0.0.1:{port}" in output
        accounts = dict(re.findall(r"^\s+(investigator|leader) / (\S+)", output, re.M))
        assert set(accounts) == {"investigator", "leader"}, output
        from dashboards.auth import authenticate

        users = repo / "demo" / "users.toml"
        assert authenticate(users, "investigator", accounts["investigator"]) is not None
        assert authenticate(users, "leader", accounts["leader"]) is not None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the demo's own session: the server it became
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert not _healthy(port)
