"""The feedback page of every single-bug mutant says each hint once, where it can be seen.

Every mutant of the corpus (``MUTANTS``: ``_base.py`` plus one patch each, listed in its
``corpus.py``) is graded by the attention assignment's correctness suites and its
page parsed: each misconception's advice ("What to fix") appears exactly once outside
collapsed ``<details>``, no failing test's hint appears more than once there, the mutant's
expected keyword is among the advice, and every failure's title is visible. A correct
submission (the corpus's base, and the example notebook) gets a page with nothing to fix
and no problems section. The efficiency suite is left out: it measures cost, not values.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from proctor.config import load_course
from proctor.audit.corpus import load_corpus, write_all
from proctor.feedback import render_feedback
from proctor.feedback.selfcontained import Element, parse_html
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants" / "attention"
"""The course's corpus: ``_base.py`` plus the patches of ``corpus.py``."""

pytestmark = pytest.mark.slow


CORPUS = load_corpus(MUTANTS)
ENTRIES = {entry.name: entry for entry in CORPUS.entries}


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Any:
    real = load_course(ROOT / "course.toml").assignments["attention"]
    graders = tmp_path_factory.mktemp("graders")
    shutil.copytree(real.graders, graders, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "test_efficiency.py"))
    return dataclasses.replace(real, graders=graders)


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(CORPUS, tmp_path_factory.mktemp("mutants"))


def visible_text(e: Element | str) -> str:
    """Text a reader sees without opening anything: a closed <details> shows its summary."""
    if isinstance(e, str):
        return e
    if e.tag == "details" and "open" not in e.attrs:
        return " ".join(visible_text(c) for c in e.children
                        if isinstance(c, Element) and c.tag == "summary")
    return " ".join(visible_text(c) for c in e.children)


def norm(text: str) -> str:
    return " ".join(text.split())


def section(root: Element, id_: str) -> Element | None:
    return root.find("section", lambda e: e.attrs.get("id") == id_)


def test_correct_submissions_have_nothing_to_fix_and_no_problems(assignment: Any, sandbox: Sandbox) -> None:
    for path in (MUTANTS / "_base.py", ROOT / "examples" / "submissions" / "correct.ipynb"):
        root = parse_html(render_feedback(grade_submission(assignment, path, sandbox=sandbox, whole_suite=False).to_dict()))
        assert section(root, "load") is None, path.name
        assert section(root, "fixes") is None, path.name


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_each_hint_once_where_it_can_be_seen(assignment: Any, sandbox: Sandbox,
                                              mutants: dict[str, Path], name: str) -> None:
    path = mutants[name]
    keyword = ENTRIES[name].hint or ""
    result = grade_submission(assignment, path, sandbox=sandbox, whole_suite=False).to_dict()
    root = parse_html(render_feedback(result))
    seen = norm(visible_text(root))
    fixes = [norm(e.text()) for e in root.find_all(pred=lambda e: "fix-hint" in e.classes())]
    assert fixes, f"{name}: nothing to fix"
    for hint in fixes:
        assert seen.count(hint) == 1, f"{name}: {hint!r} is shown {seen.count(hint)} times"
    failing = [t for t in result["tests"] if t["status"] != "passed"]
    for hint in {norm(t["hint"]) for t in failing if t.get("hint")}:
        assert seen.count(hint) <= 1, f"{name}: {hint!r} is shown {seen.count(hint)} times"
    assert any(keyword.lower() in h.lower() for h in fixes), (name, keyword, fixes)
    for t in failing:
        assert norm(t["name"]) in seen, f"{name}: the title of failing {t['id']} is folded away"
        assert not re.search(r"\w\[[\w.-]+\]$", t["name"]), f"{name}: {t['name']!r} ends in a parameter id"
    # a property test's counterexample is shown by name, not as Hypothesis's raw text
    for t in failing:
        if t.get("counterexample"):
            art = root.find("article", lambda e: e.attrs.get("data-test-id") == t["id"])
            assert t.get("example") and "example: test_" not in art.text(), (name, t["id"])


def test_a_cell_that_raised_is_named_as_jupyter_shows_it(assignment: Any, sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    """The load error, and the hint of every test that misses a name, say "cell [3]" (its
    execution count), not the cell's position in the file."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Attention"),
                nbformat.v4.new_code_cell("import numpy as np\nraise RuntimeError('boom')\n"
                                          "def create_causal_mask(n):\n    return np.tril(np.ones((n, n)))",
                                          execution_count=3)]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    result = grade_submission(assignment, path, sandbox=sandbox, whole_suite=False).to_dict()
    assert result["load"]["errors"][0]["where"] == "cell [3]"
    missing = [t for t in result["tests"] if t["misconception"] == "missing-name"]
    assert missing and all("cell [3], line 2 raised RuntimeError: boom" in t["hint"] for t in missing)
    load = section(parse_html(render_feedback(result)), "load")
    assert load is not None and "cell [3], line 2" in load.text()
