"""The terminal summary of ``proctor grade`` and ``proctor check``, in the page's order.

What to fix first (each misconception once, most points first, from ``fixes.what_to_fix``),
then the score per task, load problems, and one line per failing test pointing at its fix.
"""

from __future__ import annotations

import textwrap
from typing import Any

from proctor.result import load_notes

from .built_on import built_on_lines
from .fixes import FAILING, points_text, what_to_fix

_MARK = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
WIDTH = 100


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent)) or [indent.rstrip()]


def summary_text(result: dict[str, Any], *, verbose: bool = False) -> str:
    """A terminal summary: score, what to fix first, each task, and every failing test.

    A submission that could not be used at all (empty, not a notebook) gets one line: the
    reason is the same for every test, so it is said once.
    """
    score, max_score = result.get("score"), result.get("max_score")
    problem = (result.get("load") or {}).get("problem")
    if problem:
        return (f"{result['submission']}: {score:g} / {max_score:g}   not graded: "
                + " ".join(str(problem).split()))
    head = f"{result.get('submission')}: {points_text(score, 2)} / {points_text(max_score, 2)}"
    if result.get("isolation") is not None:
        head += f"   ({result['isolation']} sandbox, {float(result.get('duration_s') or 0):.2f} s)"
    lines = [head]
    load = result.get("load") or {}
    if isinstance(load, dict) and load.get("problem"):
        lines.append(f"  ! {load['problem']}")
    for note in load_notes(load):
        if note.is_error:
            lines.append(f"  ! while loading, {note.text()}")
    for line in built_on_lines(result):
        lines += _wrap(line, "  ")

    fixes = what_to_fix(result)
    number = {id(t): n for n, f in enumerate(fixes, start=1) for t in f.tests}
    if fixes:
        lines += ["", "What to fix first:"]
        for n, fix in enumerate(fixes, start=1):
            lines += _wrap(fix.hint or "These checks fail without a known cause; see their messages.",
                           f"  {n}. ".ljust(6))
            cost = f"{points_text(fix.points)} points" if fix.points > 0 else "feedback only, no points"
            names = "; ".join(str(t.get("name")) for t in fix.tests[:3])
            more = f"; and {len(fix.tests) - 3} more" if len(fix.tests) > 3 else ""
            lines += _wrap(f"{', '.join(fix.tasks)}: {cost}, {len(fix.tests)} test"
                           f"{'' if len(fix.tests) == 1 else 's'}: {names}{more}", " " * 6)

    lines += ["", "Score per task:"]
    official = result.get("official_points") if isinstance(result.get("official_points"), dict) else {}
    for task, t in (result.get("tasks") or {}).items():
        if official and not float(t.get("max_score") or 0) and official.get(task):
            lines.append(f"  {task}, {points_text(official[task])} points, is checked in the official grade")
        else:
            lines.append(f"  {task:<22} {points_text(t.get('score')):>6} / {points_text(t.get('max_score'))}")

    tests = [t for t in result.get("tests") or [] if isinstance(t, dict)]
    shown = [t for t in tests if t.get("status") in FAILING or verbose]
    if shown:
        lines += ["", "Tests:" if verbose else "Failing tests:"]
    for test in shown:
        status = str(test.get("status"))
        fix = f"  (fix {number[id(test)]})" if id(test) in number else ""
        lines.append(f"  [{_MARK.get(status, status)}] {test.get('task')}: {test.get('name')}{fix}")
        if verbose and status in FAILING:
            message = str(test.get("message") or "").strip().splitlines()
            lines += [f"      {m}" for m in message[:6]]
            if test.get("hint"):
                lines.append(f"      hint: {test['hint']}")
    return "\n".join(lines)
