"""nbgrader's gradebook and autograded notebooks, written so formgrader shows proctor's grades.

The gradebook is the batch's own (``DIR/gradebook.db``, notebooks under
``DIR/autograded/``: point formgrader at ``DIR`` as the course root) or, with
``--nbgrader-course``, the course's own, found through its ``nbgrader_config.py`` exactly as
nbgrader finds it (``CourseDirectory``: root, ``db_url``, ``course_id``, ``autograded``
directory). Either way nbgrader's own code does the work:

* the notebook's cells come from the released notebook through ``SaveCells`` (as
  ``nbgrader generate_assignment`` records them); a course gradebook made by
  ``generate_assignment`` keeps its cells, so nothing is added beside them;
* course.toml's ``grade_ids`` put each task's points on an autograded test cell (the
  cell's max score; an autograded cell no task names is worth 0); written answers keep
  the notebook's points, so the total is the course's points plus the written answers';
* each submission is restored by ``OverwriteCells`` and scored by ``SaveAutoGrades`` from
  proctor's verdicts (see :mod:`proctor.lms.autograded`), so autograded cells are graded
  and only written answers ask for manual grading, as after ``nbgrader autograde``;
* proctor's late penalty goes to the notebook's ``late_submission_penalty``.

A new database gets its schema from nbgrader's models and its alembic revision from
alembic's Python API: nbgrader itself shells out to an ``alembic`` found on PATH, which a
venv that is not activated (cron, ``venv/bin/proctor``) does not have.
Re-running updates everything in place, so a resumed batch duplicates nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from nbformat.notebooknode import NotebookNode

from proctor.atomic import write_text
from proctor.errors import ProctorError
from proctor.lms.autograded import add_verdicts, base_notebook

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["CONFIG_FILE", "course_directory", "cell_tasks", "ensure_schema", "write_gradebook"]

CONFIG_FILE = "nbgrader_config.py"
_QUIET = logging.getLogger("proctor.nbgrader")  # nbgrader's preprocessors warn per cell
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def course_directory(course: Path | None, out: Path) -> Any:
    """nbgrader's ``CourseDirectory`` for ``course`` (its config read), or ``out`` as root."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if course is None:
        return CourseDirectory(root=str(Path(out).resolve()))
    course = Path(course).resolve()
    if not (course / CONFIG_FILE).is_file():
        raise ProctorError(f"{course}: not an nbgrader course directory (no {CONFIG_FILE}; "
                           f"`nbgrader quickstart` makes one)")
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    except Exception as error:  # noqa: BLE001 - the instructor's Python file
        raise ProctorError(f"{course / CONFIG_FILE}: cannot load it "
                           f"({type(error).__name__}: {error})") from None
    coursedir = CourseDirectory(config=Config(config))
    if "root" not in config.get("CourseDirectory", {}):
        coursedir.root = str(course)  # nbgrader's default is the working directory
    return coursedir


def ensure_schema(db_url: str) -> None:
    """Create nbgrader's tables and alembic revision in a new database, without ``alembic``
    on PATH (``nbgrader.api.Gradebook`` runs ``alembic heads`` only when there are no tables)."""
    from alembic.script import ScriptDirectory
    from nbgrader.api import Base
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, inspect, text

    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(db_url, future=True)
    try:
        if inspect(engine).get_table_names():
            return
        head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
        with engine.begin() as connection:
            Base.metadata.create_all(bind=connection)
            connection.execute(text("CREATE TABLE alembic_version "
                                    "(version_num VARCHAR(32) NOT NULL)"))
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                               {"v": head})
    finally:
        engine.dispose()


def cell_tasks(assignment: Assignment) -> dict[str, list[str]]:
    """grade_id -> the tasks whose points it carries (course.toml's ``grade_ids``)."""
    cells: dict[str, list[str]] = {}
    for task, grade_id in (getattr(assignment, "grade_ids", None) or {}).items():
        cells.setdefault(grade_id, []).append(task)
    return cells


