"""Honest explanations of a ring, each a hypothesis tested on the ring's own settlements.

A group that settles together is not always a ring. Each explanation below says what honest care
would leave in the data and measures how much of the ring's co-settlement it covers; when one
covers at least ``explained_share`` of it (and no hard evidence stands against the ring), the
ring is kept, shown with the explanation, and not flagged.

* **Therapy schedules**, recognised by diagnosis class *and* the rhythm of each member's visits,
  never by 医疗类别 alone:
  dialysis (N18, N19, Z49, Z99.2; sessions 1-4 days apart, about three a week), chemotherapy and
  radiotherapy (C00-D48 with Z51; cycles of 7, 14, 21 or 28 days, +-3), rehabilitation (Z50,
  I69 sequelae; daily on weekdays: 1-3 days apart). Therapy happens at medical institutions, so
  co-settlements at retail pharmacies are never covered.
* **Health checks** (Z00-Z13: a factory check-up, a screening or vaccination day).
* **A weekly session**: a clinic's rounds of a nursing home or a market-day clinic. The
  meetings fall on one weekday (at least 80% of at least four meeting days), at medical
  institutions, with ordinary bills (median at most 1.5 times the norm of their 医疗类别).
* **A family**: at most 8 persons with ordinary bills, at least two sharing a surname and an
  insured area; it covers ``sharers / (n - 1)`` (children share the father's surname, a
  mother usually keeps hers, so a family of n has about n - 1 sharers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXPLANATION_KEYS",
    "THERAPIES",
    "Explanation",
    "Therapy",
    "diagnosis_classes",
    "explanations_of_ring",
]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Therapy:
    """A course of treatment: which diagnoses and which gaps between sessions (days)."""

    key: str
    name_zh: str
    name_en: str
    prefixes: tuple[str, ...]
    gaps: tuple[int, ...]


def _chemo_prefixes() -> tuple[str, ...]:
    # C00-C97 and D00-D48 (neoplasms), Z51.0 radiotherapy, Z51.1 chemotherapy, Z51.8.
    return ("C", *(f"D{n:02d}" for n in range(49)), "Z51")


THERAPIES: tuple[Therapy, ...] = (
    Therapy("dialysis", "血液透析", "haemodialysis", ("N18", "N19", "Z49", "Z99.2"),
            (1, 2, 3, 4)),
    Therapy("chemotherapy", "肿瘤放化疗", "chemotherapy or radiotherapy", _chemo_prefixes(),
            tuple(sorted({c + d for c in (7, 14, 21, 28) for d in range(-3, 4)}))),
    Therapy("rehabilitation", "康复治疗", "rehabilitation", ("Z50", "I69"), (1, 2, 3)),
)
EXPLANATION_KEYS: tuple[str, ...] = (
    "", *(t.key for t in THERAPIES), "checkup", "weekly_session", "family")
"""Every explanation key; a ring stores the index of the one that cleared it (0: none) in
``metrics["explanation"]``."""
_CHECKUP = tuple(f"Z{n:02d}" for n in range(14))  # Z00-Z13: examinations and screening


@dataclass(frozen=True)
class Explanation:
    """An honest explanation of a ring and how much of its co-settlement it covers (0..1)."""

    key: str
    coverage: float
    zh: str
    en: str


def diagnosis_classes(diagnosis_codes: npt.NDArray[np.object_]) -> dict[str, B]:
    """Per class key (therapies, ``"checkup"``), which diagnosis codes belong to it."""
    codes = np.array([str(c).upper() for c in diagnosis_codes], dtype=object)

    def starts(prefixes: tuple[str, ...]) -> B:
        return np.array([c.startswith(prefixes) for c in codes], dtype=bool)

    out = {t.key: starts(t.prefixes) for t in THERAPIES}
    out["checkup"] = starts(_CHECKUP)
    return out


def _share_in(diagnosis: I64, member: B) -> float:
    known = diagnosis >= 0
    if not known.any():
        return 0.0
    return float(member[diagnosis[known]].mean())


def _rhythm(person: I64, day: I64, gaps: tuple[int, ...]) -> float:
    """Share of the gaps between each member's consecutive visit days that fit ``gaps``."""
    if len(person) < 2:
        return 0.0
    pairs = np.unique(np.column_stack([person, day]), axis=0)
    same = pairs[1:, 0] == pairs[:-1, 0]
    between = (pairs[1:, 1] - pairs[:-1, 1])[same]
    if not len(between):
        return 0.0
    return float(np.isin(between, gaps).mean())


