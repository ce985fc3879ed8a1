"""``proctor batch`` over a course: several assignments in one run, the dependent one graded
on each student's own work of the one it requires, found by the identity that names the
student in every assignment of the course.

The course is the dependency test course (``tests/test_dependencies.py``: ``sums`` requires
``minimath`` and imports it), with a source notebook of ``sums`` itself (``make_chain``), so
validation and release work on it too. The downloads are built as the platforms write them,
cited per test (see also ``tests/test_lms_identity.py``):

* Canvas "Download Submissions": canvas-lms ``app/models/content_zipper.rb``
  (``<name>_[LATE_]<user id>_<attachment id>_<file>``; anonymous ``anon_<id>_...``);
* Moodle "Download all submissions": ``mod/assign/classes/downloader.php`` (4.1+ folders
  ``<Full name>_<participant id>_assignsubmission_file/``; the participant id is per
  assignment) with the grading worksheet (``mod/assign/gradingtable.php``: "Identifier",
  then the site's identity fields, "Email address");
* Gradescope "Export Submissions": ``submission_metadata.yml`` (``:submitters:`` with
  ``:name:``, ``:sid:``, ``:email:``) and one ``submission_<id>/`` folder per submission;
* nbgrader: ``submitted/<student id>/<assignment id>/`` (``nbgrader/exchange/default/
  collect.py``), one tree holding every assignment.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_dependencies import FILES, make_course
from test_lms_real_formats import make_zip

from proctor.batch import run_batch
from proctor.config import load_course
from proctor.course_batch import run_course_batch

pytestmark = pytest.mark.slow

SUMS_CORRECT = FILES["subs/sums_correct.py"]
MINIMATH_BUGGY = FILES["subs/minimath_buggy.py"]

SUMS_NOTEBOOK = [
    ("from minimath import Counter, add\n", None),
    ("def total(rows):\n    ### BEGIN SOLUTION\n    out = rows[0]\n    for row in rows[1:]:\n"
     "        out = add(out, row)\n    return out\n    ### END SOLUTION\n", "total"),
    ("def count_steps(n):\n    ### BEGIN SOLUTION\n    c = Counter()\n    for _ in range(n):\n"
     "        c.step()\n    return c.count\n    ### END SOLUTION\n", "steps"),
    ("def probe():\n    ### BEGIN SOLUTION\n    return {}\n    ### END SOLUTION\n", "probe"),
]


def make_chain(root: Path) -> Path:
    """The dependency test course, with a source notebook of ``sums`` itself (its solution
    and nbgrader solution cells, so a release has stubs)."""
    import textwrap

    make_course(root)
    nb = nbformat.v4.new_notebook()
    for code, grade_id in SUMS_NOTEBOOK:
        cell = nbformat.v4.new_code_cell(code)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                         "schema_version": 3, "solution": True}
        nb.cells.append(cell)
    (root / "assignments/sums").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "assignments/sums/sums.ipynb")
    assert 'notebook = "assignments/sums/sums.ipynb"' in (root / "course.toml").read_text()
    for name, source in FILES.items():
        assert (root / name).read_text() == textwrap.dedent(source).lstrip()
    return root


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_chain(tmp_path_factory.mktemp("chain") / "course")


def code(text: str) -> bytes:
    import textwrap

    return textwrap.dedent(text).lstrip().encode()


def correct_minimath(chain: Path) -> bytes:
    return (chain / "submissions/correct.py").read_bytes()


def result(out: Path, key: str) -> dict:
    return json.loads((out / key / "result.json").read_text())


def test_two_canvas_downloads_graded_in_one_run(chain: Path, tmp_path: Path) -> None:
    """The dependent assignment is given first and still graded second; each student's sums
    runs on their own minimath, found by Canvas user id; a buggy minimath costs nothing in
    sums; a student with no usable minimath is graded on a correct one and told why; the
    course's grades.csv has one row per student and one column per assignment."""
    course = load_course(chain)
    minimath_zip = make_zip(tmp_path / "minimath.zip", {
        "lovelaceada_101_9001_minimath.py": correct_minimath(chain),
        "turingalan_102_9002_minimath.py": code(MINIMATH_BUGGY),
        "dijkstraedsger_104_9004_minimath.py": b"\x00\x01binary",
    })
    sums_zip = make_zip(tmp_path / "sums.zip", {
        "lovelaceada_101_9101_sums.py": code(SUMS_CORRECT),
        "turingalan_LATE_102_9102_sums.py": code(SUMS_CORRECT),
        "hoppergrace_103_9103_sums.py": code(SUMS_CORRECT),
        "dijkstraedsger_104_9104_sums.py": code(SUMS_CORRECT),
        "anon_Qx81b_9105_sums.py": code(SUMS_CORRECT),
    })
    out = tmp_path / "out"
    summary = run_course_batch(course, [("sums", sums_zip), ("minimath", minimath_zip)], out,
                               workers=2, progress=False,
                               per_assignment={"minimath": {"canvas_assignment_id": "71"}})
    assert summary.order == ["minimath", "sums"] and summary.failed == 0
    assert (summary.assignments["minimath"].graded, summary.assignments["sums"].graded) == (2, 5)

    ada = result(out / "sums", "101")
    mine = hashlib.sha256(correct_minimath(chain)).hexdigest()
    assert ada["score"] == 20 and ada["dependencies"]["minimath"]["own"] == {
        "file": "minimath.py", "sha256": mine}
    assert ada["student"]["requires"]["minimath"]["source"] == "batch"
    alan = result(out / "sums", "102")  # buggy minimath: graded there, not again here
    assert alan["dependencies"]["minimath"]["passed_only_with_correct"] == 3
    assert alan["score"] == 20 and alan["student"]["late_marker"]  # sums: no late penalty
    assert result(out / "minimath", "102")["score"] < 40
    why = {sid: result(out / "sums", sid)["dependencies"]["minimath"]["problem"]
           for sid in ("103", "104", "anon_Qx81b")}
    assert why["103"] == "no minimath submission of yours was found (canvas:103)"
    assert "could not be used" in why["104"] and "NUL" in why["104"]
    assert "does not name you the same way in every assignment" in why["anon_Qx81b"]
    assert all(result(out / "sums", sid)["score"] == 20 for sid in why)
    feedback = (out / "sums" / "103" / "feedback.html").read_text()
    assert "Built on a correct minimath, not yours: no minimath submission of yours was found" in feedback

    # each assignment's folder is a one-assignment batch's, with its own Canvas import
    assert list(csv.reader((out / "minimath" / "grades.csv").open()))[0][-1] == "Minimal maths (71)"
    assert (out / "sums" / "grades.csv").exists() and (out / "sums" / "journal.jsonl").exists()
    table = list(csv.reader((out / "grades.csv").open(newline="")))
    assert table[0] == ["Student", "Identity", "minimath", "sums", "Total"]
    assert table[1] == ["Points Possible", "", "40", "20", "60"]
    rows = {r[1] or r[0]: r[2:] for r in table[2:]}
    assert rows["canvas:101"] == ["40", "20", "60"]
    assert rows["canvas:103"] == ["", "20", "20"]  # no minimath submission
    assert rows["canvas:104"] == ["", "20", "20"]  # minimath not gradable: blank
    assert rows["anon_Qx81b"] == ["", "20", "20"]  # no identity: a row of its own
    assert len(rows) == 5

    page = (out / "dashboard.html").read_text()
    assert 'href="minimath/dashboard.html"' in page and 'href="sums/dashboard.html"' in page
    assert 'href="sums/101/feedback.html"' in page
    assert 'data-requires="minimath" data-own="2" data-correct="3"' in page
    assert 'href="../dashboard.html"' in (out / "sums" / "dashboard.html").read_text()
    assert json.loads((out / "summary.json").read_text())["order"] == ["minimath", "sums"]

    # A resumed run grades nothing again; a changed minimath regrades that student's
    # minimath and the sums graded on it, nobody else's.
    again = run_course_batch(course, [("minimath", minimath_zip), ("sums", sums_zip)], out,
                             workers=1, progress=False, resume=True)
    assert [again.assignments[a].graded for a in again.order] == [0, 0]
    fixed = make_zip(tmp_path / "minimath2.zip", {
        "lovelaceada_101_9001_minimath.py": correct_minimath(chain),
        "turingalan_102_9002_minimath.py": correct_minimath(chain) + b"\n# fixed\n",
        "dijkstraedsger_104_9004_minimath.py": b"\x00\x01binary"})
    third = run_course_batch(course, [("minimath", fixed), ("sums", sums_zip)], out,
                             workers=1, progress=False, resume=True)
    assert [third.assignments[a].graded for a in third.order] == [1, 1]
    assert result(out / "sums", "102")["dependencies"]["minimath"]["passed_only_with_correct"] == 0


