"""The example submissions are what their names say.

Each is checked against the source notebook's own test cells (visible and hidden) for the
contract's five tasks: the correct ones pass all of them, and each single-bug submission
fails exactly the tasks its bug reaches through the notebook's tests. (The graders judge
differently, without double jeopardy; examples/submissions/README.md says what a grader
should report.)
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from proctor.audit.corpus import load_corpus, stale_entries

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
SOURCE = ROOT / "assignments" / "attention" / "attention.ipynb"
TEMPLATE = ROOT / "student_template" / "attention" / "attention.ipynb"
TASKS = ["causal_mask", "scaled_dot_product", "multi_head", "kv_cache", "cached_attention"]

# Tasks whose notebook test cell each submission fails. bug_scale_dk passes the cached
# test because that test compares decoding with the submission's own (equally scaled)
# full attention, as the graders do.
EXPECTED_FAILURES = {
    "correct.py": set(),
    "correct.ipynb": set(),
    "bug_scale_dk.py": {"scaled_dot_product", "multi_head"},
    "bug_mask_inverted.py": {"scaled_dot_product", "multi_head", "cached_attention"},
    "bug_heads_no_transpose.py": {"multi_head", "cached_attention"},
    "bug_cache_not_advanced.py": {"kv_cache", "cached_attention"},
    "bug_softmax_axis.py": {"scaled_dot_product", "multi_head", "cached_attention"},
}


CORPUS = EXAMPLES.parent / "corpus.py"  # how bug_*.py and correct.ipynb are generated


def _is_grade_cell(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def load_submission(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Load like the contract says: cell by cell, errors recorded, magics/shell skipped."""
    namespace: dict[str, Any] = {"__name__": "submission"}
    errors: list[str] = []
    with contextlib.redirect_stdout(io.StringIO()):
        if path.suffix == ".py":
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
            return namespace, errors
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code" or _is_grade_cell(cell):
                continue
            code = "\n".join(
                line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!"))
            )
            try:
                exec(compile(code, f"<{cell.id}>", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 - a failing cell is data here
                errors.append(f"{cell.id}: {type(exc).__name__}")
    return namespace, errors


def failing_tasks(namespace: dict[str, Any]) -> set[str]:
    """Tasks whose source-notebook test cell (visible + hidden asserts) fails."""
    source = nbformat.read(SOURCE, as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if _is_grade_cell(c)}
    failed = set()
    for task in TASKS:
        scope = dict(namespace)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cells[f"test_{task}"], f"<test_{task}>", "exec"), scope)
        except Exception:  # noqa: BLE001
            failed.add(task)
    return failed


def test_generated_examples_are_current() -> None:
    """The examples are a corpus (base plus patches, like the mutants), committed in OUTPUT."""
    corpus = load_corpus(CORPUS)
    assert corpus.output == EXAMPLES
    assert {e.filename for e in corpus.entries} == {n for n in EXPECTED_FAILURES if n != "correct.py"}
    assert stale_entries(corpus) == [], "run python -m proctor.audit examples/corpus.py"


def test_bug_base_is_correct() -> None:
    """The bug files are the corpus's base plus one bug, so the base must pass everything."""
    namespace, _ = load_submission(load_corpus(CORPUS).base)
    assert failing_tasks(namespace) == set()


def test_corpus_output_is_checked_and_rewritten(tmp_path: Path) -> None:
    """The one mechanism for committed corpora: a stale or missing entry is named, and
    rewriting makes the folder current (the engine side, on a tiny corpus)."""
    from proctor.audit.__main__ import main

    (tmp_path / "base.py").write_text("x = 1\n")
    (tmp_path / "corpus.py").write_text(
        'BASE = "base.py"\nOUTPUT = "out"\nHEADER = "# {name}: {what}\\n"\n'
        'EXAMPLES = {"two": ("x is two", [("x = 1", "x = 2")])}\n'
        'def notes():\n    return "built\\n"\nBUILT = {"notes.txt": notes}\n')
    corpus = load_corpus(tmp_path)
    assert {e.filename: e.text for e in corpus.entries} == {"two.py": "# two: x is two\nx = 2\n",
                                                          "notes.txt": "built\n"}
    assert stale_entries(corpus) == ["notes.txt", "two.py"]
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0 and stale_entries(corpus) == []


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_submission_fails_exactly_what_its_bug_breaks(name: str) -> None:
    np.random.seed(0)
    namespace, _ = load_submission(EXAMPLES / name)
    assert failing_tasks(namespace) == EXPECTED_FAILURES[name]


def test_every_bug_file_is_listed() -> None:
    on_disk = {p.name for p in EXAMPLES.glob("*.py")}  # the corpus and its base live one level up
    assert on_disk == {n for n in EXPECTED_FAILURES if n.endswith(".py")}
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED_FAILURES:
        assert f"`{name}`" in readme, f"{name} is not described in the README"


def test_correct_notebook_is_a_filled_in_release() -> None:
    student = nbformat.read(EXAMPLES / "correct.ipynb", as_version=4)
    released = nbformat.read(TEMPLATE, as_version=4)
    locked = {c.id: c.source for c in released.cells if _is_grade_cell(c) and c.cell_type == "code"}
    by_id = {c.id: c for c in student.cells}
    for cell_id, source in locked.items():
        assert by_id[cell_id].source == source, "locked test cells are as released"
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "raise NotImplementedError()" not in code, "every stub is filled in"
    answers = [c.source for c in student.cells if c.cell_type == "markdown" and _is_grade_cell(c)]
    assert answers and "YOUR ANSWER HERE" not in answers, "every written answer is given"
    lines = code.split("\n")
    assert "%matplotlib inline" in lines and any(line.startswith("!pip list") for line in lines)

    _, errors = load_submission(EXAMPLES / "correct.ipynb")
    assert errors == ["student-3: NameError"], "exactly one half-finished cell raises"


def test_correct_py_takes_the_other_legitimate_choices() -> None:
    namespace, _ = load_submission(EXAMPLES / "correct.py")
    cache = namespace["KVCache"](1, 4, 2, 3)
    assert cache.cached_keys.dtype == np.float32
    x = np.random.default_rng(0).standard_normal((1, 3, 4))
    out = namespace["ScaledDotProductAttention"]()(x, x, x, mask=np.zeros((3, 3)))
    assert np.all(out == 0.0), "-inf masking: a fully blocked row gives zeros, not NaN"
