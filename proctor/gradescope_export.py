"""``proctor export gradescope``: package an assignment as a Gradescope autograder zip.

``export_gradescope(assignment, out)`` writes ``out/autograder.zip`` holding

* ``setup.sh`` — run once by Gradescope as root when the image is built: installs
  bubblewrap, a Python >= 3.11 venv with proctor (from the bundled source, with its
  dependencies), and makes the course files root-only (``0700``/``0600``);
* ``run_autograder`` — run per submission: ``python -m proctor.gradescope_export run``;
* ``course/`` — what grading needs and students must never see: ``course.toml`` (with
  only this assignment), the source notebook, the reference package, the course's
  templates (if it declares any), the grader suites
  (whose ``golden_cases.py`` grading computes the golden cases from: no release output);
* ``proctor_src/`` — proctor's own source, so the grader runs the same version.

At grading time ``run`` picks the student's file from ``submission/`` (for an assignment
that builds on others, course.toml ``requires``, the student hands in that work too: a file
named like a required assignment's notebook or module is their own work of it, loaded under
its module name, never graded as this assignment's; the zip then also holds the required
assignments' course.toml tables, files and correct stand-ins), grades it in the
sandbox (student code runs as ``nobody`` when root and never sees the course files, which
are root-only on top of not being mounted), applies the course's late policy to
``submission_metadata.json``'s ``created_at``, and writes ``results/results.json`` from
the trusted side. Whatever goes wrong, a results.json explaining it is written, because
Gradescope otherwise shows students only "The autograder failed to execute correctly".
The root is ``$PROCTOR_AUTOGRADER_ROOT`` (default ``/autograder``) so it can be tested.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import stat
import sys
import traceback
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proctor.config import Assignment

__all__ = ["export_gradescope", "run_autograder"]

ROOT_ENV = "PROCTOR_AUTOGRADER_ROOT"
COURSE_DIR = "course"
SOURCE_DIR = "proctor_src"
ASSIGNMENT_FILE = "assignment_id"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
ROOT="${PROCTOR_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends bubblewrap ca-certificates
# proctor needs Python >= 3.11; Gradescope's Ubuntu 22.04 image ships 3.10.
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PY="$candidate"; break
  fi
done
if [ -z "$PY" ]; then
  apt-get install -y -q --no-install-recommends python3.11 python3.11-venv || {
    apt-get install -y -q software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa && apt-get update -q
    apt-get install -y -q python3.11 python3.11-venv
  }
  PY=python3.11
fi
"$PY" -m venv "$ROOT/proctor-venv"
"$ROOT/proctor-venv/bin/python" -m pip install --upgrade pip
"$ROOT/proctor-venv/bin/python" -m pip install "$SOURCE/proctor_src"
# The reference, the suites and course.toml: root-only. Student code never sees them
# (the sandbox does not mount them and runs as nobody); this is the second lock.
chown -R root:root "$SOURCE/course"
chmod -R go-rwx "$SOURCE/course"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. All grading happens in proctor's sandbox.
ROOT="${PROCTOR_AUTOGRADER_ROOT:-/autograder}"
PY="$ROOT/proctor-venv/bin/python"
[ -x "$PY" ] || PY=python3
cd "$ROOT/source"
exec "$PY" -m proctor.gradescope_export run
"""

_SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".git"}


def _add_tree(archive: zipfile.ZipFile, src: Path, arcname: str) -> None:
    """Add ``src`` (file or directory) under ``arcname``, skipping caches, never symlinks."""
    if src.is_symlink():
        return
    if src.is_file():
        archive.write(src, arcname)
        return
    for child in sorted(src.iterdir()):
        if child.name in _SKIP or child.suffix == ".pyc":
            continue
        _add_tree(archive, child, f"{arcname}/{child.name}")


def _script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _course_toml(assignment: Assignment, ids: list[str] | None = None) -> str:
    """course.toml reduced to this assignment (and ``ids``, the assignments it builds on),
    paths as they will be inside course/."""
    import tomllib

    source = Path(assignment.course_root) / "course.toml"
    text = source.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines: list[str] = []
    wanted = {assignment.id, *(ids or [])}
    # Keep the instructor's file verbatim when it only has these assignments; otherwise
    # keep the [course] table and these assignments' tables, verbatim, in file order.
    if set(data.get("assignments", {})) == wanted:
        return text
    keep = False
    prefixes = [f"[assignments.{aid}" for aid in sorted(wanted)]
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            keep = stripped.startswith("[course]") or any(
                stripped.startswith(prefix + "]") or stripped.startswith(prefix + ".")
                for prefix in prefixes)
        if keep:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _required(assignment: Assignment) -> list[Assignment]:
    """The assignments ``assignment`` builds on, and theirs (course.toml ``requires``)."""
    if not getattr(assignment, "requires", ()):
        return []
    from proctor.config import load_course

    course = load_course(assignment.course_root)
    order = course.in_dependency_order([assignment.id])
    found: list[str] = []
    todo = list(assignment.requires)
    while todo:
        dep = todo.pop()
        if dep not in found:
            found.append(dep)
            todo.extend(course.assignment(dep).requires)
    return [course.assignment(dep) for dep in course.in_dependency_order(found) if dep not in order]


