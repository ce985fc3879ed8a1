"""How long a submission with one hostile part takes to grade, next to a clean one.

Grades examples/submissions/correct.py and each tests/hostile/*.py (correct.py with one
part broken) with the attention assignment's own limits, and prints per file: grade time,
its excess over the clean grade in call timeouts, the score, and whether it held (every
task the broken part does not reach at full marks). A part that never returns should cost
about one call timeout (10 s), not the submission budget (120 s).

    PYTHONPATH=. python bench/hostile_grade_time.py [--isolation LEVEL]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from proctor.config import load_course
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parents[1]
#: the task each hostile file breaks (others must keep full marks)
BROKEN = {"loop": "multi_head", "ignore_signals": "multi_head", "fork": "multi_head",
          "memory": "multi_head", "slow_large": "efficiency", "stdlib_imports": None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--isolation")
    args = parser.parse_args()
    assignment = load_course(ROOT / "course.toml").assignment("attention")
    call_s = assignment.limits.call_timeout_s
    with Sandbox(args.isolation) as box:
        files = [ROOT / "examples" / "submissions" / "correct.py"] + [
            ROOT / "tests" / "hostile" / f"{name}.py" for name in BROKEN]
        clean = None
        print(f"{'file':<20} {'grade s':>8} {'extra / call timeout':>21} {'score':>8}  held")
        for path in files:
            t0 = time.perf_counter()
            result = grade_submission(assignment, path, sandbox=box).to_dict()
            took = time.perf_counter() - t0
            clean = took if clean is None else clean
            broken = BROKEN.get(path.stem)
            held = all(t["score"] == t["max_score"] for task, t in result["tasks"].items()
                       if task not in (broken, "efficiency"))
            print(f"{path.name:<20} {took:8.2f} {(took - clean) / call_s:21.2f} {result['score']:8.2f}  "
                  f"{'yes' if held else 'NO'}  ({result['isolation']}, restarts {result['load']['restarts']})")


if __name__ == "__main__":
    main()
