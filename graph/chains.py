"""Traceability-code chains (追溯码链): where each box settled more than once went, hop by hop.

A box of drug carries one traceability code and can be sold once. When a code is settled again,
the settlements of that code in time order form a *chain*: buyer, collector, pharmacy that sold
it back into the system (回流药). :func:`build_chains` (re)creates two tables from the store:

* ``chains``: one row per code in two or more sales (reversals, 冲销, are hops too, marked),
  classed like the ``TRACE_REUSE`` rule (:data:`graph.rules.TRACE_CLASSES`), with the hops as
  JSON and their institutions, persons and settlements as lists in time order;
* ``chain_links``: consecutive effective sales of the suspicious chains (honest classes
  ``refund`` and ``split_pack`` left out) as institution -> institution and person -> person
  edges: the pharmacy and collector network the chains form, ready for the graph.

:func:`chain_of` gives the hops of one code straight from the base tables.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

import duckdb

from graph.rules import Rule, classify_trace_codes, write_transaction
from graph.rules.sqltools import STAT_TABLES

__all__ = ["ChainSummary", "Hop", "build_chains", "chain_of"]

HONEST_CLASSES: tuple[str, ...] = ("refund", "split_pack")


@dataclass(frozen=True)
class Hop:
    """One settlement of a traceability code.

    ``pric`` is the fee line's unit price (yuan) and ``cnt`` its quantity (negative on a
    reversal). ``reversal``: this settlement is a reversal (冲销) cancelling ``init_setl_id``;
    ``reversed``: this hop does not stand (a reversal, or a sale cancelled by one);
    ``effective``: a sale that counts, i.e. not reversed before the code's next sale.
    """

    setl_id: str
    psn_no: str
    fixmedins_code: str
    admdvs: str | None
    setl_time: datetime
    pric: float | None
    cnt: float | None
    reversed: bool
    reversal: bool
    effective: bool
    init_setl_id: str | None = None


@dataclass(frozen=True)
class ChainSummary:
    """What :func:`build_chains` built: chains per class and links per kind."""

    n_chains: int
    classes: Mapping[str, int]
    """Chains per ``hit_class``."""
    n_institution_links: int
    n_person_links: int
    seconds: float


_HOP_STRUCT = (
    "{'setl_id': setl_id, 'psn_no': psn_no, 'fixmedins_code': fixmedins_code, "
    "'admdvs': admdvs, 'setl_time': setl_time, 'pric': pric::DOUBLE, 'cnt': cnt::DOUBLE, "
    "'reversed': is_reversal OR reversed_at IS NOT NULL, 'reversal': is_reversal, "
    "'effective': effective, 'init_setl_id': init_setl_id}"
)

CHAINS_SQL = f"""CREATE OR REPLACE TABLE chains AS
    SELECT r.code AS drug_trac_codg, min(r.med_list_codg) AS med_list_codg,
           min(r.med_list_name) AS med_list_name, any_value(c.n_sales) AS n_settlements,
           any_value(c.n_effective) AS n_effective, any_value(c.hit_class) AS hit_class,
           min(r.setl_time) AS first_time, max(r.setl_time) AS last_time,
           list(r.fixmedins_code ORDER BY r.setl_time, r.setl_id) AS institutions,
           list(r.psn_no ORDER BY r.setl_time, r.setl_id) AS persons,
           list(r.setl_id ORDER BY r.setl_time, r.setl_id) AS setl_ids,
           to_json(list({_HOP_STRUCT} ORDER BY r.setl_time, r.setl_id)) AS hops
    FROM _trace_rows r JOIN _trace_class c ON c.code = r.code
    GROUP BY r.code
    ORDER BY r.code"""

LINK_ROWS_SQL = """CREATE OR REPLACE TEMP TABLE _chain_link_rows AS
    WITH e AS (
        SELECT s.code, s.setl_id, s.fixmedins_code, s.psn_no, s.setl_time, c.hit_class,
               lag(s.fixmedins_code) OVER w AS prev_inst, lag(s.psn_no) OVER w AS prev_psn,
               lag(s.setl_time) OVER w AS prev_time
        FROM _trace_rows s JOIN _trace_class c ON c.code = s.code
        WHERE s.effective AND c.hit_class NOT IN (SELECT unnest($honest::VARCHAR[]))
        WINDOW w AS (PARTITION BY s.code ORDER BY s.setl_time, s.setl_id)
    ), links AS (
        SELECT 'institution' AS kind, prev_inst AS src, fixmedins_code AS dst, code,
               prev_time, setl_time, hit_class
        FROM e WHERE prev_inst IS NOT NULL AND prev_inst <> fixmedins_code
        UNION ALL
        SELECT 'person', prev_psn, psn_no, code, prev_time, setl_time, hit_class
        FROM e WHERE prev_psn IS NOT NULL AND prev_psn <> psn_no
    )
    SELECT * FROM links"""
"""Every hop between two institutions or two persons of a suspicious chain (one code each)."""

LINKS_SQL = """CREATE OR REPLACE TABLE chain_links AS
    SELECT kind, src, dst, count(DISTINCT code) AS n_codes, min(prev_time) AS first_time,
           max(setl_time) AS last_time,
           list_sort(list_distinct(list(hit_class))) AS hit_classes,
           list_sort(list_distinct(list(code)))[1:$sample] AS chain_codes
    FROM _chain_link_rows GROUP BY kind, src, dst
    ORDER BY kind, src, dst"""
"""The hops of :data:`LINK_ROWS_SQL` per pair, over every code: a partitioned run makes the
rows per code and groups them per pair."""


def build_chains(
    con: duckdb.DuckDBPyConnection, *, rule: Rule | None = None, sample_codes: int = 20
) -> ChainSummary:
    """(Re)create the ``chains`` and ``chain_links`` tables (see the module docstring).

    ``rule`` is the ``TRACE_REUSE`` rule whose thresholds class the chains (default: the
    shipped rule base's), so chains and rule hits agree. ``chain_links.chain_codes`` keeps the
    first ``sample_codes`` codes of a link (sorted); ``n_codes`` counts them all. ``con`` must be
    writable; inside the caller's open transaction the tables are part of it. Runs set-based in
    DuckDB: a city-year (a million settlements) takes about half a second.
    """
    started = time.perf_counter()
    with write_transaction(con):
        classify_trace_codes(con, rule)
        con.execute(CHAINS_SQL)
        con.execute(LINK_ROWS_SQL, {"honest": list(HONEST_CLASSES)})
        con.execute(LINKS_SQL, {"sample": int(sample_codes)})
        classes = con.execute(
            "SELECT hit_class, count(*) FROM chains GROUP BY 1 ORDER BY 1").fetchall()
        links = dict(con.execute("SELECT kind, count(*) FROM chain_links GROUP BY 1").fetchall())
        for name in (*STAT_TABLES, "_chain_link_rows"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    by_class = {str(k): int(n) for k, n in classes}
    return ChainSummary(
        n_chains=sum(by_class.values()),
        classes=MappingProxyType(by_class),
        n_institution_links=int(links.get("institution", 0)),
        n_person_links=int(links.get("person", 0)),
        seconds=time.perf_counter() - started,
    )


_CHAIN_OF_SQL = """
    WITH lines AS (
        SELECT t.setl_id, min(f.pric) AS pric, sum(f.cnt) AS cnt
        FROM trace_codes t
        JOIN fee_details f ON f.setl_id = t.setl_id AND f.feedetl_sn = t.feedetl_sn
        WHERE t.drug_trac_codg = $code
        GROUP BY 1
    ), rows AS (
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, i.admdvs, s.setl_time, l.pric, l.cnt,
               s.init_setl_id, s.init_setl_id IS NOT NULL AS is_reversal,
               (SELECT min(x.setl_time) FROM settlements x
                WHERE x.init_setl_id = s.setl_id) AS reversed_at
        FROM lines l JOIN settlements s ON s.setl_id = l.setl_id
        LEFT JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
    ), sales AS (
        SELECT setl_id, lead(setl_time) OVER (ORDER BY setl_time, setl_id) AS next_time
        FROM rows WHERE NOT is_reversal
    )
    SELECT r.setl_id, r.psn_no, r.fixmedins_code, r.admdvs, r.setl_time, r.pric::DOUBLE,
           r.cnt::DOUBLE, r.is_reversal OR r.reversed_at IS NOT NULL, r.is_reversal,
           NOT r.is_reversal AND NOT (r.reversed_at IS NOT NULL
                AND (s.next_time IS NULL OR r.reversed_at <= s.next_time)),
           r.init_setl_id
    FROM rows r LEFT JOIN sales s ON s.setl_id = r.setl_id
    ORDER BY r.setl_time, r.setl_id"""


def chain_of(con: duckdb.DuckDBPyConnection, code: str) -> list[Hop]:
    """The settlements of traceability code ``code`` in time order (reversals included).

    Reads the base tables (no need for :func:`build_chains` first); ``effective`` follows the
    same refund rule as the chains: a sale reversed before the code's next sale does not count.
    An unknown code gives an empty list.
    """
    rows: list[tuple[Any, ...]] = con.execute(_CHAIN_OF_SQL, {"code": str(code)}).fetchall()
    return [
        Hop(
            setl_id=r[0], psn_no=r[1], fixmedins_code=r[2], admdvs=r[3], setl_time=r[4],
            pric=r[5], cnt=r[6], reversed=bool(r[7]), reversal=bool(r[8]),
            effective=bool(r[9]), init_setl_id=r[10],
        )
        for r in rows
    ]
