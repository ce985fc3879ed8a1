"""``proctor batch`` over several assignments: each graded as its own batch, then the course.

``proctor batch hw1=a.zip hw2=b.zip -o OUT`` reads every input first (so an
unreadable one stops the run before anything is graded), grades the assignments in
dependency order (a required assignment before the ones that build on it) into
``OUT/<id>/``, each exactly as a one-assignment batch writes its folder (feedback, its
platform's gradebook files, its dashboard, journal), and a dependent one on each student's
own work of the required one (:mod:`proctor.lms.match`). Then, for the course:
``OUT/grades.csv`` (one row per student, matched across assignments by the identity each
LMS reader gives, one score column per assignment), ``OUT/dashboard.html`` (each
assignment, and the course as a whole) and ``OUT/summary.json``.

``--with ID=INPUT`` gives a required assignment's export only to find students' own work
in it (it is not graded): for grading a dependent assignment again without its
requirement. With one assignment and no ``ID=INPUT`` form, the CLI calls
:func:`proctor.batch.run_batch` directly and ``OUT`` keeps its one-assignment layout.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.atomic import atomic_open, write_json
from proctor.batch import JOURNAL, SUMMARY, BatchSummary, Discovered, discover_input, run_batch
from proctor.errors import ProctorError
from proctor.lms.canvas import _number
from proctor.lms.outputs import RESULT, load_results

if TYPE_CHECKING:
    from proctor.config import Course

__all__ = ["CourseSummary", "course_results", "read_required", "run_course_batch",
           "write_course_dashboard", "write_course_gradebook"]

GRADES = "grades.csv"
DASHBOARD = "dashboard.html"
# options that differ per assignment: several assignments need ID=VALUE for each
PER_ASSIGNMENT = ("canvas_assignment_id", "moodle_worksheet", "canvas_anonymous_map")
# what find the students' own work in an input needs; the grading options are the rest
READING = ("format", "limits", "moodle_worksheet", "moodle_columns", "moodle_groups")


@dataclass
class CourseSummary:
    """What a batch of several assignments did; also written to ``OUT/summary.json``."""

    out: str
    order: list[str]
    assignments: dict[str, BatchSummary] = field(default_factory=dict)
    duration_s: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.assignments.values())

    def to_dict(self) -> dict[str, Any]:
        return {"out": self.out, "order": self.order, "duration_s": self.duration_s,
                "outputs": self.outputs, "problems": self.problems,
                "assignments": {aid: s.to_dict() for aid, s in self.assignments.items()}}

    def report(self) -> str:
        """Each assignment's report under its id, then the course files."""
        lines = []
        for aid in self.order:
            lines.append(f"== {aid} ({self.assignments[aid].out})")
            lines += ["   " + line for line in self.assignments[aid].report().splitlines()]
        lines.append(f"course: {len(self.order)} assignments in {self.duration_s:.1f} s")
        lines += [f"  {name}: {path}" for name, path in self.outputs.items()]
        lines += [f"  ! {problem}" for problem in self.problems]
        return "\n".join(lines)


def read_required(course: Course, graded: Sequence[str], with_inputs: Mapping[str, Path],
                  **reading: Any) -> dict[str, Discovered]:
    """Read each ``--with`` export (students' own work of a required assignment, not graded).
    Each must be required by an assignment being graded, and not graded itself."""
    needed = {dep for aid in graded for dep in course.assignment(aid).requires}
    found = {}
    for dep, path in with_inputs.items():
        course.assignment(dep)
        if dep in graded:
            raise ProctorError(f"--with {dep}={path}: {dep} is also being graded in this run; "
                               f"its submissions are used already")
        if dep not in needed:
            raise ProctorError(f"--with {dep}={path}: no assignment graded here requires {dep} "
                               f"(course.toml requires)")
        found[dep] = discover_input(course.assignment(dep), path, **reading)
    return found


