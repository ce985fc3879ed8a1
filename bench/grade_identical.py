"""Proof that a refactor left grades unchanged: grade every example submission and every
mutant of the course's corpus, and compare the results, timings removed
(:func:`proctor.result.without_timing`, and decimals in the submission's printed output), with a saved run.

Run it once at the base commit with ``--save``, then after the change with ``--compare``:

    python bench/grade_identical.py --save /tmp/base.json
    python bench/grade_identical.py --compare /tmp/base.json

It prints "N of N identical" and, for each difference, the submission and the first keys
that differ; it exits non-zero when any differs. Not a test: it grades ~50 files.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from proctor.audit.corpus import load_corpus, write_all
from proctor.config import load_course
from proctor.result import without_timing
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def _submissions(assignment, scratch: Path) -> dict[str, Path]:
    """The example submissions, then the mutants (from the corpus course.toml names)."""
    subs = {f"examples/{p.name}": p for p in sorted((ROOT / "examples" / "submissions").iterdir())
            if p.suffix in (".py", ".ipynb")}
    corpus = assignment.audit.mutants if assignment.audit else None
    if corpus is not None:
        for name, path in write_all(load_corpus(corpus), scratch).items():
            subs[f"mutants/{name}"] = path
    return subs


def _comparable(result: dict) -> dict:
    """``without_timing``, and the submission's own printed output with its decimals
    masked: a notebook that prints how long its code took prints new figures each run."""
    data = without_timing(result)
    data["output"] = re.sub(r"\d+\.\d+", "#.#", data.get("output") or "")
    return data


def grade_all(assignment_id: str = "attention") -> dict[str, dict]:
    assignment = load_course(ROOT / "course.toml").assignment(assignment_id)
    results = {}
    with tempfile.TemporaryDirectory() as scratch, Sandbox() as box:
        for key, path in _submissions(assignment, Path(scratch)).items():
            results[key] = _comparable(grade_submission(assignment, path, sandbox=box).to_dict())
            print(f"graded {key}: {results[key]['score']}/{results[key]['max_score']}", file=sys.stderr)
    return results


def _first_differences(a: object, b: object, where: str = "", limit: int = 3) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            out += _first_differences(a.get(key), b.get(key), f"{where}.{key}", limit)
        return out[:limit]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _first_differences(x, y, f"{where}[{i}]")][:limit]
    return [] if a == b else [f"{where}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args()
    # normalised through JSON so the saved and the fresh results compare alike
    results = json.loads(json.dumps(grade_all(), sort_keys=True))
    if args.save:
        args.save.write_text(json.dumps(results, indent=1, sort_keys=True))
        print(f"saved {len(results)} results to {args.save}")
        return 0
    saved = json.loads(args.compare.read_text())
    same = 0
    for key in sorted(set(saved) | set(results)):
        if key not in results or key not in saved:
            print(f"{key}: only in the {'saved' if key in saved else 'fresh'} run")
        elif saved[key] == results[key]:
            same += 1
        else:
            print(f"{key} differs:", *_first_differences(saved[key], results[key]), sep="\n  ")
    total = len(set(saved) | set(results))
    print(f"{same} of {total} identical")
    return 0 if same == total else 1


if __name__ == "__main__":
    sys.exit(main())
