"""Leads from detection: one per case: a suspicious ring, a resale network, a rule group.

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
  shows). Title and region come from where the ring's money went: the institution that took
  most of it (:func:`yibao.leads.ring_facts.ring_places`); the practitioners are those of the
  ring's network (:func:`yibao.leads.ring_facts.ring_practitioners`). A resale ring's lead
  stands for all its traceability codes.
* **Resale networks** (``source="chain"``, reference the network's first traceability code):
  resale chains (倒卖回流药) that no suspicious ring holds, one lead per network of codes
  sharing an institution (as detection groups them into resale rings), not one per code. Risk
  from the ``TRACE_REUSE`` rule's severity for the class, money the fund of the codes' hit
  settlements, title and region from the institution that took most of it.
* **Rule hits** (``source="rule_hit"``, reference ``RULE@INSTITUTION``), grouped per rule and
  institution rather than one lead per hit: at a million settlements a rule hits thousands of
  claims, and an investigator does not check claims one by one but visits an institution and
  pulls its records for that rule; agreement measures and penalties are imposed on the
  institution. Each hit joins the group of the institution that most of that rule's hits pass
  through (a person's impossible trips all lead through the pharmacy where the card is misused),
  so a hit is counted once. Money is the fund of the group's distinct effective settlements;
  risk the highest severity among its hits. Hits of class ``info`` (honest explanations) and
  ``TRACE_REUSE`` resale hits (they are the chains) are left out.

A lead with no money is not high risk unless a high-severity rule hit backs it. ``period``
keeps what overlaps the inclusive day range; a rule group's reference then carries the period
(``RULE@INSTITUTION@2024-01-01..2024-03-31``), so a new quarter makes new leads. Titles and
summaries are Chinese in the ledger; :func:`detection_texts` gives them in English for display
(:mod:`yibao.leads.wording`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from yibao.leads.ledger import LeadLedger
from yibao.leads.model import Lead, LeadDraft, Risk, risk_from_score, to_yuan
from yibao.leads.period import rule_ref_days
from yibao.leads.wording import (
    Lang,
    chain_title,
    ring_title,
    rule_title,
    summary_text,
)

__all__ = [
    "SEVERITY_SCORES",
    "DetectionLeads",
    "detection_texts",
    "lead_draft_from_ring",
    "lead_drafts_from_store",
    "leads_from_store",
]

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

SEVERITY_SCORES: dict[str, float] = {"high": 0.85, "medium": 0.6, "low": 0.35}
"""The nominal risk score of a rule severity (so rule leads sort among ring leads)."""

Period = tuple[date, date]

_LEVELS = {"high": 3, "medium": 2, "low": 1}


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


def _names(con: duckdb.DuckDBPyConnection, codes: Sequence[str] | None = None
           ) -> dict[str, tuple[str, str]]:
    """Institution code -> (name, division) of ``codes`` (default: all)."""
    if not _has(con, "institutions"):
        return {}
    rows = _records(con, "SELECT fixmedins_code, fixmedins_name, admdvs FROM institutions "
                         "WHERE $c IS NULL OR list_contains($c, fixmedins_code)",
                    {"c": None if codes is None else list(codes)})
    return {r["fixmedins_code"]: (r["fixmedins_name"] or r["fixmedins_code"], r["admdvs"])
            for r in rows}


def _yuan(value: Any) -> Decimal:
    return to_yuan(round(float(value or 0), 2))


def _high_hits(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the rule hits of high severity: a lead backed by one may be high risk without
    money."""
    if not _has(con, "rule_hits"):
        return set()
    return {r["hit_id"] for r in _records(
        con, "SELECT hit_id FROM rule_hits WHERE severity = 'high'", {})}


def _capped(risk: Risk, money: Decimal, high_rule: bool) -> Risk:
    """``risk``, but not high for a lead with no money unless a high-severity rule hit backs
    it (a ring of honest-looking claims worth nothing is not where to send inspectors
    first)."""
    return "medium" if risk == "high" and money <= 0 and not high_rule else risk


