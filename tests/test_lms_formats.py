"""Each LMS layout is recognised and read into the right students, files and times."""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import nbformat

from proctor.lms import detect_format, discover
from proctor.lms.archive import read_input

DATA = Path(__file__).parent / "data" / "lms"
EST = timezone(timedelta(hours=-5))
ASSIGNMENT = SimpleNamespace(id="attention", notebook=Path("/course/attention.ipynb"))


def notebook(code: str = "def f():\n    return 1\n") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb).encode()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


# ---------------------------------------------------------------------------- Canvas

CANVAS = {
    "lovelaceada_12345_900001_attention.ipynb": notebook("A = 1"),
    "lovelaceada_12345_900002_attention-1.ipynb": notebook("A = 2"),  # re-upload wins
    "lovelaceada_12345_900003_notes.txt": b"scratch",
    "turingalan_late_12346_900004_my attention (final).py": b"B = 1\n",
    "hopper_12347_900005_attention.ipynb": notebook()[:30],  # corrupt
    "hopper_12347_900006_attention.py": b"C = 1\n",
    "dijkstra_12348_900007_report.pdf": b"%PDF-1.4",
}


def test_canvas_zip(tmp_path):
    entries = {e.student_id: e for e in
               discover(make_zip(tmp_path / "submissions.zip", CANVAS), assignment=ASSIGNMENT)}
    assert set(entries) == {"12345", "12346", "12347", "12348"}
    ada = entries["12345"]
    assert ada.format == "canvas" and ada.student_name == "lovelaceada"
    assert ada.filename == "attention-1.ipynb" and b"A = 2" in ada.read_bytes()
    assert "2 candidate files" in ada.note and not ada.late_marker
    alan = entries["12346"]
    assert alan.late_marker and alan.submitted_at is None
    assert alan.filename == "my attention (final).py"
    grace = entries["12347"]  # corrupt notebook: falls back to the .py, and says so
    assert grace.error is None and grace.filename == "attention.py"
    assert "unusable" in grace.note and "not valid JSON" in grace.note
    assert "no .ipynb or .py" in entries["12348"].error


def test_canvas_zip_rezipped_inside_a_folder(tmp_path):
    wrapped = {f"downloads/{name}": data for name, data in CANVAS.items()}
    members = read_input(make_zip(tmp_path / "s.zip", wrapped))
    entries = discover(tmp_path / "s.zip")
    assert detect_format(members) == "directory"  # only after removing the wrapper
    assert {e.format for e in entries} == {"canvas"}


# ---------------------------------------------------------------------------- Moodle

MOODLE = {
    "Ada Lovelace_4711_assignsubmission_file_/attention.ipynb": notebook(),
    "Alan Turing_4712_assignsubmission_file_/attention.py": b"x = 1\n",
    "Alan Turing_4712_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
    "Grace_Hopper_Jr_4714_assignsubmission_file_attention.py": b"y = 1\n",  # old flat form
}


def test_moodle_folder_with_worksheet(tmp_path):
    root = write_tree(tmp_path / "moodle", MOODLE)
    shutil.copy(DATA / "moodle_worksheet.csv", root / "Grades-ML-attention.csv")
    entries = {e.student_id: e for e in discover(root, assignment=ASSIGNMENT)}
    assert set(entries) == {"4711", "4712", "4714"}
    assert entries["4711"].student_name == "Ada Lovelace"
    assert entries["4711"].extra["email"] == "ada@example.edu"
    assert entries["4711"].submitted_at == datetime(2026, 12, 11, 23, 30)  # naive: no zone
    assert entries["4712"].filename == "attention.py" and entries["4712"].note is None
    assert entries["4714"].student_name == "Grace_Hopper_Jr"
    assert entries["4714"].submitted_at is None  # not in the worksheet


def test_moodle_zip_without_worksheet_has_no_times(tmp_path):
    entries = discover(make_zip(tmp_path / "m.zip", MOODLE))
    assert {e.format for e in entries} == {"moodle"}
    assert all(e.submitted_at is None for e in entries)


# ---------------------------------------------------------------------------- nbgrader

def test_nbgrader_course_tree(tmp_path):
    course = write_tree(tmp_path / "course", {
        "submitted/alice/attention/attention.ipynb": notebook(),
        "submitted/alice/attention/timestamp.txt": b"2026-12-12 04:00:01.5 UTC",
        "submitted/bob/attention/attention.ipynb": notebook(),
        "submitted/bob/attention/timestamp.txt": b"2026-12-11 12:00:00",
        "submitted/bob/other/other.ipynb": notebook(),
        "source/attention/attention.ipynb": notebook(),
    })
    entries = {e.student_id: e for e in discover(course, assignment=ASSIGNMENT)}
    assert set(entries) == {"alice", "bob"}
    assert entries["alice"].format == "nbgrader"
    assert entries["alice"].submitted_at == datetime(2026, 12, 12, 4, 0, 1, 500000,
                                                     tzinfo=timezone.utc)
    assert entries["bob"].submitted_at.tzinfo is not None  # naive read as UTC
    # the submitted/ directory itself works too
    again = discover(course / "submitted", assignment=ASSIGNMENT)
    assert sorted(e.student_id for e in again) == ["alice", "bob"]


# ---------------------------------------------------------------------------- Gradescope