def explanations_of_ring(
    *, person: I64, day: I64, diagnosis: I64, at_pharmacy: B, met: B, bill_ratio: float,
    classes: dict[str, B], n_persons: int, surname_sharers: int,
) -> list[Explanation]:
    """The honest explanations that fit one ring, best covering first.

    All arrays are over the ring's settlements: ``person``, ``day``, ``diagnosis`` (index into
    the diagnosis codes, -1 none), ``at_pharmacy`` (settled at a retail pharmacy), ``met``
    (co-settled with another member, :func:`graph.suspicion.co_settlement_test`).
    ``bill_ratio``: the ring's median bill over the norm of its 医疗类别;
    ``surname_sharers``: members sharing surname and insured area with another member.
    """
    out: list[Explanation] = []
    meeting = met & ~at_pharmacy
    n_met = max(int(met.sum()), 1)
    for therapy in THERAPIES:
        if not meeting.any():
            break
        dx_share = _share_in(diagnosis[meeting], classes[therapy.key])
        care = ~at_pharmacy
        rhythm = _rhythm(person[care], day[care], therapy.gaps)
        coverage = min(dx_share, rhythm) * meeting.sum() / n_met
        if coverage > 0:
            out.append(Explanation(
                therapy.key, round(coverage, 3),
                f"{dx_share:.0%} 的同时段结算诊断属于{therapy.name_zh}，成员就诊间隔 "
                f"{rhythm:.0%} 符合疗程节律，可解释集中就诊",
                f"{dx_share:.0%} of the co-settlements carry {therapy.name_en} diagnoses and "
                f"{rhythm:.0%} of members' gaps between visits fit its schedule, which explains "
                "the shared times"))
    if met.any():
        checkup = _share_in(diagnosis[met], classes["checkup"])
        if checkup > 0:
            out.append(Explanation(
                "checkup", round(checkup, 3),
                f"{checkup:.0%} 的同时段结算为健康检查或筛查（Z00-Z13），像单位体检或筛查日",
                f"{checkup:.0%} of the co-settlements are health checks or screening (Z00-Z13), "
                "like an employer's check-up or a screening day"))
    meeting_days = np.unique(day[meeting])
    if len(meeting_days) >= 4 and bill_ratio <= 1.5:
        weekday = (meeting_days + 5) % 7  # day 0 (2000-01-01) was a Saturday
        top = float(np.bincount(weekday, minlength=7).max() / len(meeting_days))
        if top >= 0.8:
            coverage = float(meeting.sum() / n_met)
            out.append(Explanation(
                "weekly_session", round(coverage, 3),
                f"{top:.0%} 的共同就诊日在同一星期几、在医疗机构、费用正常，"
                "像养老机构巡诊或集日门诊",
                f"{top:.0%} of the shared days fall on one weekday, at a medical institution, "
                "with ordinary bills: like a nursing home's rounds or a market-day clinic"))
    if 2 <= n_persons <= 8 and bill_ratio <= 1.5 and surname_sharers >= 2:
        # In a Chinese family the children share the father's surname and the mother keeps
        # hers: a family of n has about n - 1 sharers.
        coverage = min(1.0, surname_sharers / (n_persons - 1))
        out.append(Explanation(
            "family", round(coverage, 3),
            f"{n_persons} 人中 {surname_sharers} 人同姓且同一参保地、费用正常，像家庭成员同行就医",
            f"{surname_sharers} of the {n_persons} persons share a surname and insured area, "
            "with ordinary bills, like a family visiting together"))
    out.sort(key=lambda e: -e.coverage)
    return out
