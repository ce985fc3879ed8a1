"""proctor's grades in a real nbgrader course, as formgrader shows them.

The course is made by nbgrader itself: ``nbgrader generate_assignment`` on the real
attention source notebook in a temporary course directory (its ``nbgrader_config.py`` sets
a course id). Every example submission goes into ``submitted/<student>/attention/`` as
nbgrader's exchange leaves it, and ``proctor batch --nbgrader-course`` grades them into that
course's gradebook. Everything is then read back through nbgrader's own code:

* ``nbgrader.api.Gradebook`` (nbgrader/api.py): ``Grade.needs_manual_grade`` is what
  formgrader's "needs manual grade" shows; nbgrader/preprocessors/saveautogrades.py clears it
  on every cell it could score (``auto_score`` not None, no manual score) and
  nbgrader/utils.py ``determine_grade`` scores a written answer 0 when its checksum is the
  released one (no response) and None (a person grades it) otherwise;
* formgrader's handlers, served in-process by jupyter_server with the formgrader extension:
  ``/formgrader/api/submitted_notebooks/<assignment>/<notebook>``
  (nbgrader/server_extensions/formgrader/apihandlers.py, SubmittedNotebookCollectionHandler)
  lists each submission's score and max score, and ``/formgrader/submissions/<id>/``
  (nbgrader/server_extensions/formgrader/handlers.py, SubmissionHandler) renders
  ``autograded/<student>/<assignment>/<notebook>.ipynb`` or answers 404 when it is missing;
* ``nbgrader export`` (nbgrader/plugins/export.py, CsvExportPlugin): raw_score and max_score.

The expected total is the course's: course.toml's points (100) on the notebook's
autograded cells, plus the three written answers' own points (2 + 3 + 2 = 7): 107. Before,
proctor added its own cells beside the course's 25 points: 125.
"""

from __future__ import annotations

import asyncio
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from proctor.batch import run_batch
from proctor.config import load_course
from proctor.errors import ConfigError

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
COURSE_ID = "mlsys-fall26"
TOTAL = 107.0  # 100 (course.toml) + 7 (written answers: why_sqrt_dk, kv_cache_memory_7b, decode_cost)
WRITTEN = {"why_sqrt_dk": 2.0, "kv_cache_memory_7b": 3.0, "decode_cost": 2.0}
CELL_POINTS = {"test_causal_mask": 10.0, "test_softmax": 0.0, "test_scaled_dot_product": 25.0,
               "test_multi_head": 25.0, "test_kv_cache": 15.0, "test_cached_attention": 25.0,
               **WRITTEN}
ON_TIME, LATE = "2026-12-01 10:00:00.000000 UTC", "2026-12-13 06:00:00.000000 UTC"  # due 12-12 04:59 UTC


def _student(path: Path) -> str:
    return f"{path.stem}_{path.suffix[1:]}"


