"""Canvas and Moodle inputs and outputs as the platforms really write and read them.

Every fixture here is built from the platform's published source, cited per test, never
from proctor's own output:

* Canvas download names: canvas-lms ``app/models/content_zipper.rb`` (``get_filename``:
  ``[name, late ? "LATE" : nil, user_id].join("_")``; ``add_upload_submission``:
  ``"#{filename}_#{file.id}_#{file.display_name}"``; ``add_text_or_url``:
  ``"#{called}_text.html"`` / ``"_link.html"``; anonymous grading drops the name and puts
  ``anon_<anonymous id>``), clashes by ``Attachment.make_unique_filename``
  (``"#{basename}-#{addition}#{extname}"``), and Canvas's own reader of these names,
  ``Assignment#infer_comment_context_from_filename`` (first two all-digit parts).
* Canvas gradebook import: ``lib/gradebook_importer.rb`` (``row_has_student_headers?``,
  ``update_column_count``, ``process_student``: ID, then SIS ids, then name;
  ``parse_assignments``: "Title (id)", else exact title, else a new assignment;
  ``gradeable?``: no grades for an unposted anonymous assignment).
* Moodle download: ``mod/assign/classes/downloader.php`` (4.1+; ``get_student_prefix``:
  ``clean_filename(fullname . '_' . uniqueid)``, teams ``group name . '_' . group id`` or
  ``get_string('defaultteam')`` = "Default group" with no id, blind marking
  ``get_string('participant')``; ``load_submissionplugin_filelist``:
  ``prefix . '_' . subtype . '_' . type`` then the file path, online text as
  ``.../onlinetext.html``).
* Moodle worksheet import: ``mod/assign/feedback/offline/importgradeslib.php`` (``init``:
  columns found by exact header ``get_string('grade')``, ``get_string('recordid',
  'assign')``, ``get_string('lastmodifiedgrade', 'assign')``; ``next``: identifier prefix
  ``get_string('hiddenuser', 'assign')`` stripped by length) and ``locallib.php``
  ``process_import_grades`` (grade above the assignment's maximum: skipped). Headers from
  ``mod/assign/gradingtable.php`` (``maxgrade`` column when downloading; ``submissionteam``
  for team assignments) and the language packs: English ``Identifier``, ``Grade``,
  ``Maximum Grade``, ``Last modified (grade)``, ``Participant``; German (``lang/de``)
  ``ID``, ``Bewertung``, ``Bestwertung``, ``Zuletzt geändert (Bewertung)``,
  ``Zuletzt geändert (Abgabe)``, ``Teilnehmer/in``, ``Standard-Gruppe``.
"""

from __future__ import annotations

import csv
import zipfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from proctor.config import LatePolicy
from proctor.errors import SubmissionError
from proctor.lms import detect_format, discover
from proctor.lms.archive import read_input
from proctor.lms.moodle import parse_columns, read_worksheet, write_worksheet
from proctor.lms.outputs import annotate, count_files, write_class_outputs

EST = timezone(timedelta(hours=-5))
ASSIGNMENT = SimpleNamespace(
    id="attention", title="Attention", notebook=Path("/c/attention.ipynb"),
    due=datetime(2026, 12, 11, 23, 59, tzinfo=EST), max_score=100.0,
    late=LatePolicy(penalty_per_day=0.1, cap=0.5), points={"all": 100.0})


def notebook(code: str = "A = 1") -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nbformat.writes(nb).encode()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def discover_with_ledger(path: Path, **kwargs):
    ledger: list = []
    notes: list[str] = []
    entries = discover(path, assignment=ASSIGNMENT, ledger=ledger, notes=notes, **kwargs)
    return {e.student_id: e for e in entries}, {r.path: r for r in ledger}, notes


def scored(entry, score: float) -> dict:
    """A result dict for ``entry`` as the batch would annotate it (score out of 100)."""
    result = {"assignment": "attention", "submission": entry.filename, "score": score,
              "max_score": 100.0, "tasks": {"all": {"score": score, "max_score": 100.0}},
              "tests": [], "load": {"errors": []}}
    if entry.error:
        result["error"] = entry.error
    return annotate(result, entry, "sha")


# ---------------------------------------------------------------------------- Canvas

