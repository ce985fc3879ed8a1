"""The attention assignment's local checks: the public part of its official grade, and no
more than that shipped.

A student has only ``student_template/attention/``; ``proctor check`` there must give the
same public tests, statuses, messages, hints, details and scores as the official grade of
the same file, and the template must hold nothing of the hidden tests, the reference or
the golden cases' source.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import ROOT
from proctor.local_check import run_check
from proctor.released_checks import CHECKS_DIR, shipped_files
from proctor.golden import dumps, loads
from proctor.runner import grade_submission

TEMPLATE = ROOT / "student_template" / "attention"
GRADERS = ROOT / "graders" / "attention"
EXAMPLES = ROOT / "examples" / "submissions"
SUBMISSIONS = ["correct.py", "bug_mask_inverted.py", "bug_softmax_axis.py", "correct.ipynb"]
# Each bug's public small example fails with a hint from its golden case's variants.
HINTED = {"bug_mask_inverted.py": ("test_scaled_dot_product_public.py::test_small_fixed_case_with_causal_mask",
                                   "wrong way round"),
          "bug_softmax_axis.py": ("test_scaled_dot_product_public.py::test_small_fixed_case", "sum to 1")}
MIN_LINE = 25


def shipped_sources() -> list[Path]:
    """What course.toml's ``ship`` list sends to students (read without collecting suites)."""
    from proctor.config import load_course

    return shipped_files(GRADERS, load_course(ROOT / "course.toml").assignment("attention").ship)


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's copy of the released template: nothing of the course beside it."""
    home = tmp_path_factory.mktemp("student") / "attention"
    shutil.copytree(TEMPLATE, home)
    return home


@pytest.mark.slow
@pytest.mark.parametrize("name", SUBMISSIONS)
def test_local_check_equals_public_part_of_official_grade(attention: Any, student_dir: Path,
                                                          name: str) -> None:
    official = grade_submission(attention, EXAMPLES / name).to_dict()
    mine = shutil.copy(EXAMPLES / name, student_dir / name)
    local = run_check(mine, checks=student_dir / CHECKS_DIR).to_dict()
    # every public test, so one that does not ship fails here (and in test_every_public_test_ships)
    public = [t for t in official["tests"] if t["visibility"] == "public"]
    assert public, "the attention suite has public tests"
    assert [t["id"] for t in local["tests"]] == [t["id"] for t in public]
    assert local["tests"] == public
    for task, entry in local["tasks"].items():
        # each test's score and each task's total are rounded to 4 decimals on their own
        assert entry["score"] == pytest.approx(sum(t["score"] for t in public if t["task"] == task), abs=1e-3)
    if name in HINTED:  # the golden variants name the mistake locally too
        test_id, words = HINTED[name]
        (small,) = [t for t in local["tests"] if t["id"] == f"public/{test_id}"]
        assert small["status"] == "failed" and words in (small["hint"] or ""), small


def shipped(test_id: str) -> bool:
    return test_id.startswith("public/")


def hidden_sources() -> dict[str, str]:
    """Course files that never ship: hidden suites and their helpers (``composition.py``),
    the golden cases, the reference."""
    shipped = set(shipped_sources())
    files = [p for p in GRADERS.glob("*.py") if p not in shipped] + list((ROOT / "reference").glob("*.py"))
    return {str(p.relative_to(ROOT)): p.read_text() for p in files}


def test_template_ships_nothing_hidden() -> None:
    """No line of a hidden source is anywhere in the template, unless students must see it
    anyway: in a shipped suite file, or in the assignment itself (the notebook's stubs share
    signatures with the reference; ``tests/test_release.py`` checks the notebook's text)."""
    # The engine wheel holds only proctor/ (tests/test_student_install.py checks that).
    released = {p: p.read_text() for p in TEMPLATE.rglob("*") if p.is_file() and p.suffix != ".whl"}
    assignment_text = [text for p, text in released.items() if CHECKS_DIR not in p.relative_to(TEMPLATE).parts]
    public_text = "\n".join([p.read_text() for p in shipped_sources()] + assignment_text)
    secret = {line.strip(): path for path, text in hidden_sources().items()
              for line in text.splitlines()
              if len(line.strip()) >= MIN_LINE and line.strip() not in public_text}
    assert len(secret) > 100, "the hidden sources were found"
    assert any(p.parent.name == "public" for p in released), "the template ships public tests"
    for path, text in released.items():
        leaks = sorted(line for line in secret if line in text)
        assert not leaks, (f"{path.relative_to(ROOT)} holds hidden lines, e.g. {leaks[:3]} "
                           f"(from {secret[leaks[0]] if leaks else ''})")
    names = {p.name for p in released}
    assert "golden_cases.py" not in names
    assert not [p for p in released if p.name.startswith("test_") and p.parent.name != "public"]


# Names whose use in shipped code would compute part of the solution: softmax (exp), the
# 1/sqrt(d_k) scale, the causal mask (tril/triu), scores and projections (matrix products),
# head split/merge (axis swaps). Input builders, comparisons and bookkeeping need none.
SOLUTION_NAMES = {"exp", "expm1", "logsumexp", "softmax", "log_softmax", "sqrt", "tril", "triu",
                  "tril_indices", "triu_indices", "swapaxes", "transpose", "moveaxis", "rollaxis",
                  "T", "mT", "einsum", "matmul", "dot", "vdot", "tensordot", "inner"}
