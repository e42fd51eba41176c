"""``TRACE_REUSE``: traceability codes sold more than once, classified (resale, counterfeit,
item substitution, and the honest refund and split pack)."""

from __future__ import annotations

from typing import Literal

import duckdb

from graph.rules.rulebase import Rule, default_rule
from graph.rules.sqltools import gap_sql, km_sql, prepare_views, run_sql
from yibao.geo import haversine_km_sql


def classify_trace_codes(con: duckdb.DuckDBPyConnection, rule: Rule | None = None) -> None:
    """Find every traceability code sold in two or more settlements and classify it.

    Leaves three temporary tables on ``con`` (dropped with the connection):

    * ``_trace_rows``: one row per code and settlement (reversals included) of codes in more
      than one settlement: the fee line's ``med_list_codg``, name, ``pric`` (yuan), ``cnt``,
      the settlement's person, institution (``admdvs``, ``lon``, ``lat``), ``setl_time``,
      ``is_reversal``, ``init_setl_id``, ``reversed_at`` (when it was reversed) and, for sales,
      ``effective``: false for a sale reversed before the code's next sale (a refund, 退货).
    * ``_trace_pairs``: consecutive effective sales of a code with ``gap_days`` and ``km``.
    * ``_trace_class``: one row per code with two or more sales: ``hit_class`` (see
      :data:`TRACE_CLASSES`) and the numbers behind it.

    The class: ``refund`` when at most one sale is effective; at one institution,
    ``split_pack`` when every effective sale is a part (unit price at most
    ``split_max_price_ratio`` times the item's median price, or a fractional quantity), else
    ``item_substitution``; across institutions, ``counterfeit`` when two consecutive sales at
    different institutions are less than ``resale_min_gap_days`` apart, else ``resale``.
    """
    if rule is None:
        rule = default_rule("TRACE_REUSE")
    params = {"gap_days": rule.number("resale_min_gap_days"),
              "ratio": rule.number("split_max_price_ratio")}
    prepare_views(con)
    for sql in _TRACE_SQL:
        run_sql(con, sql, params)


ITEM_PRICE_SELECT = """
    SELECT med_list_codg, median(pric) AS typical_pric FROM fee_details
    WHERE med_list_codg IN (SELECT DISTINCT med_list_codg FROM {items})
      AND cnt > 0 AND pric > 0
    GROUP BY 1"""
"""The usual unit price of each item of ``{items}`` (a table with ``med_list_codg``): the
median over all its fee lines."""

ITEM_PRICE_SQL = ("CREATE TEMP TABLE IF NOT EXISTS _item_price AS "
                  + ITEM_PRICE_SELECT.format(items="_trace_rows"))
"""The usual prices of the items sold under a reused code. A partitioned run computes them
per item over every fee line of the item and hands the table in (a ``_item_price`` already
there is kept)."""

