"""User names of every script survive the user file: a Chinese name must not write invalid TOML
(which locked everyone out), and adding one user keeps the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboards.auth import add_user, authenticate, read_users
from yibao.cli import cli

NAMES = ["王调查", "wang", "li-2", "张_三", "ÅSA", "tanaka田中", "x" * 40]


def test_every_name_round_trips_and_signs_in(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    for i, name in enumerate(NAMES):
        add_user(path, name, role="investigator", password=f"pass-{i}",
                 display_name=f'显示 "{name}" \\ 名')
    assert [u.username for u in read_users(path)] == NAMES
    for i, name in enumerate(NAMES):
        user = authenticate(path, name, f"pass-{i}")
        assert user is not None
        assert user.display_name == f'显示 "{name}" \\ 名'
    assert authenticate(path, "王调查", "wrong") is None


@pytest.mark.parametrize("name", ["王调查", "wang"])
def test_the_cli_adds_and_lists_a_user(tmp_path: Path, name: str) -> None:
    users = tmp_path / "users.toml"
    runner = CliRunner()
    first = runner.invoke(cli, ["user", "add", "li", "--role", "leadership", "--users",
                                str(users), "--password-stdin"], input="pw-li\n")
    assert first.exit_code == 0, first.output
    added = runner.invoke(cli, ["user", "add", name, "--role", "investigator", "--name", "王",
                                "--users", str(users), "--password-stdin"], input="pw\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["user", "list", "--users", str(users)])
    assert listed.exit_code == 0, listed.output
    assert name in listed.output
    assert authenticate(users, "li", "pw-li") is not None  # the others still sign in
    assert authenticate(users, name, "pw") is not None
