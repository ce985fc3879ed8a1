"""Everything a batch writes into its output directory, from result dicts.

Per student (as each result arrives): ``DIR/<key>/result.json``, ``feedback.html``,
``gradescope_results.json``. For the class (at the end, from the result.json files on
disk, so a resumed batch includes earlier runs): ``grades.csv`` (Canvas import),
``moodle_grading_worksheet.csv`` (when the input came from Moodle), ``gradebook.db`` and
``autograded/`` (nbgrader, see :mod:`proctor.lms.gradebook`), ``dashboard.html``,
``errors.csv`` (every student not graded and every input file in error, and why),
``files.csv`` (every input file and what became of it) and, for anonymous Canvas students,
``canvas_anonymous_grades.csv``. Each class file is written on its own: one that fails is
reported in one line and the others are still written.
"""

from __future__ import annotations

import csv
import json

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor import __version__
from proctor.errors import ProctorError
from proctor.lms import canvas, gradescope, moodle
from proctor.atomic import atomic_open, write_json
from proctor.lms.entry import KINDS, FileRecord, SubmissionEntry
from proctor.result import load_block

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["EXPORTS", "annotate", "error_result", "write_class_outputs", "write_student"]

EXPORTS = ("canvas", "moodle", "nbgrader", "gradescope", "dashboard", "feedback")
RESULT = "result.json"


def student_block(entry: SubmissionEntry, sha256: str) -> dict[str, Any]:
    """Who this result belongs to, as the gradebook writers need it."""
    return {"id": entry.student_id, "name": entry.student_name, "key": entry.key,
            "format": entry.format, "filename": entry.filename, "note": entry.note,
            "late_marker": entry.late_marker, "sha256": sha256, "identity": entry.identity,
            "extra": {k: v for k, v in entry.extra.items() if _jsonable(v)}}


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def error_result(assignment: Assignment, entry: SubmissionEntry, message: str) -> dict[str, Any]:
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
                  hidden_visibility: str = "after_published", templates: Path | None = None) -> list[str]:
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
                write_feedback(result, folder, templates)  # the course's, if any
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


def write_class_outputs(out: Path, assignment: Assignment, results: list[dict[str, Any]], *,
                        exports: Iterable[str] = EXPORTS,
                        canvas_assignment_id: str | None = None,
                        moodle_template: moodle.Worksheet | None = None,
                        ledger: list[FileRecord] | None = None,
                        canvas_anonymous_map: dict[str, str] | None = None,
                        notes: list[str] | None = None, nbgrader_course: Path | None = None,
                        sources: Mapping[str, Any] | None = None,
                        problems: list[str] | None = None,
                        course_page: str | None = None) -> dict[str, Path]:
    """Write the class-level files; returns what was written, by export name.

    ``ledger`` (every input file and what became of it) is written as ``files.csv`` and
    its errors not tied to a student join ``errors.csv``; ``notes`` receives what the
    instructor must know to import the files (column matching, anonymous students,
    scaling). Each file is written on its own: one that fails becomes one line in
    ``problems`` (or, without a list, one ProctorError raised after the others are
    written). nbgrader's gradebook is written for an nbgrader course: the input came from
    one, or ``nbgrader_course`` names one (its autograded notebooks cost ~0.2 s per
    student); ``sources`` maps student keys to their ``SubmissionEntry`` for those notebooks.
    ``course_page``: the course overview the dashboard links back to (a batch of several
    assignments), relative to ``out``.
    """
    exports = set(exports)
    written: dict[str, Path] = {}
    notes = notes if notes is not None else []
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
            canvas_assignment_id=canvas_assignment_id, anon_map=canvas_anonymous_map))
        if canvas_assignment_id is None:
            notes.append(f"grades.csv: no --canvas-assignment-id, so Canvas matches the "
                         f"column by its title {assignment.title!r}; an assignment not "
                         f"titled exactly so is created anew on import")
        marked = [r for r in results if (r.get("student") or {}).get("late_marker")
                  and (r.get("late") or {}).get("submitted_at") is None]
        if marked:
            days = {(r.get("late") or {}).get("days_late") for r in marked}
            charge = ("no penalty (--late-marker-days none)" if days == {None} else
                      f"charged as {', '.join(f'{d:g}' for d in sorted(days - {None}))} "
                      f"day(s) late under course.toml's policy (--late-marker-days)")
            notes.append(f"{len(marked)} submission(s) marked LATE by Canvas, which gives no "
                         f"time: {charge}")
        anonymous = [r for r in results if canvas.is_anonymous(r)]
        if anonymous:
            attempt("canvas_anonymous", "canvas_anonymous_grades.csv",
                    lambda: canvas.write_anonymous(results, out / "canvas_anonymous_grades.csv",
                                                   max_score=max_score))
            mapped = {k.lower() for k in canvas_anonymous_map or {}}
            unmapped = [r for r in anonymous if r["student"]["extra"]["canvas_anonymous_id"]
                        .lower() not in mapped]
            if unmapped:
                notes.append(
                    f"{len(unmapped)} anonymous Canvas submission(s) (anon_<id>) have no "
                    f"Canvas user id, so they are not in grades.csv (Canvas's gradebook "
                    f"import also refuses grades for an anonymous assignment until its "
                    f"grades are posted). Enter their scores in SpeedGrader, which shows "
                    f"the same anonymous ids, from canvas_anonymous_grades.csv; or pass "
                    f"--canvas-anonymous-map FILE (anonymous id,user id) to put them in "
                    f"grades.csv")
    has_moodle = any(moodle.participant_ids(r) for r in results)
    if "moodle" in exports and (has_moodle or moodle_template):
        def write_moodle() -> Path:
            path = moodle.write_worksheet(results, out / "moodle_grading_worksheet.csv",
                                          max_score=max_score, template=moodle_template)
            notes.extend(_moodle_notes(results, moodle_template, max_score))
            return path

        attempt("moodle", "moodle_grading_worksheet.csv", write_moodle)
    from_nbgrader = any((r.get("student") or {}).get("format") == "nbgrader" for r in results)
    if "nbgrader" in exports and (from_nbgrader or nbgrader_course is not None):
        where = f"{nbgrader_course}'s gradebook" if nbgrader_course else "gradebook.db"
        attempt("nbgrader", where, lambda: _gradebook(
            out, assignment, results, nbgrader_course, sources))
    if "dashboard" in exports:
        attempt("dashboard", "dashboard.html", lambda: _dashboard(out, results, assignment,
                                                                  course_page))
    attempt("errors", "errors.csv", lambda: _errors_csv(out / "errors.csv", results, ledger or []))
    if ledger is not None:
        attempt("files", "files.csv", lambda: write_ledger(out / "files.csv", ledger))
    if problems is not None:
        problems.extend(failed)
    elif failed:
        raise ProctorError("; ".join(failed))
    return written


