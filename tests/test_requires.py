"""The ``requires`` marker: a check that code doing no work could satisfy (an invariance,
"inputs unchanged", a one-key case) earns its points only together with a test such code
fails. Unit-level, on the plugin's outcomes."""

from __future__ import annotations

from proctor.plugin import _apply_requirements, _matches
from proctor.result import TestResult


def outcome(nodeid: str, status: str = "passed") -> TestResult:
    return TestResult(id=nodeid, name=nodeid.split("::")[-1], task="t", visibility="hidden",
                      status=status)


def test_patterns_match_parametrizations_and_any_directory() -> None:
    assert _matches("public/test_a.py::test_x[1-2]", "test_a.py::test_x")
    assert _matches("test_a.py::test_x", "test_a.py::test_x")
    assert not _matches("public/other_test_a.py::test_x", "test_a.py::test_x")
    assert not _matches("test_a.py::test_xy", "test_a.py::test_x")


def test_a_pass_counts_only_when_what_it_requires_passed() -> None:
    gate = outcome("public/test_a.py::test_fixed", "failed")
    gated = outcome("test_b.py::test_invariance")
    _apply_requirements(gated, ("test_a.py::test_fixed",), {o.id: o for o in (gate, gated)})
    assert gated.status == "failed"
    assert "test_fixed" in gated.message and "counts only together" in gated.message
    assert gated.details == {"requires": ["public/test_a.py::test_fixed"]}

    gate.status = "passed"
    again = outcome("test_b.py::test_invariance")
    _apply_requirements(again, ("test_a.py::test_fixed",), {o.id: o for o in (gate, again)})
    assert again.status == "passed"


def test_every_parametrization_of_a_required_test_must_pass() -> None:
    runs = [outcome("t.py::test_g[1]"), outcome("t.py::test_g[2]", "error")]
    gated = outcome("t.py::test_h")
    _apply_requirements(gated, ("t.py::test_g",), {o.id: o for o in (*runs, gated)})
    assert gated.status == "failed"


def test_a_required_test_that_did_not_run_decides_nothing() -> None:
    """A public-only run (students' local checks) may not have the hidden gate."""
    gated = outcome("public/t.py::test_h")
    _apply_requirements(gated, ("test_hidden.py::test_g",), {gated.id: gated})
    assert gated.status == "passed"


def test_a_failure_keeps_its_own_message() -> None:
    gate = outcome("t.py::test_g", "failed")
    gated = outcome("t.py::test_h", "failed")
    gated.message = "its own"
    _apply_requirements(gated, ("t.py::test_g",), {o.id: o for o in (gate, gated)})
    assert gated.message == "its own"
