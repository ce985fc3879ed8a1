"""`proctor release` and the attention notebook it releases.

The properties that matter: the committed student template is what release produces
(byte for byte, every time), it holds no answers, its stubs really are stubs, and the
instructor's notebook is a working solution that passes its own tests.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from proctor.release import MANIFEST, ReleaseError, build_student_notebook, release_assignment
from proctor.wheel import wheel_name

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments" / "attention" / "attention.ipynb"
PAIRED_SCRIPT = SOURCE.with_suffix(".py")  # jupytext percent-format pair, for review
TEMPLATE = ROOT / "student_template" / "attention"
REFERENCE_DIR = ROOT / "reference"

SECRET_REGIONS = {
    "BEGIN SOLUTION": "END SOLUTION",
    "BEGIN HIDDEN TESTS": "END HIDDEN TESTS",
    "BEGIN MARK SCHEME": "END MARK SCHEME",
}
# The contract's five tasks; each needs a solution cell and a locked test cell.
TASKS = ["causal_mask", "scaled_dot_product", "multi_head", "kv_cache", "cached_attention"]


def attention_assignment(release_dir: Path = TEMPLATE) -> Any:
    """The attention assignment from course.toml, releasing into ``release_dir``."""
    from proctor.config import load_course

    assignment = load_course(ROOT / "course.toml").assignment("attention")
    return dataclasses.replace(assignment, release_dir=release_dir)


@pytest.fixture(scope="module")
def source_nb() -> nbformat.NotebookNode:
    return nbformat.read(SOURCE, as_version=4)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("release")
    # out_dir wins over release_dir, so this never touches the committed template.
    paths = release_assignment(attention_assignment(), out_dir=out, wheel=False)  # its own test below
    assert all(p.is_relative_to(out) for p in paths)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in paths}


@pytest.fixture(scope="module")
def student_nb(released: dict[str, bytes]) -> nbformat.NotebookNode:
    return nbformat.reads(released["attention.ipynb"].decode("utf-8"), as_version=4)


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell: nbformat.NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def run_cells(cells: list, namespace: dict) -> None:
    for cell in cells:
        exec(compile(cell.source, f"<cell {cell.get('id')}>", "exec"), namespace)


# ----------------------------------------------------------------------------- in sync


def test_source_notebook_and_its_paired_script_agree(source_nb) -> None:
    """The notebook is the source (edited in Jupyter); its jupytext pair is what reviewers
    read in a diff, so a cell, or nbgrader metadata, changed in one but not the other fails."""
    jupytext = pytest.importorskip("jupytext")
    script = jupytext.read(PAIRED_SCRIPT)
    stale = "run jupytext --sync assignments/attention/attention.ipynb"
    assert source_nb.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent", stale
    assert len(script.cells) == len(source_nb.cells), stale
    for index, (ours, theirs) in enumerate(zip(source_nb.cells, script.cells)):
        assert (theirs.cell_type, theirs.source) == (ours.cell_type, ours.source), f"cell {index}: {stale}"
        assert theirs.metadata.get("nbgrader") == ours.metadata.get("nbgrader"), f"cell {index}: {stale}"
    # And the script is exactly what jupytext writes for the notebook (no hand edits).
    assert PAIRED_SCRIPT.read_text(encoding="utf-8") == jupytext.writes(source_nb, fmt="py:percent"), stale


def test_committed_template_is_current(released: dict[str, bytes]) -> None:
    for name, data in released.items():
        committed = TEMPLATE / name
        assert committed.is_file(), f"{committed} missing: run the release and commit it"
        assert committed.read_bytes() == data, f"{committed} is stale: re-run the release"
    # Nothing else lies around: every file in the template is one release writes. The
    # engine wheel is built fresh by each release and never committed (.gitignore).
    committed_files = {p.relative_to(TEMPLATE).as_posix() for p in TEMPLATE.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".whl"}
    assert committed_files == set(released)


def test_two_releases_are_byte_identical(tmp_path: Path, released: dict[str, bytes]) -> None:
    paths = release_assignment(attention_assignment(tmp_path), wheel=False)
    assert {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in paths} == released
    again = release_assignment(attention_assignment(tmp_path), wheel=False)
    assert {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in again} == released


def test_release_writes_the_student_files(released: dict[str, bytes]) -> None:
    top_level = {name for name in released if "/" not in name}
    assert top_level == {"attention.ipynb", "README.md", "requirements.txt", MANIFEST}
    assert "checks/manifest.json" in released  # the public local checks (tests/test_check.py)
    readme = released["README.md"].decode()
    assert "## Checking your work locally" in readme
    assert "proctor check attention.ipynb" in readme
    requirements = [line for line in released["requirements.txt"].decode().splitlines()
                    if line and not line.startswith("#")]
    assert requirements == [f"./{wheel_name()}"]  # never a bare `proctor`: not on the index
    assert wheel_name() in released[MANIFEST].decode()
    assert "Linux and macOS" in readme and "WSL" in readme


# ----------------------------------------------------------------------------- output dir


def test_release_removes_only_its_own_stale_files(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "test_public.py").write_text("kept\n")
    (tmp_path / "notes.txt").write_text("not release's\n")
    (tmp_path / "old_name.ipynb").write_text("{}\n")
    (tmp_path / MANIFEST).write_text("old_name.ipynb\n../outside.txt\nREADME.md\n")
    (tmp_path.parent / "outside.txt").write_text("must survive\n")

    release_assignment(attention_assignment(tmp_path), wheel=False)

    assert not (tmp_path / "old_name.ipynb").exists(), "a file the last release wrote is stale"
    assert (tmp_path / "public" / "test_public.py").read_text() == "kept\n"
    assert (tmp_path / "notes.txt").exists()
    assert (tmp_path.parent / "outside.txt").exists(), "manifest entries are never paths"


def test_release_defaults_to_the_assignments_release_dir(tmp_path: Path) -> None:
    paths = release_assignment(attention_assignment(tmp_path / "deep" / "dir"), wheel=False)
    assert all(p.is_relative_to(tmp_path / "deep" / "dir") for p in paths)
    assert (tmp_path / "deep" / "dir" / "attention.ipynb") in paths


def test_missing_source_is_a_readable_error(tmp_path: Path) -> None:
    assignment = dataclasses.replace(attention_assignment(tmp_path), notebook=tmp_path / "nope.ipynb")
    with pytest.raises(ReleaseError, match="not found"):
        release_assignment(assignment)


def test_solution_region_outside_a_solution_cell_is_refused(source_nb) -> None:
    nb = nbformat.from_dict(source_nb)
    nb.cells.append(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"))
    with pytest.raises(ReleaseError):
        build_student_notebook(nb)


# ----------------------------------------------------------------------------- no leaks


def secret_and_public_lines(nb: nbformat.NotebookNode) -> tuple[set[str], set[str]]:
    """(lines inside secret regions or model answers, every other line), stripped."""
    secret: set[str] = set()
    public: set[str] = set()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown" and meta.get("solution"):
            secret.update(line.strip() for line in cell.source.splitlines())
            continue
        end = None
        for line in cell.source.splitlines():
            if end is None:
                begin = next((b for b in SECRET_REGIONS if b in line), None)
                if begin:
                    end = SECRET_REGIONS[begin]
                else:
                    public.add(line.strip())
            elif end in line:
                end = None
            else:
                secret.add(line.strip())
    return secret, public


def test_no_solution_or_hidden_test_text_is_released(source_nb, released) -> None:
    secret, public = secret_and_public_lines(source_nb)
    # "Non-trivial": long enough to be specific, and not also shown to students anyway.
    leaks_if_seen = {line for line in secret - public if len(line) >= 12}
    assert len(leaks_if_seen) > 100, "the source should have substantial hidden content"
    for name, data in released.items():
        text = data.decode("utf-8")
        if name.endswith(".ipynb"):
            nb = nbformat.reads(text, as_version=4)
            lines = {line.strip() for cell in nb.cells for line in cell.source.splitlines()}
            assert not any(cell.get("outputs") for cell in nb.cells)
        else:
            lines = {line.strip() for line in text.splitlines()}
        assert not (leaks_if_seen & lines), f"{name} leaks: {sorted(leaks_if_seen & lines)[:5]}"
        for marker in [*SECRET_REGIONS, *SECRET_REGIONS.values()]:
            assert marker not in text, f"{name} still contains {marker!r}"
        assert "Model answer" not in text


def distinctive_reference_lines() -> set[str]:
    """Lines of reference/*.py of 30+ characters that are not the contract's API.

    Signatures (def/class headers, including multi-line parameter lists) and plain
    ``self.x = x`` stores are dictated by the contract, so every implementation shares them;
    imports (``from __future__ import annotations``) are in every shipped helper too.
    """
    lines: set[str] = set()
    for path in sorted(REFERENCE_DIR.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        api_lines: set[int] = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                api_lines.update(range(node.lineno, node.body[0].lineno))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                api_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if len(stripped) < 30 or number in api_lines:
                continue
            if re.fullmatch(r"self\.(\w+) = \1", stripped):
                continue
            lines.add(stripped)
    return lines


def test_no_reference_source_is_released(released) -> None:
    reference = distinctive_reference_lines()
    if not reference:
        pytest.skip("no reference/*.py to compare against")
    for name, data in released.items():
        text = data.decode("utf-8")
        if name.endswith(".ipynb"):
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(cell.source for cell in nb.cells)
        found = sorted(line for line in reference if line in text)
        assert not found, f"{name} contains reference source: {found[:3]}"


# ----------------------------------------------------------------------------- stubs


def test_student_stubs_raise_not_implemented(student_nb) -> None:
    namespace: dict[str, Any] = {}
    for cell in student_nb.cells:
        if cell.cell_type != "code" or is_test_cell(cell):
            continue
        try:
            run_cells([cell], namespace)
        except NotImplementedError:
            pass  # a demo cell that calls a stub: fine, the student fills the stub in first

    q = np.zeros((1, 2, 4))
    calls = {
        "create_causal_mask": lambda: namespace["create_causal_mask"](3),
        "softmax": lambda: namespace["softmax"](q),
        "ScaledDotProductAttention": lambda: namespace["ScaledDotProductAttention"]()(q, q, q),
        "MultiHeadAttention": lambda: namespace["MultiHeadAttention"](4, 2),
        "KVCache": lambda: namespace["KVCache"](1, 4, 2, 2),
        "cached_self_attention": lambda: namespace["cached_self_attention"](None, q[0], None),
    }
    for name, call in calls.items():
        with pytest.raises(NotImplementedError):
            call()
        assert name in namespace


def test_stubs_keep_signatures_and_docstrings(student_nb) -> None:
    solution_cells = [c for c in student_nb.cells if nbgrader_meta(c).get("solution")]
    for cell in solution_cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert defs, f"stub {cell.id} lost its definitions"
            for node in defs:
                if not node.name.startswith("__"):
                    assert ast.get_docstring(node), f"{cell.id}: {node.name} lost its docstring"
            assert "raise NotImplementedError()" in cell.source
        else:
            assert cell.source == "YOUR ANSWER HERE"


# ----------------------------------------------------------------------------- solution


def test_source_solution_passes_its_visible_and_hidden_tests(source_nb) -> None:
    code_cells = [c for c in source_nb.cells if c.cell_type == "code"]
    assert sum(is_test_cell(c) for c in code_cells) >= len(TASKS)
    run_cells(code_cells, {})  # any failing assert raises here


def test_released_tests_pass_against_the_source_solution(source_nb, student_nb) -> None:
    """The visible tests students get still run (release did not cut a test in half)."""
    namespace: dict[str, Any] = {}
    run_cells([c for c in source_nb.cells if c.cell_type == "code" and not is_test_cell(c)], namespace)
    run_cells([c for c in student_nb.cells if is_test_cell(c)], namespace)


def test_solution_does_not_import_the_reference(source_nb) -> None:
    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        imports = set()
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                imports.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imports.add((node.module or "").split(".")[0])
        assert imports <= {"numpy", "time"}, f"cell {cell.id} imports {imports}"


# ----------------------------------------------------------------------------- metadata


def test_nbgrader_metadata_is_valid_and_locked(source_nb, student_nb) -> None:
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.utils import compute_checksum

    for nb in (source_nb, student_nb):
        MetadataValidator().validate_nb(nb)

    grade_ids = [nbgrader_meta(c)["grade_id"] for c in student_nb.cells if nbgrader_meta(c)]
    assert len(grade_ids) == len(set(grade_ids))
    assert [c.id for c in student_nb.cells] == [c.id for c in source_nb.cells], "ids are stable"
    assert set(TASKS) <= set(grade_ids)

    tests = [c for c in student_nb.cells if is_test_cell(c)]
    assert len(tests) >= len(TASKS)
    for cell in tests:
        meta = nbgrader_meta(cell)
        assert meta["locked"] and meta["points"] > 0
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False

    written = [c for c in student_nb.cells if c.cell_type == "markdown" and nbgrader_meta(c).get("grade")]
    assert len(written) >= 2
    assert all(nbgrader_meta(c)["solution"] and nbgrader_meta(c)["points"] > 0 for c in written)

    for cell in student_nb.cells:
        meta = nbgrader_meta(cell)
        if meta:
            assert meta["schema_version"] == 3
            assert meta["checksum"] == compute_checksum(cell), f"{cell.id}: checksum is stale"
        assert not cell.get("outputs") and cell.get("execution_count") is None
        assert set(cell.metadata) <= {"nbgrader", "editable", "deletable"}
    assert set(student_nb.metadata) == {"kernelspec", "language_info"}


def test_source_has_no_checksums_or_outputs(source_nb) -> None:
    """The source is instructor-editable; checksums belong to the released copy only."""
    for cell in source_nb.cells:
        assert "checksum" not in nbgrader_meta(cell)
        assert not cell.get("outputs")


def test_release_from_course_toml_matches_the_template(tmp_path: Path) -> None:
    """The real configuration (course.toml via proctor.config) releases the committed files."""
    config = pytest.importorskip("proctor.config")
    course = config.load_course(ROOT / "course.toml")
    assignment = course.assignments["attention"]
    assert Path(assignment.notebook).resolve() == SOURCE
    assert Path(assignment.release_dir).resolve() == TEMPLATE
    for path in release_assignment(assignment, out_dir=tmp_path, wheel=False):
        name = path.relative_to(tmp_path)
        assert path.read_bytes() == (TEMPLATE / name).read_bytes(), f"{name} differs"
