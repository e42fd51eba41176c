"""Cross-region care (异地就医) for the workbench: flows between divisions, impossible trips,
cross-province card-use clusters, each for a period.

A flow goes from the insured division (参保地, ``persons.insu_admdvs``) to the division of the
institution where the settlement was made (就医地, ``institutions.admdvs``), at city level
(4-digit prefix, Shanghai is 310100) or province level (2-digit prefix). Only effective
settlements inside the period count (reversed ones do not); money is fund money (统筹 + 个人账户,
yuan). Personal columns come back in full: masking is the caller's job.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import pandas as pd

from dashboards.data.common import FUND_SQL, Period, query_frame
from dashboards.data.rings import rings_table
from graph.claims import effective_settlements_sql
from yibao.divisions import division_list, division_name, divisions_frame, is_known_division
from yibao.i18n import Lang

__all__ = [
    "Level",
    "balance_from_facts",
    "card_use_clusters",
    "cross_division_flows",
    "division_balance",
    "flow_facts",
    "flow_totals",
    "flows_from_facts",
    "impossible_trips",
]

Level = Literal["city", "province"]

_TRIP_TYPE = (
    '[{"from_setl_id": "VARCHAR", "to_setl_id": "VARCHAR", "from_inst": "VARCHAR", '
    '"to_inst": "VARCHAR", "from_time": "TIMESTAMP", "to_time": "TIMESTAMP", "km": "DOUBLE", '
    '"minutes": "DOUBLE", "speed_kmh": "DOUBLE"}]'
)


def _level_codes(codes: pd.Series, level: Level) -> pd.Series:
    """6-digit city codes (or missing) at ``level``: as they are, or their province's."""
    if level not in ("city", "province"):
        raise ValueError(f"level must be 'city' or 'province', not {level!r}")
    if level == "city":
        return codes
    return codes.str.slice(0, 2).str.pad(6, side="right", fillchar="0")