def _moodle_notes(results: list[dict[str, Any]], sheet: moodle.Worksheet | None,
                  max_score: float) -> list[str]:
    """How the worksheet's grades relate to proctor's, and who could not be placed."""
    if sheet is None:
        return [f"moodle_grading_worksheet.csv: no downloaded worksheet given, so a standard "
                f"English one with grades out of {max_score:g}; Moodle skips grades above "
                f"the assignment's maximum grade: pass --moodle-worksheet to scale to it"]
    notes = []
    maxima = {sheet.rows[i][sheet.columns["max"]] for i in sheet.by_pid.values()
              if sheet.columns["max"] < len(sheet.rows[i])}
    notes.append(f"moodle_grading_worksheet.csv: grades scaled from /{max_score:g} to the "
                 f"worksheet's maximum grade ({', '.join(sorted(maxima)) or '?'}); upload "
                 f"it in Moodle with 'Upload grading worksheet'")
    missing = sorted({pid for r in results for pid in moodle.participant_ids(r)
                      if pid not in sheet.by_pid})
    if missing:
        notes.append(f"{len(missing)} participant(s) not in the worksheet, so not in the "
                     f"upload: {', '.join(missing[:10])}")
    return notes


def write_ledger(path: Path, ledger: list[FileRecord]) -> Path:
    """``files.csv``: every file of the input, what became of it, and why."""
    with atomic_open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "kind", "student_id", "reason"])
        for record in ledger:
            writer.writerow([record.path, record.kind, record.student or "", record.reason])
    return path


def count_files(ledger: list[FileRecord]) -> dict[str, int]:
    """Files by kind, every kind present (they add up to the files in the input)."""
    return {kind: sum(1 for r in ledger if r.kind == kind) for kind in KINDS}


def _gradebook(out: Path, assignment: Assignment, results: list[dict[str, Any]],
               course: Path | None, sources: Mapping[str, Any] | None) -> Path:
    """nbgrader's gradebook: the batch's own in ``out``, or the course's own."""
    from proctor.lms import gradebook

    coursedir = gradebook.course_directory(course, out)
    return gradebook.write_gradebook(results, assignment, coursedir, sources=sources,
                                     owned=course is None)


def _dashboard(out: Path, results: list[dict[str, Any]], assignment: Any = None,
               course_page: str | None = None) -> Path | None:
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
        # hw1.ipynb, so name the row by the student instead.
        name = student.get("name") or student.get("id") or key
        label = f"{name} ({student.get('id')})" if name != student.get("id") else str(name)
        rows.append({**result, "submission": label, "_source": str(out / key / RESULT)})
        if (out / key / "feedback.html").exists():
            links[label] = f"{key}/feedback.html"
    path = out / "dashboard.html"
    if course_page is None:
        build_dashboard(rows, path, feedback_links=links)
    else:  # one assignment of several: named, with the way back to the course page
        build_dashboard(rows, path, feedback_links=links, course_page=course_page,
                        title=f"Class dashboard: {getattr(assignment, 'title', '')}")
    return path


def _errors_csv(path: Path, results: list[dict[str, Any]],
                ledger: list[FileRecord] = ()) -> Path:  # type: ignore[assignment]
    """One row per student who was not graded or whose file choice needs a look, and one
    per input file that belongs to no student (with the reason)."""
    with atomic_open(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "name", "file", "problem"])
        for result in results:
            student = result.get("student") or {}
            for problem in filter(None, [result.get("error"), student.get("note")]):
                writer.writerow([student.get("id"), student.get("name") or "",
                                 student.get("filename") or "", problem])
        not_graded = {str((r.get("student") or {}).get("id")) for r in results if r.get("error")}
        for record in ledger:
            if record.kind == "error" and record.student not in not_graded:
                writer.writerow([record.student or "", "", record.path, record.reason])
    return path