def test_gradescope_submission_with_both_files_and_no_other_input(chain: Path, tmp_path: Path) -> None:
    """On Gradescope a sums submission holds the student's minimath too: it is used (and
    never graded as their sums, although 'minimath.py' sorts first), and the file ledger
    says so. A submission without it is graded on a correct minimath, and the summary
    tells the instructor that no minimath input was given."""
    meta = ("submission_501:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '1001'\n"
            "    :email: ada@example.edu\n  :created_at: 2026-12-08 20:00:00.0 +00:00\n"
            "submission_502:\n  :submitters:\n  - :name: Alan Turing\n    :sid: '1002'\n"
            "    :email: alan@example.edu\n  :created_at: 2026-12-08 21:00:00.0 +00:00\n")
    export = make_zip(tmp_path / "gs.zip", {
        "submission_metadata.yml": meta.encode(),
        "submission_501/minimath.py": code(MINIMATH_BUGGY),
        "submission_501/my_sums.py": code(SUMS_CORRECT),
        "submission_502/sums.py": code(SUMS_CORRECT)})
    out = tmp_path / "out"
    summary = run_batch(load_course(chain).assignment("sums"), export, out, workers=1,
                        progress=False)
    ada, alan = result(out, "1001"), result(out, "1002")
    assert ada["submission"] == "my_sums.py" and ada["score"] == 20
    assert ada["dependencies"]["minimath"]["own"]["file"] == "minimath.py"
    assert ada["student"]["requires"]["minimath"]["source"] == "bundled"
    assert alan["dependencies"]["minimath"]["own"] is None and alan["score"] == 20
    files = {row["file"]: row for row in csv.DictReader((out / "files.csv").open())}
    assert files["submission_501/minimath.py"]["kind"] == "extra"
    assert "handed in with this submission" in files["submission_501/minimath.py"]["reason"]
    note = next(n for n in summary.notes if n.startswith("sums requires minimath"))
    assert "1 on the minimath file handed in with them" in note and "minimath=INPUT" in note


