"""The workbench with a Neo4j backend that cannot be reached: it says so, answers graph
questions from the embedded store, and keeps working (issue 5, fault 3)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import no_exception
from tests.detected import Detected


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture
def absent_server(monkeypatch: pytest.MonkeyPatch) -> str:
    uri = f"bolt://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("YIBAO_BACKEND", "neo4j")
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.setenv("NEO4J_USER", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", "not-used")
    return uri


def test_absent_server_falls_back_to_the_embedded_store(
        absent_server: str, app: Callable[..., AppTest], detected: Detected) -> None:
    ring = max(detected.result.suspicious, key=lambda r: len(r.persons))
    at = app(page="rings", ring=ring.ring_id)
    no_exception(at)
    warnings = [w.value for w in at.warning]
    assert any("图数据库服务器暂时无法使用" in w and "NEO4J_URI" in w for w in warnings)
    assert any(str(detected.db) in w for w in warnings)
    network = [c.value for c in at.caption if "个节点" in c.value]
    assert network
    assert not network[0].startswith("0 ")
    at.button(key="retry_server").click().run()  # still absent: tried again, still says so
    no_exception(at)
    assert any("图数据库服务器暂时无法使用" in w.value for w in at.warning)


def test_embedded_default_shows_no_notice(app: Callable[..., AppTest],
                                          detected: Detected) -> None:
    at = app(page="rings", ring=detected.result.suspicious[0].ring_id)
    no_exception(at)
    assert not any("图数据库服务器" in w.value for w in at.warning)


def test_absent_ledger_server_is_named_and_not_waited_on_again(
        absent_server: str, app: Callable[..., AppTest],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Leads are never written to another store behind the user's back: the page says the
    ledger cannot be used, and for a minute re-renders do not try the server again."""
    import dashboards.ui as ui
    from yibao.stores import open_ledger as real_open

    attempts: list[str | None] = []

    def counting_open(*args: object, **kwargs: object) -> object:
        attempts.append(str(kwargs.get("backend")))
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ui, "open_ledger", counting_open)
    at = app(page="leads")
    no_exception(at)
    assert any("线索台账暂时无法使用" in e.value and absent_server.split("//")[1] in e.value
               for e in at.error), [e.value for e in at.error]
    assert attempts == ["neo4j"]
    at.run()
    assert attempts == ["neo4j"]  # remembered: no second wait on a dead server
    assert any("线索台账暂时无法使用" in e.value for e in at.error)
