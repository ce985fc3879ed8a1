"""Everything a batch writes into its output directory, from result dicts.

Per student (as each result arrives): ``DIR/<key>/result.json``, ``feedback.html``,
``gradescope_results.json``. For the class (at the end, from the result.json files on
disk, so a resumed batch includes earlier runs): ``grades.csv`` (Canvas import),
``moodle_grading_worksheet.csv`` (when the input came from Moodle), ``gradebook.db`` and
``autograded/`` (nbgrader, see :mod:`proctor.lms.gradebook`), ``dashboard.html`` and
``errors.csv`` (every student not graded, and why). Each class file is written on its own:
one that fails is reported in one line and the others are still written.
"""

from __future__ import annotations

import csv
import json

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from proctor import __version__
from proctor.errors import ProctorError
from proctor.lms import canvas, gradescope, moodle
from proctor.atomic import atomic_open, write_json
from proctor.lms.entry import SubmissionEntry

__all__ = ["EXPORTS", "annotate", "error_result", "write_class_outputs", "write_student"]

EXPORTS = ("canvas", "moodle", "nbgrader", "gradescope", "dashboard", "feedback")
RESULT = "result.json"


def student_block(entry: SubmissionEntry, sha256: str) -> dict[str, Any]:
    """Who this result belongs to, as the gradebook writers need it."""
    return {"id": entry.student_id, "name": entry.student_name, "key": entry.key,
            "format": entry.format, "filename": entry.filename, "note": entry.note,
            "late_marker": entry.late_marker, "sha256": sha256,
            "extra": {k: v for k, v in entry.extra.items() if _jsonable(v)}}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def error_result(assignment: Any, entry: SubmissionEntry, message: str) -> dict[str, Any]:
    """A result for a submission that could not be graded: zero, with the reason.

    It has the shape of a real result (tasks at 0, no tests) so every writer and the
    dashboard handle it; ``error`` tells gradebook writers to leave the grade blank.
    """
    return {
        "assignment": assignment.id, "submission": entry.filename or None,
        "score": 0.0, "max_score": float(assignment.max_score),
        "tasks": {task: {"score": 0.0, "max_score": float(points)}
                  for task, points in assignment.points.items()},
        "tests": [],
        "load": {"problem": message, "errors": [{"cell": None, "error": message}]},
        "error": message, "proctor_version": __version__, "duration_s": 0.0,
    }


def annotate(result: dict[str, Any], entry: SubmissionEntry, sha256: str) -> dict[str, Any]:
    out = dict(result)
    out["student"] = student_block(entry, sha256)
    out["submission_sha256"] = sha256
    return out


def write_student(out: Path, result: dict[str, Any], *, exports: Iterable[str] = EXPORTS,
                  hidden_visibility: str = "after_published") -> list[str]:
    """Write one student's files; result.json last so its presence means "all written".

    Returns problems with the optional files (feedback rendering) instead of raising: a
    template bug must not lose the grade.
    """
    exports = set(exports)
    folder = out / result["student"]["key"]
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    if "gradescope" in exports:
        gradescope.write_results(result, folder / "gradescope_results.json",
                                 hidden_visibility=hidden_visibility)
    if "feedback" in exports:
        try:
            from proctor.feedback import write_feedback
        except ImportError:
            pass
        else:
            try:
                write_feedback(result, folder)
            except Exception as error:  # noqa: BLE001 - reported, the grade is kept
                problems.append(f"{result['student']['id']}: feedback.html not written "
                                f"({type(error).__name__}: {error})")
    write_json(folder / RESULT, result)
    return problems


def load_results(out: Path, keys: Iterable[str]) -> list[dict[str, Any]]:
    """The result.json of each student key that has one (unreadable files are skipped)."""
    results = []
    for key in keys:
        path = out / key / RESULT
        try:
            results.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return results


