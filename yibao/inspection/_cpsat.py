"""What the two CP-SAT models share: the solver settings, the accepted statuses and the week
patterns."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

__all__ = ["STATUS_OK", "cp_solver", "week_patterns"]

STATUS_OK = (cp_model.OPTIMAL, cp_model.FEASIBLE)
"""Statuses with a solution to read."""


def week_patterns(lengths: Sequence[int], days_per_week: int) -> list[tuple[int, ...]]:
    """The maximal ways to fill one week with visits: for each pattern, how many visits of each
    length in ``lengths`` (sorted ascending) fit in ``days_per_week`` days so that no further
    visit fits. Every feasible week is dominated by one of them."""
    sizes = sorted(lengths)
    out: list[tuple[int, ...]] = []

    def extend(i: int, left: int, counts: list[int]) -> None:
        if i == len(sizes):
            if not sizes or left < sizes[0]:
                out.append(tuple(counts))
            return
        for n in range(left // sizes[i], -1, -1):
            extend(i + 1, left - n * sizes[i], [*counts, n])

    extend(0, days_per_week, [])
    return out


def cp_solver(time_limit: float, seed: int, workers: int, deterministic: bool) -> cp_model.CpSolver:
    """A CP-SAT solver with ``seed`` and ``workers`` threads, stopped after ``time_limit``
    seconds, or, with ``deterministic``, after that much deterministic time with interleaved
    search (then repeated runs give the same answer)."""
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = max(1, workers)
    if deterministic:
        solver.parameters.interleave_search = True
        solver.parameters.max_deterministic_time = time_limit
    else:
        solver.parameters.max_time_in_seconds = time_limit
    return solver
