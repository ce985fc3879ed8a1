"""Gradebook files come out in each system's import format, with late penalties applied."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from proctor.config import LatePolicy
from proctor.errors import ProctorError
from proctor.lms import apply_late
from proctor.lms.canvas import write_gradebook
from proctor.lms.entry import SubmissionEntry
from proctor.lms.gradescope import results_json
from proctor.lms.moodle import read_worksheet, write_worksheet
from proctor.lms.outputs import annotate, error_result, write_class_outputs, write_student

DATA = Path(__file__).parent / "data" / "lms"
EST = timezone(timedelta(hours=-5))
DUE = datetime(2026, 12, 11, 23, 59, tzinfo=EST)
ASSIGNMENT = SimpleNamespace(
    id="attention", title="Attention", notebook=Path("/c/attention.ipynb"), due=DUE,
    late=LatePolicy(penalty_per_day=0.1, cap=0.5), points={"mask": 10.0, "sdpa": 30.0},
    max_score=40.0)


def result(score_mask: float, score_sdpa: float) -> dict:
    return {
        "assignment": "attention", "submission": "attention.ipynb",
        "score": score_mask + score_sdpa, "max_score": 40.0,
        "tasks": {"mask": {"score": score_mask, "max_score": 10.0},
                  "sdpa": {"score": score_sdpa, "max_score": 30.0}},
        "tests": [
            {"id": "test_mask.py::test_shape", "name": "mask shape", "task": "mask",
             "status": "passed", "score": score_mask, "max_score": 10.0,
             "visibility": "public", "message": "", "hint": None},
            {"id": "test_sdpa.py::test_values", "name": "sdpa values", "task": "sdpa",
             "status": "failed" if score_sdpa < 30 else "passed", "score": score_sdpa,
             "max_score": 30.0, "visibility": "hidden", "message": "output differs",
             "hint": "scale by sqrt(d_k)"},
        ],
        "load": {"errors": [], "skipped_lines": 0}, "duration_s": 0.5,
    }


def entry(sid, name, fmt, submitted=None, late=False, **extra) -> SubmissionEntry:
    return SubmissionEntry(sid, name, b"x = 1\n", "attention.py", submitted, fmt,
                           late_marker=late, extra=extra)


# ---------------------------------------------------------------------------- late

def test_late_penalty_from_policy():
    on_time = apply_late(result(10, 30), ASSIGNMENT, DUE - timedelta(hours=1))
    assert on_time["score"] == 40 and on_time["late"]["penalty_fraction"] == 0
    late = apply_late(result(10, 30), ASSIGNMENT, DUE + timedelta(days=1, hours=2))
    assert late["late"]["penalty_fraction"] == pytest.approx(0.2)  # two started days
    assert late["late"]["raw_score"] == 40 and late["score"] == pytest.approx(32)
    assert late["late"]["days_late"] == pytest.approx(26 / 24, abs=1e-3)
    assert late["late"]["submitted_at"].startswith("2026-12-13T01:59")
    capped = apply_late(result(10, 30), ASSIGNMENT, DUE + timedelta(days=30))
    assert capped["score"] == pytest.approx(20)


def test_late_marker_without_time_and_naive_times():
    marked = apply_late(result(10, 30), ASSIGNMENT, None, late_marker=True)
    assert marked["late"]["penalty_fraction"] == pytest.approx(0.1) and marked["score"] == 36
    assert "without a time" in marked["late"]["note"]
    waived = apply_late(result(10, 30), ASSIGNMENT, None, late_marker=True, marker_days=None)
    assert waived["score"] == 40
    naive = apply_late(result(10, 30), ASSIGNMENT, datetime(2026, 12, 12, 0, 30))
    assert naive["late"]["penalty_fraction"] == pytest.approx(0.1)  # 00:30 EST is late
    unknown = apply_late(result(10, 30), ASSIGNMENT, None)
    assert unknown["score"] == 40 and unknown["late"]["submitted_at"] is None


# ---------------------------------------------------------------------------- Canvas

def test_canvas_gradebook_csv(tmp_path):
    rows = [
        annotate(apply_late(result(10, 20), ASSIGNMENT, None, late_marker=True),
                 entry("12345", "lovelaceada", "canvas", late=True), "aa"),
        annotate(error_result(ASSIGNMENT, entry("12346", "turingalan", "canvas"), "corrupt"),
                 entry("12346", "turingalan", "canvas"), "bb"),
        annotate(result(5, 0), entry("u3", "Grace", "gradescope"), "cc"),
        annotate(result(7.125, 0), entry("jdoe", None, "nbgrader"), "dd"),
    ]
    path = write_gradebook(rows, tmp_path / "grades.csv", title="Attention", max_score=40,
                           canvas_assignment_id="98765")
    lines = list(csv.reader(path.open(newline="")))
    assert lines[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                        "Attention (98765)"]
    assert lines[1] == ["Points Possible", "", "", "", "", "40"]
    assert lines[2] == ["lovelaceada", "12345", "", "", "", "27"]     # 30 * 0.9
    assert lines[3] == ["turingalan", "12346", "", "", "", ""]        # not graded: unchanged
    assert lines[4] == ["Grace", "", "u3", "", "", "5"]
    assert lines[5] == ["jdoe", "", "", "jdoe", "", "7.13"]


# ---------------------------------------------------------------------------- Moodle

def test_moodle_worksheet_round_trip(tmp_path):
    template = read_worksheet((DATA / "moodle_worksheet.csv").read_text())
    rows = [annotate(result(10, 25), entry("4711", "Ada Lovelace", "moodle",
                                           moodle_participant_id="4711"), "a"),
            annotate(error_result(ASSIGNMENT, entry("4712", "Alan", "moodle"), "empty file"),
                     entry("4712", "Alan Turing", "moodle", moodle_participant_id="4712"), "b")]
    path = write_worksheet(rows, tmp_path / "ws.csv", max_score=40, template=template,
                           now=datetime(2026, 12, 14, 9, 5))
    out = list(csv.DictReader(path.open(newline="")))
    assert [r["Identifier"] for r in out] == ["Participant 4711", "Participant 4712",
                                              "Participant 4713"]
    assert list(out[0]) == template.header  # same columns, same order as Moodle gave them
    ada, alan, grace = out
    # 35 / 40 on the worksheet's Maximum Grade of 100; an empty "-" grade time is filled in
    # a form PHP's strtotime reads in any site language
    assert ada["Grade"] == "87.50" and ada["Last modified (grade)"] == "2026-12-14 09:05"
    assert "mask: 10.00 / 10.00" in ada["Feedback comments"]
    assert ada["Last modified (submission)"] == "Friday, 11 December 2026, 11:30 PM"
    assert alan["Grade"] == "" and "empty file" in alan["Feedback comments"]
    assert grace["Grade"] == "" and grace["Status"] == "No submission"


def test_moodle_worksheet_without_template_uses_standard_columns(tmp_path):
    rows = [annotate(result(10, 30), entry("9", "Ada", "moodle", moodle_participant_id="9"),
                     "a"), annotate(result(1, 1), entry("x", "NotMoodle", "canvas"), "b")]
    out = list(csv.reader(write_worksheet(rows, tmp_path / "ws.csv", max_score=40).open()))
    assert out[0] == ["Identifier", "Full name", "Email address", "Status", "Grade",
                      "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                      "Last modified (grade)", "Feedback comments"]
    assert len(out) == 2 and out[1][0] == "Participant 9" and out[1][4] == "40.00"


# ---------------------------------------------------------------------------- nbgrader

def minimath_result(add: float, scale: float, counter: float) -> dict:
    tasks = {"add": (add, 10.0), "scale": (scale, 20.0), "counter": (counter, 10.0)}
    return {"assignment": "minimath", "submission": "minimath.py", "score": add + scale + counter,
            "max_score": 40.0, "load": {"errors": []}, "duration_s": 0.1,
            "tasks": {t: {"score": s, "max_score": m} for t, (s, m) in tasks.items()},
            "tests": [{"id": f"t::{t}", "name": t, "task": t, "score": s, "max_score": m,
                       "status": "passed" if s == m else "failed", "visibility": "public"}
                      for t, (s, m) in tasks.items()]}


def test_nbgrader_gradebook_scores_the_mapped_cell(minimath, tmp_path):
    """nbgrader/api.py: a submission's score is the sum of its grades (``auto_score`` unless a
    manual score overrides it); the late penalty is the notebook's ``late_submission_penalty``,
    which `nbgrader export` subtracts; formgrader flags ``needs_manual_grade``. minimath's one
    test cell ``t1`` carries all three tasks."""
    from nbgrader.api import Gradebook

    from proctor.lms.gradebook import course_directory, write_gradebook

    a = replace(minimath, grade_ids={"add": "t1", "scale": "t1", "counter": "t1"})
    people = {"alice": entry("alice", "Alice Smith", "nbgrader"),
              "bob": entry("bob", None, "nbgrader"), "zoe": entry("zoe", None, "nbgrader")}
    rows = [annotate(apply_late(minimath_result(10, 20, 10), a, a.due + timedelta(hours=3)),
                     people["alice"], "a"),
            annotate(minimath_result(5, 0, 10), people["bob"], "b"),
            annotate(error_result(a, people["zoe"], "zoe.ipynb is not valid JSON"), people["zoe"], "z")]
    for _ in range(2):  # a second run updates in place, duplicates nothing
        write_gradebook(rows, a, course_directory(None, tmp_path), sources=people)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", course_id="") as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob", "zoe"]
        assert gb.find_student("alice").last_name == "Smith"
        assert [(c.name, c.max_score) for c in gb.find_notebook("minimath", "minimath").grade_cells] \
            == [("t1", 40.0)]
        alice = gb.find_submission("minimath", "alice")
        assert alice.max_score == 40 and alice.score == 40
        assert alice.late_submission_penalty == pytest.approx(4)
        bob = gb.find_grade("t1", "minimath", "minimath", "bob")
        assert bob.auto_score == 15 and not bob.needs_manual_grade
        zoe = gb.find_grade("t1", "minimath", "minimath", "zoe")
        assert zoe.auto_score is None and zoe.needs_manual_grade  # not graded: a person looks
        assert gb.find_assignment("minimath").duedate == datetime(2026, 12, 1, 23, 59)
    bob_nb = (tmp_path / "autograded" / "bob" / "minimath" / "minimath.ipynb").read_text()
    assert "proctor: add 5 / 10 (0 of 1 tests passed)" in bob_nb and "x = 1" in bob_nb


def _notebook(*cells: dict) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


def _cell(meta, kind: str = "code") -> dict:
    extra = {"outputs": [], "execution_count": None} if kind == "code" else {}
    return {"cell_type": kind, "source": "x = 1", "metadata": {"nbgrader": meta}, **extra}


def test_nbgrader_keeps_the_grade_of_a_notebook_it_cannot_process(minimath, tmp_path):
    """Cell metadata nbgrader chokes on (nbgrader/preprocessors/overwritecells.py reads
    ``float(points)``), a test cell deleted or duplicated, an id that is not a string: the
    student's grade still reaches the gradebook, autograded, and nobody else's is lost."""
    from nbgrader.api import Gradebook

    from proctor.lms.gradebook import course_directory, write_gradebook

    a = replace(minimath, grade_ids={"add": "t1", "scale": "t1", "counter": "t1"})
    test = {"grade": True, "grade_id": "t1", "points": 1, "solution": False, "locked": True}
    cases = {"bad_points": _notebook(_cell({**test, "points": "abc"})),
             "int_id": _notebook(_cell({**test, "grade_id": 5})),
             "text_meta": _notebook(_cell("x", "markdown")),
             "deleted": _notebook(), "twice": _notebook(_cell(test), _cell(test))}
    people = {sid: SubmissionEntry(sid, None, data, "minimath.ipynb", None, "nbgrader")
              for sid, data in cases.items()}
    rows = [annotate(minimath_result(5, 20, 10), e, "h") for e in people.values()]
    write_gradebook(rows, a, course_directory(None, tmp_path), sources=people)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", course_id="") as gb:
        for sid in cases:
            grade = gb.find_grade("t1", "minimath", "minimath", sid)
            assert (grade.auto_score, grade.needs_manual_grade) == (35, False), sid
    shown = (tmp_path / "autograded" / "bad_points" / "minimath" / "minimath.ipynb").read_text()
    assert "nbgrader could not process minimath.ipynb (ValueError" in shown


def test_a_failing_class_output_is_one_line_and_the_others_are_written(tmp_path):
    rows = [annotate(result(10, 30), entry("alice", "Alice", "directory"), "a")]
    problems: list[str] = []
    nowhere = tmp_path / "no_course"
    written = write_class_outputs(tmp_path, ASSIGNMENT, rows, nbgrader_course=nowhere,
                                  problems=problems)
    assert problems == [f"nbgrader: {nowhere}'s gradebook not written (ProctorError: {nowhere}: "
                        f"not an nbgrader course directory (no nbgrader_config.py; "
                        f"`nbgrader quickstart` makes one))"]
    assert {"canvas", "errors"} <= set(written) and "nbgrader" not in written
    assert (tmp_path / "grades.csv").is_file() and (tmp_path / "errors.csv").is_file()
    (tmp_path / "grades.csv").unlink()
    with pytest.raises(ProctorError, match=r"^nbgrader: .* not written"):
        write_class_outputs(tmp_path, ASSIGNMENT, rows, nbgrader_course=nowhere)
    assert (tmp_path / "grades.csv").is_file()  # written before the error was raised


# ---------------------------------------------------------------------------- Gradescope

def test_gradescope_results_json_follows_spec():
    out = results_json(apply_late(result(10, 20), ASSIGNMENT, DUE + timedelta(hours=1)))
    assert set(out) == {"score", "execution_time", "output", "visibility",
                        "stdout_visibility", "tests"}
    assert out["score"] == pytest.approx(27) and out["execution_time"] == 0.5
    assert "Late penalty 10%" in out["output"]
    public, hidden = out["tests"]
    assert public == {"name": "mask shape", "score": 10.0, "max_score": 10.0,
                      "status": "passed", "output": "", "visibility": "visible"}
    assert hidden["status"] == "failed" and hidden["visibility"] == "after_published"
    assert "sqrt" in hidden["output"]
    json.dumps(out)


# ---------------------------------------------------------------------------- together

def test_write_student_and_class_outputs(tmp_path):
    rows = []
    for sid, res in [("alice", result(10, 30)), ("bob", result(0, 0))]:
        row = annotate(res, entry(sid, sid.title(), "directory"), "h" + sid)
        assert write_student(tmp_path, row) == []
        rows.append(row)
    assert json.loads((tmp_path / "alice" / "result.json").read_text())["score"] == 40
    assert (tmp_path / "alice" / "gradescope_results.json").exists()
    written = write_class_outputs(tmp_path, ASSIGNMENT, rows)
    assert {"canvas", "errors"} <= set(written)
    assert "nbgrader" not in written  # not an nbgrader course: nothing asked for it
    assert "moodle" not in written  # no participant ids to match
    assert (tmp_path / "grades.csv").read_text().count("\n") == 4
