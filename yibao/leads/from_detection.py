"""Leads from detection: one per suspicious ring, per resale chain, per rule and institution.

:func:`lead_drafts_from_store` reads what detection wrote into the store (``rings``,
``chains``, ``rule_hits``) and :func:`leads_from_store` puts the drafts into a ledger. Running
it again adds nothing for what already has a lead (each draft carries its source reference), so
it can follow every detection run. :func:`lead_draft_from_ring` makes the draft of one ring (the
workbench's "make it a lead" on a ring page) by the same code, so the two never differ.

* **Rings** (``source="ring"``, reference the ring id): suspicious rings only (the honest
  look-alikes detection keeps below the threshold are not leads). Risk from the ring's
  confidence, 1 - its q-value (:func:`~yibao.leads.model.risk_from_score`: a ring flagged at
  a 1% false-discovery rate is high risk), money the ring's stored ``fund_amount``
  (涉及医保基金 = 统筹 + 个人账户, :mod:`graph.money`: the figure every view of the ring
  shows), region the county whose institutions took most of the ring's fund.
* **Resale chains** (``source="chain"``, reference the traceability code): chains of class
  ``resale`` (倒卖回流药), risk from the ``TRACE_REUSE`` rule's severity for that class, money
  the fund of the code's effective settlements, region the institution of its last sale (the
  pharmacy that took the returned box back), linked to the suspicious rings holding the code.
* **Rule hits** (``source="rule_hit"``, reference ``RULE@INSTITUTION``), grouped per rule and
  institution rather than one lead per hit: at a million settlements a rule hits thousands of
  claims, and an investigator does not check claims one by one but visits an institution and
  pulls its records for that rule; agreement measures and penalties are imposed on the
  institution. Each hit joins the group of the institution that most of that rule's hits pass
  through (a person's impossible trips all lead through the pharmacy where the card is misused),
  so a hit is counted once. Money is the fund of the group's distinct effective settlements;
  risk the highest severity among its hits. Hits of class ``info`` (honest explanations) and
  ``TRACE_REUSE`` resale hits (they are the chains) are left out.

``period`` keeps what overlaps the inclusive day range; a rule group's reference then carries
the period (``RULE@INSTITUTION@2024-01-01..2024-03-31``), so a new quarter makes new leads.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from yibao.leads.ledger import LeadLedger
from yibao.leads.model import LeadDraft, Risk, risk_from_score, to_yuan

__all__ = [
    "SEVERITY_SCORES",
    "DetectionLeads",
    "lead_draft_from_ring",
    "lead_drafts_from_store",
    "leads_from_store",
]

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

SEVERITY_SCORES: dict[str, float] = {"high": 0.85, "medium": 0.6, "low": 0.35}
"""The nominal risk score of a rule severity (so rule leads sort among ring leads)."""

_SUMMARY_LINES = 5

Period = tuple[date, date]


@dataclass(frozen=True)
class DetectionLeads:
    """What :func:`leads_from_store` did, per source: drafts read, leads created, drafts that
    already had a lead."""

    drafts: dict[str, int]
    created: dict[str, int]
    existing: dict[str, int]

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
             ) -> list[dict[str, Any]]:
    cur = con.cursor()
    try:
        cur.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    from graph.claims import has_table

    return has_table(con, table)


def _period_params(period: Period | None) -> dict[str, Any]:
    if period is None:
        return {"p_start": None, "p_end": None}
    start, end = period
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    return {"p_start": start, "p_end": end + timedelta(days=1)}


_OVERLAPS = "($p_start IS NULL OR ({t}.last_time >= $p_start AND {t}.first_time < $p_end))"


def _names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    rows = _records(con, "SELECT fixmedins_code, fixmedins_name, admdvs FROM institutions", {})
    return {r["fixmedins_code"]: (r["fixmedins_name"] or r["fixmedins_code"], r["admdvs"])
            for r in rows}


def _summary(lines: Sequence[str | None], more: int = 0) -> str:
    kept = [line for line in lines if line][:_SUMMARY_LINES]
    extra = len([line for line in lines if line]) - len(kept) + more
    return "；".join(kept) + (f"；另有 {extra} 条" if extra > 0 else "")


def _yuan(value: Any) -> Decimal:
    return to_yuan(round(float(value or 0), 2))


def _ring_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any],
                 names: dict[str, tuple[str, str]], *, ring_id: str | None = None
                 ) -> list[LeadDraft]:
    """The drafts of the suspicious rings overlapping the period of ``params``, or, with
    ``ring_id``, of that ring alone (suspicious or not, whatever the period)."""
    from graph.money import FUND_SQL
    from graph.rings import PATTERNS

    rings = _records(con, f"""
        SELECT ring_id, pattern, score, persons, institutions, practitioners, fund_amount,
               n_settlements, evidence_zh,
               -- confidence that the ring is not chance: 1 - its q-value (stores written
               -- before rings had one: the score)
               coalesce(1 - try_cast(json_extract(metrics, '$.q_value') AS DOUBLE), score)
                   AS confidence
        FROM rings r
        WHERE CASE WHEN $ring_id IS NULL THEN suspicious AND {_OVERLAPS.format(t="r")}
                   ELSE ring_id = $ring_id END
        ORDER BY rank, ring_id""", {**params, "ring_id": ring_id})
    regions = {r["ring_id"]: r["admdvs"] for r in _records(con, f"""
        SELECT ring_id, admdvs FROM (
            SELECT rs.ring_id, i.admdvs,
                   row_number() OVER (PARTITION BY rs.ring_id
                                      ORDER BY sum({FUND_SQL}) DESC,
                                               i.admdvs) AS k
            FROM ring_settlements rs JOIN settlements s USING (setl_id)
            JOIN institutions i USING (fixmedins_code)
            WHERE $ring_id IS NULL OR rs.ring_id = $ring_id
            GROUP BY rs.ring_id, i.admdvs)
        WHERE k = 1""", {"ring_id": ring_id})} if rings and _has(con, "ring_settlements") \
        else {}
    drafts = []
    for r in rings:
        insts = list(r["institutions"] or [])
        where = names.get(insts[0], (insts[0], ""))[0] if insts else "无机构"
        more = f"等 {len(insts)} 家机构" if len(insts) > 1 else ""
        pattern_zh = PATTERNS.get(r["pattern"], (r["pattern"], ""))[0]
        score = min(1.0, max(0.0, float(r["confidence"])))
        drafts.append(LeadDraft(
            source="ring", source_ref=r["ring_id"],
            title=f"{pattern_zh}：{where}{more}，{len(r['persons'] or [])} 人",
            summary=_summary(r["evidence_zh"] or []), violation=r["pattern"],
            risk=risk_from_score(score), risk_score=round(score, 4),
            region=regions.get(r["ring_id"]) or (names.get(insts[0], ("", None))[1]
                                                 if insts else None),
            amount_involved=_yuan(r["fund_amount"]), persons=tuple(r["persons"] or ()),
            institutions=tuple(insts), practitioners=tuple(r["practitioners"] or ()),
            rings=(r["ring_id"],)))
    return drafts


def _chain_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any],
                  names: dict[str, tuple[str, str]]) -> list[LeadDraft]:
    has_hits = _has(con, "rule_hits")
    hits = """LEFT JOIN rule_hits h ON h.rule_id = 'TRACE_REUSE'
                                 AND h.subject_id = c.drug_trac_codg""" if has_hits else ""
    money = "h.fund_amount + h.acct_amount" if has_hits else "NULL"
    evidence = "h.evidence_zh" if has_hits else "NULL"
    severity = "h.severity" if has_hits else "'high'"
    chains = _records(con, f"""
        SELECT c.drug_trac_codg AS code, c.med_list_name, c.n_effective, c.institutions,
               c.persons, {money} AS fund, {evidence} AS evidence, {severity} AS severity
        FROM chains c {hits}
        WHERE c.hit_class = 'resale' AND {_OVERLAPS.format(t="c")}
        ORDER BY c.drug_trac_codg""", params)
    in_rings: dict[str, list[str]] = defaultdict(list)
    if _has(con, "rings"):
        for r in _records(con, """SELECT ring_id, unnest(trace_codes) AS code FROM rings
                                  WHERE suspicious ORDER BY ring_id""", {}):
            in_rings[r["code"]].append(r["ring_id"])
    drafts = []
    for c in chains:
        insts = list(c["institutions"] or [])
        last = insts[-1] if insts else None
        risk = cast(Risk, c["severity"] if c["severity"] in SEVERITY_SCORES else "high")
        drafts.append(LeadDraft(
            source="chain", source_ref=c["code"],
            title=(f"倒卖回流药：{c['med_list_name'] or '药品'} 追溯码 {c['code']} "
                   f"{c['n_effective']} 次有效结算"),
            summary=_summary([c["evidence"]]), violation="resale_chain", risk=risk,
            risk_score=SEVERITY_SCORES[risk],
            region=names.get(last, ("", None))[1] if last else None,
            amount_involved=_yuan(c["fund"]), persons=tuple(c["persons"] or ()),
            institutions=tuple(insts), rings=tuple(in_rings.get(c["code"], ()))))
    return drafts


_RULE_GROUPS = f"""
WITH h AS (
    SELECT * FROM rule_hits r
    WHERE severity IN ('high', 'medium', 'low')
      AND NOT (rule_id = 'TRACE_REUSE' AND hit_class = 'resale')
      AND {_OVERLAPS.format(t="r")}),