MAX_RESHAPE_AXES = 2  # flattening to rows is bookkeeping; (seq, heads, head_dim) is a head split
MASK_FILL = 1e6  # a constant this large is a blocked-score fill (-1e9), not an input


def solution_math(source: str) -> list[str]:
    """What in ``source`` computes attention math, as ``"line N: why"`` strings."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        name = (node.attr if isinstance(node, ast.Attribute)
                else node.id if isinstance(node, ast.Name) else None)
        if name in SOLUTION_NAMES:
            found.append(f"line {line}: {name}")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult):
            found.append(f"line {line}: the @ operator")
        elif isinstance(node, ast.Call) and _called(node) == "reshape" and _reshape_axes(node) > MAX_RESHAPE_AXES:
            found.append(f"line {line}: reshape to more than {MAX_RESHAPE_AXES} axes (a head split)")
        elif isinstance(node, ast.Compare) and sum(_calls_arange(e) for e in [node.left, *node.comparators]) >= 2:
            found.append(f"line {line}: comparing two aranges (a causal mask)")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
              and not isinstance(node.value, bool) and abs(node.value) >= MASK_FILL):
            found.append(f"line {line}: the constant {node.value} (a masked-score fill)")
    return sorted(found, key=lambda f: int(f.split()[1].rstrip(":")))


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _reshape_axes(call: ast.Call) -> int:
    """How many axes a reshape call asks for (a starred argument counts as many)."""
    args = call.args[1:] if isinstance(call.func, ast.Name) or (
        isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
        and call.func.value.id in ("np", "numpy")) else call.args
    if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
        args = args[0].elts
    return sum(MAX_RESHAPE_AXES + 1 if isinstance(a, ast.Starred) else 1 for a in args)


def _calls_arange(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and _called(n) == "arange" for n in ast.walk(node))


def test_solution_math_checker_flags_solution_logic() -> None:
    """The guard below is only as good as these rules: each solution idiom is caught, and the
    shipped kinds of code (input builders, comparisons, bookkeeping) are not."""
    leaks = ["np.exp(s)", "np.tril(np.ones((n, n)))", "x.swapaxes(1, 2)", "k.T", "q @ k",
             "np.matmul(a, b)", "s / np.sqrt(d)", "x.reshape(b, s, h, d)", "x.reshape(*lead, s, h, d)",
             "np.reshape(x, (s, h, d))", "np.arange(t)[None, :] <= p + np.arange(n)[:, None]",
             "np.where(m, s, -1e9)", "softmax(s)", "np.einsum('ij,jk', a, b)"]
    for code in leaks:
        assert solution_math(code), code
    fine = ["rng.standard_normal((b, s, d)) * scale", "m.reshape(rows, -1)", "np.concatenate(o, axis=1)",
            "w.sum(axis=-1)", "np.where(blocked, w, 0.0)", "x / embed_dim ** 0.5", "rng.random(shape) < p"]
    for code in fine:
        assert not solution_math(code), (code, solution_math(code))


def test_shipped_checks_hold_no_solution_math() -> None:
    """Students receive ``checks/`` beside their notebook. A shipped helper that computes any
    part of the answer (a softmax, the scale, a causal mask, projections, a head split, a
    decoding step) hands students working solution code; such helpers belong in hidden
    modules (``graders/attention/composition.py``). Expected values ship only as golden data."""
    shipped = sorted((TEMPLATE / CHECKS_DIR).rglob("*.py")) + shipped_sources()  # released, and next
    assert shipped, "the template ships its checks"
    leaks = {str(p.relative_to(ROOT)): found for p in shipped if (found := solution_math(p.read_text()))}
    assert not leaks, f"shipped checks compute solution math: {leaks}"


def test_every_public_test_ships(attention: Any) -> None:
    """A public test outside ``public/`` would be in the official grade but not in the
    students' local check."""
    from proctor.runner import collect

    plugin = collect(attention.graders)
    stray = [o.id for o in plugin.outcomes.values() if o.visibility == "public" and not shipped(o.id)]
    assert not stray, f"public tests that do not ship (move them under public/): {stray[:5]}"


def test_golden_keeps_variant_order() -> None:
    """Variant order breaks ties between variants that agree; a golden file keeps it."""
    variants = {name: (np.full(2, float(i)), name) for i, name in enumerate(["zeta", "alpha", "mid"])}
    back = loads(dumps({"variants": variants}))["variants"]
    assert list(back) == ["zeta", "alpha", "mid"]
    assert isinstance(back["alpha"], tuple) and back["alpha"][0].tolist() == [1.0, 1.0]


def test_reference_import_switches_between_nested_courses(minimath: Any, attention: Any) -> None:
    """The test course lives inside this course's root; importing one course's ``reference``
    after the other's must still give the right package (both grade in one process here)."""
    from proctor.plugin import import_reference

    assert import_reference(minimath).__name__ == "reference.minimath"
    assert hasattr(import_reference(attention), "MultiHeadAttention")
    assert hasattr(import_reference(minimath), "add")
