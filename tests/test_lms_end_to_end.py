"""The real attention assignment through real-format Canvas and Moodle downloads.

The example submissions are packed as Canvas's "Download Submissions" zip (names per
canvas-lms ``app/models/content_zipper.rb``: ``get_filename``, ``add_upload_submission``,
``add_text_or_url``, anonymous ``anon_<id>``, ``Attachment.make_unique_filename``) and as
Moodle 4.1+'s "Download all submissions" zip (``mod/assign/classes/downloader.php``:
``<Full name>_<id>_assignsubmission_file/<file>``, online text folders) with the offline
grading worksheet Moodle downloads (headers from ``mod/assign/gradingtable.php``; Maximum
Grade 10). ``proctor batch`` must give each student the same raw score as ``proctor
grade`` on the same file, with only the documented late penalty (course.toml: 10% per
started day; Canvas's LATE marker charged as one day) and, for Moodle, the scaling to the
worksheet's maximum grade applied.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from proctor.batch import run_batch
from proctor.config import load_course
from proctor.runner import grade_submission

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"


@pytest.fixture(scope="module")
def assignment():
    return load_course(ROOT / "course.toml").assignment("attention")


@pytest.fixture(scope="module")
def truth(assignment):
    """``proctor grade``'s score for every example submission."""
    return {path.name: grade_submission(assignment, path).to_dict()["score"]
            for path in sorted(EXAMPLES.iterdir()) if path.suffix in (".py", ".ipynb")}


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


# Canvas name -> the example file it holds (None: not code)
CANVAS = {
    "lovelaceada_1001_5001_attention.ipynb": "correct.ipynb",
    "lovelaceada_1001_5002_README.md": None,
    "turingalan_LATE_1002_5003_attention.py": "correct.py",
    "LATE_anon_Xy7Qp_5004_attention.py": "bug_mask_inverted.py",
    "anon_3kD9a_5005_attention.py": "bug_scale_dk.py",
    "anon_3kD9a_text.html": None,
    "hoppergrace_1003_5006_attention.py": "bug_softmax_axis.py",
    "hoppergrace_1003_5007_attention-1.py": "bug_heads_no_transpose.py",  # re-upload wins
    "dijkstraedsger_1004_5008_attention.py": "bug_cache_not_advanced.py",
    "dijkstraedsger_1004_link.html": None,
    "desktop.ini": None,
}


def test_canvas_download_gives_proctor_grades_scores(assignment, truth, tmp_path):
    path = tmp_path / "submissions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in CANVAS.items():
            archive.writestr(name, example(source) if source else b"<p>not code</p>")
    out = tmp_path / "out"
    summary = run_batch(assignment, path, out, workers=2, progress=False)
    assert summary.format == "canvas" and summary.graded == 6
    assert summary.files == {"graded": 6, "superseded": 1, "extra": 3, "error": 1}
    assert sum(summary.files.values()) == len(CANVAS)
    report = summary.report()
    assert "11 files in the input: 6 graded, 1 superseded, 3 extra, 1 error" in report
    assert f"matches the column by its title {assignment.title!r}" in report
    assert "2 anonymous Canvas submission(s)" in report
    assert "2 submission(s) marked LATE by Canvas, which gives no time: charged as 1 day(s)" \
        in report

    expected = {"1001": ("correct.ipynb", 0.0), "1002": ("correct.py", 0.1),
                "anon_Xy7Qp": ("bug_mask_inverted.py", 0.1),
                "anon_3kD9a": ("bug_scale_dk.py", 0.0),
                "1003": ("bug_heads_no_transpose.py", 0.0),
                "1004": ("bug_cache_not_advanced.py", 0.0)}
    keys = {json.loads(p.read_text())["student"]["id"]: json.loads(p.read_text())
            for p in out.glob("*/result.json")}
    for sid, (source, penalty) in expected.items():
        result = keys[sid]
        assert result["late"]["raw_score"] == truth[source], sid
        assert result["score"] == pytest.approx(truth[source] * (1 - penalty)), sid
    grades = {row[1]: row[5] for row in
              list(csv.reader((out / "grades.csv").open(newline="")))[2:]}
    assert set(grades) == {"1001", "1002", "1003", "1004"}
    assert float(grades["1002"]) == pytest.approx(round(truth["correct.py"] * 0.9, 2))
    anonymous = {row["Anonymous ID"]: float(row["Score"]) for row in
                 csv.DictReader((out / "canvas_anonymous_grades.csv").open(newline=""))}
    assert anonymous == pytest.approx({
        "Xy7Qp": round(truth["bug_mask_inverted.py"] * 0.9, 2),
        "3kD9a": round(truth["bug_scale_dk.py"], 2)})
    errors = list(csv.reader((out / "errors.csv").open(newline="")))
    assert any(row[2] == "desktop.ini" for row in errors)