def flow_facts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every effective settlement counted by insured city (参保地), city of care (就医地) and day:
    what the flows and the balance of any period and level are summed from, so a store needs
    this one query per published snapshot (settlements change only with a load) and a change
    of period, level or language needs none.

    Columns: ``origin``, ``destination`` (6-digit city codes: the 4-digit prefix padded, missing
    where the division is), ``day`` (date of ``setl_time``), ``psn_no`` (for settlements outside
    the insured's city only: the flows count distinct persons; missing otherwise), ``settlements``
    and ``fund`` (yuan). Settlements in the insured's own city are one row per city and day, so
    the frame is about as long as the cross-city settlements (a few per cent of all).
    """
    origin = "rpad(left(p.insu_admdvs, 4), 6, '0')"
    destination = "rpad(left(i.admdvs, 4), 6, '0')"
    sql = f"""
        WITH s AS ({effective_settlements_sql()}),
        x AS (SELECT {origin} AS origin, {destination} AS destination,
                     s.setl_time::DATE AS day, s.psn_no, {FUND_SQL} AS fund
              FROM s JOIN persons p USING (psn_no) JOIN institutions i USING (fixmedins_code))
        SELECT origin, destination, day,
               CASE WHEN origin IS DISTINCT FROM destination THEN psn_no END AS psn_no,
               count(*) AS settlements, sum(fund) AS fund
        FROM x GROUP BY ALL
    """
    frame = query_frame(con, sql)
    return frame.assign(day=pd.to_datetime(frame["day"]),
                        settlements=frame["settlements"].astype("int64"),
                        fund=frame["fund"].astype(float))


def flow_totals(facts: pd.DataFrame, period: Period, *, level: Level = "city"
                ) -> pd.DataFrame:
    """Effective settlements of ``period`` by origin and destination at ``level``, from
    :func:`flow_facts`: ``origin``, ``destination`` (missing where the division is),
    ``settlements``, ``persons`` (distinct, between different divisions only; 0 on the
    diagonal) and ``fund`` (yuan)."""
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    rows = facts[(facts["day"] >= start) & (facts["day"] <= end)]
    rows = rows.assign(origin=_level_codes(rows["origin"], level),
                       destination=_level_codes(rows["destination"], level))
    cross = rows["origin"].ne(rows["destination"]) & rows["psn_no"].notna()
    rows = rows.assign(psn_no=rows["psn_no"].where(cross))
    return (rows.groupby(["origin", "destination"], dropna=False, sort=False)
            .agg(settlements=("settlements", "sum"), persons=("psn_no", "nunique"),
                 fund=("fund", "sum"))
            .reset_index())


def _centroids() -> pd.DataFrame:
    return divisions_frame()[["code", "name", "lon", "lat"]].set_index("code")


def flows_from_facts(facts: pd.DataFrame, period: Period, *, level: Level = "city",
                     lang: Lang = "zh") -> pd.DataFrame:
    """:func:`cross_division_flows` from :func:`flow_facts` (no query)."""
    totals = flow_totals(facts, period, level=level)
    share = totals["settlements"] / totals.groupby("origin", dropna=False)["settlements"] \
        .transform("sum")
    keep = totals["origin"].notna() & totals["destination"].notna() \
        & totals["origin"].ne(totals["destination"])
    frame = totals.assign(share=share)[keep].sort_values(
        ["settlements", "origin", "destination"], ascending=[False, True, True],
        ignore_index=True)
    cent = _centroids()
    return pd.DataFrame({
        "origin": frame["origin"],
        "origin_name": frame["origin"].map(lambda c: division_name(c, lang)),
        "destination": frame["destination"],
        "destination_name": frame["destination"].map(lambda c: division_name(c, lang)),
        "settlements": frame["settlements"].astype("int64"),
        "persons": frame["persons"].astype("int64"),
        "fund": frame["fund"].astype(float).round(2),
        "origin_lon": frame["origin"].map(cent["lon"]),
        "origin_lat": frame["origin"].map(cent["lat"]),
        "destination_lon": frame["destination"].map(cent["lon"]),
        "destination_lat": frame["destination"].map(cent["lat"]),
        "share": frame["share"].astype(float).round(4),
    })


def cross_division_flows(con: duckdb.DuckDBPyConnection, period: Period, *,
                         level: Level = "city", lang: Lang = "zh") -> pd.DataFrame:
    """Settlements from one division's insured to another division's institutions in
    ``period``, largest first (a person treated at home is no flow).

    Columns: ``origin``, ``origin_name``, ``destination``, ``destination_name`` (6-digit codes
    and names in ``lang`` at ``level``), ``settlements``, ``persons`` (distinct), ``fund`` (yuan),
    ``origin_lon``/``origin_lat``/``destination_lon``/``destination_lat`` (centroids; empty for
    a division outside 沪苏浙皖), ``share`` (of the origin's insured's settlements in the period).
    The workbench sums :func:`flow_facts`, cached per snapshot, with :func:`flows_from_facts`.
    """
    return flows_from_facts(flow_facts(con), period, level=level, lang=lang)


def balance_from_facts(facts: pd.DataFrame, period: Period, *, level: Level = "city",
                       lang: Lang = "zh") -> pd.DataFrame:
    """:func:`division_balance` from :func:`flow_facts` (no query)."""
    totals = flow_totals(facts, period, level=level)
    known = totals[totals["origin"].notna() & totals["destination"].notna()]
    local = known["origin"].eq(known["destination"])
    codes = sorted(set(totals["origin"].dropna()) | set(totals["destination"].dropna()))
    out = known[~local]

    def by(column: str, rows: pd.DataFrame, value: str) -> pd.Series:
        return rows.groupby(column)[value].sum().reindex(codes, fill_value=0)

    frame = pd.DataFrame({
        "code": codes,
        "local": by("origin", known[local], "settlements").to_numpy(),
        "outbound": by("origin", out, "settlements").to_numpy(),
        "inbound": by("destination", out, "settlements").to_numpy(),
        "outbound_fund": by("origin", out, "fund").to_numpy(),
        "inbound_fund": by("destination", out, "fund").to_numpy(),
    })
    frame.insert(1, "name", frame["code"].map(lambda c: division_name(c, lang)))
    for col in ("local", "outbound", "inbound"):
        frame[col] = frame[col].astype("int64")
    frame.insert(5, "net", frame["inbound"] - frame["outbound"])
    frame["outbound_fund"] = frame["outbound_fund"].astype(float).round(2)
    frame["inbound_fund"] = frame["inbound_fund"].astype(float).round(2)
    insured = (frame["local"] + frame["outbound"]).where(lambda n: n > 0)
    frame["outbound_share"] = (frame["outbound"] / insured).fillna(0.0).round(4)
    traffic = frame["outbound"] + frame["inbound"]
    return frame.assign(_t=traffic).sort_values(["_t", "code"], ascending=[False, True]) \
        .drop(columns="_t").reset_index(drop=True)


def division_balance(con: duckdb.DuckDBPyConnection, period: Period, *,
                     level: Level = "city", lang: Lang = "zh") -> pd.DataFrame:
    """Per division in ``period``: ``code``, ``name`` (in ``lang``), ``local`` (insured
    treated at home), ``outbound`` (its insured treated elsewhere), ``inbound`` (others'
    insured treated here), ``net`` (inbound − outbound), ``outbound_fund`` / ``inbound_fund``
    (yuan), ``outbound_share`` (outbound / all its insured's settlements). Largest
    cross-division traffic first. The workbench sums :func:`flow_facts`, cached per snapshot,
    with :func:`balance_from_facts`."""
    return balance_from_facts(flow_facts(con), period, level=level, lang=lang)


def impossible_trips(con: duckdb.DuckDBPyConnection, period: Period, *, lang: Lang = "zh"
                     ) -> pd.DataFrame:
    """Trips of the ``IMPOSSIBLE_TRAVEL`` hits that start inside ``period``, fastest first:
    one person settled at two institutions too far apart for the minutes between them.

    Columns: ``hit_id``, ``psn_no``, ``psn_name``, ``from_time``, ``to_time``, ``from_inst``,
    ``from_name``, ``from_city`` (in ``lang``), ``from_lon``/``from_lat``, ``to_inst``,
    ``to_name``, ``to_city``, ``to_lon``/``to_lat``, ``km``, ``minutes``, ``speed_kmh``,
    ``from_setl_id``, ``to_setl_id``.
    """
    sql = f"""
        WITH t AS (
            SELECT hit_id, subject_id AS psn_no,
                   unnest(json_transform(metrics -> 'trips', '{_TRIP_TYPE}'), recursive := true)
            FROM rule_hits WHERE rule_id = 'IMPOSSIBLE_TRAVEL'
              AND first_time < $p_end AND last_time >= $p_start)
        SELECT t.hit_id, t.psn_no, p.psn_name, t.from_time, t.to_time,
               t.from_inst, a.fixmedins_name AS from_name, a.admdvs AS from_admdvs,
               a.lon AS from_lon, a.lat AS from_lat,
               t.to_inst, b.fixmedins_name AS to_name, b.admdvs AS to_admdvs,
               b.lon AS to_lon, b.lat AS to_lat,
               t.km, t.minutes, t.speed_kmh, t.from_setl_id, t.to_setl_id
        FROM t
        LEFT JOIN persons p ON p.psn_no = t.psn_no
        LEFT JOIN institutions a ON a.fixmedins_code = t.from_inst
        LEFT JOIN institutions b ON b.fixmedins_code = t.to_inst
        WHERE t.from_time >= $p_start AND t.from_time < $p_end
        ORDER BY t.speed_kmh DESC, t.from_time, t.hit_id
    """
    frame = query_frame(con, sql, period.params)
    for end in ("from", "to"):
        codes = frame.pop(f"{end}_admdvs")
        city = codes.map(lambda c: f"{c[:4]}00" if isinstance(c, str) else None)
        frame.insert(list(frame.columns).index(f"{end}_name") + 1, f"{end}_city",
                     city.map(lambda c: division_name(c, lang) if c else None))
    return frame


def card_use_clusters(con: duckdb.DuckDBPyConnection, period: Period, *,
                      suspicious_only: bool = True, lang: Lang = "zh") -> pd.DataFrame:
    """Rings of pattern ``cross_province_card_use`` (异地套刷: cards of one province used
    together in another) overlapping ``period``, best first: the columns of
    :func:`dashboards.data.rings.rings_table` plus ``home_provinces`` (where the members are
    insured) and ``care_provinces`` (where their institutions are), lists of names in
    ``lang``."""
    table = rings_table(con, period, suspicious_only=suspicious_only,
                        patterns=["cross_province_card_use"], lang=lang)
    if table.empty:
        return table.assign(home_provinces=pd.Series(dtype=str),
                            care_provinces=pd.Series(dtype=str))
    sql = """
        WITH r AS (SELECT ring_id, persons, institutions FROM rings
                   WHERE list_contains($ids, ring_id)),
        homes AS (SELECT r.ring_id, list(DISTINCT left(p.insu_admdvs, 2)) AS provs
                  FROM r, unnest(r.persons) AS u(psn_no)
                  JOIN persons p ON p.psn_no = u.psn_no GROUP BY 1),
        care AS (SELECT r.ring_id, list(DISTINCT left(i.admdvs, 2)) AS provs
                 FROM r, unnest(r.institutions) AS u(code)
                 JOIN institutions i ON i.fixmedins_code = u.code GROUP BY 1)
        SELECT r.ring_id, h.provs AS homes, c.provs AS care
        FROM r LEFT JOIN homes h USING (ring_id) LEFT JOIN care c USING (ring_id)
    """
    places = query_frame(con, sql, {"ids": list(table["ring_id"])}).set_index("ring_id")

    def names(codes: object) -> str:
        if codes is None or not hasattr(codes, "__iter__"):
            return ""
        known = [f"{c}0000" if is_known_division(f"{c}0000") else str(c) for c in sorted(codes)]
        return division_list(known, lang)

    table["home_provinces"] = table["ring_id"].map(places["homes"]).map(names)
    table["care_provinces"] = table["ring_id"].map(places["care"]).map(names)
    return table
