"""Sign-in gate: nothing is shown before sign-in, wrong passwords are refused (and, repeated,
slow down and lock the name), roles come from the user file, known failures are plain messages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from dashboards.i18n import t
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


def _try_password(at: AppTest, user: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(user)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


@pytest.mark.parametrize(("lang", "locked", "wait"), [
    ("zh", "此用户名已被锁定。请联系管理员运行 `yibao user unlock 用户名` 解锁",
     "请等待 1 秒后再试"),
    ("en", "this user name is locked. Ask an administrator to run `yibao user unlock NAME`",
     "wait 1 s, then try again"),
])
def test_repeated_failures_lock_the_name_even_for_the_right_password(
        workbench: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str,
        locked: str, wait: str) -> None:
    """The issue's repro in the page: wrong passwords, then the right one, is refused."""
    monkeypatch.setenv("YIBAO_SIGNIN_STATE", str(tmp_path / "signin.sqlite"))
    monkeypatch.setenv("YIBAO_SIGNIN_BACKOFF_AFTER", "2")
    monkeypatch.setenv("YIBAO_SIGNIN_BACKOFF_SECONDS", "1")
    monkeypatch.setenv("YIBAO_SIGNIN_LOCKOUT_AFTER", "3")
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    _try_password(at, "wang", "guess-1")
    no_exception(at)
    _try_password(at, "wang", "guess-2")
    assert any(wait in w.value for w in at.warning)  # told to wait before the next try
    _try_password(at, "wang", PASSWORDS["wang"])  # too soon: not even checked
    assert any(wait in e.value for e in at.error)
    time.sleep(1.1)
    _try_password(at, "wang", "guess-3")
    assert [e.value for e in at.error] == [
        ("登录失败次数过多，" if lang == "zh" else "Too many failed sign-ins: ") + locked
        + ("。" if lang == "zh" else ".")]
    _try_password(at, "wang", PASSWORDS["wang"])
    no_exception(at)
    assert any(locked in e.value for e in at.error)
    assert not at.sidebar.caption  # still not signed in
    actions = [(e.action, e.user) for e in read_audit(workbench.audit)]
    assert actions.count(("sign_in_failed", "wang")) == 3
    assert ("sign_in_locked", "wang") in actions
    assert actions[-1] == ("sign_in_refused", "wang")
    # an unknown name is refused alike, and no message names whether it exists
    _try_password(at, "nobody", "x")
    assert [e.value for e in at.error] == [t("bad_login", "zh" if lang == "zh" else "en")]


def test_an_invalid_user_file_shows_a_plain_message(
        workbench: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "users.toml"
    broken.write_text("[users.wang\nrole = 'investigator'\n", encoding="utf-8")
    monkeypatch.setenv("YIBAO_USERS", str(broken))
    import streamlit as st

    st.cache_resource.clear()
    with caplog.at_level(logging.ERROR, logger="dashboards.app"):
        at = AppTest.from_file(str(APP), default_timeout=60).run()
    no_exception(at)  # no traceback reaches the browser
    assert [e.value for e in at.error] == [
        "用户文件无效，暂时无法登录。请联系管理员运行 `yibao user list` 检查用户文件，"
        "详情见服务器日志。"]
    assert str(tmp_path) not in at.error[0].value
    assert "not valid TOML" in caplog.text  # the detail is in the server log


def test_an_unwritable_audit_log_refuses_with_a_plain_message(
        workbench: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(tmp_path))  # a folder: cannot be appended to
    monkeypatch.setenv("YIBAO_SIGNIN_STATE", str(tmp_path / "signin.sqlite"))
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    _try_password(at, "wang", "wrong")
    no_exception(at)
    assert len(at.error) == 1
    assert at.error[0].value.startswith("The audit log cannot be written")
    assert str(tmp_path) not in at.error[0].value
