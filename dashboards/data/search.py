"""查询 Search for the workbench: find a person, institution, doctor or trace code by code or name,
its profile in a period, the hops of a trace code, and the names behind a graph's nodes.

Every query is parameterised; user text only ever reaches SQL as a ``LIKE``/``ILIKE`` pattern
with its wildcards escaped (:func:`escape_like`), so ``%`` and ``_`` match themselves. Personal
columns (``psn_name``, ``certno``, ``tel``, ``dr_name``) come back in full: masking is the
caller's job, because only the caller knows the user's role.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Literal

import duckdb
import pandas as pd

from dashboards.data.common import FUND_SQL, Period, query_frame
from graph.chains import chain_of
from graph.claims import effective_settlements_sql
from yibao.divisions import division_name
from yibao.i18n import Lang

__all__ = [
    "SEARCH_KINDS",
    "SEARCH_LIMIT",
    "escape_like",
    "institution_profile",
    "names_of",
    "period_bounds",
    "person_profile",
    "practitioner_profile",
    "ring_spans",
    "search_entities",
    "trace_code_hops",
    "trace_code_summary",
]

SearchKind = Literal["person", "institution", "practitioner", "trace_code"]
SearchBy = Literal["code", "name"]

SEARCH_KINDS: tuple[SearchKind, ...] = ("person", "institution", "practitioner", "trace_code")
"""What can be searched: 参保人, 定点医药机构, 医保医师, 药品追溯码."""

SEARCH_LIMIT = 50
"""Candidates shown for one search (the best by settlements in the period)."""

Node = tuple[str, str]


def escape_like(text: str) -> str:
    """``text`` with ``\\``, ``%`` and ``_`` escaped for ``LIKE ... ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period as datetimes: the first day's midnight and the last day's last microsecond
    (what :func:`graph.subgraph.neighbourhood` takes: both ends inclusive)."""
    return datetime.combine(period.start, time.min), datetime.combine(period.end, time.max)


def _in_period(column: str, codes_sql: str) -> str:
    """Effective settlements in ``$p_start``..``$p_end`` whose ``column`` is in ``codes_sql``."""
    return effective_settlements_sql(
        f"s.setl_time >= $p_start AND s.setl_time < $p_end AND s.{column} IN ({codes_sql})")


_PERSON_SQL = """
    WITH m AS (SELECT psn_no, psn_name, certno, tel, gend, insu_admdvs FROM persons
               WHERE {column} {op} $pattern ESCAPE '\\'),
    a AS (SELECT s.psn_no, count(*) AS settlements, sum({fund}) AS fund
          FROM ({settlements}) s GROUP BY 1)
    SELECT m.*, coalesce(a.settlements, 0) AS settlements, coalesce(a.fund, 0) AS fund,
           count(*) OVER () AS matches
    FROM m LEFT JOIN a USING (psn_no)
    ORDER BY m.psn_no = $q DESC, settlements DESC, m.psn_no
    LIMIT $limit
"""

_INSTITUTION_SQL = """
    WITH m AS (SELECT fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv, admdvs
               FROM institutions WHERE {column} {op} $pattern ESCAPE '\\'),
    a AS (SELECT s.fixmedins_code, count(*) AS settlements, sum({fund}) AS fund
          FROM ({settlements}) s GROUP BY 1)
    SELECT m.*, coalesce(a.settlements, 0) AS settlements, coalesce(a.fund, 0) AS fund,
           count(*) OVER () AS matches
    FROM m LEFT JOIN a USING (fixmedins_code)
    ORDER BY m.fixmedins_code = $q DESC, settlements DESC, m.fixmedins_code
    LIMIT $limit
"""

_PRACTITIONER_SQL = """
    WITH m AS (SELECT d.dr_codg, d.dr_name, d.dr_type, d.fixmedins_code, i.fixmedins_name
               FROM practitioners d
               LEFT JOIN institutions i ON i.fixmedins_code = d.fixmedins_code
               WHERE d.{column} {op} $pattern ESCAPE '\\'),
    a AS (SELECT s.dr_codg, count(*) AS settlements, sum({fund}) AS fund
          FROM ({settlements}) s GROUP BY 1)
    SELECT m.*, coalesce(a.settlements, 0) AS settlements, coalesce(a.fund, 0) AS fund,
           count(*) OVER () AS matches
    FROM m LEFT JOIN a USING (dr_codg)
    ORDER BY m.dr_codg = $q DESC, settlements DESC, m.dr_codg
    LIMIT $limit
