"""Real-browser fixtures: the workbench served by ``streamlit run`` on a loopback port, driven by
Playwright through Debian's chromium (``/usr/bin/chromium``; no browser download).

* ``workbench_server`` (session): ``python -m streamlit run dashboards/app.py`` on a free port of
  127.0.0.1 over the shared detected store (``tests/detected.py``), with a fresh user file (an
  investigator and a leadership user) and audit log; killed with its process group afterwards.
* ``chromium_browser`` (session): one headless chromium.
* ``open_tab`` (function): ``open_tab(path, user, heading)`` opens ``path`` in a fresh browser
  context and signs ``user`` in through the form (:func:`new_tab` does the same for longer-lived
  fixtures). The :class:`Tab` records every request and every websocket frame the browser
  receives, navigates inside the app and waits until a page has finished running and drawn.

Streamlit keeps the signed-in user in the websocket session, so a reload (``page.goto``) asks
to sign in again: :meth:`Tab.open` navigates the way the browser's back/forward buttons do
(``history.pushState`` plus ``popstate``), which Streamlit answers with a run of the page in the
URL, in the same session. A run has finished when the server sends its ``script_finished``
message (read from the websocket frames: the page's own "running" attribute skips very short
runs, since React renders both states in one go).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.protobuf.message import DecodeError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from dashboards.auth import add_user
from dashboards.capture import LAUNCH_ARGS, MAPS_IDLE_JS, RENDERED_JS
from tests.detected import Detected
from tools.workbench_server import served_workbench

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1600, "height": 1000}
PASSWORDS = {"wang": "investigator-pass-1", "li": "leadership-pass-1"}
START_SECONDS = 120.0
RENDER_SECONDS = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
_DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)

# What the page looks like to RENDERED_JS, for the message when it never became true.
_STATE_JS = """
() => ({
  state: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state'),
  headings: [...document.querySelectorAll('h1')].map((h) => h.textContent),
  stale: document.querySelectorAll('[data-stale="true"]').length,
  skeletons: document.querySelectorAll('[data-testid^="stSkeleton"]').length,
  tables_without_canvas: [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter((t) => t.checkVisibility() && !t.querySelector('canvas')).length,
  charts: [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map((c) => {
    const el = c.querySelector('.js-plotly-plot');
    if (!el || !el._fullLayout) return 'not drawn';
    return (el._fullLayout._subplots.map || []).map((id) => {
      const sub = el._fullLayout[id] && el._fullLayout[id]._subplot;
      return sub && sub.map ? (sub.map.loaded() ? 'map loaded' : 'map loading') : 'no map yet';
    });
  }),
  url: location.href,
})
"""

# Per plotly chart: its traces, SVG paths, WebGL canvases and rendered features per map subplot.
_CHARTS_JS = """
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map(
  (el) => ({
    traces: (el.data || []).length,
    paths: el.querySelectorAll('path').length,
    gl: el.querySelectorAll('canvas').length,
    map_features: (el._fullLayout._subplots.map || []).map(
      (id) => el._fullLayout[id]._subplot.map.queryRenderedFeatures().length),
  }))
"""

_NAVIGATE_JS = """
(url) => {
  history.pushState({}, '', url);
  window.dispatchEvent(new PopStateEvent('popstate', {state: history.state}));
}
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the served workbench in Debian's chromium (run in CI)")


@dataclass(frozen=True)
class Server:
    """A workbench served on loopback: its URL and the files it reads and writes."""

    url: str
    db: Path
    users: Path
    audit: Path
    log: Path


@contextmanager
def serve(db: Path, root: Path) -> Iterator[Server]:
    """``streamlit run dashboards/app.py`` on a free loopback port over the store ``db``, with
    a fresh user file (an investigator and a leadership user) and audit log in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    users = root / "users.toml"
    add_user(users, "wang", role="investigator", password=PASSWORDS["wang"],
             display_name="王调查")
    add_user(users, "li", role="leadership", password=PASSWORDS["li"], display_name="李处长")
    audit, log = root / "audit.jsonl", root / "streamlit.log"
    with served_workbench(db, users, audit, log, start_seconds=START_SECONDS) as served:
        yield Server(url=served.url, db=db, users=users, audit=audit, log=log)


@pytest.fixture(scope="session")
def workbench_server(detected: Detected, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[Server]:
    """The workbench (:func:`serve`) over the shared detected store."""
    with serve(detected.db, tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's chromium, headless (skipped where it is not installed, except under CI)."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        message = ("Debian's chromium is not installed: `sudo apt-get install chromium "
                   "fonts-noto-cjk` (scripts/test.sh does it)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """One browser tab on the workbench, with everything it requested and received."""

    page: Any
    requests: list[str] = field(default_factory=list)
    frames: list[bytes] = field(default_factory=list)
    runs: int = 0
    """Script runs the server reported finished (not counting runs cut short by a rerun)."""

    def on_frame(self, payload: bytes | str) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        self.frames.append(data)
        msg = ForwardMsg()
        with suppress(DecodeError):
            msg.ParseFromString(data)
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished in _DONE:
                self.runs += 1

    def wait_rendered(self, heading: str, *, after: int) -> None:
        """Wait for a run finished after the ``after``-th, then until ``heading`` shows and
        every chart and table has drawn."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        deadline = time.monotonic() + RENDER_SECONDS
        while self.runs <= after and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)  # lets Playwright deliver the frames
        try:
            if self.runs <= after:
                raise PlaywrightTimeout("no script run finished")
            left = max(deadline - time.monotonic(), 1.0)
            self.page.wait_for_function(RENDERED_JS, arg=heading, polling="raf",
                                        timeout=left * 1000)
        except PlaywrightTimeout as exc:
            state = self.page.evaluate(_STATE_JS)
            raise AssertionError(f"the page did not render {heading!r} within "
                                 f"{RENDER_SECONDS:.0f} s: {state}") from exc

    def submit_sign_in(self, user: str, password: str) -> int:
        """Fill in and submit the sign-in form; the number of runs before submitting."""
        self.page.wait_for_selector('input[type="password"]', timeout=RENDER_SECONDS * 1000)
        self.page.locator('[data-testid="stForm"] input[type="text"]').first.fill(user)
        self.page.locator('[data-testid="stForm"] input[type="password"]').fill(password)
        before = self.runs
        self.page.locator('[data-testid="stFormSubmitButton"] button').click()
        return before

    def sign_in(self, user: str, heading: str) -> None:
        """Sign ``user`` in through the form, then wait for the page ``heading``."""
        self.wait_rendered(heading, after=self.submit_sign_in(user, PASSWORDS[user]))

    def open(self, path: str, heading: str) -> None:
        """Navigate inside the app (same session) to ``path`` and wait for ``heading``."""
        before = self.runs
        self.page.evaluate(_NAVIGATE_JS, path)
        self.wait_rendered(heading, after=before)

    def click(self, locator: Any, heading: str) -> None:
        """Click ``locator`` and wait for the run it causes to render ``heading``."""
        before = self.runs
        locator.click()
        self.wait_rendered(heading, after=before)

    def exceptions(self) -> list[str]:
        """Text of every Streamlit exception and error box on the page."""
        boxes = self.page.locator('[data-testid="stException"], '
                                  '[data-testid="stAlertContentError"]')
        return [str(t) for t in boxes.all_inner_texts()]

    def headings(self) -> list[str]:
        return [str(t) for t in self.page.locator("h1").all_inner_texts()]

    def charts(self) -> list[dict[str, Any]]:
        """Per plotly chart: ``traces``, SVG ``paths``, WebGL canvases ``gl`` and the rendered
        features of each map subplot (``map_features``)."""
        return list(self.page.evaluate(_CHARTS_JS))

    def outside_requests(self) -> list[str]:
        """Requested URLs whose host is not the loopback (``data:``/``blob:`` allowed)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out

    def text(self) -> str:
        """All text of the document, hidden parts (inactive tabs, table cells) included."""
        return str(self.page.evaluate("document.body.textContent"))

    def received(self) -> bytes:
        """Every websocket frame the browser received, concatenated."""
        return b"".join(self.frames)

    def show_everything(self) -> None:
        """Make the viewport as tall as the page, so every element renders (tables render
        only their visible cells), and wait until the maps have repainted."""
        height = int(self.page.evaluate(
            "document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))
        self.page.set_viewport_size({"width": VIEWPORT["width"],
                                     "height": max(VIEWPORT["height"], min(height, 15_000))})
        self.page.wait_for_timeout(500)  # plotly's resize handler is debounced
        self.page.evaluate(MAPS_IDLE_JS)

    def screenshot(self, name: str) -> Path:
        """A screenshot of the whole page at ``build/screenshots/<name>.png``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.show_everything()
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(VIEWPORT)
        return path


def new_tab(browser: Any, server: Server, path: str) -> tuple[Any, Tab]:
    """A fresh browser context (no session, no cookies) showing ``server.url + path``."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    tab = Tab(page=page)
    context.on("request", lambda request: tab.requests.append(request.url))
    page.on("websocket", lambda ws: ws.on("framereceived", tab.on_frame))
    page.goto(server.url + path)
    return context, tab


@pytest.fixture
def open_tab(workbench_server: Server, chromium_browser: Any) -> Iterator[Callable[..., Tab]]:
    """``open_tab(path, user=None, heading=None)``: a fresh context on ``path``; with ``user``,
    signed in through the form and waited for ``heading``."""
    contexts: list[Any] = []

    def make(path: str, user: str | None = None, heading: str | None = None) -> Tab:
        context, tab = new_tab(chromium_browser, workbench_server, path)
        contexts.append(context)
        if user is not None:
            tab.sign_in(user, heading or "")
        return tab

    yield make
    for context in contexts:
        context.close()
