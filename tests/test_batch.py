"""Batch grading through the real engine on a tiny course: parallel, journaled, resumable.

The course here is a one-function assignment so the tests exercise the batch machinery
(workers, journal, atomic writes, kill -9 and resume), not the attention suites.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import load_tiny_course

from proctor.batch import JOURNAL, run_batch
from proctor.config import load_course
from proctor.errors import ProctorError

pytestmark = pytest.mark.slow


tiny = load_tiny_course()
CORRECT, BUGGY = tiny.CORRECT, tiny.BUGGY
make_course, make_submissions, journal_lines = (tiny.make_course, tiny.make_submissions,
                                                tiny.journal_lines)


@pytest.fixture
def assignment(tmp_path):
    return load_course(make_course(tmp_path / "course")).assignment("tiny")


def test_batch_grades_everyone_and_writes_every_export(assignment, tmp_path):
    subs = tmp_path / "subs"
    truth = make_submissions(subs, 5)
    (subs / "zoe.ipynb").write_text('{"cells": [')  # corrupt: an error row, batch goes on
    out = tmp_path / "out"
    summary = run_batch(assignment, subs, out, workers=2, progress=False)
    assert (summary.total, summary.graded, summary.rejected, summary.failed) == (6, 5, 1, 0)
    for name, correct in truth.items():
        result = json.loads((out / name / "result.json").read_text())
        assert result["score"] == (10.0 if correct else 0.0), name
        assert result["student"]["id"] == name
        assert result["late"]["penalty_fraction"] == 0.0  # a directory has no times
        gs = json.loads((out / name / "gradescope_results.json").read_text())
        assert gs["score"] == result["score"] and len(gs["tests"]) == 2
    zoe = json.loads((out / "zoe" / "result.json").read_text())
    assert "not valid JSON" in zoe["error"]
    assert Counter(r["student_id"] for r in journal_lines(out)) == Counter(
        [*truth, "zoe"])
    grades = (out / "grades.csv").read_text().splitlines()
    assert grades[0].endswith(",Tiny") and "zoe,,,zoe,," in grades
    assert (out / "summary.json").exists() and summary.problems == []
    assert not (out / "gradebook.db").exists()  # a folder of files is not an nbgrader course
    assert "zoe" in (out / "errors.csv").read_text()
    with pytest.raises(ProctorError, match="--resume"):
        run_batch(assignment, subs, out, workers=1, progress=False)


def test_nbgrader_input_gets_late_penalties(assignment, tmp_path):
    course = tmp_path / "nbcourse" / "submitted"
    for student, stamp in [("early", "2026-12-11 20:00:00 UTC"),
                           ("late2", "2026-12-13 06:00:00 UTC")]:
        folder = course / student / "tiny"
        folder.mkdir(parents=True)
        (folder / "tiny.py").write_text(CORRECT)
        (folder / "timestamp.txt").write_text(stamp)
    out = tmp_path / "out"
    run_batch(assignment, tmp_path / "nbcourse", out, workers=1, progress=False)
    early = json.loads((out / "early" / "result.json").read_text())
    late = json.loads((out / "late2" / "result.json").read_text())
    assert early["score"] == 10 and early["late"]["penalty_fraction"] == 0
    # due 2026-12-12 04:59 UTC; 2026-12-13 06:00 UTC is 2 started days late
    assert late["late"]["penalty_fraction"] == pytest.approx(0.2)
    assert late["score"] == pytest.approx(8.0) and late["late"]["raw_score"] == 10


def test_resume_after_kill_9_loses_nothing_and_grades_nobody_twice(assignment, tmp_path):
    subs = tmp_path / "subs"
    truth = make_submissions(subs, 16, slow=0.3)
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        from proctor.config import load_course
        from proctor.batch import run_batch
        a = load_course({str(assignment.course_root)!r}).assignment("tiny")
        run_batch(a, {str(subs)!r}, {str(out)!r}, workers=2, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        # wait (no time limit: the batch's own progress decides) for some results
        while proc.poll() is None and len(list(out.glob("*/result.json"))) < 3:
            time.sleep(0.05)
        assert proc.poll() is None, "the batch finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:  # the workers and sandboxes it left behind, by its process group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    before = {r["student_id"] for r in journal_lines(out)}
    assert 0 < len(before) < len(truth)

    summary = run_batch(assignment, subs, out, workers=2, progress=False, resume=True)
    lines = journal_lines(out)
    per_student = Counter(r["student_id"] for r in lines)
    assert set(per_student) == set(truth)
    assert all(count == 1 for count in per_student.values()), per_student
    assert summary.skipped + summary.adopted + summary.graded == len(truth)
    assert summary.skipped >= len(before)
    for name, correct in truth.items():
        result = json.loads((out / name / "result.json").read_text())
        assert result["score"] == (10.0 if correct else 0.0)

    # a journaled result that disappeared is noticed and graded again
    (out / "student00" / "result.json").unlink()
    again = run_batch(assignment, subs, out, workers=1, progress=False, resume=True)
    assert (again.graded, again.skipped) == (1, len(truth) - 1)
    assert (out / "student00" / "result.json").exists()


def test_result_written_but_not_journaled_is_adopted_not_regraded(assignment, tmp_path):
    subs = tmp_path / "subs"
    make_submissions(subs, 3)
    out = tmp_path / "out"
    run_batch(assignment, subs, out, workers=1, progress=False)
    lines = (out / JOURNAL).read_text().splitlines()
    # crash after result.json, before (and during) the journal append
    (out / JOURNAL).write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    summary = run_batch(assignment, subs, out, workers=1, progress=False, resume=True)
    assert (summary.graded, summary.adopted, summary.skipped) == (0, 1, 2)
    assert "cut short" in summary.problems[0]
    assert Counter(r["student_id"] for r in journal_lines(out)) == Counter(
        ["student00", "student01", "student02"])


def test_changed_submission_is_regraded_on_resume(assignment, tmp_path):
    subs = tmp_path / "subs"
    make_submissions(subs, 3)
    out = tmp_path / "out"
    run_batch(assignment, subs, out, workers=1, progress=False)
    (subs / "student02.py").write_text(CORRECT)  # the buggy one, fixed (new sha256)
    summary = run_batch(assignment, subs, out, workers=1, progress=False, resume=True)
    assert (summary.graded, summary.skipped) == (1, 2)
    assert json.loads((out / "student02" / "result.json").read_text())["score"] == 10


def test_canvas_and_moodle_exports_round_trip_through_a_batch(assignment, tmp_path):
    import csv
    import shutil
    import zipfile

    canvas_zip = tmp_path / "submissions.zip"
    with zipfile.ZipFile(canvas_zip, "w") as archive:
        archive.writestr("lovelaceada_101_9001_tiny.py", CORRECT)
        archive.writestr("turingalan_late_102_9002_tiny.py", CORRECT)
        archive.writestr("hoppergrace_103_9003_tiny.py", b"\x00\x01\x02")
    out = tmp_path / "canvas_out"
    run_batch(assignment, canvas_zip, out, workers=2, progress=False,
              canvas_assignment_id="555")
    rows = list(csv.reader((out / "grades.csv").open(newline="")))
    assert rows[0][-1] == "Tiny (555)" and rows[1][-1] == "10"
    grades = {row[1]: row[-1] for row in rows[2:]}
    assert grades == {"101": "10", "102": "9", "103": ""}  # late marker: one day; binary: blank
    assert not (out / "moodle_grading_worksheet.csv").exists()

    moodle = tmp_path / "moodle"
    (moodle / "Ada Lovelace_4711_assignsubmission_file_").mkdir(parents=True)
    (moodle / "Ada Lovelace_4711_assignsubmission_file_" / "tiny.py").write_text(CORRECT)
    (moodle / "Alan Turing_4712_assignsubmission_file_").mkdir()
    (moodle / "Alan Turing_4712_assignsubmission_file_" / "tiny.py").write_text(BUGGY)
    shutil.copy(Path(__file__).parent / "data" / "lms" / "moodle_worksheet.csv",
                moodle / "grading_worksheet.csv")
    out = tmp_path / "moodle_out"
    run_batch(assignment, moodle, out, workers=2, progress=False)
    sheet = {row["Identifier"]: row for row in
             csv.DictReader((out / "moodle_grading_worksheet.csv").open(newline=""))}
    # Ada: worksheet says Friday 11 December 2026, 11:30 PM (due 23:59 that day): on time;
    # 10 / 10 scaled to the worksheet's Maximum Grade of 100
    assert sheet["Participant 4711"]["Grade"] == "100.00"
    # Alan: buggy (0 points) and two days late: still 0, with the penalty noted
    assert sheet["Participant 4712"]["Grade"] == "0.00"
    assert sheet["Participant 4713"]["Grade"] == ""  # no submission: untouched
    ada = json.loads((out / "4711" / "result.json").read_text())
    assert ada["student"]["name"] == "Ada Lovelace" and ada["late"]["penalty_fraction"] == 0
    alan = json.loads((out / "4712" / "result.json").read_text())
    assert alan["late"]["penalty_fraction"] == pytest.approx(0.2)


def test_a_course_mistake_stops_the_batch_before_anyone_is_graded(assignment, tmp_path):
    """Loading the course no longer collects the suite; the batch does, once, so points that
    name no task of the suite stop it in one line instead of failing every student."""
    import dataclasses

    from proctor.errors import ConfigError

    subs = tmp_path / "subs"
    make_submissions(subs, 2)
    wrong = dataclasses.replace(assignment, points={**assignment.points, "nonesuch": 1.0})
    with pytest.raises(ConfigError, match=r"points\.nonesuch: no task 'nonesuch'"):
        run_batch(wrong, subs, tmp_path / "out", workers=1, progress=False)
    assert not (tmp_path / "out").exists()