def _ring_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any], lang: Lang, *,
                 ring_ids: Sequence[str] | None = None) -> list[LeadDraft]:
    """The drafts of the suspicious rings overlapping the period of ``params``, or, with
    ``ring_ids``, of those rings (suspicious or not, whatever the period)."""
    from yibao.leads.ring_facts import ring_places, ring_practitioners

    rings = _records(con, f"""
        SELECT ring_id, pattern, persons, institutions, fund_amount, hit_ids,
               evidence_zh, evidence_en,
               -- confidence that the ring is not chance: 1 - its q-value (stores written
               -- before rings had one: the score)
               coalesce(1 - try_cast(json_extract(metrics, '$.q_value') AS DOUBLE), score)
                   AS confidence
        FROM rings r
        WHERE CASE WHEN $ids IS NULL THEN suspicious AND {_OVERLAPS.format(t="r")}
                   ELSE list_contains($ids, ring_id) END
        ORDER BY rank, ring_id""", {**params, "ids": None if ring_ids is None
                                    else list(ring_ids)})
    if not rings:
        return []
    ids = [r["ring_id"] for r in rings]
    places, doctors, high = ring_places(con, ids), ring_practitioners(con, ids), _high_hits(con)
    drafts = []
    for r in rings:
        insts = list(r["institutions"] or [])
        ranked = places.get(r["ring_id"], ())
        top = ranked[0] if ranked else None
        names = _names(con, insts[:1]) if top is None and insts else {}
        name = top.name if top else (names.get(insts[0], (insts[0], None))[0] if insts
                                     else None)
        region = top.admdvs if top else (names.get(insts[0], ("", None))[1] if insts
                                         else None)
        score = min(1.0, max(0.0, float(r["confidence"])))
        money = _yuan(r["fund_amount"])
        evidence = r[f"evidence_{lang}"] or r["evidence_zh"] or []
        drafts.append(LeadDraft(
            source="ring", source_ref=r["ring_id"],
            title=ring_title(r["pattern"], name, len(insts), len(r["persons"] or []), lang),
            summary=summary_text(evidence, lang), violation=r["pattern"],
            risk=_capped(risk_from_score(score), money,
                         any(h in high for h in r["hit_ids"] or ())),
            risk_score=round(score, 4), region=region, amount_involved=money,
            persons=tuple(r["persons"] or ()), institutions=tuple(insts),
            practitioners=doctors.get(r["ring_id"], ()), rings=(r["ring_id"],)))
    return drafts


