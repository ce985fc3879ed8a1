"""The public local checks a release ships to students, and how to load them back.

``proctor release`` writes ``checks/`` beside the student notebook:

* ``checks/public/``: a copy of ``graders/<id>/public/`` (public tests only; they may not
  use the reference, which the plugin enforces), and beside it the suite's shared helpers,
  ``graders/<id>/conftest.py`` and ``graders/<id>/_*.py``, which public tests may use (so
  suite authors keep nothing secret and no solution logic there; hidden tests live in
  ``test_*.py`` files, their solution-computing helpers in other hidden modules, and golden
  cases in ``golden_cases.py``, none of which ship);
* ``checks/golden/``: golden cases computed from the reference (:mod:`proctor.golden`);
* ``checks/manifest.json``: what the engine needs to grade like the official run does:
  points, the whole suite's task weights, tolerances, seed and limits.

Nothing else of the course goes to students.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proctor.config import Assignment, SubmissionLimits
from proctor.errors import ProctorError

CHECKS_DIR = "checks"
PUBLIC_DIR = "public"
MANIFEST = "manifest.json"
_SHIPPED_SUFFIXES = (".py",)


@dataclass(frozen=True)
class CheckAssignment:
    """A :class:`~proctor.config.Gradable` rebuilt from a release's manifest: what grading
    needs, plus the whole suite's task weights; no notebook, due date or reference."""

    id: str
    title: str
    graders: Path
    points: dict[str, float]
    task_weights: dict[str, float]
    rtol: float
    atol: float
    seed: int
    limits: SubmissionLimits
    course_root: Path = field(default=Path("."))
    reference: str = ""

    @property
    def golden(self) -> Path:
        return self.graders / "golden"


def shipped_files(graders: Path) -> list[Path]:
    """The suite files students receive: ``public/**`` and the top-level shared helpers."""
    public = graders / PUBLIC_DIR
    files = [p for p in public.rglob("*") if p.is_file()] if public.is_dir() else []
    files += [graders / "conftest.py"] if (graders / "conftest.py").is_file() else []
    files += [p for p in graders.glob("_*.py") if p.is_file()]
    return sorted(p for p in files if p.suffix in _SHIPPED_SUFFIXES and "__pycache__" not in p.parts)


def _manifest(assignment: Assignment) -> dict[str, Any]:
    from proctor.runner import check_tasks, collect

    limits = assignment.limits
    task_weights = collect(assignment.graders).task_weights
    check_tasks(assignment, task_weights)
    return {"assignment": assignment.id, "title": assignment.title,
            "points": dict(assignment.points), "task_weights": task_weights,
            "rtol": assignment.rtol, "atol": assignment.atol, "seed": assignment.seed,
            "limits": {"call_timeout_s": limits.call_timeout_s, "submission_timeout_s": limits.submission_timeout_s,
                       "memory_mb": limits.memory_mb}}


def write_checks(assignment: Assignment, out_dir: Path) -> list[Path]:
    """Write ``out_dir/checks/`` for ``assignment``; returns the files written."""
    from proctor.golden import write_cases
    from proctor.plugin import import_reference

    checks = Path(out_dir) / CHECKS_DIR
    if checks.exists():
        shutil.rmtree(checks)  # release owns this folder: nothing stale may survive
    written = []
    for src in shipped_files(Path(assignment.graders)):
        dst = checks / src.relative_to(assignment.graders)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
        written.append(dst)
    written += write_cases(assignment.graders, import_reference(assignment), checks / "golden")
    manifest = checks / MANIFEST
    checks.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(_manifest(assignment), indent=1, sort_keys=True) + "\n")
    return written + [manifest]


def load_checks(checks_dir: Path) -> CheckAssignment:
    """Read a released ``checks/`` folder back into something grading can use."""
    path = Path(checks_dir) / MANIFEST
    try:
        m = json.loads(path.read_text())
        return CheckAssignment(
            id=m["assignment"], title=m["title"], graders=Path(checks_dir).resolve(),
            points={k: float(v) for k, v in m["points"].items()},
            task_weights={k: float(v) for k, v in m["task_weights"].items()},
            rtol=float(m["rtol"]), atol=float(m["atol"]), seed=int(m["seed"]),
            limits=SubmissionLimits(**m["limits"]), course_root=Path(checks_dir).resolve())
    except FileNotFoundError:
        raise ProctorError(f"no local checks at {Path(checks_dir)}: expected {MANIFEST} there "
                           "(run this from your assignment folder, or pass --checks)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProctorError(f"{path} is damaged ({exc}); download the assignment again") from None