_TRACE_SQL = (
    """CREATE OR REPLACE TEMP TABLE _trace_rows AS
    WITH multi AS (
        SELECT drug_trac_codg FROM trace_codes GROUP BY 1 HAVING count(*) > 1
    ), lines AS (
        SELECT t.drug_trac_codg AS code, t.setl_id,
               min(f.med_list_codg) AS med_list_codg, min(f.med_list_name) AS med_list_name,
               min(f.pric) AS pric, sum(f.cnt) AS cnt
        FROM trace_codes t
        JOIN multi m ON m.drug_trac_codg = t.drug_trac_codg
        JOIN fee_details f ON f.setl_id = t.setl_id AND f.feedetl_sn = t.feedetl_sn
        GROUP BY 1, 2
    ), multi_setl AS (
        SELECT * FROM lines WHERE code IN (SELECT code FROM lines GROUP BY 1 HAVING count(*) > 1)
    ), rows AS (
        SELECT l.*, s.psn_no, s.fixmedins_code, i.admdvs, i.lon, i.lat, s.setl_time,
               s.init_setl_id, s.init_setl_id IS NOT NULL AS is_reversal, r.reversed_at,
               s.fund_pay_sumamt
        FROM multi_setl l
        JOIN settlements s ON s.setl_id = l.setl_id
        LEFT JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        LEFT JOIN _reversed r ON r.setl_id = l.setl_id
    ), sales AS (
        SELECT code, setl_id,
               lead(setl_time) OVER w AS next_time,
               lead(fixmedins_code) OVER w AS next_inst,
               lead(setl_id) OVER w AS next_setl_id
        FROM rows WHERE NOT is_reversal
        WINDOW w AS (PARTITION BY code ORDER BY setl_time, setl_id)
    )
    SELECT r.*, s.next_time, s.next_inst, s.next_setl_id,
           CASE WHEN r.is_reversal THEN false
                ELSE NOT (r.reversed_at IS NOT NULL
                          AND (s.next_time IS NULL OR r.reversed_at <= s.next_time))
           END AS effective
    FROM rows r LEFT JOIN sales s ON s.code = r.code AND s.setl_id = r.setl_id""",
    f"""CREATE OR REPLACE TEMP TABLE _trace_pairs AS
    WITH e AS (
        SELECT code, setl_id, fixmedins_code, setl_time, lon, lat,
               lag(setl_id) OVER w AS prev_setl_id, lag(fixmedins_code) OVER w AS prev_inst,
               lag(setl_time) OVER w AS prev_time, lag(lon) OVER w AS prev_lon,
               lag(lat) OVER w AS prev_lat
        FROM _trace_rows WHERE effective
        WINDOW w AS (PARTITION BY code ORDER BY setl_time, setl_id)
    )
    SELECT code, prev_setl_id, prev_inst, prev_time, setl_id, fixmedins_code, setl_time,
           epoch(setl_time - prev_time) / 86400.0 AS gap_days,
           {haversine_km_sql("prev_lon", "prev_lat", "lon", "lat")} AS km
    FROM e WHERE prev_setl_id IS NOT NULL""",
    ITEM_PRICE_SQL,
    """CREATE OR REPLACE TEMP TABLE _trace_class AS
    WITH price AS (
        SELECT med_list_codg, typical_pric FROM _item_price
    ), per_code AS (
        SELECT t.code, min(t.med_list_codg) AS med_list_codg,
               count(*) AS n_sales,
               count(*) FILTER (WHERE t.effective) AS n_effective,
               count(*) FILTER (WHERE NOT t.effective) AS n_refunded,
               count(DISTINCT t.fixmedins_code) FILTER (WHERE t.effective) AS n_institutions,
               bool_and(t.pric <= $ratio * p.typical_pric OR t.cnt <> trunc(t.cnt))
                   FILTER (WHERE t.effective) AS split_evidence,
               min(t.pric) FILTER (WHERE t.effective) AS min_pric,
               max(t.pric) FILTER (WHERE t.effective) AS max_pric,
               sum(t.cnt) FILTER (WHERE t.effective) AS sum_cnt,
               any_value(p.typical_pric) AS typical_pric,
               min(t.fixmedins_code) FILTER (WHERE t.effective) AS one_inst,
               min(t.setl_time) FILTER (WHERE t.effective) AS first_sale,
               max(t.setl_time) FILTER (WHERE t.effective) AS last_sale,
               arg_min({'setl_time': t.setl_time, 'inst': t.fixmedins_code,
                        'reversed_at': t.reversed_at, 'next_time': t.next_time,
                        'next_inst': t.next_inst},
                       {'t': t.setl_time, 's': t.setl_id})
                   FILTER (WHERE NOT t.effective) AS refund
        FROM _trace_rows t LEFT JOIN price p USING (med_list_codg)
        WHERE NOT t.is_reversal
        GROUP BY t.code HAVING count(*) >= 2
    ), cross_pairs AS (
        SELECT code, min(gap_days) AS min_gap_days, max(km) AS max_km,
               arg_min({'from_inst': prev_inst, 'from_time': prev_time, 'to_inst': fixmedins_code,
                        'to_time': setl_time, 'gap_days': gap_days, 'km': km},
                       {'t': setl_time, 's': setl_id}) AS first_cross,
               arg_min({'from_inst': prev_inst, 'from_time': prev_time, 'to_inst': fixmedins_code,
                        'to_time': setl_time, 'gap_days': gap_days, 'km': km},
                       {'g': gap_days, 't': setl_time, 's': setl_id}) AS closest_cross
        FROM _trace_pairs WHERE prev_inst <> fixmedins_code
        GROUP BY code
    )
    SELECT c.*, x.min_gap_days, x.max_km, x.first_cross, x.closest_cross,
           CASE WHEN c.n_effective <= 1 THEN 'refund'
                WHEN c.n_institutions = 1 AND coalesce(c.split_evidence, false) THEN 'split_pack'
                WHEN c.n_institutions = 1 THEN 'item_substitution'
                WHEN x.min_gap_days < $gap_days THEN 'counterfeit'
                ELSE 'resale' END AS hit_class
    FROM per_code c LEFT JOIN cross_pairs x USING (code)""",
)