"""

# Trace codes are many (one per box): rank on all-time sales from the code table alone, then
# look only the shown codes up in settlements and fee lines.
_TRACE_SQL = """
    WITH m AS (SELECT drug_trac_codg, count(DISTINCT setl_id) AS sales,
                      count(*) OVER () AS matches
               FROM trace_codes WHERE drug_trac_codg LIKE $pattern ESCAPE '\\'
               GROUP BY 1
               ORDER BY drug_trac_codg = $q DESC, sales DESC, drug_trac_codg
               LIMIT $limit),
    t AS (SELECT t.drug_trac_codg, t.setl_id, t.feedetl_sn FROM trace_codes t
          WHERE t.drug_trac_codg IN (SELECT drug_trac_codg FROM m)),
    a AS (SELECT t.drug_trac_codg, count(DISTINCT s.setl_id) AS settlements,
                 sum({fund}) AS fund
          FROM (SELECT DISTINCT drug_trac_codg, setl_id FROM t) t
          JOIN ({settlements}) s ON s.setl_id = t.setl_id GROUP BY 1),
    d AS (SELECT t.drug_trac_codg, min(f.med_list_name) AS med_list_name
          FROM t JOIN fee_details f ON f.setl_id = t.setl_id AND f.feedetl_sn = t.feedetl_sn
          GROUP BY 1)
    SELECT m.drug_trac_codg, d.med_list_name, m.sales, c.hit_class,
           coalesce(a.settlements, 0) AS settlements, coalesce(a.fund, 0) AS fund, m.matches
    FROM m LEFT JOIN a USING (drug_trac_codg) LEFT JOIN d USING (drug_trac_codg)
    LEFT JOIN chains c USING (drug_trac_codg)
    ORDER BY m.drug_trac_codg = $q DESC, m.sales DESC, m.drug_trac_codg
"""

_CODE_COLUMNS: dict[str, str] = {
    "person": "psn_no", "institution": "fixmedins_code", "practitioner": "dr_codg",
    "trace_code": "drug_trac_codg",
}
_NAME_COLUMNS: dict[str, str] = {
    "person": "psn_name", "institution": "fixmedins_name", "practitioner": "dr_name",
}


def _place(code: object, lang: Lang) -> object:
    """A division code's name in ``lang`` (a missing code stays missing)."""
    return division_name(code, lang) if isinstance(code, str) else code


def search_entities(con: duckdb.DuckDBPyConnection, kind: str, query: str, period: Period, *,
                    by: SearchBy = "code", limit: int = SEARCH_LIMIT, lang: Lang = "zh"
                    ) -> pd.DataFrame:
    """Candidates of ``kind`` whose code starts with ``query`` (``by="code"``) or whose name
    contains it, case-insensitive (``by="name"``; not for trace codes), at most ``limit``: an
    exact code first, then the most settlements in ``period``.

    Columns: the kind's own (person: ``psn_no``, ``psn_name``, ``certno``, ``tel``, ``gend``,
    ``insu_admdvs``, ``home``; institution: ``fixmedins_code``, ``fixmedins_name``,
    ``fixmedins_type``, ``hosp_lv``, ``admdvs``, ``place``; practitioner: ``dr_codg``,
    ``dr_name``, ``dr_type``, ``fixmedins_code``, ``fixmedins_name``; trace code:
    ``drug_trac_codg``, ``med_list_name``, ``sales`` (all time), ``hit_class`` (of its chain,
    if any)), then ``settlements`` and ``fund`` (yuan) in the period and ``matches`` (how many
    matched in all). ``home`` and ``place`` name divisions in ``lang``. An empty query gives
    no rows.
    """
    if kind not in _CODE_COLUMNS:
        raise ValueError(f"kind must be one of {SEARCH_KINDS}, not {kind!r}")
    if by not in ("code", "name"):
        raise ValueError(f"by must be 'code' or 'name', not {by!r}")
    if by == "name" and kind not in _NAME_COLUMNS:
        raise ValueError(f"{kind!r} has no name to search: search it by code")
    q = query.strip()
    if by == "code":
        column, op, pattern = _CODE_COLUMNS[kind], "LIKE", escape_like(q) + "%"
    else:
        column, op, pattern = _NAME_COLUMNS[kind], "ILIKE", "%" + escape_like(q) + "%"
    params: dict[str, object] = {"pattern": pattern, "q": q, "limit": int(limit),
                                 **period.params}
    if kind == "person":
        sql = _PERSON_SQL.format(column=column, op=op, fund=FUND_SQL,
                                 settlements=_in_period("psn_no", "SELECT psn_no FROM m"))
    elif kind == "institution":
        sql = _INSTITUTION_SQL.format(
            column=column, op=op, fund=FUND_SQL,
            settlements=_in_period("fixmedins_code", "SELECT fixmedins_code FROM m"))
    elif kind == "practitioner":
        sql = _PRACTITIONER_SQL.format(column=column, op=op, fund=FUND_SQL,
                                       settlements=_in_period("dr_codg", "SELECT dr_codg FROM m"))
    else:
        sql = _TRACE_SQL.format(fund=FUND_SQL, settlements=_in_period(
            "setl_id", "SELECT setl_id FROM t"))
    if not q:
        sql = f"SELECT * FROM ({sql}) WHERE FALSE"
    frame = query_frame(con, sql, params)
    if kind == "person":
        frame.insert(6, "home", frame["insu_admdvs"].map(lambda c: _place(c, lang)))
    elif kind == "institution":
        frame.insert(5, "place", frame["admdvs"].map(lambda c: _place(c, lang)))
    return frame


