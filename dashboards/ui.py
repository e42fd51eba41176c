"""Streamlit plumbing shared by the pages: the store, the graph backend, the signed-in user,
language, the period filter and state kept in the URL, cached data calls, masking and audited
unmasking (one function, :func:`reveals`, decides what a view shows in full).

Tables and aggregates come from the embedded store (DuckDB); graph questions (a ring's
network, a neighbourhood, a connection) go to the backend the settings choose
(``YIBAO_BACKEND``). When that is a Neo4j server that cannot be reached, the workbench answers
them from the embedded store instead and says so (:func:`backend_notice`); it tries the
server again after :data:`RETRY_SECONDS`.

Pages import this module and the data/figure modules; nothing outside ``dashboards/app.py``,
``dashboards/ui.py``, ``dashboards/shot.py`` (the screenshot mode) and ``dashboards/views/``
(the pages) imports Streamlit.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import duckdb
import pandas as pd
import streamlit as st

from backends.base import GraphBackend
from dashboards.audit import append_audit
from dashboards.auth import User, credential, read_users
from dashboards.data.common import Period, data_period, has_detection, open_read_only
from dashboards.i18n import Lang, t
from dashboards.sessions import COOKIE, LIFETIME_SECONDS, SessionKeys
from loaders.snapshots import Snapshot, current_snapshot, reading_path
from yibao.errors import BackendAuthError, BackendUnavailableError
from yibao.leads import LeadLedger
from yibao.masking import PERSONAL_COLUMNS, Personal, mask_frame, mask_value
from yibao.settings import Settings
from yibao.stores import open_backend, open_ledger

__all__ = [
    "RETRY_SECONDS",
    "backend_notice",
    "cached",
    "capture_cookie",
    "capturing",
    "con",
    "current_user",
    "graph_backend",
    "graph_call",
    "lang",
    "ledger",
    "period",
    "pin_store",
    "remember_sign_in",
    "require_detection",
    "restore_sign_in",
    "retry_backend",
    "reveals",
    "revoke_capture_cookie",
    "set_param",
    "settings",
    "shot_mode",
    "show_masked",
    "show_personal",
    "sign_in_as",
    "sign_out",
    "store_file",
    "store_version",
    "table_height",
    "unmask_toggle",
    "url_param",
    "url_period",
    "write_session_cookie",
]

T = TypeVar("T")


@st.cache_resource
def settings() -> Settings:
    """The workbench's settings (environment, then defaults)."""
    return Settings.from_env()


@st.cache_resource
def _connections() -> tuple[threading.Lock, dict[str, duckdb.DuckDBPyConnection]]:
    """The open snapshots (by file), newest last, shared by every session."""
    return threading.Lock(), {}


def _connection(path: Path) -> duckdb.DuckDBPyConnection:
    lock, opened = _connections()
    key = _file_key(path)
    with lock:
        if key not in opened:
            opened[key] = open_read_only(path, memory_limit=settings().memory_limit,
                                         threads=settings().threads)
            # older snapshots close once the runs still reading them close their cursors
            for old in list(opened)[:-_OPEN_SNAPSHOTS]:
                del opened[old]
        return opened[key]


_OPEN_SNAPSHOTS = 2
"""Snapshots the workbench keeps open: the newest, and the one runs started on may finish."""


def pin_store() -> None:
    """Fix the snapshot this page run reads (called once at the start of every run): a
    snapshot published while the page draws is shown from the next run on, never half."""
    st.session_state["store_file"] = str(reading_path(settings().db))


def store_file() -> Path:
    """The file this run reads: the store's newest published snapshot when the run started
    (:mod:`loaders.snapshots`), or the store itself when it was never published."""
    pinned = st.session_state.get("store_file")
    return Path(pinned) if pinned else reading_path(settings().db)


def store_version() -> Snapshot | None:
    """The published snapshot this run reads (``None``: the store, never published)."""
    snapshot = current_snapshot(settings().db)
    return snapshot if snapshot is not None and snapshot.path == store_file() else None


def con() -> duckdb.DuckDBPyConnection:
    """A cursor on the store's snapshot (read-only, one per call: safe across sessions'
    threads)."""
    return _connection(store_file()).cursor()


@st.cache_resource(show_spinner=False)
def _ledger(choice: str) -> LeadLedger:
    return open_ledger(settings(), backend=choice)  # a failure is not cached