def _trace_evidence(lang: Literal["zh", "en"]) -> str:
    """SQL CASE giving a ``TRACE_REUSE`` hit's evidence sentence from ``_trace_class`` ``c``."""
    def d(ts: str) -> str:
        return f"strftime({ts}, '%Y-%m-%d')"

    fc, cc, rf = "c.first_cross", "c.closest_cross", "c.refund"
    if lang == "zh":
        resale = (
            f"format('同一追溯码 {{}} 于 {{}} 在 {{}} 结算后，{{}}后又在 {{}}（{{}}）再次结算；"
            f"共 {{}} 次有效结算，涉及 {{}} 家机构', c.code, {d(fc + '.from_time')}, "
            f"{fc}.from_inst, {gap_sql(fc + '.gap_days', 'zh')}, {fc}.to_inst, "
            f"{km_sql(fc + '.km', 'zh')}, c.n_effective, c.n_institutions)")
        counterfeit = (
            f"format('同一追溯码 {{}} 于 {{}} 在 {{}} 结算，仅 {{}}后又在 {{}}（{{}}）结算，"
            f"一盒药不可能如此流转，疑似伪造追溯码；共 {{}} 次有效结算', c.code, "
            f"{d(cc + '.from_time')}, {cc}.from_inst, {gap_sql(cc + '.gap_days', 'zh')}, "
            f"{cc}.to_inst, {km_sql(cc + '.km', 'zh')}, c.n_effective)")
        substitution = (
            "format('同一追溯码 {} 在同一机构 {} 于 {} 至 {} 结算 {} 次，单价 {:.2f} 元"
            "（该目录常见单价 {:.2f} 元），非拆零，疑似串换或重复收费', c.code, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.n_effective, c.min_pric, "
            "c.typical_pric)")
        split = (
            "format('追溯码 {} 在同一机构 {} 拆零销售 {} 次（{} 至 {}），单价 {:.2f} 元"
            "远低于整盒常见单价 {:.2f} 元，合计数量 {}：属拆零销售', c.code, c.one_inst, "
            f"c.n_effective, {d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, "
            "c.typical_pric, c.sum_cnt::DOUBLE)")
        refund = (
            f"format('追溯码 {{}} 于 {{}} 在 {{}} 售出，{{}} 冲销退货后，{{}}在 {{}} 再次售出；"
            f"冲销 {{}} 次、有效结算 {{}} 次：属退货后重新销售', c.code, {d(rf + '.setl_time')}, "
            f"{rf}.inst, {d(rf + '.reversed_at')}, "
            f"coalesce({d(rf + '.next_time')} || ' ', '其后未'), "
            f"coalesce({rf}.next_inst, '任何机构'), c.n_refunded, c.n_effective)")
    else:
        resale = (
            f"format('Trace code {{}} was settled at {{}} on {{}} and again {{}} later at {{}} "
            f"({{}}); {{}} effective settlements at {{}} institutions', c.code, "
            f"{fc}.from_inst, {d(fc + '.from_time')}, {gap_sql(fc + '.gap_days', 'en')}, "
            f"{fc}.to_inst, {km_sql(fc + '.km', 'en')}, c.n_effective, c.n_institutions)")
        counterfeit = (
            f"format('Trace code {{}} was settled at {{}} on {{}} and only {{}} later at {{}} "
            f"({{}}), too fast for one box to change hands: suspected forged code; {{}} effective "
            f"settlements', c.code, {cc}.from_inst, {d(cc + '.from_time')}, "
            f"{gap_sql(cc + '.gap_days', 'en')}, {cc}.to_inst, {km_sql(cc + '.km', 'en')}, "
            "c.n_effective)")
        substitution = (
            "format('Trace code {} was settled {} times at the same institution {} from {} to "
            "{} at {:.2f} yuan a unit (usual price {:.2f} yuan), not a split pack: suspected "
            "item substitution or double billing', c.code, c.n_effective, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, c.typical_pric)")
        split = (
            "format('Trace code {} was sold in {} parts at the same institution {} ({} to {}) "
            "at {:.2f} yuan a unit, far below the usual box price of {:.2f} yuan, {} units in "
            "all: a split pack', c.code, c.n_effective, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, c.typical_pric, "
            "c.sum_cnt::DOUBLE)")
        refund = (
            f"format('Trace code {{}} was sold at {{}} on {{}}, refunded (reversed) on {{}}, then "
            f"sold again {{}} at {{}}; {{}} reversed and {{}} effective sales: a return sold "
            f"again', c.code, {rf}.inst, {d(rf + '.setl_time')}, {d(rf + '.reversed_at')}, "
            f"coalesce('on ' || {d(rf + '.next_time')}, 'never'), "
            f"coalesce({rf}.next_inst, 'no institution'), c.n_refunded, c.n_effective)")
    return (f"CASE c.hit_class WHEN 'resale' THEN {resale} WHEN 'counterfeit' THEN {counterfeit} "
            f"WHEN 'item_substitution' THEN {substitution} WHEN 'split_pack' THEN {split} "
            f"ELSE {refund} END")


