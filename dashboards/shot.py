"""Screenshot mode (截图模式): the chosen view as a slide for a briefing (``?shot=1``).

The page is drawn as usual, then shown without the sidebar, the navigation, Streamlit's toolbar
and every control (select boxes, buttons, inputs: hidden by CSS, so the view keeps the choices
in its URL), in larger type, with a title band (the page's title, the date, 内部资料) and a source
line at the bottom of the 16:9 frame (the store, the data's dates, the period shown, "personal
data masked", who made it). Nothing personal is revealed whatever the role
(:func:`dashboards.ui.current_user` gives a masked view).

Above the frame, two buttons (not in the picture): one takes the view as 1920 × 1080 PNGs, one
per screen, with the server's headless Chromium (:func:`dashboards.capture.capture_screens`),
and shows them in a dialog, each with its download button (taking them is written to the audit
log); the other leaves screenshot mode.
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import urlencode

import streamlit as st

from dashboards import ui
from dashboards.audit import append_audit
from dashboards.capture import SHOT_MARK, capture_screens
from dashboards.data.common import data_period
from dashboards.i18n import Lang, text
from yibao.errors import CaptureError

__all__ = ["CONTROLS", "draw_frame", "enter_button"]

CONTROLS = ("stSelectbox", "stMultiSelect", "stTextInput", "stTextArea", "stNumberInput",
            "stDateInput", "stTimeInput", "stSlider", "stRadio", "stCheckbox", "stButton",
            "stDownloadButton", "stLinkButton", "stPageLink", "stFileUploader", "stButtonGroup",
            "stColorPicker", "stChatInput", "stCameraInput", "stFormSubmitButton")
"""The ``data-testid`` of every Streamlit control hidden in screenshot mode."""

_HIDDEN = ", ".join(  # the mode's own buttons (keys shot_…) stay
    f'[data-testid="stElementContainer"]:has([data-testid="{c}"]):not([class*="st-key-shot_"])'
    for c in CONTROLS)

_CSS = f"""
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stForm"], {_HIDDEN},
[data-testid="stElementContainer"]:has(style) {{ display: none !important; }}
html {{ font-size: 18px; }}
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 1.6rem 3.2rem; max-width: none; }}
#{SHOT_MARK} {{ display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 3px solid #b3261e; padding: 0.2rem 0 0.35rem; margin-bottom: 0.2rem;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; }}
#{SHOT_MARK} .app {{ font-size: 1.05rem; font-weight: 700; color: #b3261e; }}
#{SHOT_MARK} .date {{ font-size: 0.95rem; color: #444; }}
#{SHOT_MARK} .secret {{ margin-left: 1rem; padding: 0 0.4rem; border: 1px solid #b3261e;
  color: #b3261e; font-size: 0.85rem; }}
