"""截图模式 (``?shot=1``): the view without sidebar and controls, a title band and a source line,
nothing personal revealed whatever the role; entered from the sidebar, left with a button.
The PNG itself is taken by a real browser: tests/browser/test_shot_browser.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import shot
from dashboards.capture import SHOT_MARK, capture_screens
from tests.dashboards.conftest import Workbench, no_exception
from tests.dashboards.test_rings_page import _full_names, _persons_table, _top_ring
from tests.detected import Detected
from yibao.errors import CaptureError


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_sidebar_button_enters_screenshot_mode(app: Callable[..., AppTest],
                                               detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(page="rings", ring=ring_id)
    assert SHOT_MARK not in _markdown(at)
    at.sidebar.button(key="shot_enter").click().run()
    no_exception(at)
    assert at.query_params["shot"] == "1"
    assert at.query_params["ring"] == ring_id  # the same view
    assert SHOT_MARK in _markdown(at)


def test_screenshot_mode_draws_the_frame_and_masks_for_an_investigator(
        app: Callable[..., AppTest], detected: Detected, workbench: Workbench) -> None:
    ring_id, persons = _top_ring(detected)
    at = app(user="wang", page="rings", ring=ring_id, shot="1")
    no_exception(at)
    assert len(at.sidebar) == 0  # nothing drawn in the sidebar: no navigation, no filters
    text = _markdown(at)
    assert SHOT_MARK in text
    assert "医保基金监管图分析 · 团伙" in text
    assert "内部资料" in text
    assert workbench.db.stem in text
    assert "个人信息已脱敏" in text
    assert "王调查" in text
    assert ring_id in at.title[0].value  # the page itself is drawn
    assert not at.toggle  # no unmask toggle, although wang may unmask elsewhere
    shown = set(_persons_table(at)["姓名"])
    full = set(_full_names(workbench.db, persons))
    assert full
    assert not (shown & full)
    assert all(name.endswith("**") for name in shown)
    keys = {b.key for b in at.button}
    assert {"shot_png", "shot_exit"} <= keys


def test_capture_run_has_no_buttons(app: Callable[..., AppTest], detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(page="rings", ring=ring_id, shot="capture")
    no_exception(at)
    assert SHOT_MARK in _markdown(at)
    keys = {b.key for b in at.button}
    assert not keys & {"shot_png", "shot_exit"}


def test_exit_button_leaves_screenshot_mode(app: Callable[..., AppTest],
                                            detected: Detected) -> None:
    ring_id, _ = _top_ring(detected)
    at = app(page="rings", ring=ring_id, shot="1")
    at.button(key="shot_exit").click().run()
    no_exception(at)
    assert "shot" not in at.query_params
    assert SHOT_MARK not in _markdown(at)
    assert len(at.sidebar) > 0


@pytest.mark.parametrize("page", ["overview", "chains", "cross_region", "leads", "plan", "brief"])
def test_every_page_draws_in_screenshot_mode(app: Callable[..., AppTest], page: str) -> None:
    at = app(user="li", page=page, shot="1")
    no_exception(at)
    assert SHOT_MARK in _markdown(at)
    assert len(at.sidebar) == 0


def test_english_frame(app: Callable[..., AppTest], detected: Detected) -> None:
    at = app(page="overview", shot="1", lang="en")
    no_exception(at)
    text = _markdown(at)
    assert "Internal: do not circulate" in text
    assert "personal data masked" in text


def test_css_hides_every_control_but_the_modes_own() -> None:
    for control in ("stSelectbox", "stMultiSelect", "stButton", "stDownloadButton",
                    "stDateInput", "stFileUploader", "stButtonGroup"):
        assert f'[data-testid="{control}"]' in shot._CSS
    assert ':not([class*="st-key-shot_"])' in shot._CSS
    assert '[data-testid="stSidebar"]' in shot._CSS


def test_capture_without_chromium_says_how_to_fix() -> None:
    with pytest.raises(CaptureError, match="apt-get install chromium"):
        capture_screens("http://127.0.0.1:1/rings?shot=capture", cookie=("c", "t"),
                        chromium=None)