# One name per rule of content_zipper.rb (see the module docstring).
CANVAS = {
    "lovelaceada_12345_900001_attention.ipynb": notebook("A = 1"),
    "lovelaceada_12345_900002_attention-1.ipynb": notebook("A = 2"),  # make_unique_filename
    "lovelaceada_12345_900003_README.md": b"# my notes",
    "turingalan_LATE_12346_900004_attention.py": b"B = 1\n",
    "LATE_anon_Xy7Qp_900005_attention.ipynb": notebook("C = 1"),
    "anon_3kD9a_900006_attention.py": b"D = 1\n",
    "anon_3kD9a_text.html": b"<p>see my file</p>",
    "hoppergrace_12347_text.html": b"<p>I wrote it in the text box</p>",
    "dijkstraedsger_LATE_12348_link.html": b"<meta http-equiv=refresh>",
    "desktop.ini": b"[.ShellClassInfo]",
}


def test_canvas_late_anonymous_text_link_and_clash_names_are_read(tmp_path):
    """content_zipper.rb names: LATE in capitals, ``anon_<id>`` with no name or user id,
    ``_text.html``/``_link.html`` with no attachment id, ``-1`` before the extension."""
    path = make_zip(tmp_path / "submissions.zip", CANVAS)
    assert detect_format(read_input(path)) == "canvas"
    entries, files, _ = discover_with_ledger(path)
    assert set(entries) == {"12345", "12346", "anon_Xy7Qp", "anon_3kD9a", "12347", "12348"}
    ada = entries["12345"]
    assert ada.filename == "attention-1.ipynb" and b"A = 2" in ada.read_bytes()
    assert not ada.late_marker and ada.student_name == "lovelaceada"
    assert entries["12346"].late_marker and entries["12346"].extra["canvas_user_id"] == "12346"
    anon = entries["anon_Xy7Qp"]
    assert anon.late_marker and anon.student_name is None
    assert anon.extra == {"canvas_anonymous_id": "Xy7Qp"}
    assert "canvas_user_id" not in entries["anon_3kD9a"].extra
    # A text entry or a link alone is a student with an error row, not a lost student
    assert "no .ipynb or .py" in entries["12347"].error
    assert entries["12348"].late_marker and "no .ipynb or .py" in entries["12348"].error

    kinds = {name: record.kind for name, record in files.items()}
    assert kinds == {
        "lovelaceada_12345_900001_attention.ipynb": "superseded",
        "lovelaceada_12345_900002_attention-1.ipynb": "graded",
        "lovelaceada_12345_900003_README.md": "extra",
        "turingalan_LATE_12346_900004_attention.py": "graded",
        "LATE_anon_Xy7Qp_900005_attention.ipynb": "graded",
        "anon_3kD9a_900006_attention.py": "graded",
        "anon_3kD9a_text.html": "extra",
        "hoppergrace_12347_text.html": "error",
        "dijkstraedsger_LATE_12348_link.html": "error",
        "desktop.ini": "error",
    }
    assert "attention-1.ipynb was chosen" in files[
        "lovelaceada_12345_900001_attention.ipynb"].reason
    assert "not named like a Canvas download" in files["desktop.ini"].reason
    counts = count_files(list(files.values()))
    assert counts == {"graded": 4, "superseded": 1, "extra": 2, "error": 3}
    assert sum(counts.values()) == len(CANVAS)


def test_a_zip_of_mostly_late_and_anonymous_files_is_still_canvas(tmp_path):
    """Before, only lower-case ``late_`` was read, so a zip of LATE/anon names fell back to
    "directory" and every file became its own student. Names from content_zipper.rb."""
    members = {f"LATE_anon_Ab{i}c_90000{i}_attention.py": b"x = 1\n" for i in range(4)}
    members["lovelaceada_LATE_12345_900010_attention.py"] = b"x = 1\n"
    members["lovelaceada_LATE_12345_900011_helper.py"] = b"y = 1\n"
    entries, files, notes = discover_with_ledger(make_zip(tmp_path / "s.zip", members))
    assert {e.format for e in entries.values()} == {"canvas"} and len(entries) == 5
    assert entries["12345"].filename == "attention.py" and notes == []
    assert files["lovelaceada_LATE_12345_900011_helper.py"].kind == "superseded"


