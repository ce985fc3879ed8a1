"""Gradebook files come out in each system's import format, with late penalties applied."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from proctor.config import LatePolicy
from proctor.lms import apply_late
from proctor.lms.canvas import write_gradebook
from proctor.lms.entry import SubmissionEntry
from proctor.lms.gradescope import results_json
from proctor.lms.moodle import read_worksheet, write_worksheet
from proctor.lms.nbgrader_tree import write_gradebook as write_nbgrader
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

def test_nbgrader_gradebook_shows_task_scores(tmp_path):
    from nbgrader.api import Gradebook

    late = apply_late(result(10, 20), ASSIGNMENT, DUE + timedelta(hours=3))
    rows = [annotate(late, entry("alice", "Alice Smith", "nbgrader"), "a"),
            annotate(result(5, 30), entry("bob", None, "nbgrader"), "b")]
    db = tmp_path / "gradebook.db"
    for _ in range(2):  # a second run updates in place, duplicates nothing
        write_nbgrader(rows, db, assignment_id="attention", notebook="attention",
                       points=ASSIGNMENT.points, due=DUE)
    with Gradebook(f"sqlite:///{db}") as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob"]
        assert gb.find_student("alice").last_name == "Smith"
        sub = gb.find_submission("attention", "alice")
        assert sub.max_score == 40 and sub.score == 30  # nbgrader subtracts the penalty itself
        assert sub.late_submission_penalty == pytest.approx(3)
        assert gb.find_grade("proctor:sdpa", "attention", "attention", "bob").score == 30
        assert gb.find_submission("attention", "bob").score == 35
        assert gb.find_assignment("attention").duedate == datetime(2026, 12, 12, 4, 59)


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
    assert {"canvas", "nbgrader", "errors"} <= set(written)
    assert "moodle" not in written  # no participant ids to match
    assert (tmp_path / "grades.csv").read_text().count("\n") == 4
