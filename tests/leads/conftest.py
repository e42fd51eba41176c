"""A ledger in ``tmp_path`` with a clock the test moves (helpers in ``ledger_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.leads.ledger_helpers import Clock
from yibao.leads.sqlite_ledger import SqliteLedger


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> SqliteLedger:
    return SqliteLedger(tmp_path / "leads.sqlite", clock=clock)
