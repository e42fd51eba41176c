"""Workbench test fixtures: the detected store, a user file, an audit log, signed-in AppTests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.auth import add_user
from tests.detected import Detected

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PASSWORDS = {"wang": "investigator-pass", "li": "leadership-pass"}


@dataclass(frozen=True)
class Workbench:
    """Where the workbench under test reads and writes."""

    db: Path
    users: Path
    audit: Path


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.toml"
    add_user(path, "wang", role="investigator", password=PASSWORDS["wang"],
             display_name="王调查")
    add_user(path, "li", role="leadership", password=PASSWORDS["li"], display_name="李处长")
    return path


@pytest.fixture
def workbench(detected: Detected, users_file: Path, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[Workbench]:
    """Environment pointing the app at the detected store, with fresh Streamlit caches."""
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("YIBAO_DB", str(detected.db))
    monkeypatch.setenv("YIBAO_USERS", str(users_file))
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(audit))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield Workbench(db=detected.db, users=users_file, audit=audit)
    st.cache_resource.clear()
    st.cache_data.clear()


def sign_in(at: AppTest, username: str) -> AppTest:
    """Fill in and submit the sign-in form of a fresh AppTest, then run the first page."""
    at.run()
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(PASSWORDS[username])
    at.button[0].click()
    return at.run()


@pytest.fixture
def app(workbench: Workbench) -> Callable[..., AppTest]:
    """``app(user="wang", page=None, **query)``: a signed-in AppTest on ``page``."""

    def make(user: str = "wang", page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for key, value in query.items():
            at.query_params[key] = value
        sign_in(at, user)
        if page is not None:
            at.switch_page(f"views/{page}.py")
            at.run()
        return at

    return make


def no_exception(at: AppTest) -> None:
    """Fail with the app's own traceback when a page raised."""
    assert not at.exception, "\n".join(str(e.value) + "\n" + "\n".join(e.stack_trace)
                                       for e in at.exception)
