"""Two facts about stored rings that a lead and the ring list share, each from one definition.

* :func:`ring_practitioners`: the practitioners (医保医师/药师) of each ring as its network
  shows them. :func:`graph.subgraph.ring_subgraph` draws a practitioner node for every
  ``dr_codg`` recorded on the ring's effective settlements (table ``ring_settlements``); the
  stored ``rings.practitioners`` holds only the doctors a detector named (a colluding doctor),
  so a ring list counting it said 0 while the network showed the ring's doctors.
* :func:`ring_places`: the institutions of each ring by the money of the ring's settlements
  there (涉及医保基金 = 统筹 + 个人账户, :data:`graph.money.FUND_SQL`), most first: the place
  where the ring's money went, which names and locates a lead made from the ring.

Both read many rings in one query (the ring list shows dozens at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["RingPlace", "ring_places", "ring_practitioners"]


@dataclass(frozen=True)
class RingPlace:
    """One institution of a ring: its code, name and division (``admdvs``), and the ring's
    fund money (yuan) and settlements there."""

    code: str
    name: str
    admdvs: str | None
    fund: float
    settlements: int


def _ids(ring_ids: Sequence[str] | None) -> list[str] | None:
    return None if ring_ids is None else [str(r) for r in ring_ids]


def ring_practitioners(con: duckdb.DuckDBPyConnection, ring_ids: Sequence[str] | None = None
                       ) -> dict[str, tuple[str, ...]]:
    """Ring id -> the sorted practitioner codes of its network (see the module docstring), for
    ``ring_ids`` (default: every ring); a ring whose settlements name no practitioner is
    absent."""
    from graph.claims import effective_settlements_sql, has_table

    if not has_table(con, "ring_settlements"):
        return {}
    cur = con.cursor()
    try:
        rows = cur.execute(f"""
            SELECT rs.ring_id, list_sort(list_distinct(list(s.dr_codg)))
            FROM ring_settlements rs
            JOIN ({effective_settlements_sql("s.dr_codg IS NOT NULL AND s.dr_codg <> ''")}) s
              ON s.setl_id = rs.setl_id
            WHERE $ids IS NULL OR list_contains($ids, rs.ring_id)
            GROUP BY rs.ring_id""", {"ids": _ids(ring_ids)}).fetchall()
    finally:
        cur.close()
    return {str(ring): tuple(str(c) for c in codes) for ring, codes in rows}


def ring_places(con: duckdb.DuckDBPyConnection, ring_ids: Sequence[str] | None = None
                ) -> dict[str, tuple[RingPlace, ...]]:
    """Ring id -> its institutions by the ring's fund money there, most first (ties: more
    settlements, then the code), for ``ring_ids`` (default: every ring)."""
    from graph.claims import has_table
    from graph.money import FUND_SQL

    if not (has_table(con, "ring_settlements") and has_table(con, "institutions")):
        return {}
    cur = con.cursor()
    try:
        rows = cur.execute(f"""
            SELECT rs.ring_id, s.fixmedins_code, any_value(i.fixmedins_name),
                   any_value(i.admdvs), sum({FUND_SQL}) AS fund, count(*) AS n
            FROM ring_settlements rs JOIN settlements s ON s.setl_id = rs.setl_id
            LEFT JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
            WHERE $ids IS NULL OR list_contains($ids, rs.ring_id)
            GROUP BY rs.ring_id, s.fixmedins_code
            ORDER BY rs.ring_id, fund DESC, n DESC, s.fixmedins_code""",
                           {"ids": _ids(ring_ids)}).fetchall()
    finally:
        cur.close()
    out: dict[str, list[RingPlace]] = {}
    for ring, code, name, admdvs, fund, n in rows:
        out.setdefault(str(ring), []).append(RingPlace(
            code=str(code), name=str(name or code), admdvs=admdvs,
            fund=round(float(fund or 0), 2), settlements=int(n)))
    return {ring: tuple(places) for ring, places in out.items()}
