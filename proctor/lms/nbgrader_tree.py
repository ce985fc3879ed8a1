"""nbgrader: ``submitted/<student>/<assignment>/`` in, its ``gradebook.db`` out.

nbgrader's exchange writes ``timestamp.txt`` next to the files; that is the submission
time (naive times are UTC, as nbgrader itself assumes). The input may be the course
directory, its ``submitted/`` directory, or a zip of either.

The gradebook gets the assignment (with its due date), one notebook, one grade cell per
task (``proctor:<task>``, max score = the task's points), every student, and a submission
whose grade cells hold the task scores as ``auto_score``; the late penalty goes to the
notebook's ``late_submission_penalty``. formgrader then shows the scores and totals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser

from proctor.lms.archive import Member
from proctor.lms.entry import Candidate, StudentFiles
from proctor.lms.tree import add_candidate

FORMAT = "nbgrader"
CELL_PREFIX = "proctor:"


def _split(name: str, course: bool) -> tuple[str, str, str] | None:
    """(student, assignment, file) for a member under ``submitted/`` (``course``: the
    input is a course directory), or at depth 3 when the input is ``submitted/`` itself."""
    parts = name.split("/")
    if course:
        if "submitted" not in parts[:-3]:
            return None
        parts = parts[parts.index("submitted") + 1:]
    if len(parts) < 3:
        return None
    return parts[0], parts[1], "/".join(parts[2:])


def looks_like(members: list[Member]) -> bool:
    """A ``submitted/`` folder, or ``<student>/<assignment>/timestamp.txt`` files."""
    for member in members:
        parts = member.name.split("/")
        if "submitted" in parts[:-3] or (len(parts) == 3 and parts[2] == "timestamp.txt"):
            return True
    return False


def parse_timestamp(text: str) -> datetime | None:
    """nbgrader's ``2026-11-22 13:05:00.123456 UTC`` (or ISO); naive means UTC."""
    try:
        stamp = dateparser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def read(members: list[Member], assignment_id: str | None = None) -> list[StudentFiles]:
    """One StudentFiles per student that submitted ``assignment_id`` (or the only one)."""
    found: dict[str, list[tuple[str, str, Member]]] = {}
    course = any("submitted" in m.name.split("/")[:-3] for m in members)
    for member in members:
        split = _split(member.name, course)
        if split:
            student, assignment, filename = split
            found.setdefault(assignment, []).append((student, filename, member))
    if assignment_id is not None:
        chosen = found.get(assignment_id, [])
    elif len(found) == 1:
        chosen = next(iter(found.values()))
    else:
        chosen = [item for items in found.values() for item in items]
    students: dict[str, StudentFiles] = {}
    for student, filename, member in chosen:
        make = StudentFiles(student, None, FORMAT)
        if filename == "timestamp.txt":
            files = students.setdefault(student, make)
            if member.source is not None:
                data = (member.source if isinstance(member.source, bytes)
                        else member.source.read_bytes())
                files.submitted_at = parse_timestamp(data.decode("utf-8", "replace"))
            continue
        add_candidate(students, student, make, Candidate(filename, member.source, member.error))
    return list(students.values())


def write_gradebook(rows: Iterable[dict[str, Any]], db_path: Path, *, assignment_id: str,
                    notebook: str, points: dict[str, float], due: datetime | None,
                    course_id: str = "default_course") -> Path:
    """Create or update ``gradebook.db`` so formgrader shows every graded student's scores.

    Re-running updates grades in place (students, cells and submissions are
    update-or-create), so a resumed or repeated batch does not duplicate anything.
    """
    import warnings

    from nbgrader.api import Gradebook  # imported here: sqlalchemy is slow to import
    from sqlalchemy.exc import SAWarning

    db_path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    with warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy autoflush warnings; harmless
        warnings.simplefilter("ignore", SAWarning)
        _write(Gradebook, rows, db_path, assignment_id, notebook, points, due, course_id)
    return db_path


def _write(Gradebook: Any, rows: list[dict[str, Any]], db_path: Path, assignment_id: str,
           notebook: str, points: dict[str, float], due: datetime | None,
           course_id: str) -> None:
    with Gradebook(f"sqlite:///{db_path}", course_id=course_id) as gb:
        kwargs: dict[str, Any] = {}
        if due is not None:
            kwargs["duedate"] = due.astimezone(timezone.utc).replace(tzinfo=None)
        gb.update_or_create_assignment(assignment_id, **kwargs)
        gb.update_or_create_notebook(notebook, assignment_id)
        for task, maximum in points.items():
            gb.update_or_create_grade_cell(f"{CELL_PREFIX}{task}", notebook, assignment_id,
                                           max_score=float(maximum), cell_type="code")
        for row in rows:
            student = row.get("student", {})
            sid = str(student.get("id"))
            first, _, last = (student.get("name") or "").partition(" ")
            gb.update_or_create_student(sid, first_name=first or None,
                                        last_name=last or None,
                                        email=student.get("extra", {}).get("email") or None)
            sub_kwargs: dict[str, Any] = {}
            submitted = (row.get("late") or {}).get("submitted_at")
            if submitted:
                sub_kwargs["timestamp"] = submitted
            submission = gb.update_or_create_submission(assignment_id, sid, **sub_kwargs)
            tasks = row.get("tasks") or {}
            for task in points:
                grade = _grade(gb, f"{CELL_PREFIX}{task}", notebook, assignment_id, sid)
                score = tasks.get(task, {}).get("score")
                grade.auto_score = None if row.get("error") else float(score or 0.0)
            nb = gb.find_submission_notebook(notebook, assignment_id, sid)
            late = row.get("late") or {}
            nb.late_submission_penalty = (float(late.get("raw_score", 0.0))
                                          - float(row.get("score", 0.0))
                                          if late.get("penalty_fraction") else None)
            gb.db.commit()
            del submission


def _grade(gb: Any, cell: str, notebook: str, assignment_id: str, sid: str) -> Any:
    """The Grade row; created when the cell was added after this submission existed
    (nbgrader only mirrors cells into a submission when the submission is created)."""
    from nbgrader.api import Grade, MissingEntry

    try:
        return gb.find_grade(cell, notebook, assignment_id, sid)
    except MissingEntry:
        grade_cell = gb.find_grade_cell(cell, notebook, assignment_id)
        nb = gb.find_submission_notebook(notebook, assignment_id, sid)
        grade = Grade(cell_id=grade_cell.id, notebook=nb)
        gb.db.add(grade)
        gb.db.flush()
        return grade