def test_gradescope_export(tmp_path):
    export = {
        "assignment_777_export/submission_metadata.yml":
            (DATA / "submission_metadata.yml").read_bytes(),
        "assignment_777_export/submission_190001/attention.ipynb": notebook(),
        "assignment_777_export/submission_190002/attention.py": b"x = 1\n",
        "assignment_777_export/submission_190002/helper.py": b"y = 2\n",
    }
    entries = discover(make_zip(tmp_path / "gs.zip", export), assignment=ASSIGNMENT)
    by_id = {e.student_id: e for e in entries}
    assert set(by_id) == {"1001", "1002", "1003", "1004"}
    assert by_id["1001"].submitted_at == datetime(2026, 12, 11, 20, 15, 3, 512370, tzinfo=EST)
    # a group submission: one entry per submitter, same file
    assert by_id["1002"].read_bytes() == by_id["1003"].read_bytes() == b"x = 1\n"
    assert by_id["1003"].student_name == "Grace Hopper"
    assert by_id["1002"].extra["gradescope_submission"] == "submission_190002"
    assert "no files" in by_id["1004"].error


# ---------------------------------------------------------------------------- plain

def test_plain_directory_of_files_and_folders(tmp_path):
    root = write_tree(tmp_path / "subs", {
        "alice.ipynb": notebook(),
        "bob.py": b"b = 1\n",
        "carol/attention.ipynb": notebook(),
        "carol/scratch.py": b"c = 1\n",
        "README.md": b"# not a student",
        "../x": b"",
    })
    entries = {e.student_id: e for e in discover(root, assignment=ASSIGNMENT)}
    assert set(entries) == {"alice", "bob", "carol"}
    assert entries["carol"].filename == "attention.ipynb"
    assert isinstance(entries["alice"].path_or_bytes, Path)


def test_choice_is_deterministic_regardless_of_listing_order(tmp_path):
    files = {"dave/zeta.py": b"z = 1\n", "dave/alpha.py": b"a = 1\n",
             "dave/attention.py": b"t = 1\n", "dave/beta.ipynb": notebook()}
    one = discover(write_tree(tmp_path / "one", files), assignment=ASSIGNMENT)[0]
    two = discover(make_zip(tmp_path / "two.zip", dict(reversed(list(files.items())))),
                   assignment=ASSIGNMENT)[0]
    assert one.filename == two.filename == "attention.py"  # named like the assignment wins
    assert "4 candidate files" in one.note
    three = discover(write_tree(tmp_path / "three", {"e/zeta.py": b"1\n", "e/beta.ipynb":
                                                     notebook(), "e/alpha.py": b"2\n"}))[0]
    assert three.filename == "beta.ipynb"  # then notebooks before .py


def test_ids_that_sanitise_alike_get_distinct_folders(tmp_path):
    root = write_tree(tmp_path / "subs", {"a b.py": b"x = 1\n", "a_b.py": b"y = 1\n",
                                          "..hidden.py": b"z = 1\n"})
    entries = discover(root)
    keys = [e.key for e in entries]
    assert len(set(keys)) == len(keys) == 3
    assert all("/" not in k and not k.startswith(".") for k in keys)


def test_a_students_own_zip_is_opened_one_level(tmp_path):
    import io

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("hw/attention.ipynb", notebook())
        archive.writestr("../escape.py", b"x = 1\n")
    entries = {e.student_id: e for e in discover(make_zip(tmp_path / "c.zip", {
        "lovelaceada_12345_900001_attention.zip": inner.getvalue(),
        "turingalan_12346_900002_attention.zip": b"PK\x03\x04 truncated",
    }), assignment=ASSIGNMENT)}
    ada = entries["12345"]
    assert ada.error is None and ada.filename == "attention.ipynb"
    assert "escape.py" in ada.note  # the refused member is listed, not used
    assert "not a readable zip" in entries["12346"].error


# ---------------------------------------------------------------------------- accounting

def test_every_file_of_every_format_is_accounted_for(tmp_path):
    """One ledger record per input file, in every format: graded, superseded, extra or
    error (with a reason); metadata files (Gradescope's submission_metadata.yml, nbgrader's
    timestamp.txt) are extras, never errors."""
    inputs = {
        "canvas": make_zip(tmp_path / "c.zip", CANVAS),
        "moodle": make_zip(tmp_path / "m.zip", MOODLE),
        "nbgrader": write_tree(tmp_path / "nb", {
            "submitted/alice/attention/attention.ipynb": notebook(),
            "submitted/alice/attention/timestamp.txt": b"2026-12-12 04:00:01 UTC"}),
        "gradescope": make_zip(tmp_path / "g.zip", {
            "submission_metadata.yml": (DATA / "submission_metadata.yml").read_bytes(),
            "submission_190001/attention.ipynb": notebook(),
            "submission_190002/attention.py": b"x = 1\n"}),
        "directory": write_tree(tmp_path / "d", {
            "alice.ipynb": notebook(), "carol/attention.ipynb": notebook(),
            "carol/scratch.py": b"c = 1\n", "carol/notes.md": b"n", "README.md": b"r"}),
    }
    for fmt, path in inputs.items():
        ledger: list = []
        entries = discover(path, assignment=ASSIGNMENT, ledger=ledger)
        assert {e.format for e in entries} == {fmt}
        names = sorted(m.name for m in read_input(path))
        assert sorted(r.path for r in ledger) == names, fmt
        assert all(r.kind in ("graded", "superseded", "extra", "error") for r in ledger)
        assert all(r.reason for r in ledger if r.kind != "graded"), fmt
        assert not [r for r in ledger if r.kind == "error" and r.path.endswith(
            ("submission_metadata.yml", "timestamp.txt"))]
    ledger = []
    discover(inputs["directory"], assignment=ASSIGNMENT, ledger=ledger)
    kinds = {r.path: r.kind for r in ledger}
    assert kinds == {"alice.ipynb": "graded", "carol/attention.ipynb": "graded",
                     "carol/scratch.py": "superseded", "carol/notes.md": "extra",
                     "README.md": "error"}
