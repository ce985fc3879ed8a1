"""``proctor audit``: its rules on made-up verdicts, its degenerates, corpora and config, and
one whole audit of the engine's tiny test course (fast: a handful of tests per grading).

The attention audit itself runs in CI (``.ci/run``), not here: it grades ~120 submissions.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proctor.audit import judge
from proctor.audit.corpus import load_corpus
from proctor.audit.degenerates import KINDS, degenerates, probes
from proctor.audit.run import Graded, Job
from proctor.audit.variants import VariantLog
from proctor.config import AuditThresholds, load_course
from proctor.errors import ConfigError, ProctorError

ROOT = Path(__file__).resolve().parents[1]
MINICOURSE = ROOT / "tests" / "data" / "minicourse"


def graded(tests: dict[str, tuple[str, str, float, str]], group: str = "mutant") -> Graded:
    """A made-up grading: test id -> (task, status, max_score, hint)."""
    verdicts = {nid: {"task": task, "status": status, "hint": hint, "message": "",
                      "max_score": pts, "score": pts if status == "passed" else 0.0}
                for nid, (task, status, pts, hint) in tests.items()}
    tasks: dict[str, dict[str, float]] = {}
    for v in verdicts.values():
        t = tasks.setdefault(v["task"], {"score": 0.0, "max_score": 0.0})
        t["score"] += v["score"]
        t["max_score"] += v["max_score"]
    return Graded(Job("x", group, Path("x.py")), verdicts, tasks, 0.0)


# ---------------------------------------------------------------------------- judge rules
def test_calls_are_the_tests_a_probe_fails_that_the_solution_passes() -> None:
    solution = graded({"a": ("t", "passed", 1, ""), "b": ("t", "passed", 1, ""), "c": ("t", "failed", 1, "")})
    probe = graded({"a": ("t", "error", 1, ""), "b": ("t", "passed", 1, ""), "c": ("t", "failed", 1, "")})
    assert judge.calls({"f": probe}, solution) == {"f": ["a"]}


def test_a_degenerate_is_paid_only_by_tests_that_call_it_in_its_task_or_a_judging_task() -> None:
    g = graded({"own": ("t", "passed", 2, ""), "never_calls": ("t", "passed", 3, ""),
                "other": ("u", "passed", 4, ""), "timing": ("eff", "passed", 5, ""),
                "free": ("t", "passed", 0, ""), "lost": ("t", "failed", 1, "")})
    paid = judge.degenerate_pay(g, "t", ["own", "other", "timing", "free", "lost"], ("eff",))
    assert {p["test"]: p["points"] for p in paid} == {"own": 2, "timing": 5}


def test_mutant_verdict_kill_hint_and_collateral_outside_shared_tasks() -> None:
    g = graded({"own": ("t", "failed", 2, "You swap the heads"), "shared": ("s", "failed", 1, ""),
                "other": ("u", "failed", 3, ""), "ok": ("t", "passed", 1, "")})
    v = judge.mutant_verdict(g, "t", ("s",), "SWAP THE")
    assert v["killed"] and v["hinted"]
    assert v["collateral"] == {"u": 3}
    assert not judge.mutant_verdict(g, "t", ("s",), "transpose")["hinted"]
    survivor = judge.mutant_verdict(graded({"own": ("t", "passed", 2, "")}), "t", (), "x")
    assert not survivor["killed"] and survivor["collateral"] == {}


def test_thresholds_fail_on_degenerate_points_and_collateral() -> None:
    full = graded({"a": ("t", "passed", 1, "")})
    zero = graded({"a": ("t", "error", 1, "")})
    mutants = [{"task": "t", "killed": True, "hinted": True, "collateral": {"u": 1.5}}]
    rows = judge.per_task(["t", "u"], mutants, [{"paid": [{"task": "t", "points": 2.0}]}])
    assert rows[0]["kill_rate"] == 1.0 and rows[1]["collateral"] == 1.5 and rows[0]["degenerate_points"] == 2.0
    checks = {c["check"]: c["ok"] for c in judge.checks(AuditThresholds(), reference=full, stub=zero, rows=rows,
                                                         mutants=mutants, alternatives={"alt": full})}
    assert checks == {"reference full marks": True, "stub scores zero": True, "degenerate points": False,
                      "mutant kill rate": True, "hint rate": True, "collateral": False,
                      "correct alternatives full marks": True}
    lenient = AuditThresholds(degenerate_points=2.0, collateral=1.5)
    assert all(c["ok"] for c in judge.checks(lenient, reference=full, stub=zero, rows=rows, mutants=mutants,
                                             alternatives={"alt": full}))


def test_vacuous_tests_and_tests_failing_a_correct_alternative() -> None:
    suite = {"a": ("t", 1.0), "b": ("t", 1.0)}
    solution = graded({"a": ("t", "passed", 1, ""), "b": ("t", "passed", 1, "")})
    mutant = graded({"a": ("t", "failed", 1, ""), "b": ("t", "passed", 1, "")})
    alt = graded({"a": ("t", "passed", 1, ""), "b": ("t", "failed", 1, "")})
    rows = {r["test"]: r for r in judge.test_table(suite, solution, {"m": mutant}, {"alt": alt}, [])}
    assert not rows["a"]["vacuous"] and rows["b"]["vacuous"]
    assert rows["b"]["fails_alternatives"] == ["alt"] and rows["a"]["fails_alternatives"] == []


def test_variant_log_flags_alike_variants_and_silent_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tol:
        rtol, atol = 1e-4, 1e-5

    monkeypatch.setenv("PYTEST_CURRENT_TEST", "test_x.py::test_y (call)")
    log = VariantLog()
    truth = np.arange(4.0)
    log.observe(truth, {"d_k": (truth * 2, "you divide by d_k"), "embed": (lambda: truth * 2, "sqrt(embed_dim)"),
                        "same_hint": (truth * 2, "you divide by d_k"), "silent": (truth, "never"),
                        "other": (truth + 1, "off by one"), "broken": (lambda: 1 / 0, "cannot run")}, Tol())
    found = log.findings()["test_x.py::test_y"]
    assert found["indistinguishable"] == [["d_k", "embed"], ["embed", "same_hint"]]
    assert found["equal_to_expected"] == ["silent"]
    log.observe(truth, {"d_k": (truth * 2, "a"), "embed": (truth * 3, "b")}, Tol())  # told apart once
    assert ["d_k", "embed"] not in log.findings()["test_x.py::test_y"]["indistinguishable"]


# ---------------------------------------------------------------------------- degenerates
SOLUTION = textwrap.dedent('''\
    import numpy as np

    def double(x):
        return 2 * np.asarray(x)

    class Box:
        def __init__(self):
            self.items = []

        def put(self, x):
            self.items.append(x)
            return np.asarray(x) + 1.0
''')


def _load(text: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "submission"}
    exec(compile(text, "submission.py", "exec"), namespace)  # noqa: S102 - our own generated test code
    return namespace


@pytest.mark.parametrize("kind,expected", [("zeros", [0.0, 0.0]), ("constant", [1.0, 1.0]),
                                           ("echo", [1.0, 2.0])])
def test_degenerate_function_returns_right_shape_without_the_work(kind: str, expected: list[float]) -> None:
    made = {d.name: d for d in degenerates(SOLUTION, {"t": ["double"]})}
    ns = _load(made[f"double {kind}, effects kept"].text)
    assert np.array_equal(ns["double"](np.array([1.0, 2.0])), expected)


def test_degenerate_nan_and_random_keep_the_shape() -> None:
    made = {d.name: d for d in degenerates(SOLUTION, {"t": ["double"]})}
    assert np.isnan(_load(made["double nan, effects kept"].text)["double"](np.ones(3))).all()
    assert _load(made["double random, effects kept"].text)["double"](np.ones((2, 3))).shape == (2, 3)


def test_method_degenerate_keeps_or_drops_side_effects() -> None:
    made = {d.name: d for d in degenerates(SOLUTION, {"t": ["Box.put"]})}
    assert len(made) == 2 * len(KINDS)
    kept = _load(made["Box.put zeros, effects kept"].text)["Box"]()
    dropped = _load(made["Box.put zeros, effects dropped"].text)["Box"]()
    assert np.array_equal(kept.put(np.ones(2)), np.zeros(2)) and len(kept.items) == 1
    assert np.array_equal(dropped.put(np.ones(2)), np.zeros(2)) and dropped.items == []


def test_declared_degenerate_gets_the_arguments_by_name_and_effect_only_parts_do_nothing() -> None:
    declared = "def halve(out, arguments):\n    return arguments['x'] / 2\n"
    made = {d.name: d for d in degenerates(SOLUTION, {"t": ["double", "Box.put"]}, effect_only=["Box.put"],
                                           declared={"halve": "double"}, declared_source=declared)}
    assert np.array_equal(_load(made["double halve, effects dropped"].text)["double"](np.array([4.0])), [2.0])
    box = _load(made["Box.put does nothing"].text)["Box"]()
    assert box.put(1) is None and box.items == []


def test_probe_raises_not_implemented() -> None:
    ns = _load(probes(SOLUTION, {"t": ["double"]})[0].text)
    with pytest.raises(NotImplementedError, match="proctor audit probe"):
        ns["double"](1)


# ---------------------------------------------------------------------------- corpora and config
def test_corpus_patch_that_does_not_apply_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "base.py").write_text("x = 1\n")
    (tmp_path / "corpus.py").write_text('BASE = "base.py"\nMUTANTS = {"m": ("t", "w", "bug", [("y = 1", "y = 2")])}\n')
    with pytest.raises(ProctorError, match="m: patch target found 0 times"):
        load_corpus(tmp_path)


def test_attention_corpora_build_and_declare_known_tasks(attention: Any) -> None:
    mutants = load_corpus(attention.audit.mutants)
    assert len(mutants.entries) >= 30
    for entry in mutants.entries:
        assert entry.task in attention.points and set(entry.shared) <= set(attention.points), entry.name
        assert entry.hint
    alternatives = {e.name for e in load_corpus(attention.audit.alternatives).entries}
    assert {"tensor_data", "float32_cache", "neg_inf_fill", "int_mask", "head_loop", "einsum"} <= alternatives


def test_audit_table_errors_name_the_key(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    text = (course / "course.toml").read_text()
    (course / "course.toml").write_text(text + textwrap.dedent('''
        [assignments.minimath.audit]
        solution = "submissions/missing.py"
        parts = {add = ["add"]}
        declared = {halve = "nothing"}
        [assignments.minimath.audit.thresholds]
        kill_rate = 2
    '''))
    with pytest.raises(ConfigError) as err:
        load_course(course / "course.toml")
    message = str(err.value)
    assert "assignments.minimath.audit.solution" not in message  # checked by the audit: see below
    assert "assignments.minimath.audit.declared.halve" in message
    assert "assignments.minimath.audit.thresholds.kill_rate: expected a fraction from 0 to 1" in message


def test_missing_audit_content_is_one_line_from_the_audit(tmp_path: Path) -> None:
    """course.toml loads without the audit content (a Gradescope export ships none of it);
    the audit itself names the key."""
    from proctor.cli import main

    course = tmp_path / "course"
    shutil.copytree(MINICOURSE, course)
    (course / "course.toml").write_text((course / "course.toml").read_text()
                                        + MINI_AUDIT.replace('mutants = "mutants"', 'mutants = "gone"'))
    (course / "mutants").mkdir()
    assert main(["--course", str(course), "audit", "minimath", "-q"]) == 2


# ---------------------------------------------------------------------------- a whole audit
MINI_AUDIT = '''
[assignments.minimath.audit]
solution = "submissions/correct.py"
mutants = "mutants"
serial_tasks = ["counter"]

[assignments.minimath.audit.parts]
add = ["add"]
scale = ["scale"]
counter = ["Counter.step"]
'''

MINI_MUTANTS = '''
BASE = "../submissions/correct.py"
MUTANTS = {
    "scale_adds": ("scale", "scale", "adds instead of multiplying",
                   [("np.multiply(x, k)", "np.add(x, k)")]),
    "add_breaks_scale": ("add", "never said", "declared in add, but breaks scale",
                         [("np.multiply(x, k)", "np.multiply(x, k) * 1.5")]),
}
'''


@pytest.fixture(scope="module")
def mini_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    from proctor.cli import main

    course = tmp_path_factory.mktemp("course")
    shutil.copytree(MINICOURSE, course, dirs_exist_ok=True)
    (course / "course.toml").write_text((course / "course.toml").read_text() + MINI_AUDIT)
    (course / "mutants").mkdir()
    (course / "mutants" / "corpus.py").write_text(MINI_MUTANTS)
    out = course / "out"
    code = main(["--course", str(course), "audit", "minimath", "--out", str(out), "-q", "--workers", "2"])
    return code, json.loads((out / "audit.json").read_text()), out


@pytest.mark.slow
def test_whole_audit_of_the_test_course(mini_audit: tuple[int, dict[str, Any], Path]) -> None:
    code, report, out = mini_audit
    assert code == 1 and not report["ok"]  # the test course has degenerate-paying tests
    checks = {c["check"]: c["ok"] for c in report["checks"]}
    assert checks["reference full marks"] and checks["stub scores zero"]
    assert checks["correct alternatives full marks"]
    assert not checks["collateral"] and not checks["mutant kill rate"] and not checks["hint rate"]
    mutants = {m["name"]: m for m in report["mutants"]}
    assert mutants["scale_adds"]["killed"] and not mutants["scale_adds"]["collateral"]
    assert not mutants["add_breaks_scale"]["killed"] and "scale" in mutants["add_breaks_scale"]["collateral"]
    assert report["calls"]["add"] and report["calls"]["Counter.step"]
    # scaling by zero expects zeros: it pays the zeros degenerate, and is listed with its
    # points (it sits in the serial half, beside the counter tests: both halves count)
    zeros = next(d for d in report["degenerates"] if d["name"] == "scale zeros, effects kept")
    assert [p["test"] for p in zeros["paid"]] == ["test_minimath.py::test_scale_zero"]
    assert not checks["degenerate points"]
    assert report["timing"]["serial_s"] > 0 and report["timing"]["parallel_s"] > 0
    # the two halves, merged, score exactly as one grading of the whole suite does
    from proctor.runner import grade_submission

    course = out.parent
    assignment = load_course(course / "course.toml").assignment("minimath")
    mutant = course / "scale_adds.py"
    mutant.write_text((course / "submissions" / "correct.py").read_text().replace("np.multiply(x, k)", "np.add(x, k)"))
    whole = grade_submission(assignment, mutant).to_dict()
    lost = {task: round(t["max_score"] - t["score"], 4) for task, t in whole["tasks"].items()
            if t["max_score"] > t["score"]}
    assert mutants["scale_adds"]["lost"] == lost
    assert (out / "audit.html").read_text().count("scale_adds") >= 1


# ---------------------------------------------------------------------------- never shipped
def _audit_content(assignment: Any) -> list[Path]:
    settings = assignment.audit
    files = [settings.degenerates, load_corpus(settings.mutants).base]
    for corpus in (settings.mutants, settings.alternatives):
        files += [p for p in Path(corpus).rglob("*.py")]
    return [Path(f) for f in files]


def test_release_and_gradescope_export_hold_nothing_of_the_audit_content(attention: Any, tmp_path: Path) -> None:
    """The mutants' base is a complete solution: neither the student release nor the
    Gradescope autograder (whose course/ a student's code never sees, but a leak there is
    one chmod away) may hold any file of the mutant corpus, the alternatives or the
    declared degenerates, by name or by content."""
    import zipfile

    from proctor.gradescope_export import export_gradescope
    from proctor.release import release_assignment

    content = _audit_content(attention)
    signatures = {f.read_bytes() for f in content}
    first_lines = [f.read_text().strip().splitlines()[0] for f in content]
    shipped: dict[str, bytes] = {}
    for path in release_assignment(attention, tmp_path / "release"):
        shipped[f"release/{path.name}"] = path.read_bytes()
    for path in (tmp_path / "release").rglob("*"):
        if path.is_file():
            shipped[f"release/{path.relative_to(tmp_path / 'release')}"] = path.read_bytes()
    with zipfile.ZipFile(export_gradescope(attention, tmp_path / "export")) as archive:
        for name in archive.namelist():
            if not name.startswith("proctor_src/"):  # the engine's own source
                shipped[f"zip/{name}"] = archive.read(name)
    assert len(shipped) > 10
    for name, data in shipped.items():
        parts = set(Path(name).parts)
        assert not parts & {"mutants", "alternatives", "corpus.py", "degenerates.py", "_base.py"}, name
        assert data not in signatures, name
        text = data.decode("utf-8", "replace")
        for line in first_lines:
            assert line not in text, (name, line)


def test_the_audit_checks_task_ids_before_splitting_the_suite(minimath, tmp_path: Path) -> None:
    """Its halves cannot tell a missing task from one in the other half, so the whole
    suite's ids are checked where it is collected, before any job is graded."""
    import dataclasses

    from proctor.audit.run import split_suite

    wrong = dataclasses.replace(minimath, points={**minimath.points, "countr": 5.0})
    with pytest.raises(ConfigError, match=r"assignments\.minimath\.points\.countr: no task 'countr'"):
        split_suite(wrong.graders, ["counter"], tmp_path, wrong)
    assert split_suite(minimath.graders, ["counter"], tmp_path / "ok", minimath).task_weights


def test_variant_recording_sees_assert_close_however_a_suite_imported_it() -> None:
    """Suites import ``assert_close`` from ``proctor.testing`` (or use the ``check``
    fixture), not from ``proctor.asserts``: the audit must still see every call's variants.
    Two variants with different hints and the same output on a check are flagged."""
    import numpy as np

    from proctor.audit.variants import VariantLog, recording
    from proctor.testing import Tolerance, assert_close

    log = VariantLog()
    same = {"a": (np.zeros(3), "hint a"), "b": (np.zeros(3), "hint b")}
    with recording(log):
        assert_close(np.ones(3), np.ones(3), tol=Tolerance(1e-4, 1e-5), what="x", variants=same)
    assert [f["indistinguishable"] for f in log.findings().values()] == [[["a", "b"]]]
    assert_close(np.ones(3), np.ones(3), tol=Tolerance(1e-4, 1e-5), what="x", variants=same)
    assert len(log.checks) == 1  # nothing recorded once the block has ended