MOODLE = {
    "Ada Lovelace_4711_assignsubmission_file/attention.ipynb": "correct.ipynb",
    "Ada Lovelace_4711_assignsubmission_onlinetext/onlinetext.html": None,
    "Alan Turing_4712_assignsubmission_file/attention.py": "bug_scale_dk.py",
    "Grace Hopper_4713_assignsubmission_file/attention.py": "bug_mask_inverted.py",
    "Grace Hopper_4713_assignsubmission_file/old/attention_v1.py": "bug_softmax_axis.py",
    "Edsger Dijkstra_4714_assignsubmission_file/attention.py": "bug_heads_no_transpose.py",
}

WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    'Participant 4711,Ada Lovelace,ada@example.edu,Submitted for grading,,10.00,Yes,'
    '"Friday, 11 December 2026, 11:30 PM",-,\n'
    'Participant 4712,Alan Turing,alan@example.edu,Submitted for grading,,10.00,Yes,'
    '"Sunday, 13 December 2026, 10:00 AM",-,\n'
    'Participant 4713,Grace Hopper,grace@example.edu,Submitted for grading,,10.00,Yes,'
    '"Friday, 11 December 2026, 9:00 PM",-,\n'
    'Participant 4714,Edsger Dijkstra,edsger@example.edu,Submitted for grading,,10.00,Yes,'
    '"Friday, 11 December 2026, 10:00 PM",-,\n'
    'Participant 4716,Barbara Liskov,barbara@example.edu,No submission,,10.00,Yes,-,-,\n'
)


def test_moodle_download_gives_proctor_grades_scores_scaled_to_ten(assignment, truth,
                                                                   tmp_path):
    path = tmp_path / "moodle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in MOODLE.items():
            archive.writestr(name, example(source) if source else b"<p>see file</p>")
    sheet = tmp_path / "Grades-attention.csv"
    sheet.write_text(WORKSHEET)
    out = tmp_path / "out"
    summary = run_batch(assignment, path, out, workers=2, progress=False,
                        moodle_worksheet=sheet)
    assert summary.format == "moodle" and summary.graded == 4
    assert summary.files == {"graded": 4, "superseded": 1, "extra": 1, "error": 0}
    assert "grades scaled from /100 to the worksheet's maximum grade (10.00)" in \
        summary.report()
    # Alan: Sunday 13 December 10:00 (no zone: read in the due date's, -05:00) is 34 hours
    # after the 11 December 23:59 deadline: two started days, 20%.
    expected = {"4711": ("correct.ipynb", 0.0), "4712": ("bug_scale_dk.py", 0.2),
                "4713": ("bug_mask_inverted.py", 0.0),
                "4714": ("bug_heads_no_transpose.py", 0.0)}
    table = list(csv.reader((out / "moodle_grading_worksheet.csv").open(newline="")))
    assert table[0] == WORKSHEET.splitlines()[0].split(",")
    grades = {row[0].split()[-1]: row[4] for row in table[1:]}
    for pid, (source, penalty) in expected.items():
        result = json.loads((out / pid / "result.json").read_text())
        assert result["late"]["raw_score"] == truth[source], pid
        assert grades[pid] == f"{truth[source] * (1 - penalty) / 10:.2f}", pid
    assert grades["4716"] == ""  # no submission: row kept as downloaded
    assert all(float(g) <= 10.0 for g in grades.values() if g)
