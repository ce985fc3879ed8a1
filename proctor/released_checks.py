"""The public local checks a release ships to students, and how to load them back.

``proctor release`` writes ``checks/`` beside the student notebook:

* the files of ``graders/<id>/`` that course.toml's ``ship`` list declares (default: the
  ``public/`` folder of public tests, which may not use the reference, as the plugin
  enforces), at the same relative paths; typically also the shared helpers public tests
  import, such as ``conftest.py``. Nothing ships because of its name: hidden tests, their
  solution-computing helpers and ``golden_cases.py`` stay behind unless listed (and a
  listed file must then hold nothing secret);
* ``checks/golden/``: golden cases computed from the reference (:mod:`proctor.golden`);
* ``checks/templates/``: the course's own feedback templates, if it overrides any, so the
  local feedback page reads like the official one;
* ``checks/manifest.json``: what the engine needs to grade like the official run does:
  points, the whole suite's task weights, tolerances, seed and limits, and for an
  assignment that builds on others (``requires``) the module name each is imported by.

Nothing else of the course goes to students.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from proctor.config import DEFAULT_SHIP, Assignment, SubmissionLimits
from proctor.errors import ProctorError

CHECKS_DIR = "checks"
MANIFEST = "manifest.json"
TEMPLATES_DIR = "templates"
# The course templates that shape a student's feedback page (the README is release's; the
# dashboard and the audit page are the instructor's).
FEEDBACK_TEMPLATES = ("feedback.html.j2", "base.html.j2", "_macros.html.j2", "style.css")
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
    templates: Path | None = None  # the course's feedback templates, shipped in checks/
    #: required assignment id -> the module name the submission imports it by
    requires: dict[str, str] = field(default_factory=dict)

    @property
    def golden(self) -> Path:
        return self.graders / "golden"


def shipped_files(graders: Path, ship: Sequence[str] = DEFAULT_SHIP) -> list[Path]:
    """The suite files students receive: each declared path, a directory's files included."""
    files: list[Path] = []
    for entry in ship:
        path = graders / entry
        if not path.exists() and tuple(ship) == DEFAULT_SHIP:
            continue  # the default: a suite with no public tests ships nothing
        if not path.exists():
            raise ProctorError(f"{path}: declared in course.toml's ship list but does not exist")
        files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return sorted({p for p in files if p.suffix in _SHIPPED_SUFFIXES and "__pycache__" not in p.parts})


def _manifest(assignment: Assignment, requires: dict[str, str] | None = None) -> dict[str, Any]:
    from proctor.runner import check_tasks, collect

    limits = assignment.limits
    task_weights = collect(assignment.graders).task_weights
    check_tasks(assignment, task_weights)
    manifest = {"assignment": assignment.id, "title": assignment.title,
                "points": dict(assignment.points), "task_weights": task_weights,
                "rtol": assignment.rtol, "atol": assignment.atol, "seed": assignment.seed,
                "limits": {"call_timeout_s": limits.call_timeout_s, "submission_timeout_s": limits.submission_timeout_s,
                           "memory_mb": limits.memory_mb}}
    if requires:
        manifest["requires"] = dict(requires)
    return manifest


def write_checks(assignment: Assignment, out_dir: Path) -> list[Path]:
    """Write ``out_dir/checks/`` for ``assignment``; returns the files written."""
    from proctor.golden import write_cases
    from proctor.plugin import import_reference

    checks = Path(out_dir) / CHECKS_DIR
    if checks.exists():
        shutil.rmtree(checks)  # release owns this folder: nothing stale may survive
    written = []
    for src in shipped_files(Path(assignment.graders), getattr(assignment, "ship", DEFAULT_SHIP)):
        dst = checks / src.relative_to(assignment.graders)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
        written.append(dst)
    written += write_cases(assignment.graders, import_reference(assignment), checks / "golden")
    course_templates = getattr(assignment, "templates", None)
    for name in FEEDBACK_TEMPLATES if course_templates is not None else ():
        if (Path(course_templates) / name).is_file():
            dst = checks / TEMPLATES_DIR / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes((Path(course_templates) / name).read_bytes())
            written.append(dst)
    manifest = checks / MANIFEST
    checks.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(_manifest(assignment, getattr(assignment, "required_modules", None)),
                                   indent=1, sort_keys=True) + "\n")
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
            limits=SubmissionLimits(**m["limits"]), course_root=Path(checks_dir).resolve(),
            templates=_shipped_templates(Path(checks_dir)),
            requires={str(k): str(v) for k, v in (m.get("requires") or {}).items()})
    except FileNotFoundError:
        raise ProctorError(f"no local checks at {Path(checks_dir)}: expected {MANIFEST} there "
                           "(run this from your assignment folder, or pass --checks)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProctorError(f"{path} is damaged ({exc}); download the assignment again") from None


def _shipped_templates(checks_dir: Path) -> Path | None:
    folder = checks_dir / TEMPLATES_DIR
    return folder.resolve() if folder.is_dir() else None
