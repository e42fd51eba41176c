"""Claims read as rows with codes and numbered per part: the whole store numbered so equals
:func:`claims_from_store`, and the co-settlement events of a part holding whole institutions
are the whole store's events of those institutions, in the same order and with the same
weights (what lets Spark build the projection an institution bucket at a time)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from graph.claims import claim_rows_sql, claims_from_codes, claims_from_store
from graph.projection import co_settlement_events, projection_scale
from loaders.store import open_store
from tests.detected import Detected

pytestmark = pytest.mark.integration


def _codes(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [r[0] for r in con.execute(sql).fetchall()]


def _numbered(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> tuple[object, list[str]]:
    rows = con.sql(claim_rows_sql(con, where) + " ORDER BY setl_id").to_arrow_table()
    ids = rows.column("setl_id").to_pylist()
    flagged = np.isin(np.asarray(ids, dtype=object), _codes(
        con, "SELECT DISTINCT unnest(setl_ids) FROM rule_hits WHERE severity = 'high'"))
    claims = claims_from_codes(
        rows, flagged=flagged,
        person_codes=sorted(set(rows.column("psn_no").to_pylist())) if where != "TRUE"
        else _codes(con, "SELECT psn_no FROM persons"),
        institution_codes=sorted(set(rows.column("fixmedins_code").to_pylist()))
        if where != "TRUE" else _codes(con, "SELECT fixmedins_code FROM institutions"),
        doctor_codes=_codes(con, "SELECT DISTINCT dr_codg FROM settlements "
                                 "WHERE dr_codg IS NOT NULL"),
        operator_codes=_codes(con, "SELECT DISTINCT opter_id FROM settlements "
                                   "WHERE opter_id IS NOT NULL"),
        diagnosis_codes=_codes(con, "SELECT DISTINCT dise_codg FROM settlements "
                                    "WHERE dise_codg IS NOT NULL"))
    return claims, ids


def test_numbered_rows_equal_the_stores_claims(detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        whole = claims_from_store(store.con)
        numbered, _ = _numbered(store.con)
    for name in whole.__dataclass_fields__:
        assert np.array_equal(np.asarray(getattr(whole, name)),
                              np.asarray(getattr(numbered, name))), name


def test_a_part_of_whole_institutions_has_the_wholes_events(detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        con = store.con
        whole, whole_ids = _numbered(con)
        busy = _codes(con, "SELECT fixmedins_code FROM settlements GROUP BY 1 "
                           "ORDER BY count(*) DESC, 1 LIMIT 400")
        part_where = "s.fixmedins_code IN (SELECT unnest(['" + "','".join(busy[::2]) + "']))"
        part, part_ids = _numbered(con, part_where)
    scale = projection_scale(whole)  # type: ignore[arg-type]
    everything = co_settlement_events(whole, scale=scale)  # type: ignore[arg-type]
    mine = co_settlement_events(part, scale=scale)  # type: ignore[arg-type]
    kept = set(busy[::2])
    inst = np.asarray(whole.institution_codes)[whole.institution[everything.a]]  # type: ignore[attr-defined]
    sel = np.isin(inst, list(kept))
    ids = np.asarray(whole_ids, dtype=object)
    expected = list(zip(ids[everything.a[sel]].tolist(), ids[everything.b[sel]].tolist(),
                        everything.weight[sel].tolist(), strict=True))
    pids = np.asarray(part_ids, dtype=object)
    got = list(zip(pids[mine.a].tolist(), pids[mine.b].tolist(), mine.weight.tolist(),
                   strict=True))
    assert len(expected) > 100
    assert got == expected  # same events, same order, same weights to the bit