hi AS (SELECT hit_id, rule_id, unnest(institutions) AS inst FROM h),
n AS (SELECT rule_id, inst, count(*) AS hits FROM hi GROUP BY rule_id, inst),
pick AS (
    SELECT hit_id, inst FROM (
        SELECT hi.hit_id, hi.inst,
               row_number() OVER (PARTITION BY hi.hit_id ORDER BY n.hits DESC, hi.inst) AS k
        FROM hi JOIN n USING (rule_id, inst))
    WHERE k = 1),
g AS (SELECT h.*, coalesce(pick.inst, '') AS inst FROM h LEFT JOIN pick USING (hit_id)),
money AS (
    SELECT gs.rule_id, gs.inst, sum({{fund}}) AS fund
    FROM (SELECT DISTINCT rule_id, inst, unnest(setl_ids) AS setl_id FROM g) gs
    JOIN ({{effective}}) s USING (setl_id)
    GROUP BY gs.rule_id, gs.inst)
SELECT g.rule_id, g.inst, count(*) AS n_hits,
       max(CASE g.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) AS level,
       list_sort(list_distinct(flatten(list(g.persons)))) AS persons,
       list_sort(list_distinct(flatten(list(g.practitioners)))) AS practitioners,
       list(g.evidence_zh ORDER BY g.fund_amount DESC, g.hit_id) AS evidence,
       list_sort(list(g.hit_id)) AS hit_ids,
       any_value(m.fund) AS fund