def moodle_download(path: Path, files: dict[str, tuple[int, bytes]]) -> Path:
    """A Moodle 4.1+ download with its worksheet inside: each student (by name) with this
    assignment's participant id and file; across assignments only the email stays."""
    emails = {"Ada Lovelace": "ADA@example.edu", "Alan Turing": "alan@example.edu"}
    sheet = "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Last modified (grade)\n"
    members = {}
    for name, (pid, (filename, data)) in files.items():
        sheet += f"Participant {pid},{name},{emails[name]},,,100.00,-\n"
        members[f"{name}_{pid}_assignsubmission_file/{filename}"] = data
    return make_zip(path, {**members, "worksheet.csv": sheet.encode()})


def test_moodle_participant_ids_differ_and_with_reads_the_required_export(chain: Path, tmp_path: Path) -> None:
    """Ada is participant 4711 in minimath and 5120 in sums. Grading sums alone with the
    minimath download given through --with (read, not graded) finds her minimath by the
    worksheets' email."""
    minimath = moodle_download(tmp_path / "minimath.zip", {
        "Ada Lovelace": (4711, ("minimath.py", code(MINIMATH_BUGGY))),
        "Alan Turing": (4712, ("minimath.py", correct_minimath(chain)))})
    sums = moodle_download(tmp_path / "sums.zip", {
        "Ada Lovelace": (5120, ("sums.py", code(SUMS_CORRECT))),
        "Alan Turing": (5121, ("sums.py", code(SUMS_CORRECT)))})
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "proctor", "--course", str(chain), "batch", "sums",
                          str(sums), "--with", f"minimath={minimath}", "-o", str(out), "--workers", "1",
                          "--no-progress"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    ada, alan = result(out, "5120"), result(out, "5121")
    assert ada["dependencies"]["minimath"]["passed_only_with_correct"] == 3
    assert ada["student"]["requires"]["minimath"]["why"] == (
        "your submission to the minimath assignment (email:ada@example.edu)")
    assert alan["dependencies"]["minimath"]["own"]["sha256"] == hashlib.sha256(
        correct_minimath(chain)).hexdigest()
    assert not (out / "minimath").exists() and (out / "grades.csv").exists()  # one assignment's layout
    sheet = list(csv.reader((out / "moodle_grading_worksheet.csv").open()))
    assert [r[4] for r in sheet[1:]] == ["100.00", "100.00"]