def person_profile(con: duckdb.DuckDBPyConnection, code: str, period: Period, *,
                   lang: Lang = "zh") -> pd.DataFrame:
    """One row for person ``code`` (none if unknown): ``psn_no``, ``psn_name``, ``certno``,
    ``tel``, ``gend``, ``age`` (years at the period's end), ``insu_admdvs``, ``home``
    (division name in ``lang``), ``settlements``, ``fund`` (yuan) and ``institutions`` (distinct) in
    ``period``."""
    sql = f"""
        WITH s AS ({_in_period("psn_no", "$code")})
        SELECT p.psn_no, p.psn_name, p.certno, p.tel, p.gend,
               date_diff('year', p.brdy, $p_end::DATE) AS age, p.insu_admdvs,
               (SELECT count(*) FROM s) AS settlements,
               (SELECT coalesce(sum({FUND_SQL}), 0) FROM s) AS fund,
               (SELECT count(DISTINCT fixmedins_code) FROM s) AS institutions
        FROM persons p WHERE p.psn_no = $code
    """
    frame = query_frame(con, sql, {"code": code, **period.params})
    frame.insert(7, "home", frame["insu_admdvs"].map(lambda c: _place(c, lang)))
    return frame


def institution_profile(con: duckdb.DuckDBPyConnection, code: str, period: Period, *,
                        lang: Lang = "zh") -> pd.DataFrame:
    """One row for institution ``code`` (none if unknown): ``fixmedins_code``,
    ``fixmedins_name``, ``fixmedins_type``, ``hosp_lv``, ``admdvs``, ``place`` (division name
    in ``lang``),
    ``addr``, ``settlements``, ``fund`` (yuan) and ``persons`` (distinct) in ``period``."""
    sql = f"""
        WITH s AS ({_in_period("fixmedins_code", "$code")})
        SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.hosp_lv, i.admdvs,
               i.addr, (SELECT count(*) FROM s) AS settlements,
               (SELECT coalesce(sum({FUND_SQL}), 0) FROM s) AS fund,
               (SELECT count(DISTINCT psn_no) FROM s) AS persons
        FROM institutions i WHERE i.fixmedins_code = $code
    """
    frame = query_frame(con, sql, {"code": code, **period.params})
    frame.insert(5, "place", frame["admdvs"].map(lambda c: _place(c, lang)))
    return frame


def practitioner_profile(con: duckdb.DuckDBPyConnection, code: str, period: Period
                         ) -> pd.DataFrame:
    """One row for practitioner ``code`` (none if unknown): ``dr_codg``, ``dr_name``,
    ``dr_type``, ``fixmedins_code``, ``fixmedins_name`` (the registered institution),
    ``settlements``, ``fund`` (yuan) and ``persons`` (distinct) in ``period``."""
    sql = f"""
        WITH s AS ({_in_period("dr_codg", "$code")})
        SELECT d.dr_codg, d.dr_name, d.dr_type, d.fixmedins_code, i.fixmedins_name,
               (SELECT count(*) FROM s) AS settlements,
               (SELECT coalesce(sum({FUND_SQL}), 0) FROM s) AS fund,
               (SELECT count(DISTINCT psn_no) FROM s) AS persons
        FROM practitioners d LEFT JOIN institutions i ON i.fixmedins_code = d.fixmedins_code
        WHERE d.dr_codg = $code
    """
    return query_frame(con, sql, {"code": code, **period.params})


