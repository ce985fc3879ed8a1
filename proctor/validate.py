"""``proctor validate``: prove an assignment's suite tells right from wrong.

The instructor's source notebook (solutions filled in) must get full marks, and the
released student notebook (stubs raising NotImplementedError) must get zero on every
task, each test saying plainly that the part is not implemented. A suite that fails
either check would grade students wrongly, so this runs before every release. An
assignment that builds on others (course.toml ``requires``) is graded on their source
notebooks (the course's own solutions of that work), and its solution must pass there, not
only on a correct stand-in. ``validate_course`` checks every assignment, each required one
first.

It also checks that golden cases already released to students (``checks/golden/``) equal
a fresh computation byte for byte: the official grade computes them from the course
sources, so a stale released file would make local checks disagree with it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.released_checks import CHECKS_DIR
from proctor.golden import released_drift
from proctor.plugin import import_reference
from proctor.release import release_assignment
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox
from proctor.result import load_notes

if TYPE_CHECKING:
    from proctor.config import Assignment, Course
    from proctor.dependencies import Requirement


@dataclass
class ValidationReport:
    """What validation found; ``ok`` only when every check held."""

    solution: dict[str, Any]
    stub: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """One line: the verdict and both scores (a course-wide validation prints one each)."""
        verdict = "ok" if self.ok else f"FAILED ({len(self.problems)} problem{'s' * (len(self.problems) != 1)})"
        return (f"{verdict}: solution {self.solution['score']:g} / {self.solution['max_score']:g}, "
                f"stub {self.stub['score']:g} / {self.stub['max_score']:g}")

    def text(self) -> str:
        lines = [f"solution: {self.solution['score']:g} / {self.solution['max_score']:g}",
                 f"stub:     {self.stub['score']:g} / {self.stub['max_score']:g}"]
        if self.ok:
            lines.append("ok: the solution gets full marks and the stub gets zero on every task")
        else:
            lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _solution_problems(result: dict[str, Any]) -> list[str]:
    problems = [f"the solution loses points in {t['id']} ({t['status']}): {t['message'][:300]}"
                for t in result["tests"] if t["status"] != "passed"]
    problems += [f"the solution passes {t['id']} only on a correct version of the work it builds "
                 f"on, not on that assignment's own solution" for t in result["tests"]
                 if t["status"] == "passed" and t.get("dependency") == "correct"]
    problems += [f"the solution was not graded on {aid}'s solution: {entry['problem']}"
                 for aid, entry in (result.get("dependencies") or {}).items()
                 if isinstance(entry, dict) and entry.get("problem")]
    problems += [f"the solution notebook's {n.text()}" for n in load_notes(result.get("load")) if n.is_error]
    return problems


def _stub_problems(result: dict[str, Any]) -> list[str]:
    problems = [f"the stub scores {t['score']:g} in task {task}" for task, t in result["tasks"].items()
                if t["score"] > 0]
    problems += [f"the stub's failure in {t['id']} does not say NotImplementedError: {t['message'][:200]}"
                 for t in result["tests"]
                 if t["status"] != "passed" and "NotImplementedError" not in t["message"]]
    return problems


def validate_assignment(assignment: Assignment, *, isolation: str | None = None,
                        requirements: Sequence[Requirement] = ()) -> ValidationReport:
    """Grade the source notebook and a fresh release of the student notebook.

    ``requirements`` (an assignment that builds on others, course.toml ``requires``): what
    both are graded on; :func:`course_requirements` gives each required assignment's own
    source notebook, so the solution must pass on the course's solutions of the work it
    builds on, not only on a correct stand-in.
    """
    options: dict[str, Any] = {"requirements": tuple(requirements)} if requirements else {}
    with Sandbox(isolation) as sandbox, tempfile.TemporaryDirectory(prefix="proctor-validate-") as tmp:
        solution = grade_submission(assignment, assignment.notebook, sandbox=sandbox, **options).to_dict()
        released = release_assignment(assignment, Path(tmp), wheel=False)
        notebook = next(p for p in released if p.suffix == ".ipynb")
        stub = grade_submission(assignment, notebook, sandbox=sandbox, **options).to_dict()
    return ValidationReport(solution, stub, _solution_problems(solution) + _stub_problems(stub)
                            + _golden_problems(assignment))


def course_requirements(course: Course, assignment: Assignment) -> tuple[Requirement, ...]:
    """What validating ``assignment`` grades on: each required assignment's source notebook
    (its solution) as the student's own work (none when it requires nothing)."""
    from proctor.dependencies import requirements

    return requirements(course, assignment, {dep: course.assignment(dep).notebook
                                             for dep in assignment.requires})


def validate_course(course: Course, ids: Sequence[str] | None = None, *,
                    isolation: str | None = None) -> dict[str, ValidationReport]:
    """Validate each assignment (default: all), each required one before its dependents."""
    return {aid: validate_assignment(course.assignment(aid), isolation=isolation,
                                     requirements=course_requirements(course, course.assignment(aid)))
            for aid in course.in_dependency_order(ids)}


def _golden_problems(assignment: Assignment) -> list[str]:
    """Released golden files that differ from a fresh computation (none if not released yet)."""
    released = Path(assignment.release_dir) / CHECKS_DIR / "golden"
    if not released.is_dir():
        return []
    return released_drift(assignment, import_reference(assignment), released)
