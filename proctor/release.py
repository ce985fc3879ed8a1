"""`proctor release`: turn an instructor's source notebook into the student template.

The student notebook is made by nbgrader's own preprocessors, run standalone on an
nbformat notebook (no nbgrader database, no course directory)::

    LockCells          grade cells undeletable and uneditable, solution cells undeletable
    ClearSolutions     ### BEGIN/END SOLUTION regions -> "raise NotImplementedError()";
                       markdown answer cells -> "YOUR ANSWER HERE"
    ClearHiddenTests   ### BEGIN/END HIDDEN TESTS regions removed
    ClearMarkScheme    ### BEGIN/END MARK SCHEME regions removed
    ClearOutput        outputs and execution counts removed
    ComputeChecksums   checksum of every nbgrader cell, as nbgrader generate_assignment
                       leaves it (computed after hidden tests are gone)
    CheckCellMetadata  schema-v3 validation, unique grade ids

That is `nbgrader generate_assignment`'s list minus the steps that need its database
(SaveCells) or its header/template machinery (IncludeHeaderFooter, InstantiateTests).
Afterwards the notebook is normalized so a release is byte-for-byte reproducible: fixed
notebook metadata, cell metadata limited to what nbgrader uses, the source's (stable) cell
ids, and nbformat's sorted-key JSON.

Before anything is written, the result is checked for leaks: no line of a solution
region, hidden-test region, mark scheme or model answer may survive into the release.

Ownership of the output directory: release writes ``<notebook>.ipynb``, ``README.md``,
``requirements.txt``, the engine's wheel (:mod:`proctor.wheel`; ``requirements.txt``
names it by relative path, since proctor is not on the package index) and a
``.release-manifest`` naming them. On the next release it
deletes only files the previous manifest lists and this release no longer writes (for
example after the notebook is renamed). Anything else in the directory, such as a
``public/`` folder of local checks, is left alone. The ``checks/`` folder (public suites,
golden cases, manifest: see :mod:`proctor.released_checks`) is owned by release and rewritten whole.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from traitlets.config import Config

from proctor.atomic import write_text
from proctor.config import Assignment
from proctor.errors import ProctorError
from proctor.released_checks import write_checks
from proctor.wheel import build_wheel, wheel_name

__all__ = ["ReleaseError", "release_assignment", "build_student_notebook", "secret_lines"]

MANIFEST = ".release-manifest"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"

# (begin, end) delimiters of every region that must not reach students.
_SECRET_REGIONS = [
    ("BEGIN SOLUTION", "END SOLUTION"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME"),
]
# Cell metadata keys a student notebook keeps; editor state (collapsed, scrolled,
# execution timings, tags of the instructor's tooling) is dropped.
_KEPT_CELL_METADATA = ("deletable", "editable", "nbgrader")
# Secret lines shorter than this (after stripping) are too generic to call a leak
# ("return out", "else:", ")").
_MIN_SECRET_LINE = 12


class ReleaseError(ProctorError):
    """The source notebook cannot be released (bad metadata, or it would leak answers)."""


# ----------------------------------------------------------------------------- notebook


def _preprocessors() -> list[Any]:
    """nbgrader's preprocessors, configured explicitly rather than relying on defaults."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    cfg = Config()
    cfg.ClearSolutions.code_stub = {"python": CODE_STUB}
    cfg.ClearSolutions.text_stub = TEXT_STUB
    cfg.ClearSolutions.enforce_metadata = True  # a solution region outside a solution cell is an error
    cfg.ClearHiddenTests.enforce_metadata = True
    cfg.LockCells.lock_grade_cells = True
    cfg.LockCells.lock_solution_cells = True
    cfg.LockCells.lock_readonly_cells = True
    cfg.LockCells.lock_all_cells = False
    return [
        LockCells(config=cfg),
        ClearSolutions(config=cfg),
        ClearHiddenTests(config=cfg),
        ClearMarkScheme(config=cfg),
        ClearOutput(config=cfg),
        ComputeChecksums(config=cfg),
        CheckCellMetadata(config=cfg),
    ]