FROM g LEFT JOIN money m USING (rule_id, inst)
GROUP BY g.rule_id, g.inst
ORDER BY g.rule_id, g.inst"""


def _rule_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any],
                 names: dict[str, tuple[str, str]], period: Period | None) -> list[LeadDraft]:
    from graph.claims import effective_settlements_sql
    from graph.money import FUND_SQL
    from graph.rules import load_rulebase

    rule_names = {rule.id: rule.name_zh for rule in load_rulebase()}
    sql = _RULE_GROUPS.replace("{effective}", effective_settlements_sql()).replace(
        "{fund}", FUND_SQL)
    groups = _records(con, sql, params)
    ring_of_hit: dict[str, list[str]] = defaultdict(list)
    if _has(con, "rings"):
        for r in _records(con, """SELECT ring_id, unnest(hit_ids) AS hit_id FROM rings
                                  WHERE suspicious ORDER BY ring_id""", {}):
            ring_of_hit[r["hit_id"]].append(r["ring_id"])
    span = f"@{period[0].isoformat()}..{period[1].isoformat()}" if period else ""
    drafts = []
    for g in groups:
        inst = g["inst"]
        name, region = names.get(inst, (inst or "无机构", None))
        levels: tuple[Risk, ...] = ("low", "medium", "high")
        risk = levels[int(g["level"]) - 1]
        rings = sorted({ring for hit in g["hit_ids"] for ring in ring_of_hit.get(hit, ())})
        drafts.append(LeadDraft(
            source="rule_hit", source_ref=f"{g['rule_id']}@{inst or '-'}{span}",
            title=f"{rule_names.get(g['rule_id'], g['rule_id'])}：{name}（{g['n_hits']} 例）",
            summary=_summary(g["evidence"]), violation=g["rule_id"], risk=risk,
            risk_score=SEVERITY_SCORES[risk], region=region,
            amount_involved=to_yuan(Decimal(g["fund"] or 0).quantize(Decimal("0.01"))),
            persons=tuple(g["persons"] or ()), institutions=(inst,) if inst else (),
            practitioners=tuple(g["practitioners"] or ()), rings=tuple(rings)))
    return drafts


def lead_draft_from_ring(con: duckdb.DuckDBPyConnection, ring_id: str) -> LeadDraft | None:
    """The lead draft of the ring ``ring_id`` (source ``ring``, reference the ring id), made
    exactly as :func:`lead_drafts_from_store` makes it for a suspicious ring (see the module
    docstring), for any ring of the store, suspicious or not; ``None`` when the store has no
    such ring."""
    if not _has(con, "rings"):
        return None
    names = _names(con) if _has(con, "institutions") else {}
    drafts = _ring_drafts(con, _period_params(None), names, ring_id=ring_id)
    return drafts[0] if drafts else None


def lead_drafts_from_store(con: duckdb.DuckDBPyConnection, *, period: Period | None = None
                           ) -> list[LeadDraft]:
    """Drafts of leads from the detection tables of the store behind ``con`` (see the module
    docstring): rings, then resale chains, then rule groups; empty before detection."""
    params = _period_params(period)
    names = _names(con) if _has(con, "institutions") else {}
    drafts: list[LeadDraft] = []
    if _has(con, "rings"):
        drafts += _ring_drafts(con, params, names)
    if _has(con, "chains"):
        drafts += _chain_drafts(con, params, names)
    if _has(con, "rule_hits"):
        drafts += _rule_drafts(con, params, names, period)
    return drafts


def leads_from_store(con_or_path: duckdb.DuckDBPyConnection | Path | str, ledger: LeadLedger,
                     *, by: str, period: Period | None = None,
                     note: str = "由检测结果生成 / created from detection") -> DetectionLeads:
    """Create the leads of the store's detection results in ``ledger`` (one transaction);
    what already has a lead is left alone. ``con_or_path`` is an open store connection or the
    store file (opened read-only)."""
    if isinstance(con_or_path, str | Path):
        from loaders.store import open_store

        with open_store(Path(con_or_path), read_only=True) as store:
            drafts = lead_drafts_from_store(store.con, period=period)
    else:
        drafts = lead_drafts_from_store(con_or_path, period=period)
    report = ledger.add_many(drafts, by=by, note=note)
    sources: tuple[str, ...] = ("ring", "chain", "rule_hit")
    created = {s: sum(1 for lead in report.created if lead.source == s) for s in sources}
    made = {s: sum(1 for d in drafts if d.source == s) for s in sources}
    result = DetectionLeads(drafts=made, created=created,
                            existing={s: made[s] - created[s] for s in sources})
    log.info("leads from detection: %s", result)
    return result