def export_gradescope(assignment: Assignment, out: Path) -> Path:
    """Write ``out/autograder.zip`` for ``assignment``; returns the zip's path."""
    import proctor

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(assignment.course_root)
    package = Path(proctor.__file__).parent
    project = package.parent
    target = out / "autograder.zip"
    tmp = out / ".autograder.zip.tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        _script(archive, "setup.sh", SETUP_SH)
        _script(archive, "run_autograder", RUN_AUTOGRADER)
        required = _required(assignment)  # loaded under their module names when grading
        archive.writestr(f"{COURSE_DIR}/course.toml",
                         _course_toml(assignment, [r.id for r in required]))
        archive.writestr(f"{COURSE_DIR}/{ASSIGNMENT_FILE}", assignment.id + "\n")
        templates = getattr(assignment, "templates", None)  # the course's student-facing text
        paths = [Path(assignment.notebook), Path(assignment.graders), _reference_path(assignment),
                 *([Path(templates)] if templates else [])]
        for dep in required:  # what course.toml names for them, and their correct versions
            paths += [Path(dep.notebook), Path(dep.graders), _reference_path(dep)]
            if dep.provides is not None:
                paths += [Path(dep.provides.stand_in),
                          _reference_path(dataclasses.replace(dep, reference=dep.provides.service))]
        added: set[str] = set()
        for path in paths:
            name = f"{COURSE_DIR}/{path.relative_to(root).as_posix()}"
            if name not in added and not any(name.startswith(a + "/") for a in added):
                added.add(name)
                _add_tree(archive, path, name)
        _add_tree(archive, package, f"{SOURCE_DIR}/proctor")
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (project / name).is_file():
                archive.write(project / name, f"{SOURCE_DIR}/{name}")
    os.replace(tmp, target)
    return target


def _reference_path(assignment: Assignment) -> Path:
    """The reference module's top package directory (or .py file) under the course root."""
    root = Path(assignment.course_root)
    top = assignment.reference.split(".")[0]
    return root / top if (root / top).is_dir() else root / f"{top}.py"


# ------------------------------------------------------------------------- grading side


def _lock_down(course: Path) -> None:
    """Make the course files root-only when running as root (setup.sh did it already)."""
    if os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(course):
        os.chmod(dirpath, 0o700)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o600)


def _submitted_at(root: Path) -> datetime | None:
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(meta["created_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _failure(message: str) -> dict[str, Any]:
    """A results.json that tells the student what happened instead of a bare failure."""
    return {"score": 0.0, "execution_time": 0.0, "visibility": "visible",
            "stdout_visibility": "hidden", "output": message, "tests": []}


def run_autograder(root: Path | None = None) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; return it."""
    from proctor.atomic import write_json

    root = Path(root or os.environ.get(ROOT_ENV, "/autograder"))
    results_path = root / "results" / "results.json"
    try:
        results = _grade(root)
    except Exception as error:  # noqa: BLE001 - the student must get a readable result
        traceback.print_exc()
        results = _failure(f"The autograder could not grade this submission "
                           f"({type(error).__name__}: {error}). Please tell your instructor.")
    write_json(results_path, results)
    return results


def _grade(root: Path) -> dict[str, Any]:
    from proctor.config import load_course
    from proctor.lms.archive import read_tree
    from proctor.lms.entry import Candidate, StudentFiles
    from proctor.lms.gradescope import results_json
    from proctor.lms.late import apply_late
    from proctor.lms.pick import choose
    from proctor.runner import grade_submission

    course_dir = root / "source" / COURSE_DIR
    _lock_down(course_dir)
    assignment_id = (course_dir / ASSIGNMENT_FILE).read_text().strip()
    course = load_course(course_dir)
    assignment = course.assignment(assignment_id)
    files = StudentFiles("student", None, "gradescope")
    files.candidates = [Candidate(m.name, m.source, m.error)
                        for m in read_tree(root / "submission")]
    # An assignment that builds on others: the student hands in that work too (the
    # released README says so), each file under its own name; it is never graded as this one.
    bundles = course.handed_in_names(assignment) if assignment.requires else None
    entry = choose(files, Path(assignment.notebook).stem, bundles)
    if entry.error:
        return _failure(f"Nothing could be graded: {entry.error}. Submit your "
                        f"{Path(assignment.notebook).name} (or a .py file)"
                        + "".join(f", together with your {dep} work ({' or '.join(n + '.py' for n in names)}"
                                  f" or a notebook)" for dep, names in (bundles or {}).items()) + ".")
    work = root / "proctor_work"
    work.mkdir(parents=True, exist_ok=True)
    path = work / entry.filename
    path.write_bytes(entry.read_bytes())
    options: dict[str, Any] = {}
    if assignment.requires:
        from proctor.dependencies import requirements

        own: dict[str, Path | None] = {}
        for dep in assignment.requires:
            bundled = entry.bundled.get(dep)
            own[dep] = None
            if bundled is not None:
                (work / "required" / dep).mkdir(parents=True)
                own[dep] = work / "required" / dep / bundled.filename
                own[dep].write_bytes(bundled.read_bytes())
        names = {dep: " or ".join(f"{n}.ipynb/{n}.py" for n in stems)
                 for dep, stems in (bundles or {}).items()}
        options["requirements"] = tuple(  # the result says why, in the student's terms
            dataclasses.replace(r, missing=f"your submission has no {r.assignment} file "
                                           f"({names.get(r.assignment, r.assignment)}); upload both "
                                           f"files together to be graded on yours")
            if r.own is None else r for r in requirements(course, assignment, own))
    try:
        result = grade_submission(assignment, path, **options).to_dict()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["student"] = {"note": entry.note}
    result = apply_late(result, assignment, _submitted_at(root))
    return results_json(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proctor.gradescope_export")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="grade /autograder/submission (inside Gradescope)")
    args = parser.parse_args(argv)
    if args.command == "run":
        import proctor

        # Goes to results/stdout, which only instructors see: which engine graded.
        print(f"proctor {proctor.__version__} from {Path(proctor.__file__).parent}", file=sys.stderr)
        results = run_autograder()
        print(f"score {results['score']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