def test_a_directory_with_some_canvas_names_says_so(tmp_path):
    """Format detection never degrades silently: a folder where a minority of files carry
    Canvas names is read as a directory, and the notes say why and what to pass."""
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("alice.py", "bob.py", "carol.py"):
        (folder / name).write_text("x = 1\n")
    (folder / "lovelaceada_LATE_12345_900001_attention.py").write_text("x = 1\n")
    entries, files, notes = discover_with_ledger(folder)
    assert len(entries) == 4 and len(notes) == 1
    assert "named like a Canvas download" in notes[0] and "--format canvas" in notes[0]
    assert Counter(r.kind for r in files.values()) == {"graded": 4}


def test_canvas_gradebook_import_and_anonymous_students(tmp_path):
    """grades.csv passes gradebook_importer.rb's header checks; anonymous students, who have
    no user id (and whose unposted grades the importer refuses), go to their own CSV with a
    plain instruction, or into grades.csv through an anonymous-id map."""
    entries, _, _ = discover_with_ledger(make_zip(tmp_path / "s.zip", CANVAS))
    rows = [scored(entries[sid], score) for sid, score in
            [("12345", 90), ("anon_Xy7Qp", 80), ("anon_3kD9a", 70.125), ("12347", 0)]]
    notes: list[str] = []
    written = write_class_outputs(tmp_path, ASSIGNMENT, rows, exports=["canvas"], notes=notes)
    table = list(csv.reader(written["canvas"].open(newline="")))
    header = table[0]
    # row_has_student_headers?: "Student" then "ID"; update_column_count: SIS User ID then
    # SIS Login ID, so the student columns end at "Section"
    assert "Student" in header[0] and "ID" in header[1]
    assert header[2:5] == ["SIS User ID", "SIS Login ID", "Section"]
    assert header[5] == "Attention" and table[1][0] == "Points Possible"
    assert [r[1] for r in table[2:]] == ["12345", "12347"]  # no anonymous row: no user id
    assert table[3][-1] == ""  # not graded: left blank, Canvas keeps the old grade
    anon = list(csv.DictReader(written["canvas_anonymous"].open(newline="")))
    assert [(a["Anonymous ID"], a["Score"], a["Late"]) for a in anon] == [
        ("Xy7Qp", "80", "LATE"), ("3kD9a", "70.13", "")]
    assert any("match the column by its title 'Attention'" in n or
               "matches the column by its title 'Attention'" in n for n in notes)
    assert any("2 anonymous Canvas submission(s)" in n and "SpeedGrader" in n for n in notes)

    notes = []
    written = write_class_outputs(tmp_path, ASSIGNMENT, rows, exports=["canvas"],
                                  canvas_assignment_id="777", notes=notes,
                                  canvas_anonymous_map={"xy7qp": "20001", "3kD9a": "20002"})
    table = list(csv.reader(written["canvas"].open(newline="")))
    assert table[0][5] == "Attention (777)"
    assert {r[1]: r[5] for r in table[2:]} == {"12345": "90", "20001": "80",
                                               "20002": "70.13", "12347": ""}
    assert not any("title" in n or "anonymous" in n for n in notes)


# ---------------------------------------------------------------------------- Moodle

MOODLE_41 = {
    "Ada Lovelace_4711_assignsubmission_file/attention.ipynb": notebook(),
    "Ada Lovelace_4711_assignsubmission_file/old/attention_v1.py": b"x = 0\n",
    "Ada Lovelace_4711_assignsubmission_onlinetext/onlinetext.html": b"<p>done</p>",
    "Alan Turing_4712_assignsubmission_onlinetext/onlinetext.html": b"<p>def f(): ...</p>",
    "Participant_4715_assignsubmission_file/attention.py": b"y = 1\n",  # blind marking
}

WORKSHEET_EN = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    'Participant 4711,Ada Lovelace,ada@example.edu,Submitted for grading,,10.00,Yes,'
    '"Friday, 11 December 2026, 11:30 PM",-,\n'
    'Participant 4712,Alan Turing,alan@example.edu,Submitted for grading,4.00,10.00,Yes,'
    '"Sunday, 13 December 2026, 10:00 AM","Monday, 14 December 2026, 8:00 AM",\n'
    'Participant 4715,Participant 4715,,Submitted for grading,,10.00,Yes,-,-,\n'
)


