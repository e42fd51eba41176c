"""Streamlit plumbing shared by the pages: the store, the signed-in user, language, the period
filter and state kept in the URL, cached data calls, masking and audited unmasking.

Pages import this module and the data/figure modules; nothing outside ``dashboards/app.py``,
``dashboards/ui.py`` and ``dashboards/views/`` (the pages) imports Streamlit.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
import pandas as pd
import streamlit as st

from dashboards.audit import append_audit
from dashboards.auth import User
from dashboards.data.common import Period, data_period, has_detection, open_read_only
from dashboards.i18n import Lang, t
from yibao.masking import mask_frame
from yibao.settings import Settings

__all__ = [
    "cached",
    "con",
    "current_user",
    "lang",
    "period",
    "require_detection",
    "set_param",
    "settings",
    "show_masked",
    "sign_in_as",
    "unmask_toggle",
    "url_param",
]

T = TypeVar("T")


@st.cache_resource
def settings() -> Settings:
    """The workbench's settings (environment, then defaults)."""
    return Settings.from_env()


@st.cache_resource
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return open_read_only(Path(path))


def con() -> duckdb.DuckDBPyConnection:
    """A cursor on the store (read-only, one per call: safe across sessions' threads)."""
    return _connection(str(settings().db)).cursor()


def _store_key() -> str:
    path = settings().db
    stat = os.stat(path)
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(module: str, name: str, store_key: str, args: tuple[Any, ...],
            kwargs: tuple[tuple[str, Any], ...]) -> Any:
    fn = getattr(importlib.import_module(module), name)
    cur = con()
    try:
        return fn(cur, *args, **dict(kwargs))
    finally:
        cur.close()


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(store cursor, *args, **kwargs)``, cached per store version and arguments."""
    return cast(T, _cached(fn.__module__, fn.__name__, _store_key(), args,
                           tuple(sorted(kwargs.items()))))


def url_param(name: str, default: str | None = None) -> str | None:
    """A value kept in the URL (so a link carries the view)."""
    value = st.query_params.get(name)
    return value if value else default


def set_param(name: str, value: str | None) -> None:
    """Put a value in the URL (``None`` removes it)."""
    if value is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value


def lang() -> Lang:
    """The UI language: ``?lang=en`` switches to English, Chinese otherwise."""
    value = url_param("lang", "zh")
    return "en" if value == "en" else "zh"


def current_user() -> User:
    """The signed-in user (the entry file stops the page before this when nobody is)."""
    record = st.session_state.get("user")
    if not isinstance(record, dict):
        st.stop()
    return User(**record)


def sign_in_as(user: User) -> None:
    """Keep ``user`` in the session (as plain data: Streamlit may reload our modules)."""
    st.session_state["user"] = asdict(user)


def _parse_day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


def period() -> Period:
    """The period filter in the sidebar, kept in the URL as ``from`` / ``to``."""
    lg = lang()
    full = cached(data_period)
    start = _parse_day(url_param("from"), full.start)
    end = _parse_day(url_param("to"), full.end)
    with st.sidebar:
        st.markdown(f"**{t('period', lg)}**")
        start = st.date_input(t("period_from", lg), value=start, min_value=full.start,
                              max_value=full.end, key="period_from")
        end = st.date_input(t("period_to", lg), value=end, min_value=full.start,
                            max_value=full.end, key="period_to")
    if end < start:
        start, end = end, start
    set_param("from", None if start == full.start else start.isoformat())
    set_param("to", None if end == full.end else end.isoformat())
    return Period(start, end)


def require_detection() -> None:
    """Stop the page with a message when detection has not run on the store."""
    if not cached(has_detection):
        st.warning(t("no_detection", lang(), path=settings().db))
        st.stop()


def _unmasked() -> set[str]:
    return cast(set[str], st.session_state.setdefault("unmasked", set()))


def unmask_toggle(subject_kind: str, subject: str) -> bool:
    """For investigators: a toggle that reveals personal data of ``subject`` (each reveal is
    written to the audit log). Leadership never sees it. Returns whether data is revealed."""
    user = current_user()
    lg = lang()
    if not user.may_unmask:
        st.caption(t("masked_note", lg))
        return False
    key = f"{subject_kind}:{subject}"
    shown = st.toggle(t("unmask", lg), value=key in _unmasked(), key=f"unmask-{key}")
    if shown and key not in _unmasked():
        append_audit(settings().audit_path, user=user.username, role=user.role,
                     action="unmask", subject_kind=subject_kind, subject=subject,
                     context=st.query_params.to_dict().__repr__())
        _unmasked().add(key)
    elif not shown:
        _unmasked().discard(key)
    if shown:
        st.caption(t("unmasked_note", lg))
    return shown


def show_masked(frame: pd.DataFrame, revealed: bool) -> pd.DataFrame:
    """``frame`` with personal columns masked unless the user revealed them."""
    return frame if revealed and current_user().may_unmask else mask_frame(frame)