def _env() -> dict[str, str]:
    """nbgrader's CLI runs ``alembic`` from PATH: give it this interpreter's scripts."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.fixture(scope="module")
def attention():
    return load_course(ROOT).assignment("attention")


@pytest.fixture(scope="module")
def graded(attention, tmp_path_factory):
    """A course made by nbgrader, every example submitted (correct.py late), then batched."""
    course = tmp_path_factory.mktemp("nbgrader_course")
    (course / "source" / "attention").mkdir(parents=True)
    shutil.copy(attention.notebook, course / "source" / "attention" / "attention.ipynb")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(course / 'exchange')!r}\n")
    (course / "exchange").mkdir()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "attention",
                    "--create"], cwd=course, env=_env(), check=True, capture_output=True)
    examples = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".py", ".ipynb"))
    for path in examples:
        folder = course / "submitted" / _student(path) / "attention"
        folder.mkdir(parents=True)
        shutil.copy(path, folder / f"attention{path.suffix}")
        (folder / "timestamp.txt").write_text(LATE if path.name == "correct.py" else ON_TIME)
    out = course.parent / "batch_out"
    summary = run_batch(attention, course, out, workers=2, progress=False, nbgrader_course=course)
    assert summary.graded == len(examples) and summary.problems == []
    return course, out, examples


@pytest.fixture(scope="module")
def proctor_grade(graded):
    """`proctor grade --json` on every example: the scores the nbgrader path must match."""
    _, _, examples = graded
    run = subprocess.run([sys.executable, "-m", "proctor", "grade", "attention", *map(str, examples),
                          "--json"], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    decoder, text, scores = json.JSONDecoder(), run.stdout, {}
    while text.strip():
        result, end = decoder.raw_decode(text.lstrip())
        text = text.lstrip()[end:]
        scores[_student(Path(result["submission"]))] = result["score"]
    assert len(scores) == len(examples)
    return scores


def gradebook(course: Path):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID)


def test_total_is_the_courses_with_no_cells_added(graded):
    """The gradebook generate_assignment made keeps its nine grade cells; only their
    points change (course.toml's on the autograded ones), so the total is 107, not 125."""
    course, _, examples = graded
    with gradebook(course) as gb:
        cells = {c.name: c.max_score for c in gb.find_notebook("attention", "attention").grade_cells}
        assert cells == CELL_POINTS
        assert gb.find_assignment("attention").max_score == TOTAL
        assert gb.find_assignment("attention").course_id == COURSE_ID
        assert len(gb.find_assignment("attention").submissions) == len(examples)


def test_only_written_answers_ask_for_manual_grading(graded):
    """SaveAutoGrades' rule: autograded cells are graded; a written answer the student
    wrote waits for a person; one left as released scores 0 with "No response."."""
    course, _, _ = graded
    with gradebook(course) as gb:
        notebook = gb.find_submission_notebook("attention", "attention", "correct_ipynb")
        manual = {g.name for g in notebook.grades if g.needs_manual_grade}
        assert manual == set(WRITTEN)
        assert all(g.auto_score is None for g in notebook.grades if g.name in WRITTEN)
        py = gb.find_submission_notebook("attention", "attention", "correct_py")
        assert not any(g.needs_manual_grade for g in py.grades)
        assert {g.name: g.auto_score for g in py.grades if g.name in WRITTEN} == dict.fromkeys(WRITTEN, 0)
        assert {c.name: c.auto_comment for c in py.comments if c.name in WRITTEN} == \
            dict.fromkeys(WRITTEN, "No response.")


def test_same_raw_scores_as_proctor_grade_and_late_penalty(graded, proctor_grade):
    """Autograded cells add up to `proctor grade`'s score; nbgrader takes proctor's late
    penalty off (correct.py: two started days late, 20%). Read with `nbgrader export`."""
    course, out, _ = graded
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "export.csv"],
                   cwd=course, env=_env(), check=True, capture_output=True)
    rows = {r["student_id"]: r for r in csv.DictReader((course / "export.csv").open())}
    assert set(rows) == set(proctor_grade)
    for student, score in proctor_grade.items():
        row = rows[student]
        assert float(row["raw_score"]) == pytest.approx(score), student
        assert float(row["max_score"]) == TOTAL
        result = json.loads((out / student / "result.json").read_text())
        assert float(row["score"]) == pytest.approx(result["score"]), student
    assert float(rows["correct_py"]["late_submission_penalty"]) == pytest.approx(20)
    assert float(rows["correct_py"]["score"]) == pytest.approx(80)


def test_formgrader_lists_and_opens_every_submission(graded, proctor_grade, monkeypatch):
    """formgrader's own handlers: every submission listed with its score out of 107 and no
    manual grading except correct.ipynb's written answers; each one's page renders (200,
    not formgrade_404) and shows the student's code and proctor's verdict."""
    course, _, _ = graded
    monkeypatch.chdir(course)
    listed, pages = asyncio.run(_formgrader(course))
    assert {s["student"] for s in listed} == set(proctor_grade)
    for sub in listed:
        assert sub["max_score"] == TOTAL and sub["max_code_score"] == 100
        # a notebook's score is before the late penalty (nbgrader subtracts it per assignment)
        assert sub["score"] == pytest.approx(proctor_grade[sub["student"]])
        assert sub["needs_manual_grade"] == (sub["student"] == "correct_ipynb")
        code, html = pages[sub["student"]]
        assert code == 200, sub["student"]
        assert "proctor: causal_mask" in html and "class MultiHeadAttention" in html
    assert "attention.py, submitted as a .py file" in pages["correct_py"][1]


async def _formgrader(course: Path) -> tuple[list[dict], dict[str, tuple[int, str]]]:
    from jupyter_server.serverapp import ServerApp
    from tornado.httpclient import AsyncHTTPClient
    from tornado.httpserver import HTTPServer
    from tornado.testing import bind_unused_port

    app = ServerApp()
    app.initialize(argv=[f"--ServerApp.root_dir={course}", "--IdentityProvider.token=t0ken",
                         "--ServerApp.open_browser=False",
                         "--ServerApp.jpserver_extensions="
                         "{'nbgrader.server_extensions.formgrader': True}"],
                   new_httpserver=False)
    sock, port = bind_unused_port()
    server = HTTPServer(app.web_app)
    server.add_sockets([sock])
    client, base = AsyncHTTPClient(), f"http://127.0.0.1:{port}"
    headers = {"Authorization": "token t0ken"}
    try:
        response = await client.fetch(f"{base}/formgrader/api/submitted_notebooks/attention/attention",
                                      headers=headers)
        listed = json.loads(response.body)
        pages = {}
        for sub in listed:
            page = await client.fetch(f"{base}/formgrader/submissions/{sub['id']}/",
                                      headers=headers, raise_error=False)
            text = html.unescape(re.sub(r"<[^>]+>", "", page.body.decode()))  # highlighted code
            pages[sub["student"]] = (page.code, text)
        return listed, pages
    finally:
        server.stop()
        client.close()