def test_moodle_41_folders_online_text_and_blind_marking(tmp_path):
    """downloader.php (4.1+): ``<name>_<id>_assignsubmission_file/<path>`` with no trailing
    underscore, online text in its own folder, "Participant" as the name under blind
    marking. Before, this layout was read as a plain directory and no worksheet written."""
    path = make_zip(tmp_path / "m.zip", MOODLE_41)
    assert detect_format(read_input(path)) == "moodle"
    entries, files, _ = discover_with_ledger(path)
    assert set(entries) == {"4711", "4712", "4715"}
    assert entries["4711"].student_name == "Ada Lovelace"
    assert entries["4711"].filename == "attention.ipynb"
    assert entries["4715"].student_name == "Participant"
    assert "no .ipynb or .py" in entries["4712"].error  # online text only: an error row
    assert {p: r.kind for p, r in files.items()} == {
        "Ada Lovelace_4711_assignsubmission_file/attention.ipynb": "graded",
        "Ada Lovelace_4711_assignsubmission_file/old/attention_v1.py": "superseded",
        "Ada Lovelace_4711_assignsubmission_onlinetext/onlinetext.html": "extra",
        "Alan Turing_4712_assignsubmission_onlinetext/onlinetext.html": "error",
        "Participant_4715_assignsubmission_file/attention.py": "graded"}


def test_moodle_grades_are_scaled_to_the_worksheets_maximum_grade(tmp_path):
    """process_import_grades skips a grade above the assignment's maximum: a sheet whose
    Maximum Grade is 10 must get grades out of 10, never above it. Untouched rows and cells
    stay as downloaded; a grade time Moodle wrote is kept (the importer compares it)."""
    sheet = tmp_path / "ws.csv"
    sheet.write_text(WORKSHEET_EN)
    entries, files, _ = discover_with_ledger(make_zip(tmp_path / "m.zip", MOODLE_41),
                                             moodle_worksheet=sheet)
    assert entries["4711"].submitted_at == datetime(2026, 12, 11, 23, 30)
    rows = [scored(entries["4711"], 73.5), scored(entries["4715"], 100.0),
            scored(entries["4712"], 0.0)]
    template = read_worksheet(WORKSHEET_EN)
    out = write_worksheet(rows, tmp_path / "out.csv", max_score=100, template=template,
                          now=datetime(2026, 12, 14, 9, 5))
    table = list(csv.reader(out.open(newline="")))
    assert table[0] == WORKSHEET_EN.splitlines()[0].split(",")
    ada, alan, blind = table[1:]
    assert ada[4] == "7.35" and ada[8] == "2026-12-14 09:05"
    assert blind[4] == "10.00"
    assert alan[4] == "4.00"  # not graded (online text only): the old grade stays
    assert alan[8] == "Monday, 14 December 2026, 8:00 AM"
    assert "Not graded" in alan[9]
    assert all(float(r[4]) <= float(r[5]) for r in table[1:] if r[4])


WORKSHEET_DE = (
    "ID,Vollständiger Name,E-Mail-Adresse,Status,Bewertung,Bestwertung,"
    "Bewertung kann geändert werden,Zuletzt geändert (Abgabe),Zuletzt geändert (Bewertung),"
    "Feedback als Kommentar\n"
    'Teilnehmer/in 4711,Ada Lovelace,ada@example.edu,Zur Bewertung abgegeben,,"10,00",Ja,'
    '"Freitag, 11. Dezember 2026, 23:30",-,\n'
    'Teilnehmer/in 4715,Teilnehmer/in 4715,,Zur Bewertung abgegeben,,"10,00",Ja,-,-,\n'
)


def test_a_german_worksheet_is_read_by_its_own_headers(tmp_path):
    """A German site: ``ID``/``Bewertung``/``Bestwertung``/``Zuletzt geändert (Bewertung)``
    headers, ``Teilnehmer/in 4711`` identifiers, decimal commas. Grades land in the
    Bewertung column of the right rows (the sheet's own positions), identifiers untouched."""
    template = read_worksheet(WORKSHEET_DE)
    assert template.columns == {"id": 0, "grade": 4, "max": 5, "modified": 8,
                                "submitted": 7, "email": 2}
    entries, _, _ = discover_with_ledger(make_zip(tmp_path / "m.zip", MOODLE_41))
    rows = [scored(entries["4711"], 73.5), scored(entries["4715"], 50)]
    out = write_worksheet(rows, tmp_path / "out.csv", max_score=100, template=template)
    table = list(csv.reader(out.open(newline="")))
    assert [r[0] for r in table[1:]] == ["Teilnehmer/in 4711", "Teilnehmer/in 4715"]
    assert [r[4] for r in table[1:]] == ["7,35", "5,00"]
    assert [r[9] for r in table[1:]] == ["", ""]  # feedback column not known: untouched

    named = read_worksheet(WORKSHEET_DE, {"feedback": "Feedback als Kommentar"})
    out = write_worksheet(rows, tmp_path / "out2.csv", max_score=100, template=named)
    assert "Autograded score" in list(csv.reader(out.open(newline="")))[1][9]


