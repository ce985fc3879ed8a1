"""Everything a batch writes into its output directory, from result dicts.

Per student (as each result arrives): ``DIR/<key>/result.json``, ``feedback.html``,
``gradescope_results.json``. For the class (at the end, from the result.json files on
disk, so a resumed batch includes earlier runs): ``grades.csv`` (Canvas import),
``moodle_grading_worksheet.csv`` (when the input came from Moodle), ``gradebook.db``
(nbgrader), ``dashboard.html`` and ``errors.csv`` (every student not graded, and why).
"""

from __future__ import annotations

import csv
import json

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from proctor import __version__
from proctor.lms import canvas, gradescope, moodle, nbgrader_tree
from proctor.atomic import atomic_open, write_json
from proctor.lms.entry import SubmissionEntry
from proctor.result import load_block

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
        "load": load_block(message, [{"kind": "error", "where": "", "message": message}], [], 0),
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
                        = None) -> dict[str, Path]:
    """Write the class-level files; returns what was written, by export name."""
    exports = set(exports)
    written: dict[str, Path] = {}
    max_score = float(assignment.max_score)
    if "canvas" in exports:
        written["canvas"] = canvas.write_gradebook(
            results, out / "grades.csv", title=assignment.title, max_score=max_score,
            canvas_assignment_id=canvas_assignment_id)
    has_moodle = any((r.get("student") or {}).get("extra", {}).get("moodle_participant_id")
                     for r in results)
    if "moodle" in exports and (has_moodle or moodle_template):
        written["moodle"] = moodle.write_worksheet(
            results, out / "moodle_grading_worksheet.csv", max_score=max_score,
            template=moodle_template)
    if "nbgrader" in exports:
        written["nbgrader"] = nbgrader_tree.write_gradebook(
            results, out / "gradebook.db", assignment_id=assignment.id,
            notebook=Path(assignment.notebook).stem, points=dict(assignment.points),
            due=assignment.due)
    if "dashboard" in exports:
        path = _dashboard(out, results)
        if path is not None:
            written["dashboard"] = path
    written["errors"] = _errors_csv(out / "errors.csv", results)
    return written


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