def trace_reuse(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    classify_trace_codes(con, rule)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH per AS (
        SELECT code, list_sort(list_distinct(list(psn_no))) AS persons,
               list_sort(list_distinct(list(fixmedins_code))) AS institutions,
               list_sort(list_distinct(list(setl_id))) AS setl_ids
        FROM _trace_rows WHERE code IN (SELECT code FROM _trace_class) GROUP BY code
    )
    SELECT [c.code] AS hit_keys, c.hit_class, 'trace_code' AS subject_kind,
           c.code AS subject_id, p.persons, p.institutions, []::VARCHAR[] AS practitioners,
           p.setl_ids, [c.code] AS trace_codes,
           {_trace_evidence("zh")} AS evidence_zh, {_trace_evidence("en")} AS evidence_en,
           json_object('med_list_codg', c.med_list_codg, 'n_sales', c.n_sales,
                       'n_effective', c.n_effective, 'n_refunded', c.n_refunded,
                       'n_institutions', c.n_institutions,
                       'min_gap_days', round(c.min_gap_days, 2), 'max_km', round(c.max_km, 1),
                       'unit_price_yuan', c.min_pric::DOUBLE,
                       'typical_price_yuan', c.typical_pric::DOUBLE,
                       'total_cnt', c.sum_cnt::DOUBLE) AS metrics
    FROM _trace_class c JOIN per p USING (code)""")
