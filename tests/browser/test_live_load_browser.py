"""A monthly load and a detection run while investigators keep working (issue 17, item 8).

The workbench reads the store's published snapshot (``loaders.snapshots``), so a writer holding
the store does not stop it, a ``yibao load`` and a ``yibao detect`` run beside it, and the
next page run shows what they published. Before snapshots the workbench held the store and
the load failed with "Could not set lock on file".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT, new_tab, serve

pytestmark = pytest.mark.browser

QUALITY = "数据质量"
OVERVIEW = "总览"
RINGS = "团伙"

_HOLD_WRITER = """
import sys
from loaders.store import open_store
store = open_store(sys.argv[1])
store.con.execute("BEGIN")
store.con.execute("INSERT OR REPLACE INTO meta VALUES ('busy', 'a load in progress')")
print("writing", flush=True)
sys.stdin.read()
store.con.execute("ROLLBACK")
"""


def _yibao(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yibao.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def _rows_in_shown(tab: Any) -> int:
    """The quality page's 读入行数 metric (rows read by every load)."""
    metric = tab.page.locator('[data-testid="stMetric"]').filter(has_text="读入行数")
    value = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(value.replace(",", ""))


def _version_shown(tab: Any) -> str:
    caption = tab.page.locator('[data-testid="stSidebar"]').get_by_text("数据版本")
    return str(caption.inner_text())


def test_a_load_and_a_detection_run_beside_an_open_workbench(
        tmp_path: Path, chromium_browser: Any) -> None:
    data, db = tmp_path / "data", tmp_path / "store.duckdb"
    _ok(_yibao("synth", data, "--scale", "10000", "--seed", "11"))
    rows_in = json.loads(_ok(_yibao("load", data, "--db", db, "--json")))["rows_in"]
    _ok(_yibao("detect", "--db", db, "--json"))

    with serve(db, tmp_path / "server") as server:
        context, tab = new_tab(chromium_browser, server, "/quality")
        try:
            tab.sign_in("wang", QUALITY)
            assert _rows_in_shown(tab) == rows_in
            assert "第 2 版" in _version_shown(tab)  # the load published 1, detection 2

            # a writer holds the store (a long load, mid-transaction): the pages still answer
            writer = subprocess.Popen([sys.executable, "-c", _HOLD_WRITER, str(db)], cwd=ROOT,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                assert writer.stdout is not None
                assert writer.stdout.readline().strip() == "writing"
                for path, heading in (("/", OVERVIEW), ("/rings", RINGS),
                                      ("/quality", QUALITY)):
                    tab.open(path, heading)
                    assert tab.exceptions() == [], f"{path}: {tab.exceptions()}"
                assert writer.poll() is None  # answered while the writer still held the store
            finally:
                assert writer.stdin is not None
                writer.stdin.close()
                writer.wait(timeout=60)

            # the monthly load and a detection, with the workbench open and a session on it
            second = json.loads(_ok(_yibao("load", data, "--db", db, "--json")))
            _ok(_yibao("detect", "--db", db, "--json"))

            tab.open("/", OVERVIEW)
            tab.open("/quality", QUALITY)
            assert _rows_in_shown(tab) == rows_in + second["rows_in"]
            assert "第 4 版" in _version_shown(tab)
            assert tab.exceptions() == []
        finally:
            context.close()
