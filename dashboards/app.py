"""The workbench's entry file: ``streamlit run dashboards/app.py`` (or ``yibao workbench``).

Signs the user in (user file with hashed passwords; the organisation's OIDC through
``st.login`` where ``[auth]`` is configured in Streamlit's secrets), then runs the chosen page.
The role comes from the user file, never from the page. A signed token in a cookie keeps the
user signed in across reloads (:mod:`dashboards.sessions`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import shot, ui
from dashboards.auth import authenticate, read_users, user_by_email
from dashboards.i18n import t

PAGES = Path(__file__).parent / "views"  # not "pages": that name turns on Streamlit's v1 MPA

st.set_page_config(page_title="医保基金监管图分析工作台", page_icon="🩺", layout="wide")
lg = ui.lang()

pages = [
    st.Page(PAGES / "overview.py", title=t("page_overview", lg), url_path="overview",
            icon=":material/map:", default=True),
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
        user = authenticate(users_file, name, password)
        if user is None:
            st.error(t("bad_login", lg))
        else:
            ui.remember_sign_in(user)
            st.rerun()


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
        shot.enter_button()
        if st.button(t("sign_out", lg), key="sign_out"):
            ui.sign_out()
            if getattr(st.user, "is_logged_in", False):
                st.logout()
            st.rerun()


if not ui.settings().db.exists():
    st.navigation(pages, position="hidden")
    st.error(t("no_store", lg, path=ui.settings().db))
    st.stop()

if "user" not in st.session_state and not ui.restore_sign_in():
    st.navigation(pages, position="hidden")
    ui.write_session_cookie()
    _sign_in()
    st.stop()

if ui.shot_mode():  # a slide of the view: no sidebar, no controls (dashboards/shot.py)
    page = st.navigation(pages, position="hidden")
    ui.write_session_cookie()
    shot.draw_frame(page.title, page.url_path)
    page.run()
    st.stop()

page = st.navigation(pages)
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