def test_one_nbgrader_tree_holds_both_assignments(chain: Path, tmp_path: Path) -> None:
    """An nbgrader course's submitted/ tree has every assignment; the same tree is given for
    both, each reader taking its own assignment's folders."""
    root = tmp_path / "nbcourse"
    for student, minimath in (("ada", correct_minimath(chain)), ("alan", code(MINIMATH_BUGGY))):
        for aid, data in (("minimath", minimath), ("sums", code(SUMS_CORRECT))):
            folder = root / "submitted" / student / aid
            folder.mkdir(parents=True)
            (folder / f"{aid}.py").write_bytes(data)
            (folder / "timestamp.txt").write_text("2026-11-30 10:00:00 UTC")
    out = tmp_path / "out"
    summary = run_course_batch(load_course(chain), [("minimath", root), ("sums", root)], out,
                               workers=2, progress=False)
    assert [summary.assignments[a].graded for a in summary.order] == [2, 2]
    assert result(out / "sums", "alan")["student"]["requires"]["minimath"]["why"].endswith(
        "(nbgrader:alan)")
    table = list(csv.reader((out / "grades.csv").open()))
    assert {r[1]: r[2:] for r in table[2:]} == {"nbgrader:ada": ["40", "20", "60"],
                                                "nbgrader:alan": ["25", "20", "45"]}


def cli(chain: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proctor", "--course", str(chain), "batch", *args],
                          capture_output=True, text=True, timeout=600)


def test_cli_forms_and_mistakes_said_in_one_line_before_grading(chain: Path, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.py").write_bytes(correct_minimath(chain))
    out = tmp_path / "out"
    for args, expected in [
        (("nosuch=subs",), "no assignment 'nosuch'"),
        (("minimath=a", "minimath=b"), "minimath given more than once"),
        (("minimath", "a", "sums"), "is not ID=INPUT"),
        (("minimath=" + str(subs), "sums=" + str(subs), "--canvas-assignment-id", "71"),
         "--canvas-assignment-id ID=VALUE"),
        (("minimath=" + str(subs), "sums=" + str(subs), "--with", f"minimath={subs}"),
         "minimath is also being graded"),
        (("minimath", str(subs), "--with", f"sums={subs}"), "no assignment graded here requires sums"),
    ]:
        run = cli(chain, *args, "-o", str(out))
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert expected in run.stderr and "Traceback" not in run.stderr, (args, run.stderr)
        assert not out.exists(), args

    shutil.copytree(subs, tmp_path / "sums_subs")
    (tmp_path / "sums_subs" / "ada.py").write_bytes(code(SUMS_CORRECT))
    run = cli(chain, f"minimath={subs}", f"sums={tmp_path / 'sums_subs'}", "-o", str(out),
              "--workers", "1", "--no-progress")
    assert run.returncode == 0, run.stderr
    assert "== minimath" in run.stdout and "== sums" in run.stdout
    assert f"grades: {out / 'grades.csv'}" in run.stdout
    again = cli(chain, f"minimath={subs}", f"sums={tmp_path / 'sums_subs'}", "-o", str(out))
    assert again.returncode == 2 and "--resume" in again.stderr
    (out / "dashboard.html").unlink()
    rebuilt = subprocess.run([sys.executable, "-m", "proctor", "--course", str(chain), "dashboard",
                              str(out)], capture_output=True, text=True, timeout=600)
    assert rebuilt.returncode == 0 and "course dashboard" in rebuilt.stdout, rebuilt.stderr
    assert 'href="sums/ada/feedback.html"' in (out / "dashboard.html").read_text()
