"""Sign-in gate: nothing is shown before sign-in, wrong passwords are refused, roles come from
the user file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import APP, PASSWORDS, Workbench, no_exception, sign_in


def test_no_page_runs_before_sign_in(workbench: Workbench) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("views/rings.py")
    at.query_params["ring"] = "R0000000000"
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["登录医保基金监管工作台"]
    assert not at.dataframe
    assert not at.metric


def test_no_folder_named_pages_beside_the_entry_file() -> None:
    # A pages/ folder turns on Streamlit's v1 multipage mode, which runs pages without app.py
    # and so without the sign-in gate.
    assert not (APP.parent / "pages").exists()


def test_wrong_password_is_refused(workbench: Workbench) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.text_input(key="login_user").input("wang")
    at.text_input(key="login_password").input(PASSWORDS["wang"] + "x")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["用户名或密码错误"]
    assert at.title[0].value == "登录医保基金监管工作台"


@pytest.mark.parametrize(("user", "role"), [("wang", "调查员"), ("li", "领导/简报")])
def test_role_comes_from_the_user_file(workbench: Workbench, user: str, role: str) -> None:
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), user)
    no_exception(at)
    assert any(role in c.value for c in at.sidebar.caption)


def test_missing_user_file_says_how_to_create_it(workbench: Workbench, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_USERS", str(tmp_path / "none.toml"))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert any("yibao user add" in i.value for i in at.info)
    assert not at.text_input


def test_missing_store_says_what_to_run(workbench: Workbench, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_DB", str(tmp_path / "absent.duckdb"))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert any("yibao demo" in e.value for e in at.error)


def test_language_switch_url_and_pages_agree(app: Callable[..., AppTest]) -> None:
    """A click on the switch puts the language in the URL and keeps it on the next page (page
    links drop the URL's parameters); a URL that says otherwise afterwards (a link, the back
    button) wins over the switch's earlier state."""
    at = app(page="overview")
    at.sidebar.segmented_control(key="lang_switch").set_value("English").run()
    no_exception(at)
    assert at.query_params["lang"] == "en"
    assert at.title[0].value.startswith("Overview")
    del at.query_params["lang"]
    at.switch_page("views/rings.py").run()
    no_exception(at)
    assert at.title[0].value.startswith("Rings: ")
    assert at.query_params["lang"] == "en"
    at.query_params["lang"] = "zh"
    at.run()
    no_exception(at)
    assert at.title[0].value.startswith("团伙")
    assert at.sidebar.segmented_control(key="lang_switch").value == "中文"
    assert "lang" not in at.query_params
