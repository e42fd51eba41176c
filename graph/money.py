"""One definition of the money a settlement, a ring or a hit puts at stake.

涉及医保基金 (insurance money involved) = 统筹基金支付 (``fund_pay_sumamt``, the pooled fund) +
个人账户支付 (``acct_pay``, the insured's own medical account, which is insurance money too).
The cash the person paid (``psn_cash_pay``) is not. Every figure of "money" in detection, the
CLI, the workbench, leads and the brief is this sum, read through the SQL here or the ring's
stored amount that :func:`ring_money` recomputes from the store.

A ring's settlements are one set: its member persons' effective settlements at its
institutions (table ``ring_settlements``, written by :mod:`graph.detect`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

__all__ = ["ACCOUNT_SQL", "FUND_SQL", "POOL_SQL", "Money", "ring_money"]

POOL_SQL = "coalesce(s.fund_pay_sumamt, 0)::DOUBLE"
"""统筹基金 of settlement alias ``s`` (yuan)."""
ACCOUNT_SQL = "coalesce(s.acct_pay, 0)::DOUBLE"
"""个人账户 of settlement alias ``s`` (yuan)."""
FUND_SQL = f"({POOL_SQL} + {ACCOUNT_SQL})"
"""涉及医保基金 of settlement alias ``s``: 统筹 + 个人账户 (yuan)."""


@dataclass(frozen=True)
class Money:
    """Insurance money of a set of settlements, yuan: ``fund`` = ``pool`` + ``account``."""

    pool: float
    account: float
    settlements: int

    @property
    def fund(self) -> float:
        return round(self.pool + self.account, 2)


def ring_money(con: duckdb.DuckDBPyConnection, ring_id: str, *,
               start: object | None = None, end: object | None = None) -> Money:
    """The money of ``ring_id``'s settlements (optionally those with ``start <= setl_time <
    end``), summed in SQL over ``ring_settlements``: the figure every view of a ring shows."""
    row = con.execute(f"""
        SELECT coalesce(sum({POOL_SQL}), 0), coalesce(sum({ACCOUNT_SQL}), 0), count(*)
        FROM ring_settlements rs JOIN settlements s ON s.setl_id = rs.setl_id
        WHERE rs.ring_id = $ring
          AND ($start IS NULL OR s.setl_time >= $start)
          AND ($end IS NULL OR s.setl_time < $end)
    """, {"ring": ring_id, "start": start, "end": end}).fetchall()[0]
    return Money(pool=round(float(row[0]), 2), account=round(float(row[1]), 2),
                 settlements=int(row[2]))