def ledger() -> LeadLedger:
    """The leads ledger (线索台账) the settings choose (``leads.sqlite`` beside the store or
    ``YIBAO_LEADS``; the Neo4j server with ``YIBAO_BACKEND=neo4j``), shared by every session:
    it is thread-safe, and every write checks the version the user saw.

    There is no fallback: leads written elsewhere while the server is down would be missing
    from it later. A server that cannot be reached raises :class:`BackendUnavailableError`
    (or :class:`BackendAuthError`); for :data:`RETRY_SECONDS` after that the same error is
    raised at once, without waiting on the server again (:func:`retry_backend` forgets it)."""
    choice = settings().backend or "embedded"
    key = f"ledger:{choice}"
    failed = _failures().get(key)
    if failed is not None and time.monotonic() - failed[0] <= RETRY_SECONDS:
        raise BackendUnavailableError(failed[1])
    try:
        opened = _ledger(choice)
    except (BackendUnavailableError, BackendAuthError) as exc:
        _failures()[key] = (time.monotonic(), str(exc))
        raise
    _failures().pop(key, None)
    return opened


def _file_key(path: Path) -> str:
    stat = os.stat(path)
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def _store_key() -> str:
    """The version of the data this run reads (its snapshot's file, time and size)."""
    return _file_key(store_file())


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


RETRY_SECONDS = 60.0
"""How long the workbench keeps answering from the embedded store before it tries an
unreachable server again."""


@st.cache_resource(show_spinner=False)
def _backend(choice: str) -> GraphBackend:
    return open_backend(settings(), backend=choice)  # a failure is not cached


@st.cache_resource(show_spinner=False)
def _failures() -> dict[str, tuple[float, str]]:
    """Per backend, when it last failed to connect and why (shared by all sessions)."""
    return {}


def graph_backend() -> GraphBackend:
    """The backend the settings choose; the embedded store while a server cannot be reached
    (see :func:`backend_notice`)."""
    choice = settings().backend or "embedded"
    if choice == "embedded":
        return _backend("embedded")
    failed = _failures().get(choice)
    if failed is None or time.monotonic() - failed[0] > RETRY_SECONDS:
        try:
            backend = _backend(choice)
        except (BackendUnavailableError, BackendAuthError) as exc:
            _failures()[choice] = (time.monotonic(), str(exc))
        else:
            _failures().pop(choice, None)
            return backend
    return _backend("embedded")


def backend_notice() -> str | None:
    """Why graph questions are answered from the embedded store instead of the chosen server
    (``None`` when they are not)."""
    choice = settings().backend or "embedded"
    graph_backend()
    failed = _failures().get(choice)
    return failed[1] if failed else None


def retry_backend() -> None:
    """Forget the last failure so the next call tries the server again."""
    _failures().clear()


