"""Is every efficiency verdict stable under load? A verdict must never flip.

Grades the efficiency task (graders/attention/test_efficiency.py alone) of the reference
and of every correct-but-inefficient submission (tests/inefficient.py), N times each,
while a busy-loop process keeps another core saturated, and prints per submission and
test: how many runs passed, the spread of the measured figure (fitted slope for growth
tests, student/reference time ratio for runtime tests), its limit, and how far the worst run
sat from that limit (slopes: difference; ratios: factor). Exits 1 if any verdict flipped.

    python bench/efficiency_stability.py            # 20 runs each, one busy core
    python bench/efficiency_stability.py --runs 5 --no-load
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proctor.config import load_course  # noqa: E402
from proctor.runner import grade_submission  # noqa: E402
from proctor.sandbox.client import Sandbox  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
import inefficient  # noqa: E402

SUBMISSIONS = [ROOT / "reference" / "attention.py",
               *inefficient.write_all(Path(tempfile.mkdtemp(prefix="proctor-inefficient-")))]


def figure(test: dict[str, Any]) -> tuple[str, float, float] | None:
    """The number behind a test's verdict and its limit: the fitted slope and the allowed
    slope, or the time ratio and the allowed ratio."""
    if test.get("efficiency"):
        eff = test["efficiency"]
        return "slope", float(eff["slope"]), float(eff["allowed_slope"])
    runtime = (test.get("details") or {}).get("runtime")
    if runtime:
        entry = next(iter(runtime.values()))
        return "ratio", float(entry["ratio"]), float(entry["allowed_ratio"])
    return None


def margin(kind: str, values: list[float], limit: float, passed: bool) -> str:
    """How far the run nearest the limit sat from it, on the side of its verdict: slopes by
    difference, ratios by factor."""
    if not values:
        return "-"
    near = max(values) if passed else min(values)
    if kind == "slope":
        return f"{abs(limit - near):.2f}"
    return f"{(limit / near if passed else near / limit):.1f}x"


def busy_core() -> subprocess.Popen:
    """A process that spins forever: the noisy neighbour."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-load", action="store_true", help="do not saturate a core")
    parser.add_argument("--only", nargs="*", default=None,
                        help="submission file names to grade (default: all)")
    args = parser.parse_args()

    real = load_course(ROOT / "course.toml").assignments["attention"]
    graders = Path(tempfile.mkdtemp(prefix="efficiency-bench-"))
    shutil.copy(real.graders / "test_efficiency.py", graders / "test_efficiency.py")
    assignment = dataclasses.replace(real, graders=graders)

    submissions = [p for p in SUBMISSIONS if args.only is None or p.name in args.only]
    load = None if args.no_load else busy_core()
    box = Sandbox()
    # (submission, test) -> list of (status, figure kind, figure value, limit)
    seen: dict[tuple[str, str], list[tuple[str, str, float | None, float | None]]] = \
        defaultdict(list)
    started = time.perf_counter()
    try:
        for run in range(args.runs):
            for path in submissions:
                result = grade_submission(assignment, path, sandbox=box, whole_suite=False).to_dict()
                for test in result["tests"]:
                    fig = figure(test)
                    seen[(path.name, test["id"].split("::")[-1])].append(
                        (test["status"], *(fig if fig else ("", None, None))))
            print(f"run {run + 1}/{args.runs} done ({time.perf_counter() - started:.0f} s)",
                  file=sys.stderr)
    finally:
        box.close()
        if load is not None:
            load.kill()
            load.wait()
        shutil.rmtree(graders, ignore_errors=True)

    print(f"# efficiency verdicts over {args.runs} runs each, "
          f"{'one core saturated by a busy loop' if load else 'no extra load'}, "
          f"{os.cpu_count()} cores, {time.perf_counter() - started:.0f} s\n")
    print(f"| {'submission':<18} | {'test':<46} | {'verdicts':<16} | {'figure':<6} "
          f"| {'min':>7} | {'max':>7} | {'limit':>6} | {'margin':>7} |")
    print(f"|{'-' * 20}|{'-' * 48}|{'-' * 18}|{'-' * 8}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 9}|")
    flipped = []
    for (name, test), runs in seen.items():
        passed = sum(status == "passed" for status, _, _, _ in runs)
        statuses = sorted({status for status, _, _, _ in runs})
        if len(statuses) > 1:
            flipped.append((name, test))
        n = len(runs)
        if passed == n:
            verdict = f"{n}/{n} pass"
        elif statuses == ["failed"]:
            verdict = f"{n}/{n} fail"
        else:
            verdict = f"{passed}/{n} pass FLIP"
        values = [v for _, _, v, _ in runs if v is not None]
        kind = next((k for _, k, _, _ in runs if k), "")
        limit = next((lim for _, _, _, lim in runs if lim is not None), None)
        low = f"{min(values):.3g}" if values else "-"
        high = f"{max(values):.3g}" if values else "-"
        shown_limit = f"{limit:g}" if limit is not None else "-"
        gap = margin(kind, values, limit, passed == n) if limit is not None else "-"
        print(f"| {name:<18} | {test:<46} | {verdict:<16} | {kind:<6} | {low:>7} | {high:>7} "
              f"| {shown_limit:>6} | {gap:>7} |")
    print()
    if flipped:
        print("FLIPPED: " + ", ".join(f"{n}::{t}" for n, t in flipped))
        return 1
    print("No verdict flipped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
