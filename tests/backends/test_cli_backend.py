"""``yibao graph push``, ``detect`` and ``status`` against the session's Bolt server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from backends.neo4j import Neo4jBackend
from tests.backends.conftest import BoltServer
from yibao.cli import cli


def _env(server: BoltServer, **changes: str) -> dict[str, str]:
    s = server.settings
    env = {"NEO4J_URI": s.neo4j_uri or "", "NEO4J_USER": s.neo4j_user or "",
           "NEO4J_PASSWORD": s.neo4j_password or "", "NEO4J_DATABASE": s.neo4j_database or "",
           "YIBAO_BACKEND": "embedded"}
    env.update(changes)
    return env


@pytest.mark.slow
def test_push_is_idempotent_and_detect_keeps_ring_ids(
        bolt_server: BoltServer, neo4j_backend: Neo4jBackend, synthetic_store: Path) -> None:
    rings = [r.ring_id for r in neo4j_backend.rings()]
    before = neo4j_backend.counts()
    out = CliRunner().invoke(cli, ["graph", "push", "--db", str(synthetic_store), "--json"],
                             env=_env(bolt_server))
    assert out.exit_code == 0, out.output
    pushed = json.loads(out.stdout)
    assert pushed["written"] == 0
    assert all(s["skipped"] for s in pushed["steps"])
    assert {s["step"] for s in pushed["steps"]} == {
        "institutions", "persons", "practitioners", "settlements", "reversals", "fee_details"}

    out = CliRunner().invoke(cli, ["graph", "detect", "--json"], env=_env(bolt_server))
    assert out.exit_code == 0, out.output
    found = json.loads(out.stdout)
    assert [r["ring_id"] for r in found["rings"]] == rings
    after = neo4j_backend.counts()
    assert after["DetectRun"] == before["DetectRun"] + 1
    assert {k: v for k, v in after.items() if k != "DetectRun"} == \
        {k: v for k, v in before.items() if k != "DetectRun"}

    out = CliRunner().invoke(cli, ["graph", "status", "--json"], env=_env(bolt_server))
    assert out.exit_code == 0, out.output
    status = json.loads(out.stdout)
    assert status["counts"]["Settlement"] == before["Settlement"]
    assert status["gds"] is None or isinstance(status["gds"], str)


def test_push_with_a_wrong_password_says_which_setting(bolt_server: BoltServer,
                                                       synthetic_store: Path) -> None:
    out = CliRunner().invoke(cli, ["graph", "push", "--db", str(synthetic_store)],
                             env=_env(bolt_server, NEO4J_PASSWORD="pw-not-this-one-9f3"))
    assert out.exit_code == 1
    assert "NEO4J_PASSWORD" in out.stderr
    assert "pw-not-this-one-9f3" not in out.stderr


def test_graph_commands_without_a_server_name_neo4j_uri(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    db.touch()
    out = CliRunner().invoke(cli, ["graph", "push", "--db", str(db)],
                             env={"NEO4J_URI": "", "YIBAO_BACKEND": "embedded"})
    assert out.exit_code == 1
    assert "NEO4J_URI" in out.stderr
    out = CliRunner().invoke(cli, ["graph", "push", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 2
    assert "does not exist" in out.stderr


def test_graph_help_lists_the_commands() -> None:
    out = CliRunner().invoke(cli, ["graph", "--help"])
    assert out.exit_code == 0
    for name in ("push", "detect", "status"):
        assert name in out.output
