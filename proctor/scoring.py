"""Turn test outcomes into points: task points spread over the task's tests by weight.

A task's points (from course.toml) are shared among its tests in proportion to their
``points`` marker weights, so a task with one failing test out of four keeps the other
three quarters: partial credit lives at the test level. Tests of a task that
course.toml gives no points to are still reported, worth nothing. Late penalties are not
scoring's job: :func:`proctor.lms.late.apply_late` applies the course's
:class:`~proctor.config.LatePolicy` to a graded result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PASSED = "passed"


@dataclass(frozen=True)
class Scored:
    """One test's share of its task's points."""

    score: float
    max_score: float


def _round(x: float) -> float:
    return round(x + 0.0, 4)


def spread_points(tests: Iterable[tuple[str, float, str]], points: Mapping[str, float],
                  task_weights: Mapping[str, float] | None = None) -> list[Scored]:
    """Score each ``(task, weight, status)``: its share of the task's points if it passed.

    ``task_weights`` gives each task's total weight when only some of its tests ran (a
    public-only run), so that a test is worth the same in every kind of run.
    """
    tests = list(tests)
    weight_of_task: dict[str, float] = defaultdict(float)
    for task, weight, _ in tests:
        weight_of_task[task] += weight
    weight_of_task.update(task_weights or {})
    scored = []
    for task, weight, status in tests:
        total = weight_of_task[task]
        share = points.get(task, 0.0) * weight / total if total > 0 else 0.0
        scored.append(Scored(_round(share if status == PASSED else 0.0), _round(share)))
    return scored


def task_totals(tests: Iterable[tuple[str, float, str]], points: Mapping[str, float],
                task_weights: Mapping[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Per task ``{"score", "max_score"}`` in course.toml's order, then any other tasks.

    Computed from weights, not by adding up rounded test scores, so a task whose tests
    all pass scores exactly its points.
    """
    ran: dict[str, float] = defaultdict(float)
    passed: dict[str, float] = defaultdict(float)
    for task, weight, status in tests:
        ran[task] += weight
        if status == PASSED:
            passed[task] += weight
    totals = {}
    for task in [*points, *(t for t in ran if t not in points)]:
        total = (task_weights or {}).get(task, ran[task])
        pts = float(points.get(task, 0.0))
        frac = (lambda w: w / total if total > 0 else 0.0)
        totals[task] = {"score": _round(pts * frac(passed[task])),
                        "max_score": _round(pts * frac(ran[task]) if task_weights else pts)}
    return totals