def _normalize(nb: NotebookNode) -> NotebookNode:
    """Strip everything that varies between machines or sessions."""
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
            "language_info": {"name": language},
        }
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in _KEPT_CELL_METADATA if k in cell.metadata}
        )
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        # Keep the source's id when it has one; otherwise derive one from content position.
        if not cell.get("id"):
            cell["id"] = grade_id or f"cell-{index:03d}"
    return nb


def build_student_notebook(source: NotebookNode) -> NotebookNode:
    """The released notebook for ``source`` (not modified), after the leak check."""
    from nbgrader.nbgraderformat import ValidationError

    nb = nbformat.from_dict(source)  # deep copy: preprocessors edit cells in place
    resources: dict[str, Any] = {}
    try:
        for preprocessor in _preprocessors():
            nb, resources = preprocessor.preprocess(nb, resources)
    except (RuntimeError, ValidationError) as exc:
        raise ReleaseError(f"nbgrader could not release the notebook: {exc}") from exc
    nb = _normalize(nb)
    nbformat.validate(nb)

    leaks = find_leaks(source, nb)
    if leaks:
        shown = "; ".join(repr(line) for line in leaks[:3])
        raise ReleaseError(f"release would leak {len(leaks)} secret line(s), e.g. {shown}")
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """nbformat's canonical JSON (sorted keys, 1-space indent) with a final newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


# ----------------------------------------------------------------------------- leak check


def _is_model_answer(cell: NotebookNode) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution")) and cell.cell_type == "markdown"


def secret_lines(source: NotebookNode) -> set[str]:
    """Stripped lines of the source that only instructors may see.

    That is every line inside a secret region and every line of a markdown model answer,
    minus lines that also appear in the public part of the notebook (a line the students
    see anyway, such as ``import numpy as np``, is no secret) and minus short generic ones.
    """
    secret: set[str] = set()
    public: set[str] = set()
    for cell in source.cells:
        lines = cell.source.split("\n")
        if _is_model_answer(cell):
            secret.update(line.strip() for line in lines)
            continue
        end_marker: str | None = None
        for line in lines:
            if end_marker is None:
                begin = next((b for b, _ in _SECRET_REGIONS if b in line), None)
                if begin is not None:
                    end_marker = dict(_SECRET_REGIONS)[begin]
                else:
                    public.add(line.strip())
            elif end_marker in line:
                end_marker = None
            else:
                secret.add(line.strip())
    return {line for line in secret - public if len(line) >= _MIN_SECRET_LINE}


def find_leaks(source: NotebookNode, released: NotebookNode) -> list[str]:
    """Secret lines of ``source`` that appear in any cell of ``released``; sorted."""
    released_lines = {
        line.strip() for cell in released.cells for line in cell.source.split("\n")
    }
    markers = {m for pair in _SECRET_REGIONS for m in pair}
    found = {line for line in released_lines if any(m in line for m in markers)}
    found |= secret_lines(source) & released_lines
    return sorted(found)


# ----------------------------------------------------------------------------- other files


def _readme(assignment: Assignment, notebook_name: str) -> str:
    module_name = Path(notebook_name).stem + ".py"
    wheel = wheel_name()
    return f"""# {assignment.title}

This folder is your starting point for the `{assignment.id}` assignment.

## What to do

1. From this folder, install what the checks need (a virtual environment is a good idea):
   `pip install -r requirements.txt`. It installs the grading engine, proctor, from
   `{wheel}` in this folder (proctor is not on the package index, so do not
   `pip install proctor`), and the few packages it needs (numpy, pytest, Hypothesis,
   nbformat, Jinja2). Jupyter itself is not included: use your own.
2. Open `{notebook_name}` in Jupyter (`jupyter lab {notebook_name}`) or VS Code.
3. Read each part, then fill in every cell marked `# YOUR CODE HERE`, replacing the
   `raise NotImplementedError()` line. Keep all function and class names and signatures
   exactly as given: the grader calls them by name.
4. Answer the written questions in the cells marked `YOUR ANSWER HERE`.
5. Restart the kernel and run the whole notebook from top to bottom before you submit.

