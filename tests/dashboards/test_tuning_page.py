"""调参验证: the tuning page reruns detection on a scope from the URL's knobs, shows what it
gains and loses and the planted truth, never changes the stored run, and saves an audited
profile that ``yibao detect --profile`` runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from graph.scoring import profile_file
from loaders.store import open_store
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import busiest_flagged_city
from yibao.cli import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def busiest_city(workbench: Workbench) -> str:
    """The city with the most flagged rings of the stored run."""
    with open_store(workbench.db, read_only=True) as store:
        return busiest_flagged_city(store.con)


@pytest.fixture
def profiles(workbench: Workbench) -> Iterator[Path]:
    folder = workbench.db.with_name("detection_profiles")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if str(m.label).startswith(label))


def test_the_stored_settings_on_a_city_change_nothing_and_show_the_truth(
        app: Callable[..., AppTest], busiest_city: str, workbench: Workbench) -> None:
    at = app(page="tuning", city=busiest_city)
    no_exception(at)
    assert _metric(at, "新增可疑") == "0"
    assert _metric(at, "不再可疑") == "0"
    now, stored = _metric(at, "可疑团伙").split(" / ")
    assert now == stored != "0"
    assert any(str(s.value).startswith("对照合成真值") for s in at.subheader)


def test_stricter_knobs_in_the_url_lose_rings_in_english(
        app: Callable[..., AppTest], busiest_city: str, workbench: Workbench) -> None:
    runs = _runs(workbench.db)
    at = app(page="tuning", city=busiest_city, win="5", days="6", fdr="0.001", lang="en")
    no_exception(at)
    assert int(_metric(at, "Lost")) >= 1
    assert _runs(workbench.db) == runs  # the stored run is untouched


def test_a_saved_profile_is_audited_and_runs_in_yibao_detect(
        app: Callable[..., AppTest], busiest_city: str, workbench: Workbench,
        profiles: Path, tmp_path: Path) -> None:
    at = app(page="tuning", city=busiest_city, win="45", fdr="0.05")
    at.text_input[-1].input("测试方案-45")
    next(b for b in at.button if str(b.label) == "保存为检测方案").click()
    at.run()
    no_exception(at)
    saved = profile_file(profiles, "测试方案-45")
    assert saved.exists()
    entry = read_audit(workbench.audit)[-1]
    assert (entry.action, entry.subject_kind, entry.subject) == (
        "save_detection_profile", "profile", "测试方案-45")

    copy = tmp_path / "store.duckdb"
    shutil.copy(workbench.db, copy)
    shutil.copytree(profiles, copy.with_name("detection_profiles"))
    result = CliRunner().invoke(cli, ["detect", "--db", str(copy), "--profile", "测试方案-45",
                                      "--json"])
    assert result.exit_code == 0, result.output
    with open_store(copy, read_only=True) as store:
        used = json.loads(store.con.execute(
            "SELECT settings FROM detect_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0])
    assert used["co_settlement"]["window_minutes"] == 45.0
    assert used["suspicion"]["fdr"] == 0.05


def test_leadership_sees_no_save_form(app: Callable[..., AppTest], busiest_city: str) -> None:
    at = app(user="li", page="tuning", city=busiest_city)
    no_exception(at)
    assert all(str(b.label) != "保存为检测方案" for b in at.button)


def test_an_unknown_profile_says_which_exist(tmp_path: Path, workbench: Workbench) -> None:
    result = CliRunner().invoke(cli, ["detect", "--db", str(workbench.db), "--profile", "nope"])
    assert result.exit_code != 0
    assert "no detection profile 'nope'" in result.output


def _runs(db: Path) -> int:
    with open_store(db, read_only=True) as store:
        return int(store.con.execute("SELECT count(*) FROM detect_runs").fetchone()[0])
