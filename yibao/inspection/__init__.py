"""Inspection planning (检查计划) for Yangtze Delta joint inspections (长三角联合检查).

From a detected store to a plan: :func:`candidates_from_store` (institutions with risk and
suspicious amount), inspectors from a roster (:func:`inspectors_from_csv`), :class:`PlanOptions`
and :class:`PlanInputs`, then :func:`plan_inspections` (OR-Tools CP-SAT; teams are formed by
:mod:`yibao.inspection.teams`, visits assigned by :mod:`yibao.inspection.model`) or the
:func:`greedy_plan` baseline, :func:`check_plan` to verify any plan, and :func:`plan_to_excel`
to hand it out.

``import yibao.inspection`` does not import OR-Tools (about 0.5 s); the solver functions load
it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yibao.inspection.candidates import (
    CANDIDATE_COLUMNS,
    candidate_values,
    candidates_from_store,
    synthetic_candidates,
    visit_days,
)
from yibao.inspection.excel import plan_to_excel
from yibao.inspection.greedy import greedy_plan
from yibao.inspection.inspectors import Inspector, inspectors_from_csv, synthetic_inspectors
from yibao.inspection.plan import (
    InspectionPlan,
    PlanInputs,
    PlanOptions,
    Team,
    TeamFormation,
    Visit,
    allowed_cities,
    check_plan,
    plan_to_frame,
    teams_to_frame,
)

if TYPE_CHECKING:
    from yibao.inspection.model import plan_inspections
    from yibao.inspection.teams import form_teams

__all__ = [
    "CANDIDATE_COLUMNS",
    "InspectionPlan",
    "Inspector",
    "PlanInputs",
    "PlanOptions",
    "Team",
    "TeamFormation",
    "Visit",
    "allowed_cities",
    "candidate_values",
    "candidates_from_store",
    "check_plan",
    "form_teams",
    "greedy_plan",
    "inspectors_from_csv",
    "plan_inspections",
    "plan_to_excel",
    "plan_to_frame",
    "synthetic_candidates",
    "synthetic_inspectors",
    "teams_to_frame",
    "visit_days",
]

_SOLVER = ("form_teams", "plan_inspections")


def __getattr__(name: str) -> Any:
    if name in _SOLVER:
        from yibao.inspection import model

        return getattr(model, name)
    raise AttributeError(f"module 'yibao.inspection' has no attribute {name!r}")
