"""The transformer source notebook: in sync with its jupytext pair, runs end to end with the
solutions in (every grade cell passes), and released through nbgrader's preprocessors every
grade cell fails (solution full, stub zero) and nothing secret leaks. The notebook imports
``attention``; here the reference attention stands in for the student's own."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from proctor.release import build_student_notebook, find_leaks  # noqa: E402
from reference import attention as ref_attention  # noqa: E402

SOURCE = ROOT / "assignments" / "transformer" / "transformer.ipynb"
PAIRED_SCRIPT = SOURCE.with_suffix(".py")  # jupytext percent-format pair, for review
GRADE_CELLS = {"test_layer_norm": 3, "test_feed_forward": 3, "test_block": 4,
               "test_model": 4, "test_generate": 4}


def run_cells(nb: nbformat.NotebookNode, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Execute every code cell in order in one namespace; cell id -> error name ('' if none)."""
    monkeypatch.setitem(sys.modules, "attention", ref_attention)
    namespace: dict = {"__name__": "__main__"}
    errors = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"<{cell.id}>", "exec"), namespace)
            errors[cell.id] = ""
        except Exception as exc:  # noqa: BLE001 - a stub raising is what we look for
            errors[cell.id] = type(exc).__name__
    return errors


def source() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


def test_notebook_and_its_paired_script_agree():
    """The notebook is the source (edited in Jupyter); its jupytext pair is what reviewers
    read in a diff, so a cell changed in one but not the other fails."""
    jupytext = pytest.importorskip("jupytext")
    nb, stale = source(), "run jupytext --sync assignments/transformer/transformer.ipynb"
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent", stale
    script = jupytext.read(PAIRED_SCRIPT)
    assert [(c.cell_type, c.source) for c in script.cells] == [(c.cell_type, c.source) for c in nb.cells], stale
    assert PAIRED_SCRIPT.read_text(encoding="utf-8") == jupytext.writes(nb, fmt="py:percent"), stale


def test_grade_cells_have_ids_and_points():
    grades = {c.id: c.metadata["nbgrader"]["points"] for c in source().cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert grades == GRADE_CELLS
    for cell in source().cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            assert meta["grade_id"] == cell.id and meta["schema_version"] == 3
        if meta and meta["solution"] and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


def test_solution_notebook_runs_end_to_end(monkeypatch):
    errors = run_cells(source(), monkeypatch)
    assert {cell: err for cell, err in errors.items() if err} == {}
    assert set(GRADE_CELLS) <= set(errors)


def test_released_stub_scores_zero_and_leaks_nothing(monkeypatch):
    released = build_student_notebook(source())
    assert find_leaks(source(), released) == []
    text = nbformat.writes(released)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    errors = run_cells(released, monkeypatch)
    for grade_id in GRADE_CELLS:
        assert errors[grade_id] == "NotImplementedError", grade_id


def _mutants():
    from proctor.audit.corpus import load_corpus

    corpus = load_corpus(ROOT / "mutants" / "transformer")
    return [e for e in corpus.entries if e.task not in (None, "efficiency")]


# The notebook's later parts are built on the earlier ones: a bug in a part may fail these.
REACHES = {"layer_norm": {"block", "model", "generate"},
           "feed_forward": {"block", "model", "generate"},
           "block": {"model", "generate"}, "model": {"generate"}, "generate": set()}


@pytest.mark.parametrize("entry", _mutants(), ids=lambda e: e.name)
def test_notebook_tests_catch_every_mutant_in_its_own_part(entry, monkeypatch):
    """Each value-changing mutant fails its own part's grade cell, and no grade cell outside
    the parts built on its part (the notebook's cells run the whole stack, unlike the
    graders, which judge each part on the student's own others)."""
    code_cells = [c for c in source().cells if c.cell_type == "code"]
    nb = nbformat.v4.new_notebook()
    setup = next(c for c in code_cells if c.id == "setup")
    mutant = nbformat.v4.new_code_cell(entry.text)
    mutant.id = "mutant"
    nb.cells = [setup, mutant] + [c for c in code_cells if c.id in GRADE_CELLS]
    errors = run_cells(nb, monkeypatch)
    assert errors["mutant"] == ""
    failed = {cell[len("test_"):] for cell in GRADE_CELLS if errors[cell]}
    assert entry.task in failed
    assert failed <= {entry.task, *REACHES[entry.task]}
