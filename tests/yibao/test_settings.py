"""Settings: explicit values, then the environment, then defaults; unknown keys refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from yibao.errors import SettingsError
from yibao.settings import Settings


def test_defaults_are_the_embedded_store() -> None:
    settings = Settings.from_env({})
    assert settings.backend == "embedded"
    assert settings.db == Path("yibao.duckdb")
    assert settings.threads is None


def test_environment_then_overrides() -> None:
    env = {"YIBAO_DB": "/data/a.duckdb", "YIBAO_THREADS": "2", "NEO4J_URI": "bolt://x:7687"}
    settings = Settings.from_env(env, db=Path("b.duckdb"))
    assert settings.db == Path("b.duckdb")
    assert settings.threads == 2
    assert settings.neo4j_uri == "bolt://x:7687"


def test_none_override_keeps_environment() -> None:
    assert Settings.from_env({"YIBAO_DB": "a.duckdb"}, db=None).db == Path("a.duckdb")


def test_unknown_environment_variable_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"YIBAO_DBB.*known are.*YIBAO_DB"):
        Settings.from_env({"YIBAO_DBB": "x"})


def test_unknown_key_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"unknown setting\(s\) \['dbb'\]"):
        Settings.from_mapping({"dbb": "x"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"backend": "mysql"}, "backend 'mysql' is not known"),
        ({"threads": "two"}, "threads must be a whole number"),
        ({"threads": 0}, "threads must be at least 1"),
    ],
)
def test_bad_values_say_how_to_fix(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_mapping(values)


def test_password_never_in_repr() -> None:
    settings = Settings.from_env({"NEO4J_PASSWORD": "s3cret-pw"})
    assert settings.neo4j_password == "s3cret-pw"
    assert "s3cret-pw" not in repr(settings)


@pytest.mark.parametrize(("text", "stored"), [("6GB", "6GB"), ("500mb", "500MB"),
                                              ("1.5GiB", "1.5GiB"), (" 2 GB ", "2GB")])
def test_memory_limit_sizes(text: str, stored: str) -> None:
    assert Settings.from_env({"YIBAO_MEMORY_LIMIT": text}).memory_limit == stored


@pytest.mark.parametrize(("text", "message"), [
    ("abc", "memory limit 'abc' is not a size: write a number and a unit such as 6GB"),
    ("10MB", "memory limit '10MB' is below 256MB, too little for a load"),
    ("6", "memory limit '6' is not a size"),
])
def test_memory_limit_refused_with_a_fix(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({"YIBAO_MEMORY_LIMIT": text})


def test_the_cli_refuses_a_bad_memory_limit_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yibao.cli import cli

    result = CliRunner().invoke(cli, ["load", str(tmp_path), "--db", str(tmp_path / "s.duckdb")],
                                env={"YIBAO_MEMORY_LIMIT": "10MB"})
    assert result.exit_code == 2
    assert "below 256MB" in result.output
    assert "Traceback" not in result.output