def write_class_outputs(out: Path, assignment: Any, results: list[dict[str, Any]], *,
                        exports: Iterable[str] = EXPORTS,
                        canvas_assignment_id: str | None = None,
                        moodle_template: tuple[list[str], dict[str, dict[str, str]]] | None
                        = None, nbgrader_course: Path | None = None,
                        sources: Mapping[str, Any] | None = None,
                        problems: list[str] | None = None) -> dict[str, Path]:
    """Write the class-level files; returns what was written, by export name.

    Each file is written on its own: one that fails becomes one line in ``problems`` (or,
    without a list, one ProctorError raised after the others are written). nbgrader's
    gradebook is written for an nbgrader course: the input came from one, or
    ``nbgrader_course`` names one (its autograded notebooks cost ~0.2 s per student);
    ``sources`` maps student keys to their ``SubmissionEntry`` for those notebooks.
    """
    exports = set(exports)
    written: dict[str, Path] = {}
    failed: list[str] = []

    def attempt(name: str, filename: str, write: Callable[[], Path | None]) -> None:
        try:
            path = write()
        except Exception as error:  # noqa: BLE001 - reported; the other files still get written
            first = (str(error).splitlines() or [""])[0]  # one line, whatever raised
            failed.append(f"{name}: {filename} not written ({type(error).__name__}: {first})")
        else:
            if path is not None:
                written[name] = path

    max_score = float(assignment.max_score)
    if "canvas" in exports:
        attempt("canvas", "grades.csv", lambda: canvas.write_gradebook(
            results, out / "grades.csv", title=assignment.title, max_score=max_score,
            canvas_assignment_id=canvas_assignment_id))
    has_moodle = any((r.get("student") or {}).get("extra", {}).get("moodle_participant_id")
                     for r in results)
    if "moodle" in exports and (has_moodle or moodle_template):
        attempt("moodle", "moodle_grading_worksheet.csv", lambda: moodle.write_worksheet(
            results, out / "moodle_grading_worksheet.csv", max_score=max_score,
            template=moodle_template))
    from_nbgrader = any((r.get("student") or {}).get("format") == "nbgrader" for r in results)
    if "nbgrader" in exports and (from_nbgrader or nbgrader_course is not None):
        where = f"{nbgrader_course}'s gradebook" if nbgrader_course else "gradebook.db"
        attempt("nbgrader", where, lambda: _gradebook(
            out, assignment, results, nbgrader_course, sources))
    if "dashboard" in exports:
        attempt("dashboard", "dashboard.html", lambda: _dashboard(out, results))
    attempt("errors", "errors.csv", lambda: _errors_csv(out / "errors.csv", results))
    if problems is not None:
        problems.extend(failed)
    elif failed:
        raise ProctorError("; ".join(failed))
    return written


def _gradebook(out: Path, assignment: Any, results: list[dict[str, Any]],
               course: Path | None, sources: Mapping[str, Any] | None) -> Path:
    """nbgrader's gradebook: the batch's own in ``out``, or the course's own."""
    from proctor.lms import gradebook

    coursedir = gradebook.course_directory(course, out)
    return gradebook.write_gradebook(results, assignment, coursedir, sources=sources,
                                     owned=course is None)


def _dashboard(out: Path, results: list[dict[str, Any]]) -> Path | None:
    """``proctor.dashboard.build_dashboard`` when the feedback package provides it."""
    try:
        from proctor.dashboard import build_dashboard
    except ImportError:
        return None
    links: dict[str, str] = {}
    rows = []
    for result in results:
        student = result.get("student") or {}
        key = student.get("key", "")
        # The dashboard names rows by "submission"; every student's file may be called
        # attention.ipynb, so name the row by the student instead.
        name = student.get("name") or student.get("id") or key
        label = f"{name} ({student.get('id')})" if name != student.get("id") else str(name)
        rows.append({**result, "submission": label, "_source": str(out / key / RESULT)})
        if (out / key / "feedback.html").exists():
            links[label] = f"{key}/feedback.html"
    path = out / "dashboard.html"
    build_dashboard(rows, path, feedback_links=links)
    return path


def _errors_csv(path: Path, results: list[dict[str, Any]]) -> Path:
    """One row per student who was not graded or whose file choice needs a look."""
    with atomic_open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "file", "problem"])
        for result in results:
            student = result.get("student") or {}
            for problem in filter(None, [result.get("error"), student.get("note")]):
                writer.writerow([student.get("id"), student.get("name") or "",
                                 student.get("filename") or "", problem])
    return path