def test_resume_rewrites_in_place(graded):
    """`proctor batch --resume --nbgrader-course` (nothing left to grade) writes the course's
    gradebook again: same rows, same scores, no cell added."""
    course, out, examples = graded
    with gradebook(course) as gb:
        before = {s.student.id: s.score for s in gb.find_assignment("attention").submissions}
    run = subprocess.run([sys.executable, "-m", "proctor", "batch", "attention", str(course),
                          "-o", str(out), "--resume", "--no-progress", "--nbgrader-course",
                          str(course)], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    assert f"{len(examples)} already done" in run.stdout and "!" not in run.stdout
    assert f"nbgrader: {course / 'gradebook.db'}" in run.stdout
    with gradebook(course) as gb:
        assert {s.student.id: s.score for s in gb.find_assignment("attention").submissions} == before
        assert len(gb.find_notebook("attention", "attention").grade_cells) == len(CELL_POINTS)


def test_gradebook_needs_no_alembic_on_path(graded, attention, tmp_path):
    """A venv that is not activated has no ``alembic`` on PATH. nbgrader's Gradebook then
    fails on a new database (api.py get_alembic_version runs ``alembic heads``); proctor's
    class outputs are still all written, gradebook included."""
    _, out, _ = graded
    bare = "/usr/bin:/bin"
    assert shutil.which("alembic", path=bare) is None
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from proctor.config import load_course
        from proctor.lms.outputs import load_results, write_class_outputs
        a = load_course({str(ROOT)!r}).assignment("attention")
        keys = [p.name for p in Path({str(out)!r}).iterdir() if (p / "result.json").exists()]
        problems = []
        written = write_class_outputs(Path(sys.argv[1]), a, load_results(Path({str(out)!r}), keys),
                                      problems=problems)
        print(json.dumps([sorted(written), problems]))
        try:
            from nbgrader.api import Gradebook
            Gradebook("sqlite:///" + sys.argv[1] + "/plain.db")
        except FileNotFoundError as error:
            print("nbgrader alone:", error)
    """)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                         text=True, env=dict(os.environ, PATH=bare, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    written, problems = json.loads(run.stdout.splitlines()[0])
    assert problems == [] and {"nbgrader", "dashboard", "errors", "canvas"} <= set(written)
    assert "nbgrader alone:" in run.stdout and "alembic" in run.stdout
    assert (tmp_path / "autograded" / "correct_py" / "attention" / "attention.ipynb").is_file()


# ---------------------------------------------------------------------------- course.toml

def _course_with(tmp_path: Path, grade_ids: str) -> Path:
    text = (ROOT / "course.toml").read_text()
    start = text.index("[assignments.attention.grade_ids]")
    end = text.index("[assignments.attention.tolerance]")
    text = text[:start] + grade_ids + "\n" + text[end:]
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")  # paths shown relative
    for name in ("graders", "reference", "templates"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "course.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("table, message", [
    ('causal_mask = "test_causal_mask"',
     "tasks worth points but mapped to no grade cell: scaled_dot_product, multi_head"),
    ('[assignments.attention.grade_ids]\ncausal_mask = "why_sqrt_dk"',
     "grade_ids.causal_mask: 'why_sqrt_dk' is a written-answer cell"),
    ('[assignments.attention.grade_ids]\ncausal_mask = "test_causal_mask_"',
     "no autograded grade cell 'test_causal_mask_' in assignments/attention/attention.ipynb "
     "(did you mean 'test_causal_mask'?)"),
    ('[assignments.attention.grade_ids]\ncausal = "test_causal_mask"',
     "grade_ids.causal: no task 'causal' in [assignments.attention.points]"),
    ('[assignments.attention.grade_ids]\ncausal_mask = 3', "expected a grade_id string"),
])
def test_grade_ids_are_validated(tmp_path, table, message):
    if not table.startswith("["):
        table = "[assignments.attention.grade_ids]\n" + table
    with pytest.raises(ConfigError) as error:
        load_course(_course_with(tmp_path, table))
    assert message in str(error.value)


def test_grade_ids_are_optional(tmp_path):
    loaded = load_course(_course_with(tmp_path, "")).assignment("attention")
    assert loaded.grade_ids == {}
