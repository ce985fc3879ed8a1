"""Read a submission file on the trusted side into what the sandbox will run.

Notebooks are parsed here with nbformat (never inside the sandbox) and reduced to their
code cells; nbgrader's grade-only test cells are left out, since the graders' own suites
do the testing. A file that cannot be read still yields a :class:`Submission`, empty and
carrying the reason, so every test can say why instead of the run crashing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

MAX_SUBMISSION_BYTES = 20 * 1024 * 1024
SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Cell:
    """One notebook code cell, numbered as Jupyter shows it (from 1, all cells counted)."""

    index: int
    source: str
    #: How the student finds this cell: ``cell [5]`` (its execution count) or its first line.
    label: str = ""


@dataclass(frozen=True)
class Submission:
    """What the sandbox loads: a module's source or a notebook's code cells."""

    name: str
    kind: str  # "py" or "ipynb"
    source: str = ""
    cells: tuple[Cell, ...] = ()
    problem: str | None = None  # why the file could not be read, if it could not
    sha256: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cell_labels(self) -> dict[int, str]:
        """Cell index -> how the student finds that cell (``cell [5]``, or its first line)."""
        return {c.index: c.label for c in self.cells if c.label}

    def load_request(self, skip: list[int]) -> dict:
        """The sandbox's ``load`` request for this submission."""
        return {"op": "load", **self.code(), "skip": skip}

    def code(self) -> dict:
        """What the sandbox runs: ``kind``, ``filename``, and ``source`` or ``cells``. Also the
        form of a module another submission imports (``name`` added)."""
        if self.kind == "py":
            return {"kind": "py", "filename": self.name, "source": self.source}
        return {"kind": "ipynb", "filename": self.name,
                "cells": [{"index": c.index, "source": c.source} for c in self.cells]}


def cell_label(number: int, execution_count: object, source: str) -> str:
    """Name a cell the way Jupyter shows it: ``cell [5]``, else the cell's first line."""
    if isinstance(execution_count, int) and not isinstance(execution_count, bool):
        return f"cell [{execution_count}]"
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    if first:
        return f"the cell starting “{first[:48]}{'…' if len(first) > 48 else ''}”"
    return f"cell {number} (counting from the top)"


def _is_grade_only(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def read_submission(path: Path | str) -> Submission:
    """Read ``path`` (.py or .ipynb). Never raises for bad content: see ``problem``."""
    path = Path(path)
    name = path.name
    kind = "ipynb" if path.suffix.lower() == ".ipynb" else "py"
    if path.suffix.lower() not in SUFFIXES:
        return Submission(name, kind, problem=f"{name} is not a .py or .ipynb file")
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return Submission(name, kind, problem=f"{name} is {size / 1e6:.1f} MB; the limit is "
                              f"{MAX_SUBMISSION_BYTES / 1e6:.0f} MB")
        raw = path.read_bytes()
    except OSError as exc:
        return Submission(name, kind, problem=f"{name} could not be read: {exc.strerror or exc}")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Submission(name, kind, sha256=digest,
                          problem=f"{name} is not UTF-8 text (byte {exc.start}); is it really a {path.suffix} file?")
    if "\x00" in text:
        return Submission(name, kind, sha256=digest, problem=f"{name} contains binary data, not source code")
    if not text.strip():
        return Submission(name, kind, sha256=digest, problem=f"{name} is empty")
    if kind == "py":
        return Submission(name, kind, source=text, sha256=digest)
    return _read_notebook(name, text, digest)


def _read_notebook(name: str, text: str, digest: str) -> Submission:
    import nbformat  # slow to import (jsonschema); only notebooks need it

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types for bad JSON
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Submission(name, "ipynb", sha256=digest,
                          problem=f"{name} is not a valid Jupyter notebook ({reason[:300]})")
    cells, notes, skipped = [], [], []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        label = cell_label(number, cell.get("execution_count"), source)
        if _is_grade_only(cell):
            skipped.append(label)
            continue
        cells.append(Cell(number, source, label))
    if skipped:  # one note for all of them: they are one fact
        notes.append(f"{', '.join(skipped)} {'is an nbgrader test cell' if len(skipped) == 1 else 'are nbgrader test cells'}"
                     ": the graders' own tests run instead")
    if not cells:
        return Submission(name, "ipynb", sha256=digest, problem=f"{name} has no code cells")
    return Submission(name, "ipynb", cells=tuple(cells), sha256=digest, notes=tuple(notes))
