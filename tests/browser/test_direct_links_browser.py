"""Every page's URL works as a direct link: opened in a browser (a fresh load, as from a shared
link or a bookmark), it shows the page asked for, with no "Page not found" dialog first.

The overview used to be Streamlit's default page, which Streamlit serves only at the root
(``/``): ``/overview`` then answered "Page not found" before falling back to it. The root now
goes on to ``/overview``, keeping its query.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.protobuf.message import DecodeError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.browser.conftest import RENDER_SECONDS, Tab

pytestmark = pytest.mark.browser

# (URL, the heading the page shows, the path the browser shows once it did: a page may add its
# own state to the query, but the language asked for stays)
LINKS = [
    ("/overview", "总览", "/overview"),
    ("/", "总览", "/overview"),
    ("/?lang=en", "Overview", "/overview"),
    ("/overview?lang=en", "Overview", "/overview"),
    ("/rings", "团伙", "/rings"),
    ("/chains", "回流药", "/chains"),
    ("/cross_region", "异地就医", "/cross_region"),
    ("/search", "查询", "/search"),
    ("/leads", "线索台账", "/leads"),
    ("/plan", "检查计划", "/plan"),
    ("/brief", "领导简报", "/brief"),
    ("/tuning", "调参验证", "/tuning"),
    ("/quality", "数据质量", "/quality"),
]


def _not_found_messages(frames: list[bytes]) -> int:
    """How many of the server's messages in ``frames`` said "page not found"."""
    found = 0
    for data in frames:
        msg = ForwardMsg()
        with suppress(DecodeError):
            msg.ParseFromString(data)
            found += msg.WhichOneof("type") == "page_not_found"
    return found


def _dialogs(page: Any) -> list[str]:
    """Text of every open dialog (Streamlit's "Page not found" is a modal dialog)."""
    return [str(t) for t in page.locator('[role="dialog"]').all_inner_texts()]


def _shown_path(page: Any) -> str:
    return urlsplit(str(page.url)).path


def _english(url: str) -> bool:
    return "lang=en" in urlsplit(url).query.split("&")


def test_overview_link_shows_the_sign_in_form_without_page_not_found(
        open_tab: Callable[..., Tab]) -> None:
    tab = open_tab("/overview")
    tab.page.wait_for_selector('input[type="password"]', timeout=RENDER_SECONDS * 1000)
    assert _not_found_messages(tab.frames) == 0
    assert _dialogs(tab.page) == []
    tab.sign_in("wang", "总览")
    assert _shown_path(tab.page) == "/overview"
    assert _dialogs(tab.page) == []
    assert tab.exceptions() == []


def test_every_page_url_opens_directly(open_tab: Callable[..., Tab]) -> None:
    tab = open_tab("/rings", user="wang", heading="团伙")  # the cookie keeps wang signed in
    parts = urlsplit(str(tab.page.url))
    problems = []
    for path, heading, shown in LINKS:
        seen, before = len(tab.frames), tab.runs
        tab.page.goto(f"{parts.scheme}://{parts.netloc}{path}")
        tab.wait_rendered(heading, after=before)
        not_found = _not_found_messages(tab.frames[seen:])
        dialogs = _dialogs(tab.page)
        at = str(tab.page.url)
        if (not_found or dialogs or _shown_path(tab.page) != shown
                or _english(at) != _english(path)):
            problems.append(f"{path}: {not_found} 'page not found' messages, dialogs "
                            f"{dialogs}, shown at {at} (not {shown})")
        assert tab.exceptions() == [], f"{path}: {tab.exceptions()}"
    assert not problems, "\n".join(problems)
