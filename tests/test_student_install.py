"""A student installs the local checks from the released folder alone.

proctor is not on the package index, so the release ships the engine as a wheel and
``requirements.txt`` names it by relative path. The wheel is built reproducibly (pinned
setuptools, fixed SOURCE_DATE_EPOCH, clean staged sources), is left out of the committed
template (.gitignore) and is tested here instead.

The install test works offline: the venv is made with ``--system-site-packages`` and pip
runs with ``--no-index``, so the engine comes from the folder's wheel while numpy, pytest,
Hypothesis, nbformat and Jinja2 (the wheel's dependencies) are satisfied by this machine's
installed copies instead of being downloaded. The checks then run with nbgrader, Jupyter's
server and the instructors' LMS libraries made unimportable, proving the checks need none
of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from proctor import __version__
from proctor.config import load_course
from proctor.release import release_assignment
from proctor.wheel import build_wheel, wheel_name

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "submissions"
INSTRUCTOR_ONLY = ("nbgrader", "jupyter_server", "notebook", "jupyterlab", "sqlalchemy", "alembic",
                   "yaml", "dateutil", "distributed")

# Runs proctor's CLI with the instructor-only packages unimportable.
WITHOUT_INSTRUCTOR_PACKAGES = f"""
import runpy, sys
for name in {INSTRUCTOR_ONLY!r}:
    sys.modules[name] = None
import proctor
print("engine:", proctor.__file__, file=sys.stderr)
sys.argv = ["proctor", *sys.argv[1:]]
runpy.run_module("proctor", run_name="__main__")
"""


def test_the_engine_wheel_is_reproducible_and_needs_no_instructor_packages(tmp_path):
    first = build_wheel(tmp_path / "a")
    second = build_wheel(tmp_path / "b")
    assert first.name == second.name == wheel_name()
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"proctor-{__version__}.dist-info/METADATA").decode()
        dates = {info.date_time for info in wheel.infolist()}
    assert "proctor/sandbox/child/zygote.py" in names and "proctor/feedback/templates/feedback.html.j2" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert {n.split("/")[0] for n in names} == {"proctor", f"proctor-{__version__}.dist-info"}  # the engine only
    assert dates == {(1980, 1, 1, 0, 0, 0)}  # SOURCE_DATE_EPOCH, not the build's time
    required = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    unconditional = [r for r in required if "extra ==" not in r]
    assert unconditional and not any(pkg in r.lower() for r in unconditional
                                     for pkg in ("nbgrader", "jupyter", "notebook", "dask"))
    assert any(r.startswith("nbgrader") and 'extra == "instructor"' in r for r in required)


@pytest.mark.slow
def test_a_student_installs_and_checks_from_the_released_folder(tmp_path):
    assignment = load_course(REPO).assignment("attention")
    release_assignment(assignment, out_dir=tmp_path / "release")
    folder = tmp_path / "student" / "attention"  # only a copy of the released folder
    shutil.copytree(tmp_path / "release", folder)
    assert (folder / wheel_name()).is_file()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-index", "-r", "requirements.txt"],
                   cwd=folder, env=env, check=True)
    where = subprocess.run([python, "-c", "import proctor; print(proctor.__file__)"], cwd=tmp_path,
                           env=env, check=True, capture_output=True, text=True).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # the folder's wheel, not a checkout

    shutil.copy(EXAMPLES / "correct.py", folder / "attention.py")
    shutil.copy(EXAMPLES / "correct.ipynb", folder / "mine.ipynb")
    for name in ("attention.py", "mine.ipynb"):
        done = subprocess.run([python, "-c", WITHOUT_INSTRUCTOR_PACKAGES, "check", name], cwd=folder, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"engine: {venv}" in done.stderr
        assert "Traceback" not in done.stderr and "not implemented" not in done.stdout.lower(), done.stdout
        assert "cached_attention" in done.stdout
        summary = next(line for line in done.stdout.splitlines() if line.startswith(f"{name}: "))
        score, _, rest = summary.removeprefix(f"{name}: ").partition(" / ")
        assert float(score) > 0 and score == rest.split()[0], summary  # every public check passes
        assert (folder / "feedback.html").is_file()


def test_ci_installs_the_pinned_build_backend():
    from proctor.wheel import pinned_backend

    assert f"setuptools=={pinned_backend(REPO / 'pyproject.toml')}" in (REPO / ".ci" / "run").read_text()