def trace_code_summary(con: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """The chain of trace code ``code`` as detection stored it (none when the code was sold
    once or is unknown): ``drug_trac_codg``, ``med_list_codg``, ``med_list_name``,
    ``n_settlements``, ``n_effective``, ``hit_class``, ``first_time``, ``last_time``."""
    sql = """SELECT drug_trac_codg, med_list_codg, med_list_name, n_settlements, n_effective,
                    hit_class, first_time, last_time
             FROM chains WHERE drug_trac_codg = $code"""
    return query_frame(con, sql, {"code": code})


def trace_code_hops(con: duckdb.DuckDBPyConnection, code: str, period: Period, *,
                    lang: Lang = "zh") -> pd.DataFrame:
    """Every settlement of trace code ``code`` in time order (from
    :func:`graph.chains.chain_of`): ``hop`` (1, 2, …), ``setl_time``, ``setl_id``, ``psn_no``,
    ``fixmedins_code``, ``fixmedins_name``, ``place`` (division name in ``lang``), ``pric``
    (yuan),
    ``cnt``, ``reversal``, ``reversed``, ``effective``, and ``in_period`` (the settlement falls
    in ``period``). Hops outside the period are kept so the chain reads whole."""
    cols = ["hop", "setl_time", "setl_id", "psn_no", "fixmedins_code", "fixmedins_name", "place",
            "pric", "cnt", "reversal", "reversed", "effective", "in_period"]
    hops = chain_of(con, code)
    if not hops:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame([{
        "setl_time": h.setl_time, "setl_id": h.setl_id, "psn_no": h.psn_no,
        "fixmedins_code": h.fixmedins_code, "admdvs": h.admdvs, "pric": h.pric, "cnt": h.cnt,
        "reversal": h.reversal, "reversed": h.reversed, "effective": h.effective,
    } for h in hops])
    frame.insert(0, "hop", range(1, len(frame) + 1))
    inst = query_frame(con, "SELECT fixmedins_code, fixmedins_name FROM institutions "
                            "WHERE fixmedins_code IN (SELECT unnest($c))",
                       {"c": sorted(set(frame["fixmedins_code"]))})
    frame = frame.merge(inst, on="fixmedins_code", how="left")
    frame["place"] = frame["admdvs"].map(lambda c: _place(c, lang) if c else None)
    day = pd.to_datetime(frame["setl_time"]).dt.date
    frame["in_period"] = (day >= period.start) & (day <= period.end)
    return frame[cols]


def names_of(con: duckdb.DuckDBPyConnection, nodes: Sequence[Node]) -> pd.DataFrame:
    """The names behind graph nodes ``(kind, code)``: ``kind``, ``code``, ``name`` (person and
    practitioner names are personal data; institutions their name). Unknown codes are left
    out."""
    by_kind: dict[str, list[str]] = {}
    for kind, code in nodes:
        by_kind.setdefault(kind, []).append(code)
    sql = """
        SELECT 'person' AS kind, psn_no AS code, psn_name AS name FROM persons
        WHERE psn_no IN (SELECT unnest($person))
        UNION ALL
        SELECT 'institution', fixmedins_code, fixmedins_name FROM institutions
        WHERE fixmedins_code IN (SELECT unnest($institution))
        UNION ALL
        SELECT 'practitioner', dr_codg, dr_name FROM practitioners
        WHERE dr_codg IN (SELECT unnest($practitioner))
    """
    params = {k: sorted(set(by_kind.get(k, []))) for k in
              ("person", "institution", "practitioner")}
    return query_frame(con, sql, {k: v or [""] for k, v in params.items()})


def ring_spans(con: duckdb.DuckDBPyConnection, ring_ids: Sequence[str], period: Period
               ) -> pd.DataFrame:
    """``ring_id``, ``first_time``, ``last_time``, ``persons`` (count), ``fund_amount``
    (yuan, as detection stored it) and ``in_period`` (the ring's span overlaps ``period``) of
    the rings ``ring_ids``."""
    sql = """
        SELECT ring_id, first_time, last_time, len(persons) AS persons, fund_amount,
               first_time < $p_end AND last_time >= $p_start AS in_period
        FROM rings WHERE ring_id IN (SELECT unnest($ids))
    """
    return query_frame(con, sql, {"ids": list(ring_ids) or [""], **period.params})
