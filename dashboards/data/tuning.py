"""Data of the tuning page (调参验证): detection rerun on one scope with other settings
(:mod:`graph.tuning`), the rings it gains and loses against the stored run, and, when the
store's data came from ``yibao synth``, both runs measured against the planted truth."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboards.data.common import Period, query_frame
from dashboards.i18n import Lang, pattern_label
from graph.evaluate import evaluate_rings, load_truth
from graph.ring_candidates import RingCandidate
from graph.rings import Ring
from graph.scoring import (
    DetectionSettings,
    load_detection_settings,
    parse_detection_settings,
    settings_toml,
)
from graph.tuning import (
    TuningScope,
    ring_changes,
    store_rule_candidates,
    stored_rings_in_scope,
    tune_in_scope,
)
from yibao.errors import YibaoError
from yibao.i18n import list_join

__all__ = ["TuningResult", "city_choices", "institution_choices", "scope_of", "settings_from",
           "stored_settings", "tuned"]


def stored_settings(con: duckdb.DuckDBPyConnection) -> DetectionSettings:
    """The settings of the stored run (as ``detect_runs`` recorded them; the shipped defaults
    for what a run before this record did not store)."""
    base = load_detection_settings()
    row = con.execute("SELECT settings FROM detect_runs ORDER BY run_id DESC LIMIT 1").fetchone()
    if row is None or not row[0]:
        return base
    saved = json.loads(row[0])
    return settings_from(base, {
        "co_settlement": saved.get("co_settlement", {}), "community": saved.get("community", {}),
        "suspicion": saved.get("suspicion", {}), "scale": saved.get("score_scale", {})})


def settings_from(base: DetectionSettings, changes: dict[str, dict[str, Any]]
                  ) -> DetectionSettings:
    """``base`` with ``changes`` (sections and keys of ``detection.toml``), validated as a file
    would be."""
    merged = settings_toml(base)
    for section, values in changes.items():
        merged.setdefault(section, {}).update(
            {k: v for k, v in values.items() if k in merged.get(section, {})})
    return parse_detection_settings(merged)


def scope_of(period: Period, city: str | None, institution: str | None) -> TuningScope:
    return TuningScope(start=period.start, end=period.end, division=city or None,
                       institution=institution or None)


def city_choices(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Cities with settlements in ``period``: ``code``, ``flagged`` (the stored run's flagged
    rings at the city's institutions), ``settlements``; most flagged rings first, then most
    settlements."""
    return query_frame(con, """
        WITH flagged AS (
            SELECT left(i.admdvs, 4) || '00' AS code, count(DISTINCT r.ring_id) AS flagged
            FROM rings r, unnest(r.institutions) u(place)
            JOIN institutions i ON i.fixmedins_code = u.place
            WHERE r.suspicious GROUP BY 1),
        busy AS (
            SELECT left(i.admdvs, 4) || '00' AS code, count(*) AS settlements
            FROM settlements s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
            WHERE s.setl_time >= $p_start AND s.setl_time < $p_end AND i.admdvs IS NOT NULL
            GROUP BY 1)
        SELECT b.code, coalesce(f.flagged, 0) AS flagged, b.settlements
        FROM busy b LEFT JOIN flagged f ON f.code = b.code
        ORDER BY flagged DESC, settlements DESC, code""", period.params)


def institution_choices(con: duckdb.DuckDBPyConnection, period: Period, city: str
                        ) -> pd.DataFrame:
    """The city's institutions with settlements in ``period``: ``code``, ``name``,
    ``settlements`` (most first, at most 300)."""
    return query_frame(con, """
        SELECT i.fixmedins_code AS code, any_value(i.fixmedins_name) AS name,
               count(*) AS settlements
        FROM settlements s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE s.setl_time >= $p_start AND s.setl_time < $p_end
          AND starts_with(i.admdvs, left($city, 4))
        GROUP BY 1 ORDER BY settlements DESC, code LIMIT 300""",
        {**period.params, "city": city})


@dataclass(frozen=True)
class TuningResult:
    """A rerun on one scope against the stored run."""

    settlements: int
    seconds: float
    flagged: int
    stored_flagged: int
    gained: pd.DataFrame
    lost: pd.DataFrame
    kept: pd.DataFrame
    evaluation: pd.DataFrame | None
    """Per planted scenario with persons in the scope: recall of the stored run and of the
    rerun (``None`` without ground truth)."""
    overall: dict[str, tuple[float, float]] | None
    """``recall`` and ``precision`` over the scope's planted persons: (stored, rerun)."""


_RULES: dict[str, list[RingCandidate]] = {}
_RULES_LOCK = threading.Lock()