## Running the notebook's own tests

Each part ends with a locked test cell. Run it after your solution: it prints
"tests passed" when its checks succeed, and otherwise an `AssertionError` says what is
wrong. These tests are a sample. The grader runs more (hidden) tests on the same
functions, including checks of how your code's time and memory grow with the sequence
length, so passing every cell here does not guarantee full marks.

## Checking your work locally

The checks run on Linux and macOS with Python 3.11 or newer. On Windows, use WSL (the
Windows Subsystem for Linux): the checks run your code in a separate, limited process,
which needs the POSIX process control (fork, resource limits) that Windows lacks.

Install what the checks need once (`pip install -r requirements.txt`), save your notebook,
then run the public part of the grader's test suite against it:

    proctor check {notebook_name}

It loads your notebook the way the grader does (cell by cell, in order; a cell that
raises is reported and the rest still run; `%magic` and `!shell` lines are skipped),
prints per task which public checks pass with a hint for the ones that do not, and
writes `feedback.html` beside your notebook: open it in a browser for the full report.
It needs no network: everything it uses is in the `checks/` folder.

Inside Jupyter, save the notebook and run this in a cell to see the same report inline:

    from proctor.check import show
    show("{notebook_name}")

The public checks give the same verdicts and hints as the public part of your official
grade. The official grade also runs hidden tests.

## Submitting

Hand in `{notebook_name}` with your solutions filled in, or `{module_name}` holding the
same code as a plain module. Do not rename the file's functions or classes.
"""


def _requirements() -> str:
    """The engine by relative path (a bare ``proctor`` line would fetch a stranger from the
    index); its own dependencies come from the wheel's metadata."""
    return ("# Run `pip install -r requirements.txt` from this folder: the grading engine ships\n"
            "# here as a wheel, with the dependencies the local checks need.\n"
            f"./{wheel_name()}\n")


def _previous_release(out_dir: Path) -> list[str]:
    """File names listed by the last release's manifest (plain names only, for safety)."""
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return []
    names = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        name = line.strip()
        # Never a path: a hand-edited manifest must not make release delete outside out_dir.
        if re.fullmatch(r"[\w.\-]+", name) and name not in {".", ".."}:
            names.append(name)
    return names


# ----------------------------------------------------------------------------- entry point


def release_assignment(assignment: Assignment, out_dir: Path | None = None, *,
                       wheel: bool = True) -> list[Path]:
    """Build the student template of ``assignment`` into ``out_dir`` (default: its release_dir).

    Returns the paths written, sorted. Deterministic: releasing twice gives identical bytes.
    Raises ``ReleaseError`` if the source notebook is missing, malformed, or would leak.
    ``wheel=False`` skips building the engine wheel (every other file is the same), for
    callers that only grade the released notebook.
    """
    source_path = Path(assignment.notebook)
    if not source_path.is_file():
        raise ReleaseError(f"source notebook not found: {source_path}")
    try:
        source = nbformat.read(source_path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad JSON
        raise ReleaseError(f"cannot read {source_path}: {exc}") from exc

    student = build_student_notebook(source)
    notebook_name = source_path.name
    files = {
        notebook_name: notebook_text(student),
        "README.md": _readme(assignment, notebook_name),
        "requirements.txt": _requirements(),
    }
    files[MANIFEST] = (
        "# Files written by `proctor release`; the next release may replace or delete them.\n"
        + "".join(f"{name}\n" for name in sorted([*files, wheel_name()]))
    )

    out = Path(out_dir if out_dir is not None else assignment.release_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in set(_previous_release(out)) - set(files) - {wheel_name()}:
        (out / stale).unlink(missing_ok=True)
    written = []
    for name, text in sorted(files.items()):
        write_text(out / name, text)
        written.append(out / name)
    if wheel:
        try:
            written.append(build_wheel(out))
        except ProctorError as exc:
            raise ReleaseError(str(exc)) from None
    # The public local checks: public suites, golden cases and their manifest.
    written += write_checks(assignment, out)
    return sorted(written)
