"""The workbench's entry file: ``streamlit run dashboards/app.py`` (or ``yibao workbench``).

Signs the user in (user file with hashed passwords; the organisation's OIDC through
``st.login`` where ``[auth]`` is configured in Streamlit's secrets), then runs the chosen page.
The role comes from the user file, never from the page. A signed token in a cookie keeps the
user signed in across reloads (:mod:`dashboards.sessions`). Password sign-ins are rate limited
per user name and per address, and a name is locked after repeated failures
(:mod:`dashboards.sign_in_limit`).

A known failure (the store cannot be opened while a load holds it, the audit log cannot be
written, the user file is invalid) is shown as a plain message saying what to do; its detail
goes to the server log, never to the browser (``yibao workbench`` also turns Streamlit's error
details off for anything else).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboards import shot, ui
from dashboards.auth import read_users, user_by_email
from dashboards.i18n import t, text
from dashboards.sign_in_limit import sign_in_with_password, throttle_from_settings
from yibao.errors import AuthError, SignInStateError, StoreError, YibaoError

log = logging.getLogger("dashboards.app")

# The entry file's own messages (sign-in limit, known failures), 中文 then English. (A comment,
# not a docstring: Streamlit's magic would draw a bare string of the entry file.)
LABELS: dict[str, tuple[str, str]] = {
    "sign_in_wait": (
        "登录失败次数过多，请等待 {seconds} 秒后再试。",
        "Too many failed sign-ins: wait {seconds} s, then try again.",
    ),
    "sign_in_locked": (
        "登录失败次数过多，此用户名已被锁定。请联系管理员运行 `yibao user unlock 用户名` 解锁。",
        "Too many failed sign-ins: this user name is locked. Ask an administrator to run "
        "`yibao user unlock NAME`.",
    ),
    "fail_store": (
        "暂时无法打开数据存储（可能正在导入数据或运行检测）。请稍后刷新页面；如仍出现，请联系管理员"
        "查看服务器日志。",
        "The store cannot be opened just now (a load or a detection may be running). Reload the "
        "page in a minute; if this persists, ask an administrator to check the server log.",
    ),
    "fail_users": (
        "用户文件无效，暂时无法登录。请联系管理员运行 `yibao user list` 检查用户文件，"
        "详情见服务器日志。",
        "The user file is invalid, so nobody can sign in just now. Ask an administrator to check "
        "it with `yibao user list`; the server log has the detail.",
    ),
    "fail_sign_in_state": (
        "登录限制状态文件无法读写，暂时无法登录。请联系管理员检查 YIBAO_SIGNIN_STATE 所指文件，"
        "详情见服务器日志。",
        "The sign-in limit's state file cannot be used, so nobody can sign in just now. Ask an "
        "administrator to check the file YIBAO_SIGNIN_STATE names; the server log has the "
        "detail.",
    ),
    "fail_audit": (
        "审计日志无法写入，此操作未执行（查看明细和登录失败都必须留痕）。请联系管理员检查审计日志"
        "（YIBAO_AUDIT_LOG），详情见服务器日志。",
        "The audit log cannot be written, so this was not done (reveals and failed sign-ins must "
        "be recorded). Ask an administrator to check the audit log (YIBAO_AUDIT_LOG); the "
        "server log has the detail.",
    ),
}

PAGES = Path(__file__).parent / "views"  # not "pages": that name turns on Streamlit's v1 MPA

st.set_page_config(page_title="医保基金监管图分析工作台", page_icon="🩺", layout="wide")
lg = ui.lang()

OVERVIEW = st.Page(PAGES / "overview.py", title=t("page_overview", lg), url_path="overview",
                   icon=":material/map:")


def _to_overview() -> None:
    """The app's root URL: the overview under its own URL, with the same query (a page that
    Streamlit serves as the default lives only at the root, so ``/overview`` would be "not
    found")."""
    st.switch_page(OVERVIEW, query_params=[(key, value) for key in st.query_params
                                           for value in st.query_params.get_all(key)])


pages = [
    st.Page(_to_overview, title=t("page_overview", lg), url_path="", default=True,
            visibility="hidden"),
    OVERVIEW,
    st.Page(PAGES / "rings.py", title=t("page_rings", lg), url_path="rings",
            icon=":material/group:"),
    st.Page(PAGES / "chains.py", title=t("page_chains", lg), url_path="chains",
            icon=":material/medication:"),
    st.Page(PAGES / "cross_region.py", title=t("page_cross_region", lg),
            url_path="cross_region", icon=":material/flight:"),
    st.Page(PAGES / "search.py", title=t("page_search", lg), url_path="search",
            icon=":material/search:"),
    st.Page(PAGES / "leads.py", title=t("page_leads", lg), url_path="leads",
            icon=":material/assignment:"),
    st.Page(PAGES / "plan.py", title=t("page_plan", lg), url_path="plan",
            icon=":material/route:"),
    st.Page(PAGES / "brief.py", title=t("page_brief", lg), url_path="brief",
            icon=":material/summarize:"),
    st.Page(PAGES / "tuning.py", title=t("page_tuning", lg), url_path="tuning",
            icon=":material/tune:"),
    st.Page(PAGES / "quality.py", title=t("page_quality", lg), url_path="quality",
            icon=":material/fact_check:"),
]


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sign_in() -> None:
    """The sign-in form; on success the user is kept in the session."""
    users_file = ui.settings().users_path
    st.title(t("sign_in_title", lg))
    if _oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            email = str(st.user.get("email", ""))
            user = user_by_email(users_file, email)
            if user is None:
                st.error(t("oidc_unknown", lg, email=email))
                st.button(t("sign_out", lg), on_click=st.logout)
                st.stop()
            ui.remember_sign_in(user)
            st.rerun()
        st.button(t("sign_in_oidc", lg), on_click=st.login, type="primary")
    if not read_users(users_file):
        st.info(t("no_users", lg, path=users_file))
        st.stop()
    with st.form("sign-in"):
        name = st.text_input(t("username", lg), key="login_user")
        password = st.text_input(t("password", lg), type="password", key="login_password")
        submitted = st.form_submit_button(t("sign_in", lg), type="primary")
    if submitted:
        settings = ui.settings()
        outcome = sign_in_with_password(users_file, name, password,
                                        throttle=throttle_from_settings(settings),
                                        audit_log=settings.audit_path,
                                        address=_client_address())
        if outcome.user is not None:
            ui.remember_sign_in(outcome.user)
            st.rerun()
        elif outcome.refused == "locked":
            st.error(text(LABELS, "sign_in_locked", lg))
        elif outcome.refused == "backoff":
            st.error(text(LABELS, "sign_in_wait", lg, seconds=outcome.wait_seconds))
        else:
            st.error(t("bad_login", lg))
            if outcome.wait_seconds:
                st.warning(text(LABELS, "sign_in_wait", lg, seconds=outcome.wait_seconds))