@st.cache_data(show_spinner=False, max_entries=256, ttl=300)
def _graph_call(backend_key: str, method: str, args: tuple[Any, ...],
                kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return getattr(graph_backend(), method)(*args, **dict(kwargs))


@st.cache_data(show_spinner=False, max_entries=256)
def _snapshot_graph_call(backend_key: str, method: str, args: tuple[Any, ...],
                         kwargs: tuple[tuple[str, Any], ...]) -> Any:
    return getattr(graph_backend(), method)(*args, **dict(kwargs))


def graph_call(method: str, *args: Any, **kwargs: Any) -> Any:
    """``graph_backend().method(*args, **kwargs)`` (``ring_subgraph``, ``neighbourhood``,
    ``shortest_connection``, ``chain_of``), cached per backend, store version and arguments:
    on the embedded store as long as its published snapshot (which never changes), on a
    server for five minutes (a shared server changes under us)."""
    backend = graph_backend()
    key = f"{backend.name}:{_store_key()}"
    call = _snapshot_graph_call if backend.name == "embedded" else _graph_call
    return call(key, method, args, tuple(sorted(kwargs.items())))


def table_height(rows: int, most: int = 440) -> int:
    """A table's height in pixels: just tall enough for its rows (Streamlit draws 35 px per
    row, and the header), at most ``most``."""
    return min(most, 35 * (max(rows, 1) + 1) + 3)


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
    """The UI language: ``?lang=en`` (or ``zh``) in the URL decides and is remembered for the
    session, so moving to another page (which drops the URL's parameters) keeps it; Chinese
    until anything says otherwise."""
    value = url_param("lang")
    if value in ("en", "zh"):
        st.session_state["lang"] = value
    return "en" if st.session_state.get("lang") == "en" else "zh"


def shot_mode() -> bool:
    """Whether the view is drawn for a slide (截图模式, ``?shot=1``; ``?shot=capture`` when the
    server's own browser is taking its PNG): no sidebar, no controls, nothing personal
    revealed (see :mod:`dashboards.shot`)."""
    return url_param("shot") in ("1", "capture")


def capturing() -> bool:
    """Whether the server's browser is taking this view's PNG (``?shot=capture``)."""
    return url_param("shot") == "capture"


def current_user() -> User:
    """The signed-in user (the entry file stops the page before this when nobody is); in
    screenshot mode a masked view of them (:attr:`User.masked_view`)."""
    record = st.session_state.get("user")
    if not isinstance(record, dict):
        st.stop()
    user = User(**record)
    return replace(user, masked_view=True) if shot_mode() else user


def sign_in_as(user: User) -> None:
    """Keep ``user`` in the session (as plain data: Streamlit may reload our modules)."""
    st.session_state["user"] = asdict(user)


@st.cache_resource
def _session_keys() -> SessionKeys:
    return SessionKeys()


def _credential(username: str) -> str | None:
    """The user's credential now (``None``: not in the user file): tokens are bound to it."""
    return credential(settings().users_path, username)


def remember_sign_in(user: User) -> None:
    """Sign ``user`` in and have the browser keep a signed token (see
    :mod:`dashboards.sessions`), so a reload of the page keeps them signed in."""
    sign_in_as(user)
    token = _session_keys().issue(user.username,
                                  credential=_credential(user.username) or "")
    st.session_state["session_token"] = token
    st.session_state["cookie_js"] = (
        f'window.parent.document.cookie = "{COOKIE}={token}; Max-Age={LIFETIME_SECONDS}; '
        'Path=/; SameSite=Strict" + (window.parent.location.protocol === "https:" ? '
        '"; Secure" : "");')


def capture_cookie(lifetime: float = 120.0) -> tuple[str, str]:
    """A session cookie (name, token) for the signed-in user, valid ``lifetime`` seconds, for
    the server's browser that takes a PNG of the view; revoke it with
    :func:`revoke_capture_cookie` once the PNG is taken."""
    name = current_user().username
    return COOKIE, _session_keys().issue(name, credential=_credential(name) or "",
                                         lifetime=lifetime)


def revoke_capture_cookie(cookie: tuple[str, str]) -> None:
    """Refuse a token made by :func:`capture_cookie` from now on."""
    _session_keys().revoke(cookie[1])


def restore_sign_in() -> bool:
    """Sign in again from the browser's token when it is valid and its user is still in the
    user file (the role is read from the file now, not from the token)."""
    token = st.context.cookies.get(COOKIE)
    name = _session_keys().username(token, credential_of=_credential)
    user = next((u for u in read_users(settings().users_path) if u.username == name), None)
    if user is None:
        return False
    sign_in_as(user)
    st.session_state["session_token"] = token
    return True


def sign_out() -> None:
    """Forget the user: revoke the token on the server and delete the browser's cookie."""
    _session_keys().revoke(st.session_state.get("session_token"))
    st.session_state.clear()
    st.session_state["cookie_js"] = (
        f'window.parent.document.cookie = "{COOKIE}=; Max-Age=0; Path=/; SameSite=Strict";')


def write_session_cookie() -> None:
    """Run the cookie change that signing in or out asked for (an invisible component)."""
    script = st.session_state.pop("cookie_js", None)
    if script:
        st.iframe(f"<script>{script}</script>", height=1)


def _parse_day(text: str | None, fallback: date) -> date:
    try:
        return date.fromisoformat(text) if text else fallback
    except ValueError:
        return fallback


def url_period() -> Period:
    """The period kept in the URL (``from`` / ``to``, within the data's), without drawing the
    filter."""
    full = cached(data_period)
    start = min(max(_parse_day(url_param("from"), full.start), full.start), full.end)
    end = min(max(_parse_day(url_param("to"), full.end), full.start), full.end)
    return Period(min(start, end), max(start, end))


def period() -> Period:
    """The period filter in the sidebar, kept in the URL as ``from`` / ``to`` (not drawn in
    screenshot mode, which has no sidebar)."""
    lg = lang()
    full = cached(data_period)
    shown = url_period()
    if shot_mode():
        return shown
    start, end = shown.start, shown.end
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


def _revealed_subjects() -> set[str]:
    """The subjects (``kind:subject``) this session's investigator revealed with
    :func:`unmask_toggle`: the only place that reads them, for :func:`reveals` to decide."""
    return cast(set[str], st.session_state.setdefault("unmasked", set()))


def reveals(subject_kind: str, subject: str) -> bool:
    """Whether this view shows the personal data of ``subject`` (names, ID numbers, phones) in
    full: the one decision every table, network label, hover text, map label and download of
    personal data asks, through :func:`show_masked` and :func:`show_personal`.

    Never on a slide (截图模式, ``?shot=1``), never while the server's browser takes its PNG
    (:func:`capturing`), never for the leadership role; for an investigator only once they
    revealed this subject (:func:`unmask_toggle`, audited), in a normal view.

    Parameters
    ----------
    subject_kind, subject
        What the reveal covers, as the page passed it to :func:`unmask_toggle`: ``"ring"``
        and a ring id, ``"person"`` and a person number, ``"lead"`` and a lead id...
    """
    if shot_mode() or capturing() or not current_user().may_unmask:
        return False
    return f"{subject_kind}:{subject}" in _revealed_subjects()


def unmask_toggle(subject_kind: str, subject: str, *,
                  covers: tuple[tuple[str, str], ...] = ()) -> None:
    """The switch 显示完整个人信息 for investigators: it reveals the personal data of ``subject``
    (each reveal is written to the audit log); leadership gets a note that data is masked
    instead, and a slide (screenshot mode) neither. What the page then shows is
    :func:`reveals`' decision. ``covers``: the (kind, code) of every person or practitioner the
    reveal shows (a search's candidates), each named on its own audit line."""
    if shot_mode():
        return
    user = current_user()
    lg = lang()
    if not user.may_unmask:
        st.caption(t("masked_note", lg))
        return
    key = f"{subject_kind}:{subject}"
    before = reveals(subject_kind, subject)
    shown = st.toggle(t("unmask", lg), value=before, key=f"unmask-{key}")
    if shown and not before:
        context = st.query_params.to_dict().__repr__()
        for kind, code in covers or ((subject_kind, subject),):
            append_audit(settings().audit_path, user=user.username, role=user.role,
                         action="unmask", subject_kind=kind, subject=code,
                         context=f"{subject_kind}:{subject} {context}" if covers else context)
        _revealed_subjects().add(key)
    elif not shown:
        _revealed_subjects().discard(key)
    if reveals(subject_kind, subject):
        st.caption(t("unmasked_note", lg))


def show_masked(frame: pd.DataFrame, subject_kind: str, subject: str) -> pd.DataFrame:
    """A copy of ``frame`` as this view may show it: every personal column
    (:data:`yibao.masking.PERSONAL_COLUMNS`: persons' names, ID numbers and phones, doctors'
    names) masked unless :func:`reveals` ``(subject_kind, subject)``; a missing personal value
    shows as ``—``, not as "None"."""
    shown = frame.copy() if reveals(subject_kind, subject) else mask_frame(frame)
    missing = {c: "—" for c in PERSONAL_COLUMNS if c in shown.columns}
    return shown.fillna(missing) if missing else shown


def show_personal(value: str | None, kind: Personal, subject_kind: str, subject: str
                  ) -> str | None:
    """One personal value (a ``name``, ``certno`` or ``phone``) as this view may show it:
    masked unless :func:`reveals` ``(subject_kind, subject)``."""
    return value if reveals(subject_kind, subject) else mask_value(value, kind)


def lang_key(name: str) -> str:
    """A widget key per language: a widget that keeps its key keeps the labels it was drawn
    with, so a select would go on showing Chinese options after the switch to English."""
    return name if lang() == "zh" else f"{name}_en"


def url_multiselect(label: str, options: dict[str, tuple[str, str]], param: str, key: str,
                    placeholder: str) -> list[str]:
    """A multiselect of ``options`` (code → Chinese and English label) kept in the URL as
    ``param`` (comma-separated codes)."""
    li = 0 if lang() == "zh" else 1
    chosen = [v for v in (url_param(param, "") or "").split(",") if v in options]
    picked = st.multiselect(label, list(options), default=chosen,
                            format_func=lambda c: options[c][li], key=lang_key(key),
                            placeholder=placeholder)
    set_param(param, ",".join(picked) or None)
    return list(picked)


def url_selectbox(label: str, options: list[str], names: dict[str, str], param: str, key: str,
                  placeholder: str) -> str:
    """A selectbox of ``options`` (shown by ``names``; ``""`` first, shown as
    ``placeholder``) kept in the URL as ``param``."""
    chosen = url_param(param, "") or ""
    values = ["", *options]
    picked = st.selectbox(label, values, index=values.index(chosen) if chosen in values else 0,
                          format_func=lambda c: names.get(c, c) if c else placeholder,
                          placeholder=placeholder, key=lang_key(key))
    set_param(param, picked or None)
    return str(picked)


def flash(kind: Literal["error", "success", "info"], message: str) -> None:
    """Keep a message for the next draw of the page: a button's callback runs before the rerun
    it causes, so what it says must outlive that rerun (:func:`show_flash` draws it)."""
    st.session_state.setdefault("flash", []).append((kind, message))


def show_flash() -> None:
    """Draw (once) the messages :func:`flash` kept."""
    for kind, message in st.session_state.pop("flash", []):
        {"error": st.error, "success": st.success, "info": st.info}[kind](message)