def _is_autograded(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _points(assignment: Assignment, tasks: list[str]) -> float:
    return float(sum(assignment.points.get(task, 0.0) for task in tasks))


def released_notebook(assignment: Assignment) -> NotebookNode:
    """The released notebook with course.toml's points on its autograded cells."""
    from nbgrader.utils import compute_checksum

    from proctor.release import build_student_notebook

    nb = build_student_notebook(nbformat.read(str(assignment.notebook), as_version=4))
    mapped = cell_tasks(assignment)
    for cell in nb.cells:
        if _is_autograded(cell):
            meta = cell.metadata["nbgrader"]
            meta["points"] = _points(assignment, mapped.get(meta["grade_id"], []))
            meta["checksum"] = compute_checksum(cell)
    return nb


def write_gradebook(rows: Iterable[dict[str, Any]], assignment: Assignment, coursedir: Any, *,
                    sources: Mapping[str, Any] | None = None, owned: bool = True) -> Path:
    """Write every row's grades into ``coursedir``'s gradebook and its autograded notebook.

    ``sources`` maps a row's student key to its ``SubmissionEntry`` (the submitted bytes);
    ``owned`` is False for a course's own gradebook, whose due date is the course's.
    """
    from sqlalchemy.exc import SAWarning

    if not getattr(assignment, "grade_ids", None):
        raise ProctorError(f"course.toml has no [assignments.{assignment.id}.grade_ids]: "
                           f"it says which notebook grade cell carries each task's points")
    rows = list(rows)
    ensure_schema(coursedir.db_url)
    released = released_notebook(assignment)
    with warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy autoflush warnings; harmless
        warnings.simplefilter("ignore", SAWarning)
        _write(rows, assignment, coursedir, released, sources or {}, owned)
    return Path(coursedir.db_url.removeprefix("sqlite:///"))


def _write(rows: list[dict[str, Any]], assignment: Assignment, coursedir: Any,
           released: NotebookNode, sources: Mapping[str, Any], owned: bool) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    notebook = Path(assignment.notebook).stem
    resources = {"nbgrader": {"db_url": coursedir.db_url, "assignment": assignment.id,
                              "notebook": notebook}}
    with Gradebook(coursedir.db_url, course_id=coursedir.course_id) as gb:
        _assignment(gb, assignment, owned)
        try:
            gb.find_notebook(notebook, assignment.id)
        except MissingEntry:
            gb.db.commit()
            _save_cells(released, resources)
        _set_points(gb, assignment, notebook, released)
        mapped = cell_tasks(assignment)
        for row in rows:
            sid = _student(gb, row, assignment.id)
            nb = _autograde(row, released, sources.get((row.get("student") or {}).get("key")),
                            {"nbgrader": resources["nbgrader"] | {"student": sid}}, mapped)
            _after(gb, row, assignment.id, notebook, sid)
            if "/" in sid or sid in ("", ".", ".."):
                continue  # not a folder name: no notebook (nbgrader could not use one either)
            folder = Path(coursedir.format_path(coursedir.autograded_directory, sid,
                                                assignment.id))
            write_text(folder / f"{notebook}.ipynb", nbformat.writes(nb, version=4))


def _assignment(gb: Any, assignment: Assignment, owned: bool) -> None:
    """The assignment row; a course's existing due date is the course's to set."""
    from nbgrader.api import MissingEntry

    try:
        existing = gb.find_assignment(assignment.id)
    except MissingEntry:
        existing = None
    kwargs: dict[str, Any] = {}
    if assignment.due is not None and (owned or existing is None or existing.duedate is None):
        kwargs["duedate"] = assignment.due.astimezone(timezone.utc).replace(tzinfo=None)
    gb.update_or_create_assignment(assignment.id, **kwargs)
    gb.db.commit()


def _save_cells(released: NotebookNode, resources: dict[str, Any]) -> None:
    """Record the notebook's cells as ``nbgrader generate_assignment`` does."""
    from nbgrader.preprocessors import SaveCells

    SaveCells(log=_QUIET).preprocess(nbformat.from_dict(released), resources)


def _set_points(gb: Any, assignment: Assignment, notebook: str, released: NotebookNode) -> None:
    """course.toml's points on the autograded cells of an existing notebook.

    The source cell's checksum covers the points, and ``OverwriteCells`` refuses a
    locked cell whose checksum disagrees, so it is recomputed with the new points.
    """
    from nbgrader.api import MissingEntry
    from nbgrader.utils import compute_checksum

    known = {cell.name for cell in gb.find_notebook(notebook, assignment.id).grade_cells}
    mapped = cell_tasks(assignment)
    absent = sorted(set(mapped) - known)
    if absent:
        raise ProctorError(f"the gradebook's notebook {notebook!r} has no grade cell "
                           f"{', '.join(map(repr, absent))} named in course.toml's grade_ids; "
                           f"was it generated from {Path(assignment.notebook).name}?")
    for cell in released.cells:
        if not _is_autograded(cell) or cell.metadata["nbgrader"]["grade_id"] not in known:
            continue
        name = cell.metadata["nbgrader"]["grade_id"]
        points = _points(assignment, mapped.get(name, []))
        gb.update_or_create_grade_cell(name, notebook, assignment.id, max_score=points)
        try:
            source = gb.find_source_cell(name, notebook, assignment.id)
        except MissingEntry:
            continue
        stored = nbformat.v4.new_code_cell(source.source)
        stored.metadata["nbgrader"] = {"grade": True, "solution": False,
                                       "locked": bool(source.locked), "grade_id": name,
                                       "points": points}
        source.checksum = compute_checksum(stored)
    gb.db.commit()


def _student(gb: Any, row: dict[str, Any], assignment_id: str) -> str:
    """Create or update the student and the submission (which mirrors every grade cell)."""
    student = row.get("student") or {}
    sid = str(student.get("id"))
    first, _, last = (student.get("name") or "").partition(" ")
    gb.update_or_create_student(sid, first_name=first or None, last_name=last or None,
                                email=(student.get("extra") or {}).get("email") or None)
    kwargs: dict[str, Any] = {}
    submitted = (row.get("late") or {}).get("submitted_at")
    if submitted:
        kwargs["timestamp"] = submitted
    gb.update_or_create_submission(assignment_id, sid, **kwargs)
    gb.db.commit()  # SaveAutoGrades writes through its own connection next
    return sid


def _autograde(row: dict[str, Any], released: NotebookNode, entry: Any,
               resources: dict[str, Any], mapped: Mapping[str, list[str]]) -> NotebookNode:
    """nbgrader's autograde minus execution: restore cells, clear outputs, add verdicts, save.

    A notebook nbgrader cannot process (cell metadata it chokes on) is replaced by the
    released one headed by the reason, so the grades still reach the gradebook.
    """
    student = row.get("student") or {}
    data = None
    if entry is not None and entry.path_or_bytes is not None:
        try:
            data = entry.read_bytes()
        except OSError:
            data = None
    filename = student.get("filename") or getattr(entry, "filename", "") or ""
    base = base_notebook(released, filename, data, row.get("error") if data is None else None)
    try:
        return _pipeline(base, row, resources, mapped, released)
    except Exception as error:  # noqa: BLE001 - one student's notebook, reported in it
        why = (str(error).splitlines() or [""])[0]
        base = base_notebook(released, filename, None,
                             f"nbgrader could not process {filename} ({type(error).__name__}: "
                             f"{why}); proctor's grades are below")
        return _pipeline(base, row, resources, mapped, released)


def _pipeline(base: NotebookNode, row: dict[str, Any], resources: dict[str, Any],
              mapped: Mapping[str, list[str]], released: NotebookNode) -> NotebookNode:
    from nbgrader.preprocessors import ClearOutput, OverwriteCells, SaveAutoGrades

    try:  # re-adding deleted test cells fails when their neighbour was deleted too
        nb, _ = OverwriteCells(log=_QUIET, add_missing_cells=True).preprocess(
            nbformat.from_dict(base), resources)
    except KeyError:  # then the missing cells' grades stay manual
        nb, _ = OverwriteCells(log=_QUIET).preprocess(nbformat.from_dict(base), resources)
    for cell in nb.cells:  # OverwriteCells drops the id of a cell the gradebook lacks
        if "nbgrader" in cell.metadata and "grade_id" not in cell.metadata.nbgrader:
            del cell.metadata["nbgrader"]
    present = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
    nb.cells.extend(nbformat.from_dict(cell) for cell in released.cells  # still missing:
                    if cell.metadata.get("nbgrader", {}).get("grade")  # released copies, so
                    and cell.metadata.nbgrader["grade_id"] not in present)  # all are graded
    nb, _ = ClearOutput(log=_QUIET).preprocess(nb, resources)
    nb, _ = SaveAutoGrades(log=_QUIET).preprocess(add_verdicts(nb, row, mapped), resources)
    return nb


def _after(gb: Any, row: dict[str, Any], assignment_id: str, notebook: str, sid: str) -> None:
    """A submission proctor could not grade asks for a look; the late penalty is set."""
    gb.db.expire_all()  # SaveAutoGrades wrote through another session
    nb = gb.find_submission_notebook(notebook, assignment_id, sid)
    if row.get("error"):
        for grade in nb.grades:
            if grade.cell.cell_type == "code" and grade.auto_score is not None:
                grade.auto_score = None
                grade.needs_manual_grade = True
    late = row.get("late") or {}
    nb.late_submission_penalty = (float(late.get("raw_score", 0.0)) - float(row.get("score", 0.0))
                                  if late.get("penalty_fraction") else None)
    gb.db.commit()
