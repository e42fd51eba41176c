"""截图模式 in a real browser: entered from the sidebar of a ring's page, the view shows no
sidebar and no control, no full name of the ring's persons, and its PNG button has the server's
headless Chromium take the view as 1920 × 1080 screens, downloaded here and looked at (size,
not blank, the red title band on top); taking it is audited.

Screenshots land in ``build/screenshots/shot_*.png``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from dashboards.audit import read_audit
from dashboards.shot import CONTROLS
from loaders.store import open_store
from tests.browser.conftest import SCREENSHOTS, Server, Tab
from tests.detected import Detected

pytestmark = pytest.mark.browser


def _full_names(server: Server, persons: list[str]) -> list[str]:
    with open_store(server.db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT psn_name FROM persons WHERE psn_no IN (SELECT unnest($p))",
            {"p": persons}).fetchall()
    return [str(r[0]) for r in rows]


def _visible_controls(tab: Tab) -> list[str]:
    shown = []
    for control in CONTROLS:
        for element in tab.page.locator(f'[data-testid="{control}"]').all():
            container = element.locator("xpath=ancestor::*[@data-testid='stElementContainer']")
            classes = container.first.get_attribute("class") or ""
            if element.is_visible() and "st-key-shot_" not in classes:
                shown.append(f"{control} ({classes})")
    return shown


def test_screenshot_mode_downloads_slides_of_the_view(
        open_tab: Callable[..., Tab], workbench_server: Server, detected: Detected) -> None:
    ring = max(detected.result.suspicious, key=lambda r: len(r.persons))
    tab = open_tab(f"/rings?ring={ring.ring_id}", user="wang", heading=ring.ring_id)
    assert tab.page.get_by_role("switch").count() > 0  # the investigator's unmask toggle
    tab.click(tab.page.get_by_role("button", name="截图模式"), ring.ring_id)
    assert "shot=1" in tab.page.url
    assert f"ring={ring.ring_id}" in tab.page.url
    assert not tab.exceptions()
    assert not tab.page.locator('[data-testid="stSidebar"]').is_visible()
    assert _visible_controls(tab) == []
    assert tab.page.locator("#yibao-shot-band").is_visible()
    assert tab.page.locator(".yibao-shot-source").is_visible()
    full = _full_names(workbench_server, list(ring.persons))
    assert full
    assert not [name for name in full if name in tab.text()]
    assert "个人信息已脱敏" in tab.page.locator(".yibao-shot-source").inner_text()

    tab.click(tab.page.get_by_role("button", name="生成 PNG（16:9）"), ring.ring_id)
    first = tab.page.get_by_role("button", name="下载第 1 屏")
    first.wait_for(timeout=120_000)
    screens = tab.page.get_by_role("button", name="下载第").count()
    assert screens >= 2  # a ring's page is longer than one slide
    with tab.page.expect_download() as download:
        first.click()
    assert download.value.suggested_filename.endswith("_1.png")
    png = Image.open(io.BytesIO(download.value.path().read_bytes())).convert("RGB")
    assert png.size == (1920, 1080)
    assert len(png.getcolors(maxcolors=1 << 20) or []) > 200  # text, charts: not blank
    band = [png.getpixel((x, y)) for x in range(40, 1880, 40) for y in range(60, 130)]
    assert any(r > 150 and g < 80 and b < 80 for r, g, b in band)  # the red band rule
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png.save(SCREENSHOTS / "shot_ring_1.png")
    tab.screenshot("shot_dialog")
    assert not tab.exceptions()
    shots = [e for e in read_audit(workbench_server.audit) if e.action == "screenshot"]
    assert shots
    assert shots[-1].user == "wang"
    assert shots[-1].subject == "rings"