.yibao-shot-source {{ position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990;
  padding: 0.3rem 1.6rem; background: #fff; border-top: 1px solid #ccc; color: #555;
  font-size: 0.72rem; font-family: "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; }}
</style>
"""

# While the server's browser takes the screens, the title band stays at the top of each.
_CAPTURE_CSS = f"""
<style>
#{SHOT_MARK} {{ position: fixed; top: 0; left: 0; right: 0; z-index: 999990;
  background: #fff; padding: 0.5rem 1.6rem 0.35rem; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 2.2rem; }}
[data-testid="stElementContainer"]:has(#{SHOT_MARK}),
[data-testid="stElementContainer"]:has(.yibao-shot-source) {{ margin-bottom: -1rem; }}
</style>
"""

_L: dict[str, tuple[str, str]] = {
    "app": ("医保基金监管图分析", "Medical-insurance fund supervision graph analytics"),
    "secret": ("内部资料 注意保密", "Internal: do not circulate"),
    "source": ("数据来源：医保结算数据（{store}，{start} 至 {end}）；统计期间：{p_start} 至 "
               "{p_end}；个人信息已脱敏；制图：{who}，{made}",
               "Source: medical-insurance settlements ({store}, {start} to {end}); period "
               "shown: {p_start} to {p_end}; personal data masked; made by {who}, {made}"),
    "enter": ("截图模式", "Screenshot mode"),
    "enter_help": ("当前视图去掉侧栏和控件、放大字号、个人信息脱敏，可下载 16:9 PNG",
                   "This view without sidebar and controls, larger type, personal data "
                   "masked, downloadable as a 16:9 PNG"),
    "png": ("生成 PNG（16:9）", "Make PNG (16:9)"),
    "making": ("正在用无头浏览器截图，约需数秒……", "Taking the picture with a headless "
               "browser: a few seconds…"),
    "download": ("下载第 {n} 屏", "Download screen {n}"),
    "screens": ("截图：共 {n} 屏（每屏 1920×1080）", "Screenshots: {n} screens (1920×1080 each)"),
    "screen": ("第 {n} 屏", "Screen {n}"),
    "exit": ("退出截图模式", "Leave screenshot mode"),
    "failed": ("截图失败：{reason}", "The picture could not be taken: {reason}"),
}


def _today(now: datetime, lg: Lang) -> str:
    return (f"{now.year}年{now.month}月{now.day}日" if lg == "zh"
            else now.strftime("%d %b %Y"))


def enter_button() -> None:
    """The sidebar's button into screenshot mode for the view shown (same tab, same
    session)."""
    lg = ui.lang()
    if st.button(text(_L, "enter", lg), key="shot_enter", icon=":material/photo_camera:",
                 help=text(_L, "enter_help", lg)):
        ui.set_param("shot", "1")
        st.rerun()


def draw_frame(page_title: str, url_path: str) -> None:
    """Screenshot mode's frame around the page about to run: the CSS, the buttons above the
    frame (not while the server's browser is taking the picture), the title band and the source
    line."""
    lg = ui.lang()
    user = ui.current_user()
    now = datetime.now()
    st.markdown(_CSS + (_CAPTURE_CSS if ui.capturing() else ""), unsafe_allow_html=True)
    if not ui.capturing():
        _buttons(page_title, url_path, lg)
    st.markdown(
        f'<div id="{SHOT_MARK}"><span class="app">{html.escape(text(_L, "app", lg))} · '
        f'{html.escape(page_title)}</span><span class="date">{_today(now, lg)}'
        f'<span class="secret">{html.escape(text(_L, "secret", lg))}</span></span></div>',
        unsafe_allow_html=True)
    full = ui.cached(data_period)
    shown = ui.url_period()
    source = text(_L, "source", lg, store=ui.settings().db.stem, start=full.start, end=full.end,
                   p_start=shown.start, p_end=shown.end, who=user.display_name,
                   made=now.strftime("%Y-%m-%d %H:%M"))
    st.markdown(f'<div class="yibao-shot-source">{html.escape(source)}</div>',
                unsafe_allow_html=True)


def _capture_url(url_path: str) -> str:
    """The view's URL on this server's loopback address, as the server's browser opens it."""
    address = str(st.get_option("server.address") or "")
    host = "127.0.0.1" if address in ("", "0.0.0.0", "::") else address
    if ":" in host:
        host = f"[{host}]"
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    params = {k: v for k, v in st.query_params.to_dict().items() if k != "shot"}
    params["shot"] = "capture"
    return (f"http://{host}:{st.get_option('server.port')}{prefix}/{url_path}?"
            f"{urlencode(params)}")


def _buttons(page_title: str, url_path: str, lg: Lang) -> None:
    user = ui.current_user()
    make, leave, _ = st.columns([1, 1, 3])
    if make.button(text(_L, "png", lg), key="shot_png", type="primary",
                   icon=":material/photo_camera:"):
        url = _capture_url(url_path)
        cookie = ui.capture_cookie()
        try:
            with st.spinner(text(_L, "making", lg)):
                screens = capture_screens(url, cookie=cookie,
                                          chromium=ui.settings().chromium_binary)
        except CaptureError as exc:
            st.error(text(_L, "failed", lg, reason=exc))
        else:
            append_audit(ui.settings().audit_path, user=user.username, role=user.role,
                         action="screenshot", subject_kind="view", subject=url_path or "/",
                         context=repr(st.query_params.to_dict()))
            stem = f"{page_title}_{datetime.now().strftime('%Y%m%d-%H%M')}"
            _screens_dialog(screens, stem, lg)
        finally:
            ui.revoke_capture_cookie(cookie)
    if leave.button(text(_L, "exit", lg), key="shot_exit", icon=":material/close:"):
        ui.set_param("shot", None)
        st.rerun()


def _screens_dialog(screens: list[bytes], stem: str, lg: Lang) -> None:
    """The screens just taken, each with its download button, in a dialog over the view."""

    @st.dialog(text(_L, "screens", lg, n=len(screens)), width="large")
    def show() -> None:
        for row in range(0, len(screens), 2):
            for col, n in zip(st.columns(2), range(row, min(row + 2, len(screens))),
                              strict=False):
                col.image(screens[n], caption=text(_L, "screen", lg, n=n + 1), width="stretch",
                          output_format="PNG")
                col.download_button(text(_L, "download", lg, n=n + 1), data=screens[n],
                                    file_name=f"{stem}_{n + 1}.png", mime="image/png",
                                    key=f"shot_png_download_{n}", icon=":material/download:",
                                    on_click="ignore")

    show()
