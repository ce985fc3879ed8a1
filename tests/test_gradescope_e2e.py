"""The real attention assignment on a simulated Gradescope autograder, end to end.

Laid out as Gradescope's autograder specification says
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, "File hierarchy"; source
text: github.com/gradescope/autograder_samples, docs/specs.md): the zip's contents
extracted into ``<root>/source``, ``run_autograder`` copied to ``<root>/run_autograder``,
the student's files in ``<root>/submission``, and ``<root>/results/results.json`` produced
by running ``run_autograder`` (from ``<root>``, the working directory the spec names).

What setup.sh does is reproduced without its apt and Python-install steps, which need the
network and root on a Gradescope image: the venv at ``<root>/proctor-venv`` and
``pip install <root>/source/proctor_src``, here with ``--system-site-packages --no-deps
--no-index --no-build-isolation`` so pip uses this machine's installed numpy, pytest,
Hypothesis and setuptools instead of downloading them. proctor itself comes only from the
zip's proctor_src (the venv's bundled old setuptools is removed so the machine's, which
builds wheels, is used), and the test checks grading imported it from the venv, never from the
developer's checkout.

Every example submission (and one whose loading raises) must get the same raw score and
per-test verdicts as ``proctor grade``, at rlimits (what Gradescope's container most
likely allows) and at the strongest isolation this machine has.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from proctor.config import load_course
from proctor.gradescope_export import ROOT_ENV, SETUP_SH, export_gradescope
from proctor.sandbox import isolation

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "submissions"
STRONGEST = next(level for level in isolation.LEVELS if isolation.available(level))
LEVELS = sorted({"rlimits", STRONGEST}, key=isolation.LEVELS.index)


def submissions(tmp: Path) -> list[Path]:
    """The example submissions, and correct.py with a statement that raises while loading."""
    paths = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".py", ".ipynb"))
    broken = tmp / "load_error" / "attention.py"
    broken.parent.mkdir(parents=True)
    broken.write_text((EXAMPLES / "correct.py").read_text() + "\nraise RuntimeError('left over from testing')\n")
    return [*paths, broken]


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Export, unpack as Gradescope does, and install proctor the way setup.sh does."""
    tmp = tmp_path_factory.mktemp("gradescope")
    zpath = export_gradescope(load_course(REPO).assignment("attention"), tmp / "export")
    root = tmp / "autograder"
    with zipfile.ZipFile(zpath) as archive:
        archive.extractall(root / "source")
        assert "student_template/" not in "".join(archive.namelist())  # grading needs no release
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    os.chmod(root / "run_autograder", 0o755)
    # setup.sh's own venv and install lines, minus the network:
    assert '"$PY" -m venv "$ROOT/proctor-venv"' in SETUP_SH
    assert 'pip install "$SOURCE/proctor_src"' in SETUP_SH
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root / "proctor-venv")], check=True)
    venv_python = str(root / "proctor-venv" / "bin" / "python")
    # The venv's own bundled setuptools would shadow the machine's newer one (which builds wheels).
    subprocess.run([venv_python, "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True)
    subprocess.run([venv_python, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-index", "--no-build-isolation", str(root / "source" / "proctor_src")],
                   check=True, cwd=tmp)
    return root


def run_autograder(root: Path, submission: Path, level: str) -> tuple[dict, str]:
    """One Gradescope run: a fresh submission/ and results/, then run_autograder."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
    (root / "submission").mkdir()
    shutil.copy(submission, root / "submission" / submission.name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({ROOT_ENV: str(root), "PROCTOR_ISOLATION": level})
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, check=True)
    return json.loads((root / "results" / "results.json").read_text()), done.stderr


def proctor_grade(paths: list[Path], level: str, out: Path) -> dict[str, dict]:
    """``proctor grade`` from this checkout, one result.json per submission."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "proctor", "grade", "attention", *map(str, paths), "--out", str(out),
                    "--isolation", level], cwd=REPO, env=env, check=True, capture_output=True)
    found = {}
    for result in out.rglob("result.json"):
        data = json.loads(result.read_text())
        found[data["submission"] if data["submission"] != "attention.py" else "load_error"] = data
    return found


def verdicts(tests: list[dict]) -> list[tuple[str, str, float, float]]:
    """Name, pass/fail, score and maximum of each test (Gradescope's status is passed/failed)."""
    return [(t["name"], "passed" if t["status"] == "passed" else "failed", round(t["score"], 6),
             round(t["max_score"], 6)) for t in tests]


@pytest.mark.parametrize("level", LEVELS)
def test_gradescope_grades_every_example_like_proctor_grade(autograder, tmp_path, level):
    paths = submissions(tmp_path)
    expected = proctor_grade(paths, level, tmp_path / "graded")
    assert len(expected) == len(paths)
    for path in paths:
        key = "load_error" if path.parent.name == "load_error" else path.name
        results, log = run_autograder(autograder, path, level)
        assert f"from {autograder / 'proctor-venv'}" in log, log  # the zip's proctor, installed
        assert str(REPO) not in log
        want = expected[key]
        assert results["score"] == pytest.approx(want["score"]), (key, results["output"])
        assert verdicts(results["tests"]) == verdicts(want["tests"]), key
        assert "golden case" not in json.dumps(results)
        if key == "correct.py":
            assert results["score"] == 100
        if key == "load_error":
            assert "While loading your code, line " in results["output"]
            assert "RuntimeError: left over from testing" in results["output"]
        assert "None" not in results["output"], results["output"]