def test_an_unknown_language_stops_with_one_line_naming_the_column(tmp_path):
    """importgradeslib.php ``init`` fails without its grade column; so does proctor, in one
    line naming the column and the option, and reads the sheet once the headers are named."""
    spanish = WORKSHEET_EN.replace("Identifier", "Identificador").replace(
        "Grade,Maximum", "Calificación,Maximum")
    with pytest.raises(SubmissionError) as error:
        read_worksheet(spanish, source="hoja.csv")
    message = str(error.value)
    assert "\n" not in message and message.startswith("hoja.csv: no identifier column")
    assert "--moodle-columns id=HEADER" in message
    with pytest.raises(SubmissionError, match="ROLE=HEADER"):
        parse_columns("grade")
    assert parse_columns("id=Identificador, grade=Calificación") == {
        "id": "Identificador", "grade": "Calificación"}
    sheet = read_worksheet(spanish, {"id": "Identificador", "grade": "Calificación"})
    assert sheet.columns["grade"] == 4 and set(sheet.by_pid) == {"4711", "4712", "4715"}


TEAMS = {
    "Team A_12_assignsubmission_file/attention.py": b"x = 1\n",
    "Default group_assignsubmission_file/attention.py": b"y = 1\n",
}


def test_team_submissions_need_a_group_map(tmp_path):
    """downloader.php ``get_student_prefix``: team folders are ``<group>_<group id>`` or
    "Default group" without id. Without a group-to-member map: one clear line, nothing
    graded. With it, each member's worksheet row gets the team's grade."""
    path = make_zip(tmp_path / "teams.zip", TEAMS)
    with pytest.raises(SubmissionError) as error:
        discover(path, assignment=ASSIGNMENT)
    assert "team submissions" in str(error.value) and "--moodle-groups" in str(error.value)
    assert "\n" not in str(error.value)
    groups = {"Team A": ["4711", "4712"], "Default group": ["4715"]}  # by name or id
    entries, files, _ = discover_with_ledger(path, moodle_groups=groups)
    assert set(entries) == {"group_12", "group_Default group"}
    assert entries["group_12"].extra["moodle_participant_ids"] == ["4711", "4712"]
    rows = [scored(entries["group_12"], 80), scored(entries["group_Default group"], 60)]
    out = write_worksheet(rows, tmp_path / "ws.csv", max_score=100,
                          template=read_worksheet(WORKSHEET_EN))
    grades = {r[0]: r[4] for r in list(csv.reader(out.open(newline="")))[1:]}
    assert grades == {"Participant 4711": "8.00", "Participant 4712": "8.00",
                      "Participant 4715": "6.00"}
    # A worksheet of a team assignment has a group column (gradingtable.php
    # submissionteam): numbered folders are then teams too, and are refused without a map.
    team_sheet = tmp_path / "team.csv"
    team_sheet.write_text(WORKSHEET_EN.replace("Full name,", "Full name,Group,", 1))
    solo = make_zip(tmp_path / "solo.zip", {"Team A_12_assignsubmission_file/a.py": b"1\n"})
    with pytest.raises(SubmissionError):
        discover(solo, assignment=ASSIGNMENT, moodle_worksheet=team_sheet)


def test_older_moodle_layouts_still_read(tmp_path):
    """3.1-4.0 folders ended in ``_``; with "download as folders" off files are flat:
    ``prefix . '_' . subtype . '_' . type . '_' . filename`` (downloader.php, else-branch)."""
    members = {"Ada Lovelace_4711_assignsubmission_file_/attention.py": b"x = 1\n",
               "Alan Turing_4712_assignsubmission_file_attention.py": b"y = 1\n",
               "Alan Turing_4712_assignsubmission_onlinetext_onlinetext.html": b"<p/>"}
    entries, files, _ = discover_with_ledger(make_zip(tmp_path / "old.zip", members))
    assert {sid: e.filename for sid, e in entries.items()} == {"4711": "attention.py",
                                                                "4712": "attention.py"}
    assert Counter(r.kind for r in files.values()) == {"graded": 2, "extra": 1}
