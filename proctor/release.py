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
README_TEMPLATE = "student_readme.md.j2"  # a course may override it (course.toml [course] templates)

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


def _readme(assignment: Assignment, notebook_name: str, written_answers: bool) -> str:
    """The student README: the engine's ``student_readme.md.j2``, or the course's own."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

    from proctor.feedback.render import PACKAGE_TEMPLATES

    course = getattr(assignment, "templates", None)
    loaders = [FileSystemLoader(str(course))] if course is not None else []
    env = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(PACKAGE_TEMPLATES))]),
                      autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)  # Markdown: no HTML escaping
    return env.get_template(README_TEMPLATE).render(
        title=assignment.title, assignment=assignment.id, notebook=notebook_name,
        module=Path(notebook_name).stem + ".py", wheel=wheel_name(), written_answers=written_answers,
        requires=_required_work(assignment))


def _required_work(assignment: Assignment) -> list[dict[str, str]]:
    """What the README says of each assignment this one builds on (course.toml ``requires``):
    its title, the module the student's code imports, and its notebook's file name."""
    ids = tuple(getattr(assignment, "requires", ()))
    if not ids:
        return []
    from proctor.config import load_course

    course = load_course(assignment.course_root)
    found = []
    for dep in ids:
        required = course.assignment(dep)
        module = required.provides.module if required.provides else Path(required.notebook).stem
        found.append({"id": dep, "title": required.title, "module": module,
                      "notebook": Path(required.notebook).name})
    return found


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
        "README.md": _readme(assignment, notebook_name, any(map(_is_model_answer, source.cells))),
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
