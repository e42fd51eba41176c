"""Detection measured against the synthetic ground truth (``truth.json`` of ``yibao synth``).

Per planted scenario: how many of its persons sit in a ring ranked suspicious (recall), the
ring that holds most of them, and how pure that ring is. Overall: recall of planted fraud
members and precision among the persons of suspicious rings; every planted resale chain's codes
among the stored chains classed as resale; and no honest look-alike (family, dialysis cohort,
nursing home, refund-resale, split pack, commuters, chemotherapy cycles, rehabilitation course,
check-up day, market-day clinic) dominating a suspicious ring, reported per honest pattern.
Whether a scenario is fraud or honest is its ``kind`` in ``truth.json``; the shape the generator
drew for it (``params``: ring size, spread, ...) is passed through, so a benchmark can report
per cell.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from yibao.errors import DataFileError

__all__ = ["Evaluation", "ScenarioResult", "evaluate_rings", "evaluate_store", "load_truth"]


@dataclass(frozen=True)
class ScenarioResult:
    """One planted scenario against the detected rings."""

    scenario_id: str
    pattern: str
    kind: str
    persons: int
    found: int
    recall: float
    best_ring: str | None
    best_ring_score: float | None
    best_ring_precision: float | None
    codes: int
    codes_found: int
    params: dict[str, Any] = field(default_factory=dict)
    """The shape the generator drew for the scenario (``params`` of ``truth.json``)."""


@dataclass(frozen=True)
class Evaluation:
    scenarios: list[ScenarioResult]
    recall: float
    precision: float
    suspicious_rings: int
    suspicious_persons: int
    chains_found: int
    chains_planted: int
    honest_in_suspicious: list[str]
    """Suspicious rings more than half of whose persons belong to honest look-alikes."""
    honest_by_pattern: dict[str, list[str]] = field(default_factory=dict)
    """Each honest pattern planted -> the suspicious rings it dominates (empty: left alone)."""
    codes_found: int = 0
    codes_planted: int = 0
    """Resale traceability codes found among the stored resale chains, and planted."""

    def to_json(self) -> dict[str, Any]:
        return {
            "recall": self.recall, "precision": self.precision,
            "suspicious_rings": self.suspicious_rings,
            "suspicious_persons": self.suspicious_persons,
            "chains_found": self.chains_found, "chains_planted": self.chains_planted,
            "honest_in_suspicious": self.honest_in_suspicious,
            "honest_by_pattern": self.honest_by_pattern,
            "codes_found": self.codes_found, "codes_planted": self.codes_planted,
            "scenarios": [s.__dict__ for s in self.scenarios],
        }


def load_truth(folder: Path) -> list[dict[str, Any]]:
    """The scenarios of ``folder/truth.json``."""
    path = Path(folder) / "truth.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return list(data["scenarios"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataFileError(
            f"cannot read the ground truth {path}: {exc}; evaluate needs a folder written by "
            "`yibao synth`"
        ) from exc


def evaluate_store(con: duckdb.DuckDBPyConnection, scenarios: list[dict[str, Any]]
                   ) -> Evaluation:
    """Compare the stored ``rings`` and ``chains`` with the planted ``scenarios``."""
    rings = con.execute(
        "SELECT ring_id, score, persons FROM rings WHERE suspicious ORDER BY rank"
    ).fetchall()
    resale = {r[0] for r in con.execute(
        "SELECT drug_trac_codg FROM chains WHERE hit_class = 'resale'").fetchall()}
    return evaluate_rings([(str(r[0]), float(r[1]), list(r[2])) for r in rings], resale,
                          scenarios)


def evaluate_rings(rings: list[tuple[str, float, list[str]]], resale: set[str],
                   scenarios: list[dict[str, Any]]) -> Evaluation:
    """Compare flagged ``rings`` (id, score, persons; ranked) and the ``resale`` trace codes
    found with the planted ``scenarios``."""
    in_ring: dict[str, list[str]] = {}
    for ring_id, _, persons in rings:
        for p in persons:
            in_ring.setdefault(p, []).append(ring_id)
    score = {r[0]: float(r[1]) for r in rings}
    members = {r[0]: set(r[2]) for r in rings}
    fraud_persons = {p for s in scenarios if s["kind"] == "fraud" for p in s["persons"]}
    owner: dict[str, str] = {}
    for s in scenarios:
        for p in s["persons"]:
            owner.setdefault(p, s["id"])
    results = []
    for s in scenarios:
        persons = list(dict.fromkeys(s["persons"]))
        hits = [p for p in persons if p in in_ring]
        votes = Counter(r for p in hits for r in in_ring[p])
        best = votes.most_common(1)[0][0] if votes else None
        precision = (sum(owner.get(p) == s["id"] for p in members[best]) / len(members[best])
                     if best else None)
        codes = s["trace_codes"] if s["pattern"] == "resale_chain" else []
        results.append(ScenarioResult(
            scenario_id=s["id"], pattern=s["pattern"], kind=s["kind"], persons=len(persons),
            found=len(hits), recall=len(hits) / len(persons) if persons else 1.0,
            best_ring=best, best_ring_score=score.get(best) if best else None,
            best_ring_precision=precision, codes=len(codes),
            codes_found=sum(c in resale for c in codes), params=dict(s.get("params") or {}),
        ))
    flagged = set(in_ring)
    by_id = {s["id"]: s for s in scenarios}
    honest = []
    honest_by_pattern: dict[str, list[str]] = {
        s["pattern"]: [] for s in scenarios if s["kind"] == "honest"}
    for ring_id, _, persons in rings:
        owners = [by_id[owner[p]] for p in persons if p in owner]
        patterns = Counter(s["pattern"] for s in owners if s["kind"] == "honest")
        if sum(patterns.values()) * 2 > len(persons):
            honest.append(ring_id)
            honest_by_pattern[patterns.most_common(1)[0][0]].append(ring_id)
    planted = [r for r in results if r.pattern == "resale_chain"]
    return Evaluation(
        scenarios=results,
        recall=len(fraud_persons & flagged) / len(fraud_persons) if fraud_persons else 1.0,
        precision=len(fraud_persons & flagged) / len(flagged) if flagged else 1.0,
        suspicious_rings=len(rings),
        suspicious_persons=len(flagged),
        chains_found=sum(r.codes_found == r.codes and r.codes > 0 for r in planted),
        chains_planted=len(planted),
        honest_in_suspicious=honest,
        honest_by_pattern=honest_by_pattern,
        codes_found=sum(r.codes_found for r in planted),
        codes_planted=sum(r.codes for r in planted),
    )
