"""Batch throughput: submissions per minute through ``proctor batch``, and against nbgrader.

1. Generates N submissions (default 100) by copying ``examples/submissions/*`` under many
   student names: correct and buggy, ``.py`` and ``.ipynb`` (each bug module is also
   wrapped as a one-cell notebook). Grades them with ``proctor.batch.run_batch`` on W
   local workers (default 2) and prints submissions/minute and the batch's own overhead
   per submission (wall time x workers / N minus the engine's mean ``duration_s``).
2. Unless ``--no-nbgrader``: sets up a throwaway nbgrader course in a temp dir with the
   source notebook ``assignments/attention/attention.ipynb``, runs ``nbgrader
   generate_assignment``, copies K notebook submissions (``correct.ipynb`` under K names;
   nbgrader can only autograde notebooks that keep its cell metadata) into
   ``submitted/``, times ``nbgrader autograde``, grades the same K notebooks with proctor,
   and prints the ratio.

Goal: >= 100 submissions/min on 2 cores.

    python bench/batch_throughput.py [-n 100] [--workers 2] [--nbgrader-n 20] [--no-nbgrader]
                                     [--only correct]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "submissions"


def as_notebook(source: str) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return nbformat.writes(nb)


def generate(dest: Path, n: int, only: str | None = None) -> dict[str, int]:
    """n submissions cycling over the examples (and notebook wraps of the .py files);
    ``only`` keeps the kinds whose name starts with it (e.g. "correct", "bug_scale")."""
    dest.mkdir(parents=True)
    pool: list[tuple[str, str, bytes]] = []  # (kind, suffix, bytes)
    for path in sorted(EXAMPLES.glob("*.py")):
        pool.append((path.stem, ".py", path.read_bytes()))
        if path.stem.startswith("bug_"):
            pool.append((path.stem, ".ipynb", as_notebook(path.read_text()).encode()))
    pool.append(("correct_nb", ".ipynb", (EXAMPLES / "correct.ipynb").read_bytes()))
    if only:
        pool = [item for item in pool if item[0].startswith(only)]
        if not pool:
            raise SystemExit(f"--only {only!r} matches no example submission")
    kinds: dict[str, int] = {}
    for i in range(n):
        kind, suffix, data = pool[i % len(pool)]
        (dest / f"student{i:04d}{suffix}").write_bytes(data)
        label = f"{kind}{suffix}"
        kinds[label] = kinds.get(label, 0) + 1
    return kinds


def proctor_run(assignment, subs: Path, out: Path, workers: int, isolation: str | None
                ) -> dict[str, float]:
    from proctor.batch import run_batch

    started = time.perf_counter()
    summary = run_batch(assignment, subs, out, workers=workers, progress=True,
                        isolation=isolation, exports=("canvas", "gradescope"))
    wall = time.perf_counter() - started
    durations = []
    for path in out.glob("*/result.json"):
        durations.append(float(json.loads(path.read_text()).get("duration_s", 0.0)))
    n = summary.graded + summary.rejected + summary.failed
    engine = statistics.mean(durations) if durations else 0.0
    return {"n": n, "failed": summary.failed, "wall_s": wall, "per_min": 60 * n / wall,
            "engine_mean_s": engine, "engine_median_s": statistics.median(durations or [0]),
            "overhead_s": wall * workers / max(n, 1) - engine}


def nbgrader_run(k: int, tmp: Path) -> dict[str, float]:
    course = tmp / "nbgrader_course"
    (course / "source" / "attention").mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "attention" / "attention.ipynb",
                course / "source" / "attention" / "attention.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        f"c.Exchange.root = {str(course / 'exchange')!r}\n")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", "attention", "--force",
                    "--log-level=ERROR"], cwd=course, env=env, check=True)
    for i in range(k):
        folder = course / "submitted" / f"student{i:04d}" / "attention"
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLES / "correct.ipynb", folder / "attention.ipynb")
    started = time.perf_counter()
    subprocess.run([*nbgrader, "autograde", "attention", "--create", "--force",
                    "--log-level=ERROR"], cwd=course, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    graded = len(list((course / "autograded").glob("*/attention/attention.ipynb")))
    return {"n": graded, "wall_s": wall, "per_min": 60 * graded / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=100, help="submissions to grade")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--isolation", default=None)
    parser.add_argument("--nbgrader-n", type=int, default=20,
                        help="notebooks for the nbgrader comparison")
    parser.add_argument("--no-nbgrader", action="store_true")
    parser.add_argument("--only", default=None,
                        help="only examples whose name starts with this (e.g. correct)")
    args = parser.parse_args()

    from proctor.config import load_course

    assignment = load_course(ROOT).assignment("attention")
    with tempfile.TemporaryDirectory(prefix="proctor-bench-") as tmpdir:
        tmp = Path(tmpdir)
        kinds = generate(tmp / "subs", args.n, args.only)
        print(f"{args.n} submissions: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))
        print(f"cores: {os.cpu_count()}, workers: {args.workers}, load average: "
              f"{os.getloadavg()[0]:.1f}")
        mixed = proctor_run(assignment, tmp / "subs", tmp / "out", args.workers, args.isolation)
        print(f"proctor batch: {mixed['n']} in {mixed['wall_s']:.1f} s = "
              f"{mixed['per_min']:.1f} submissions/min ({mixed['failed']} failed); engine "
              f"mean {mixed['engine_mean_s']:.2f} s, median {mixed['engine_median_s']:.2f} s "
              f"per submission; batch overhead {mixed['overhead_s']:.2f} s per submission "
              f"(per worker)")
        print(f"goal >= 100/min on 2 cores: {'met' if mixed['per_min'] >= 100 else 'NOT met'}")
        if not args.no_nbgrader:
            k = args.nbgrader_n
            nb = nbgrader_run(k, tmp)
            notebooks = tmp / "nb_subs"
            notebooks.mkdir()
            for i in range(k):
                shutil.copy(EXAMPLES / "correct.ipynb", notebooks / f"student{i:04d}.ipynb")
            same = proctor_run(assignment, notebooks, tmp / "nb_out", args.workers,
                               args.isolation)
            print(f"nbgrader autograde: {nb['n']} notebooks in {nb['wall_s']:.1f} s = "
                  f"{nb['per_min']:.1f}/min (one process, executes each notebook)")
            print(f"proctor batch, same {k} notebooks: {same['wall_s']:.1f} s = "
                  f"{same['per_min']:.1f}/min")
            if nb["per_min"] > 0:
                print(f"ratio proctor/nbgrader: {same['per_min'] / nb['per_min']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
