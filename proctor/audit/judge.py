"""What the graded jobs say about the suite: the figures and the verdict of the audit.

Pure functions of the graded runs (``run.Graded``), so each rule is testable on made-up
verdicts: which tests call a part (those its probe fails), what each degenerate is paid,
each mutant's kill, hint and collateral, vacuous tests, tests failing a correct
alternative, and the thresholds from course.toml.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from proctor.audit.run import Graded

PASSED = "passed"


def failing(graded: Graded) -> set[str]:
    return {nid for nid, t in graded.tests.items() if t["status"] != PASSED}


def calls(probes: dict[str, Graded], solution: Graded) -> dict[str, list[str]]:
    """Per part: the tests its probe fails that the solution passes (they call the part)."""
    fine = {nid for nid, t in solution.tests.items() if t["status"] == PASSED}
    return {part: sorted(failing(g) & fine) for part, g in probes.items()}


def degenerate_pay(graded: Graded, part_task: str, called: list[str], judged_tasks: tuple[str, ...]
                   ) -> list[dict[str, Any]]:
    """The tests that pay this degenerate: they call its part, sit in its task (or a task
    that judges every part, such as efficiency), are worth points, and pass."""
    tasks = {part_task, *judged_tasks}
    return [{"test": nid, "task": graded.tests[nid]["task"], "points": graded.tests[nid]["max_score"]}
            for nid in called
            if graded.tests[nid]["task"] in tasks and graded.tests[nid]["status"] == PASSED
            and graded.tests[nid]["max_score"] > 0]


def lost_by_task(graded: Graded) -> dict[str, float]:
    lost: dict[str, float] = defaultdict(float)
    for t in graded.tests.values():
        lost[t["task"]] += t["max_score"] - t["score"]
    return {task: round(v, 4) for task, v in lost.items() if round(v, 4) > 0}


def mutant_verdict(graded: Graded, task: str, shared: tuple[str, ...], hint: str) -> dict[str, Any]:
    """Killed (points lost in its own task), hinted (a failing test of its tasks names the
    bug in the declared words) and collateral (points lost anywhere else)."""
    lost = lost_by_task(graded)
    allowed = {task, *shared}
    hints = sorted({t["hint"] for t in graded.tests.values()
                    if t["task"] in allowed and t["status"] != PASSED and t["hint"]})
    return {"killed": lost.get(task, 0) > 0,
            "hinted": any(hint.lower() in h.lower() for h in hints),
            "lost": lost,
            "collateral": {k: v for k, v in lost.items() if k not in allowed},
            "hints": hints[:6]}


def per_task(tasks: list[str], mutants: list[dict[str, Any]], degenerates: list[dict[str, Any]]
             ) -> list[dict[str, Any]]:
    """The audit table: per task, kill rate, hint rate, collateral points lost there, and
    the most any one degenerate is paid there."""
    rows = []
    for task in tasks:
        own = [m for m in mutants if m["task"] == task]
        paid = [sum(p["points"] for p in d["paid"] if p["task"] == task) for d in degenerates]
        rows.append({
            "task": task, "mutants": len(own),
            "killed": sum(m["killed"] for m in own), "hinted": sum(m["hinted"] for m in own),
            "kill_rate": sum(m["killed"] for m in own) / len(own) if own else None,
            "hint_rate": sum(m["hinted"] for m in own) / len(own) if own else None,
            "collateral": round(sum(m["collateral"].get(task, 0) for m in mutants), 4),
            "degenerate_points": round(max(paid, default=0.0), 4)})
    return rows


def test_table(suite_tests: dict[str, tuple[str, float]], solution: Graded, mutants: dict[str, Graded],
               alternatives: dict[str, Graded], degenerates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per test: its points, how many mutants it fails, the correct alternatives it fails,
    and the degenerates it pays; ``vacuous`` when it is worth points and no mutant fails it."""
    rows = []
    for nid, (task, _) in suite_tests.items():
        points = solution.tests[nid]["max_score"]
        fails = sum(g.tests[nid]["status"] != PASSED for g in mutants.values())
        rows.append({
            "test": nid, "task": task, "points": points, "mutants_failing": fails,
            "vacuous": bool(mutants) and fails == 0 and points > 0,
            "fails_alternatives": [a for a, g in alternatives.items() if g.tests[nid]["status"] != PASSED],
            "pays_degenerates": [d["name"] for d in degenerates if any(p["test"] == nid for p in d["paid"])]})
    return rows


def checks(thresholds: Any, *, reference: Graded, stub: Graded, rows: list[dict[str, Any]],
           mutants: list[dict[str, Any]], alternatives: dict[str, Graded]) -> list[dict[str, Any]]:
    """Each threshold of course.toml with the measured value and whether it holds."""
    out = []

    def add(name: str, ok: bool, value: str, wanted: str) -> None:
        out.append({"check": name, "ok": bool(ok), "value": value, "threshold": wanted})

    max_score = sum(t["max_score"] for t in reference.tasks.values())
    if thresholds.reference_full:
        add("reference full marks", reference.score >= max_score and not reference.problem,
            f"{reference.score:g} / {max_score:g}", "full")
    if thresholds.stub_zero:
        add("stub scores zero", stub.score == 0, f"{stub.score:g}", "0")
    worst = max((r["degenerate_points"] for r in rows), default=0.0)
    add("degenerate points", worst <= thresholds.degenerate_points, f"{worst:g} (worst task)",
        f"<= {thresholds.degenerate_points:g}")
    if mutants:
        rates = [r["kill_rate"] for r in rows if r["kill_rate"] is not None]
        worst_kill = min(rates, default=1.0)
        add("mutant kill rate", worst_kill >= thresholds.kill_rate, f"{worst_kill:.0%} (worst task)",
            f">= {thresholds.kill_rate:.0%}")
        hint_rate = sum(m["hinted"] for m in mutants) / len(mutants)
        add("hint rate", hint_rate >= thresholds.hint_rate, f"{hint_rate:.0%}", f">= {thresholds.hint_rate:.0%}")
        collateral = round(sum(sum(m["collateral"].values()) for m in mutants), 4)
        add("collateral", collateral <= thresholds.collateral, f"{collateral:g} points",
            f"<= {thresholds.collateral:g}")
    if thresholds.alternatives_full:
        short = [name for name, g in alternatives.items()
                 if g.score < sum(t["max_score"] for t in g.tasks.values()) or g.problem]
        add("correct alternatives full marks", not short, f"{len(alternatives) - len(short)}/{len(alternatives)} full"
            + (f"; short: {', '.join(short)}" if short else ""), "all")
    return out