def run_course_batch(course: Course, work: Sequence[tuple[str, Path]], out: Path, *,
                     with_inputs: Mapping[str, Path] | None = None,
                     per_assignment: Mapping[str, Mapping[str, Any]] | None = None,
                     resume: bool = False, **options: Any) -> CourseSummary:
    """Grade each ``(assignment id, input)`` into ``out/<id>/`` and write the course files.

    ``per_assignment`` holds the options that differ per assignment (``PER_ASSIGNMENT``, by
    id); ``options`` are :func:`proctor.batch.run_batch`'s, for every assignment.
    """
    started = time.monotonic()
    out = Path(out)
    ids = [aid for aid, _ in work]
    repeated = sorted({aid for aid in ids if ids.count(aid) > 1})
    if repeated:
        raise ProctorError(f"{', '.join(repeated)} given more than once; give each assignment "
                           f"one input (ID=INPUT)")
    order = course.in_dependency_order(ids)
    inputs = dict(work)
    per_assignment = per_assignment or {}
    for aid in per_assignment:
        if aid not in inputs:
            raise ProctorError(f"an option names {aid}, which is not graded in this run "
                               f"(graded: {', '.join(order)})")
    if not resume:  # refuse before grading anything, not at the second assignment
        for aid in order:
            if (out / aid / JOURNAL).exists():
                raise ProctorError(f"{out / aid} already holds a batch ({JOURNAL}); pass "
                                   f"--resume to continue it, or choose an empty output directory")
    reading = {k: v for k, v in options.items() if k in READING}
    discovered: dict[str, Discovered] = {}
    for aid in order:  # every input read before anything is graded
        mine = {**reading, **{k: v for k, v in per_assignment.get(aid, {}).items() if k in READING}}
        discovered[aid] = discover_input(course.assignment(aid), inputs[aid], course=course, **mine)
    given = read_required(course, order, with_inputs or {}, **{k: v for k, v in reading.items()
                                                               if k != "moodle_worksheet"})
    entries = {aid: found.entries for aid, found in {**given, **discovered}.items()}
    summary = CourseSummary(out=str(out), order=order)
    for aid in order:
        assignment = course.assignment(aid)
        summary.assignments[aid] = run_batch(
            assignment, inputs[aid], out / aid, course=course, resume=resume,
            discovered=discovered[aid], course_page=f"../{DASHBOARD}",
            required={dep: entries[dep] for dep in assignment.requires if dep in entries},
            **{**options, **per_assignment.get(aid, {})})
    columns = [(aid, load_results(out / aid, sorted({e.key for e in discovered[aid].entries})))
               for aid in order]
    _attempt(summary, "grades", lambda: write_course_gradebook(out / GRADES, course, columns))
    if "dashboard" in options.get("exports", ("dashboard",)):
        _attempt(summary, "dashboard",
                 lambda: write_course_dashboard(out / DASHBOARD, course, columns, out))
    summary.duration_s = round(time.monotonic() - started, 3)
    write_json(out / SUMMARY, summary.to_dict())
    return summary


def _attempt(summary: CourseSummary, name: str, write: Any) -> None:
    """Write one course file; a failure is one line, and the other files are still written."""
    try:
        summary.outputs[name] = str(write())
    except Exception as error:  # noqa: BLE001 - reported; the per-assignment files stand
        first = (str(error).splitlines() or [""])[0]
        summary.problems.append(f"{name}: not written ({type(error).__name__}: {first})")


def student_key(result: dict[str, Any], aid: str) -> str:
    """The row a result belongs to: its student's identity, else one of its own."""
    student = result.get("student") or {}
    return student.get("identity") or f"{aid}:{student.get('id')}"


def write_course_gradebook(path: Path, course: Course,
                           columns: Sequence[tuple[str, list[dict[str, Any]]]]) -> Path:
    """``grades.csv`` for the course: a row per student (by identity), a column per
    assignment's score after late penalties, and the total. A cell is empty where the
    student has no submission or it could not be graded (the assignment's errors.csv says
    why); each assignment's own folder keeps its platform's import files."""
    rows: dict[str, dict[str, Any]] = {}
    for aid, results in columns:
        for result in results:
            student = result.get("student") or {}
            row = rows.setdefault(student_key(result, aid),
                                  {"name": "", "identity": student.get("identity") or "",
                                   "scores": {}})
            row["name"] = row["name"] or str(student.get("name") or student.get("id") or "")
            row["scores"][aid] = None if result.get("error") else float(result.get("score", 0.0))
    maxima = {aid: course.assignment(aid).max_score for aid, _ in columns}
    with atomic_open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "Identity", *maxima, "Total"])
        writer.writerow(["Points Possible", "", *(_number(m) for m in maxima.values()),
                         _number(sum(maxima.values()))])
        for row in sorted(rows.values(), key=lambda r: (r["name"].lower(), r["identity"])):
            scores = [row["scores"].get(aid) for aid in maxima]
            writer.writerow([row["name"], row["identity"],
                             *("" if s is None else _number(s) for s in scores),
                             _number(sum(s or 0.0 for s in scores))])
    return path


def write_course_dashboard(path: Path, course: Course,
                           columns: Sequence[tuple[str, list[dict[str, Any]]]], out: Path) -> Path:
    """The course overview at ``path`` over each assignment's results in ``out/<id>/``."""
    from proctor.dashboard import build_course_dashboard

    assignments = [{"id": aid, "title": course.assignment(aid).title,
                    "max_score": course.assignment(aid).max_score,
                    "requires": course.assignment(aid).requires,
                    "folder": Path(out) / aid, "results": results}
                   for aid, results in columns]
    return build_course_dashboard(assignments, path,
                                  title=f"{course.name} ({course.term}): course dashboard",
                                  template_dir=course.templates)


def course_results(out: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """The results of a course batch in ``out``, per assignment in its grading order (for
    rebuilding the course files: ``proctor dashboard OUT``)."""
    try:
        summary = json.loads((Path(out) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    columns = []
    for aid in summary.get("order") or []:
        folder = Path(out) / aid
        keys = sorted(p.parent.name for p in folder.glob(f"*/{RESULT}"))
        columns.append((aid, load_results(folder, keys)))
    return columns