def _client_address() -> str | None:
    """The client's address for the sign-in limit: the connection's peer as Streamlit sees it
    (``None`` for a browser on the server's own machine; behind a reverse proxy, the proxy's
    address for everyone)."""
    try:
        address = st.context.ip_address
    except AttributeError:  # a Streamlit without st.context.ip_address: limit by name only
        return None
    return address if isinstance(address, str) and address else None  # (AppTest: a mock)


def _audit_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) failed on the audit log's file."""
    audit = ui.settings().audit_path
    seen: BaseException | None = exc
    while seen is not None:
        name = getattr(seen, "filename", None) if isinstance(seen, OSError) else None
        if name is not None and (str(name).startswith(str(audit))
                                 or str(name) == str(audit.parent)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _known_failure(exc: Exception) -> str | None:
    """The message key for a failure with a plain message, ``None`` for any other."""
    if _audit_failure(exc):
        return "fail_audit"
    if isinstance(exc, StoreError):
        return "fail_store"
    if isinstance(exc, SignInStateError):
        return "fail_sign_in_state"
    if isinstance(exc, AuthError):
        return "fail_users"
    return None


def _switch_language() -> None:
    """The language switch was clicked: remember its choice (clicking the chosen one again
    changes nothing)."""
    choice = st.session_state.get("lang_switch")
    if choice is not None:
        st.session_state["lang"] = "en" if choice == "English" else "zh"
        ui.set_param("lang", "en" if choice == "English" else None)


def _sidebar() -> None:
    user = ui.current_user()
    with st.sidebar:
        st.markdown(f"### {t('app_short', lg)}")
        # the session's language (ui.lang) decides, a click changes it; the URL shows it
        st.session_state["lang_switch"] = "English" if lg == "en" else "中文"
        st.segmented_control(t("language", lg), ["中文", "English"], key="lang_switch",
                             on_change=_switch_language)
        ui.set_param("lang", "en" if lg == "en" else None)
        role = t(f"role_{user.role}", lg)
        st.caption(t("signed_in_as", lg, name=user.display_name, role=role))
        version = ui.store_version()
        if version is not None:
            st.caption(t("data_version", lg, number=version.number,
                         when=f"{version.published_at.astimezone():%Y-%m-%d %H:%M}",
                         reason=t(f"published_{version.reason}", lg)))
        shot.enter_button()
        if st.button(t("sign_out", lg), key="sign_out"):
            ui.sign_out()
            if getattr(st.user, "is_logged_in", False):
                st.logout()
            st.rerun()


def _navigation(*, position: Literal["sidebar", "hidden"]) -> StreamlitPage:
    """The page the URL asks for; the root URL goes on to the overview's own URL."""
    page = st.navigation(pages, position=position)
    if page.url_path == "":
        _to_overview()
    return page


def _run() -> None:
    """Check the store, sign the user in, then draw the chosen page."""
    if not ui.settings().db.exists():
        _navigation(position="hidden")
        st.error(t("no_store", lg, path=ui.settings().db))
        st.stop()
    ui.pin_store()

    if "user" not in st.session_state and not ui.restore_sign_in():
        _navigation(position="hidden")
        ui.write_session_cookie()
        _sign_in()
        st.stop()

    if ui.shot_mode():  # a slide of the view: no sidebar, no controls (dashboards/shot.py)
        page = _navigation(position="hidden")
        ui.write_session_cookie()
        shot.draw_frame(page.title, page.url_path)
        page.run()
        st.stop()

    page = _navigation(position="sidebar")
    _sidebar()
    ui.write_session_cookie()
    notice = ui.backend_notice()
    if notice:
        st.warning(t("backend_fallback", lg, db=ui.settings().db, seconds=ui.RETRY_SECONDS,
                     reason=notice))
        if st.button(t("retry_server", lg), key="retry_server"):
            ui.retry_backend()
            st.rerun()
    page.run()


try:
    _run()
except (OSError, YibaoError) as failure:
    key = _known_failure(failure)
    if key is None:
        raise  # Streamlit shows a generic error (yibao workbench turns details off)
    log.error("workbench: %s", failure, exc_info=failure)
    st.error(text(LABELS, key, lg))