def _groups(items: Sequence[Sequence[str]]) -> list[list[int]]:
    """Indices of ``items`` grouped where they share a member (connected components)."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, members in enumerate(items):
        for m in members:
            j = first.setdefault(m, i)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    out: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        out[root(i)].append(i)
    return list(out.values())


def _chain_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any], lang: Lang
                  ) -> list[LeadDraft]:
    """One draft per resale network outside the suspicious rings (the resale codes of a
    suspicious ring are that ring's lead): codes whose boxes passed through a common
    institution form one network, as detection forms resale rings."""
    from graph.claims import effective_settlements_sql
    from graph.money import FUND_SQL

    has_hits = _has(con, "rule_hits")
    hits = """LEFT JOIN rule_hits h ON h.rule_id = 'TRACE_REUSE'
                                 AND h.subject_id = c.drug_trac_codg""" if has_hits else ""
    chains = _records(con, f"""
        SELECT c.drug_trac_codg AS code, c.n_effective, c.institutions, c.persons,
               {"h.setl_ids" if has_hits else "c.setl_ids"} AS setl_ids,
               {"h.evidence_" + lang if has_hits else "NULL"} AS evidence,
               {"h.severity" if has_hits else "'high'"} AS severity
        FROM chains c {hits}
        WHERE c.hit_class = 'resale' AND {_OVERLAPS.format(t="c")}
          AND c.drug_trac_codg NOT IN (
              SELECT unnest(trace_codes) FROM rings WHERE suspicious)
        ORDER BY c.drug_trac_codg""", params) if _has(con, "rings") else []
    if not chains:
        return []
    groups = _groups([list(c["institutions"] or []) for c in chains])
    pairs = [(g, s) for g, members in enumerate(groups) for i in members
             for s in chains[i]["setl_ids"] or ()]
    money: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _records(con, f"""
            SELECT p.g, s.fixmedins_code AS code, any_value(i.fixmedins_name) AS name,
                   any_value(i.admdvs) AS admdvs, sum({FUND_SQL}) AS fund
            FROM (SELECT DISTINCT unnest($g) AS g, unnest($s) AS setl_id) p
            JOIN ({effective_settlements_sql()}) s ON s.setl_id = p.setl_id
            LEFT JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
            GROUP BY p.g, s.fixmedins_code
            ORDER BY p.g, fund DESC, s.fixmedins_code""",
                        {"g": [g for g, _ in pairs], "s": [s for _, s in pairs]}):
        money[int(row["g"])].append(row)
    codes_in: dict[str, list[str]] = defaultdict(list)
    for r in _records(con, "SELECT ring_id, unnest(trace_codes) AS code FROM rings "
                           "ORDER BY ring_id", {}):
        codes_in[r["code"]].append(r["ring_id"])
    drafts = []
    for g, members in enumerate(groups):
        rows = [chains[i] for i in members]
        codes = sorted(r["code"] for r in rows)
        places = money.get(g, [])
        insts = sorted({x for r in rows for x in r["institutions"] or ()})
        severity = max((r["severity"] for r in rows), key=lambda v: _LEVELS.get(v, 0))
        risk = cast(Risk, severity if severity in SEVERITY_SCORES else "high")
        drafts.append(LeadDraft(
            source="chain", source_ref=codes[0],
            title=chain_title(places[0]["name"] if places else None, len(insts), len(codes),
                              sum(int(r["n_effective"] or 0) for r in rows), lang),
            summary=summary_text([r["evidence"] for r in rows], lang),
            violation="resale_chain", risk=risk, risk_score=SEVERITY_SCORES[risk],
            region=places[0]["admdvs"] if places else None,
            amount_involved=_yuan(sum(float(p["fund"] or 0) for p in places)),
            persons=tuple(sorted({x for r in rows for x in r["persons"] or ()})),
            institutions=tuple(insts),
            rings=tuple(sorted({ring for c in codes for ring in codes_in.get(c, ())}))))
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
       list(g.{{evidence}} ORDER BY g.fund_amount DESC, g.hit_id) AS evidence,
       list_sort(list(g.hit_id)) AS hit_ids,
       any_value(m.fund) AS fund
FROM g LEFT JOIN money m USING (rule_id, inst)
GROUP BY g.rule_id, g.inst
ORDER BY g.rule_id, g.inst"""


def _rule_drafts(con: duckdb.DuckDBPyConnection, params: dict[str, Any], period: Period | None,
                 lang: Lang) -> list[LeadDraft]:
    from graph.claims import effective_settlements_sql
    from graph.money import FUND_SQL
    from graph.rules import load_rulebase

    rule_names = {rule.id: (rule.name_zh, rule.name_en) for rule in load_rulebase()}
    sql = _RULE_GROUPS.replace("{effective}", effective_settlements_sql()).replace(
        "{fund}", FUND_SQL).replace("{evidence}", f"evidence_{lang}")
    groups = _records(con, sql, params)
    ring_of_hit: dict[str, list[str]] = defaultdict(list)
    if _has(con, "rings"):
        for r in _records(con, """SELECT ring_id, unnest(hit_ids) AS hit_id FROM rings
                                  WHERE suspicious ORDER BY ring_id""", {}):
            ring_of_hit[r["hit_id"]].append(r["ring_id"])
    names = _names(con, sorted({g["inst"] for g in groups if g["inst"]}))
    span = f"@{period[0].isoformat()}..{period[1].isoformat()}" if period else ""
    drafts = []
    for g in groups:
        inst = g["inst"]
        name, region = names.get(inst, (inst or None, None))
        levels: tuple[Risk, ...] = ("low", "medium", "high")
        risk = levels[int(g["level"]) - 1]  # a high rule says high, money or not
        rings = sorted({ring for hit in g["hit_ids"] for ring in ring_of_hit.get(hit, ())})
        zh, en = rule_names.get(g["rule_id"], (g["rule_id"], g["rule_id"]))
        drafts.append(LeadDraft(
            source="rule_hit", source_ref=f"{g['rule_id']}@{inst or '-'}{span}",
            title=rule_title(zh, en, name, int(g["n_hits"]), lang),
            summary=summary_text(g["evidence"], lang), violation=g["rule_id"], risk=risk,
            risk_score=SEVERITY_SCORES[risk], region=region,
            amount_involved=to_yuan(Decimal(g["fund"] or 0).quantize(Decimal("0.01"))),
            persons=tuple(g["persons"] or ()), institutions=(inst,) if inst else (),
            practitioners=tuple(g["practitioners"] or ()), rings=tuple(rings)))
    return drafts


def lead_draft_from_ring(con: duckdb.DuckDBPyConnection, ring_id: str, *,
                         lang: Lang = "zh") -> LeadDraft | None:
    """The lead draft of the ring ``ring_id`` (source ``ring``, reference the ring id), made
    exactly as :func:`lead_drafts_from_store` makes it for a suspicious ring (see the module
    docstring), for any ring of the store, suspicious or not; ``None`` when the store has no
    such ring."""
    if not _has(con, "rings"):
        return None
    drafts = _ring_drafts(con, _period_params(None), lang, ring_ids=[ring_id])
    return drafts[0] if drafts else None


def lead_drafts_from_store(con: duckdb.DuckDBPyConnection, *, period: Period | None = None,
                           lang: Lang = "zh") -> list[LeadDraft]:
    """Drafts of leads from the detection tables of the store behind ``con`` (see the module
    docstring): rings, then resale networks, then rule groups; empty before detection.
    ``lang`` words titles and summaries (the ledger keeps Chinese)."""
    params = _period_params(period)
    drafts: list[LeadDraft] = []
    if _has(con, "rings"):
        drafts += _ring_drafts(con, params, lang)
    if _has(con, "chains"):
        drafts += _chain_drafts(con, params, lang)
    if _has(con, "rule_hits"):
        drafts += _rule_drafts(con, params, period, lang)
    return drafts


def detection_texts(con: duckdb.DuckDBPyConnection, leads: Iterable[Lead], lang: Lang
                    ) -> dict[str, tuple[str, str]]:
    """Lead id -> (title, summary) in ``lang`` for the leads of ``leads`` that detection made:
    each field detection wrote is worded again from the store in ``lang``; a field someone
    edited since (it no longer reads as detection's Chinese), and a lead whose ring, network or
    rule group the store no longer has, keep their stored text. Leads entered by hand are not
    in the result."""
    made = [lead for lead in leads
            if lead.source in ("ring", "chain", "rule_hit") and lead.source_ref]
    if lang == "zh" or not made:
        return {}
    periods: set[Period | None] = {None}
    periods.update(rule_ref_days(str(lead.source_ref)) for lead in made
                   if lead.source == "rule_hit")
    worded: dict[tuple[str, str], tuple[LeadDraft, LeadDraft]] = {}
    for period in periods:
        pairs = zip(lead_drafts_from_store(con, period=period),
                    lead_drafts_from_store(con, period=period, lang=lang), strict=True)
        worded.update({(zh.source, str(zh.source_ref)): (zh, other) for zh, other in pairs})
    rings = sorted({str(lead.source_ref) for lead in made if lead.source == "ring"
                    and ("ring", lead.source_ref) not in worded})
    if rings and _has(con, "rings"):  # rings made leads by hand from the ring page
        pairs = zip(_ring_drafts(con, _period_params(None), "zh", ring_ids=rings),
                    _ring_drafts(con, _period_params(None), lang, ring_ids=rings), strict=True)
        worded.update({("ring", str(zh.source_ref)): (zh, other) for zh, other in pairs})
    out: dict[str, tuple[str, str]] = {}
    for lead in made:
        found = worded.get((lead.source, str(lead.source_ref)))
        if found is None:
            continue
        zh, other = found
        out[lead.lead_id] = (other.title if lead.title == zh.title else lead.title,
                             other.summary if lead.summary == zh.summary else lead.summary)
    return out


def leads_from_store(con_or_path: duckdb.DuckDBPyConnection | Path | str, ledger: LeadLedger,
                     *, by: str, period: Period | None = None,
                     note: str = "由检测结果生成 / created from detection") -> DetectionLeads:
    """Create the leads of the store's detection results in ``ledger`` (one transaction);
    what already has a lead is left alone. ``con_or_path`` is an open store connection or the
    store file (its published snapshot, read-only: :func:`loaders.store.open_published`)."""
    if isinstance(con_or_path, str | Path):
        from loaders.store import open_published

        with open_published(Path(con_or_path)) as store:
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
