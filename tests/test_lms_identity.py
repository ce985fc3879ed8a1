"""Who a student is across the assignments of a course, as each platform names them.

A dependent assignment's submission is graded on the same student's submission of the work
it builds on, so each reader gives an ``identity`` that is the same in every assignment of
the course, and None where the input has no such name. Fixtures follow the platforms'
own sources, as cited per test; two assignments' downloads of one class are built for each.

* Canvas: canvas-lms ``app/models/content_zipper.rb`` (``get_filename``: ``[name, late ?
  "LATE" : nil, user_id].join("_")``: the user id, a course-independent ``users.id``) and
  anonymous grading's ``anon_<submissions.anonymous_id>``, an id of one submission to one
  assignment (``Submission#anonymous_id``, unique per assignment), so nothing to match by.
* Moodle: ``mod/assign/classes/downloader.php`` (``get_student_prefix``: full name and
  ``uniqueid``, the per-assignment participant id from ``assign::get_uniqueid_for_user``);
  the worksheet from ``mod/assign/gradingtable.php`` (``recordid`` "Participant N", then
  one column per ``get_extra_user_fields`` field, the site's ``showuseridentity``, headed by
  ``get_user_field_name``: ``email`` "Email address" (German "E-Mail-Adresse"), ``idnumber``
  "ID number" ("ID-Nummer"); under blind marking only ``recordid``).
* Gradescope: the "Export Submissions" ``submission_metadata.yml`` (``:submitters:`` with
  ``:name:``, ``:sid:``, ``:email:``; the email is the account's, the sid the roster's).
* nbgrader: ``nbgrader/exchange/default/collect.py`` ``copy_files`` puts each submission at
  ``coursedir.format_path(submitted_directory, student_id, assignment_id)``, the student id
  being the submitter's username: one id for every assignment.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from test_lms_real_formats import make_zip, notebook

from proctor.lms import discover
from proctor.lms.pick import choose
from proctor.lms.entry import Candidate, StudentFiles

WORKSHEET = ("Identifier,Full name,Email address,ID number,Status,Grade,Maximum Grade,"
             "Grade can be changed,Last modified (submission),Last modified (grade),"
             "Feedback comments\n")


def assignment(aid: str) -> SimpleNamespace:
    return SimpleNamespace(id=aid, notebook=Path(f"/c/{aid}.ipynb"))


def identities(path: Path, aid: str, **kwargs) -> dict[str, str | None]:
    return {e.student_id: e.identity for e in discover(path, assignment=assignment(aid), **kwargs)}


def test_canvas_user_ids_name_a_student_in_every_assignment(tmp_path):
    """The same user id in two assignments' downloads (different attachment ids and late
    markers); anonymous ids differ per assignment and match nothing."""
    first = make_zip(tmp_path / "a.zip", {
        "lovelaceada_12345_900001_alpha.ipynb": notebook(),
        "LATE_anon_Xy7Qp_900002_alpha.py": b"x = 1\n"})
    second = make_zip(tmp_path / "b.zip", {
        "lovelaceada_LATE_12345_910007_beta.py": b"y = 1\n",
        "anon_Zk31a_910008_beta.py": b"y = 1\n"})
    assert identities(first, "alpha") == {"12345": "canvas:12345", "anon_Xy7Qp": None}
    assert identities(second, "beta") == {"12345": "canvas:12345", "anon_Zk31a": None}


def test_moodle_participant_ids_differ_so_the_worksheets_email_or_id_number_names_them(tmp_path):
    """Ada is participant 4711 in one assignment and 5120 in the next (per-assignment
    ``uniqueid``); her email address names her in both. A site showing only ID number is
    matched by that; a blind-marked sheet (only "Participant N") and a download without its
    worksheet give no identity."""
    first = make_zip(tmp_path / "a.zip", {
        "Ada Lovelace_4711_assignsubmission_file/alpha.ipynb": notebook(),
        "Alan Turing_4712_assignsubmission_file/alpha.py": b"x = 1\n",
        "Grace Hopper_4713_assignsubmission_file/alpha.py": b"x = 1\n"})
    (tmp_path / "a.csv").write_text(
        WORKSHEET + "Participant 4711,Ada Lovelace,Ada@Example.edu,S1001,,,100.00,Yes,-,-,\n"
        "Participant 4712,Alan Turing,,S1002,,,100.00,Yes,-,-,\n"
        "Participant 4713,Grace Hopper,,,,,100.00,Yes,-,-,\n")
    second = make_zip(tmp_path / "b.zip", {
        "Ada Lovelace_5120_assignsubmission_file/beta.py": b"y = 1\n",
        "Alan Turing_5121_assignsubmission_file/beta.py": b"y = 1\n"})
    (tmp_path / "b.csv").write_text(
        WORKSHEET + "Participant 5120,Ada Lovelace,ada@example.edu,S1001,,,10.00,Yes,-,-,\n"
        "Participant 5121,Alan Turing,,S1002,,,10.00,Yes,-,-,\n")
    assert identities(first, "alpha", moodle_worksheet=tmp_path / "a.csv") == {
        "4711": "email:ada@example.edu", "4712": "idnumber:S1002", "4713": None}
    assert identities(second, "beta", moodle_worksheet=tmp_path / "b.csv") == {
        "5120": "email:ada@example.edu", "5121": "idnumber:S1002"}
    assert identities(second, "beta") == {"5120": None, "5121": None}
    german = tmp_path / "de.csv"
    german.write_text("ID,Vollständiger Name,E-Mail-Adresse,ID-Nummer,Status,Bewertung,"
                      "Bestwertung,Zuletzt geändert (Bewertung)\n"
                      'Teilnehmer/in 5120,Ada Lovelace,ada@example.edu,S1001,,,"10,00",-\n'
                      'Teilnehmer/in 5121,Alan Turing,,S1002,,,"10,00",-\n')
    assert identities(second, "beta", moodle_worksheet=german) == {
        "5120": "email:ada@example.edu", "5121": "idnumber:S1002"}
    blind = tmp_path / "blind.csv"
    blind.write_text("Identifier,Status,Grade,Maximum Grade,Last modified (grade)\n"
                     "Participant 5120,,,10.00,-\n")
    assert identities(second, "beta", moodle_worksheet=blind)["5120"] is None


def test_gradescope_submitters_are_named_by_email_then_sid(tmp_path):
    """Each submitter of a group submission gets their own identity; a roster entry
    without an email is named by its sid."""
    meta = ("submission_1:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1001'\n"
            "    :email: Ada@example.edu\n  - :name: Alan Turing\n    :sid: '1002'\n"
            "    :email: ''\n  :created_at: 2026-12-11 20:15:03.512370000 -05:00\n")
    export = make_zip(tmp_path / "gs.zip", {"submission_metadata.yml": meta.encode(),
                                            "submission_1/beta.py": b"y = 1\n"})
    assert identities(export, "beta") == {"1001": "email:ada@example.edu",
                                          "1002": "sid:1002"}


def test_nbgrader_and_directory_names_are_the_students_in_every_assignment(tmp_path):
    root = tmp_path / "course" / "submitted"
    for aid in ("alpha", "beta"):
        (root / "ada" / aid).mkdir(parents=True)
        (root / "ada" / aid / f"{aid}.py").write_text("x = 1\n")
        (root / "ada" / aid / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    assert identities(tmp_path / "course", "alpha") == {"ada": "nbgrader:ada"}
    assert identities(tmp_path / "course", "beta") == {"ada": "nbgrader:ada"}
    folder = tmp_path / "plain"
    (folder / "alan").mkdir(parents=True)
    (folder / "alan" / "beta.py").write_text("y = 1\n")
    (folder / "ada.py").write_text("y = 1\n")
    assert identities(folder, "beta") == {"ada": "name:ada", "alan": "name:alan"}


def test_a_required_assignments_file_handed_in_alongside_is_kept_apart():
    """On Gradescope a dependent submission holds both files. The required one (named like
    its notebook or its module) is never graded as the dependent's, even when the dependent's
    own file is named otherwise; it is kept as the student's own work of that assignment."""
    files = StudentFiles("s", None, "gradescope", candidates=[
        Candidate("alpha.ipynb", notebook("a = 1"), path="1/alpha.ipynb"),
        Candidate("alpha.py", b"a = 2\n", path="1/alpha.py"),
        Candidate("my_beta.py", b"b = 1\n", path="1/my_beta.py")])
    entry = choose(files, "beta", {"alpha": ("alpha", "alphamod")})
    assert entry.filename == "my_beta.py" and entry.error is None
    assert entry.bundled["alpha"].filename == "alpha.ipynb"
    assert {r.path: r.kind for r in entry.files} == {
        "1/my_beta.py": "graded", "1/alpha.ipynb": "extra", "1/alpha.py": "superseded"}

    module = choose(StudentFiles("s", None, "gradescope", candidates=[
        Candidate("alphamod.py", b"\x00\x01", path="alphamod.py"),
        Candidate("beta.py", b"b = 1\n", path="beta.py")]), "beta", {"alpha": ("alpha", "alphamod")})
    assert module.bundled == {} and module.filename == "beta.py"
    assert [r.kind for r in module.files if r.path == "alphamod.py"] == ["error"]

    alone = choose(StudentFiles("s", None, "gradescope", candidates=[
        Candidate("alpha.py", b"a = 1\n", path="alpha.py")]), "beta", {"alpha": ("alpha",)})
    assert alone.error is not None and "only the work of another assignment" in alone.error
    assert alone.bundled["alpha"].read_bytes() == b"a = 1\n"