def _rule_candidates(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    """The store's rule candidates, computed once per store file and version."""
    key = _store_identity(con)
    with _RULES_LOCK:
        if key not in _RULES:
            _RULES.clear()  # one snapshot at a time
            _RULES[key] = store_rule_candidates(con)
        return _RULES[key]


def _store_identity(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT path FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    path = Path(str(row[0])) if row and row[0] else None
    if path is None or not path.exists():
        return "memory"
    stat = path.stat()
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def tuned(con: duckdb.DuckDBPyConnection, scope: TuningScope, settings_json: str,
          lang: Lang) -> TuningResult:
    """Detection on ``scope`` with the settings ``settings_json`` (:func:`settings_toml`
    layout, as JSON), compared with the stored run."""
    settings = settings_from(load_detection_settings(), json.loads(settings_json))
    run = tune_in_scope(con, scope, settings, rule_candidates=_rule_candidates(con))
    stored = stored_rings_in_scope(con, scope)
    changes = ring_changes(run, stored)
    names = _institution_names(con, {c for r in run.rings for c in r.institutions})
    lost = _stored_rows(con, changes.lost, run.rings, lang)
    return TuningResult(
        settlements=run.settlements, seconds=run.seconds, flagged=len(run.flagged),
        stored_flagged=len(stored),
        gained=_ring_rows(changes.gained, names, lang),
        lost=lost, kept=_ring_rows(changes.kept, names, lang),
        **_evaluation(con, run.persons, run.flagged, stored))


def _institution_names(con: duckdb.DuckDBPyConnection, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = con.execute("SELECT fixmedins_code, fixmedins_name FROM institutions "
                       "WHERE fixmedins_code IN (SELECT unnest($c))",
                       {"c": sorted(codes)}).fetchall()
    return {str(c): str(n or c) for c, n in rows}


def _ring_rows(rings: list[Ring], names: dict[str, str], lang: Lang) -> pd.DataFrame:
    return pd.DataFrame([{
        "ring_id": r.ring_id, "pattern": pattern_label(r.pattern, lang),
        "persons": len(r.persons),
        "places": list_join([names.get(c, c) for c in r.institutions[:3]], lang)
                  + ("…" if len(r.institutions) > 3 else ""),
        "fund": round(r.fund_amount, 2), "score": r.score,
        "q_value": float(r.metrics.get("q_value", 1.0)),
        "evidence": (r.evidence_zh if lang == "zh" else r.evidence_en)[:1][0]
        if (r.evidence_zh if lang == "zh" else r.evidence_en) else "",
    } for r in rings], columns=["ring_id", "pattern", "persons", "places", "fund", "score",
                                "q_value", "evidence"])


def _stored_rows(con: duckdb.DuckDBPyConnection, ids: list[str], now: list[Ring],
                 lang: Lang) -> pd.DataFrame:
    """The stored flagged rings the rerun no longer flags, with what the rerun says now."""
    columns = ["ring_id", "pattern", "persons", "fund", "score", "now_q", "evidence"]
    if not ids:
        return pd.DataFrame(columns=columns)
    rows = con.execute(
        "SELECT ring_id, pattern, len(persons), fund_amount, score, evidence_zh, evidence_en "
        "FROM rings WHERE ring_id IN (SELECT unnest($ids)) ORDER BY rank",
        {"ids": ids}).fetchall()
    by_id = {r.ring_id: r for r in now}
    return pd.DataFrame([{
        "ring_id": r[0], "pattern": pattern_label(r[1], lang), "persons": int(r[2]),
        "fund": round(float(r[3]), 2), "score": float(r[4]),
        "now_q": float(by_id[r[0]].metrics.get("q_value", 1.0)) if r[0] in by_id
        else float("nan"),
        "evidence": ((r[5] if lang == "zh" else r[6]) or [""])[0],
    } for r in rows], columns=columns)


def ground_truth(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]] | None:
    """The planted scenarios of the folders the store was loaded from (``truth.json`` of a
    ``yibao synth`` folder), or ``None`` for real data."""
    sources = [str(r[0]) for r in con.execute(
        "SELECT DISTINCT source FROM loads WHERE source IS NOT NULL ORDER BY 1").fetchall()]
    scenarios: list[dict[str, Any]] = []
    for source in sources:
        if (Path(source) / "truth.json").is_file():
            try:
                scenarios += load_truth(Path(source))
            except YibaoError:
                continue
    return scenarios or None


def _evaluation(con: duckdb.DuckDBPyConnection, persons: frozenset[str], flagged: list[Ring],
                stored_ids: list[str]) -> dict[str, Any]:
    """``evaluation`` and ``overall`` of :class:`TuningResult` (both ``None`` without ground
    truth for the scope)."""
    truth = ground_truth(con)
    scoped = [{**s, "persons": [p for p in s["persons"] if p in persons]} for s in truth or []]
    scoped = [s for s in scoped if s["persons"]]
    if not scoped:
        return {"evaluation": None, "overall": None}
    stored_rows = con.execute(
        "SELECT ring_id, score, persons FROM rings WHERE ring_id IN (SELECT unnest($ids)) "
        "ORDER BY rank", {"ids": stored_ids}).fetchall()
    before = evaluate_rings([(str(r[0]), float(r[1]), list(r[2])) for r in stored_rows],
                            set(), scoped)
    after = evaluate_rings([(r.ring_id, r.score, list(r.persons)) for r in flagged], set(),
                           scoped)
    frame = pd.DataFrame([{"scenario": a.scenario_id, "pattern": a.pattern, "kind": a.kind,
                           "persons": a.persons, "stored": b.recall, "tuned": a.recall}
                          for b, a in zip(before.scenarios, after.scenarios, strict=True)])
    return {"evaluation": frame,
            "overall": {"recall": (before.recall, after.recall),
                        "precision": (before.precision, after.precision)}}
