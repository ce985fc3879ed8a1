"""Hostile and broken submissions cost only the points of the tests they break.

Each submission in tests/data/hostile misbehaves only in ``scale``; the grader must
finish, give full marks for ``add`` and ``counter``, and explain what happened.
"""

from __future__ import annotations

import pytest

from conftest import DATA, isolation_levels
from proctor.runner import grade_submission
from proctor.sandbox.client import Sandbox

HOSTILE = DATA / "hostile"
EXPECTED_STATUS = {
    "hang": "timeout", "ignore_signals": "timeout", "deep_recursion": None,
    "segfault": "error", "memory_hog": "error", "fork": "error", "sys_exit": "error",
    "os_exit": "error", "print_flood": "error", "patch_numpy": "failed", "lying_equality": "failed",
}


@pytest.fixture(scope="module", params=isolation_levels())
def sandbox(request):
    with Sandbox(request.param) as box:
        yield box


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_hostile_submission_loses_only_its_own_points(name, minimath, sandbox):
    result = grade_submission(minimath, HOSTILE / f"{name}.py", sandbox=sandbox).to_dict()
    assert result["isolation"] == sandbox.level
    assert result["tasks"]["add"]["score"] == 10
    assert result["tasks"]["counter"]["score"] == 10
    assert result["tasks"]["scale"]["score"] == 0
    scale_tests = [t for t in result["tests"] if t["task"] == "scale"]
    assert scale_tests and all(t["message"] for t in scale_tests)
    expected = EXPECTED_STATUS[name]
    if expected is not None:
        assert {t["status"] for t in scale_tests} == {expected}


def test_print_flood_output_is_capped(minimath, sandbox):
    result = grade_submission(minimath, HOSTILE / "print_flood.py", sandbox=sandbox).to_dict()
    assert len(result["output"]) <= 70_000
    assert "File too large" in " ".join(t["message"] for t in result["tests"])


def test_sandbox_survives_many_crashes_in_a_row(minimath, sandbox):
    for name in ("segfault", "os_exit", "hang"):
        grade_submission(minimath, HOSTILE / f"{name}.py", sandbox=sandbox)
    result = grade_submission(minimath, DATA / "minicourse" / "submissions" / "correct.py", sandbox=sandbox)
    assert result.score == result.max_score


def test_a_sandbox_that_cannot_start_says_why(monkeypatch):
    """The fork server starts in the background; its failure surfaces, readable, at the
    first spawn, with what it printed."""
    import sys

    from proctor.sandbox import isolation
    from proctor.sandbox.client import ChildLimits

    monkeypatch.setattr(isolation, "command", lambda level, fd: [
        sys.executable, "-c", "import sys; sys.stderr.write('no numpy here'); sys.exit(3)"])
    box = Sandbox("rlimits").start()
    with pytest.raises(RuntimeError, match="sandbox \\(rlimits\\) failed to start: no numpy here"):
        box.spawn(ChildLimits())
    box.close()


def test_an_automatic_level_that_cannot_start_falls_back(monkeypatch, minimath):
    """Starting the fork server is the test of a level: where the strongest one fails (no
    user namespaces, say), the next is used, and the result says which."""
    import sys

    from conftest import MINICOURSE
    from proctor.sandbox import isolation

    real = isolation.command
    failing = isolation.candidates()[0]

    def command(level, fd):
        if level == failing:
            return [sys.executable, "-c", "raise SystemExit('no namespaces here')"]
        return real(level, fd)

    monkeypatch.setattr(isolation, "command", command)
    monkeypatch.delenv("PROCTOR_ISOLATION", raising=False)
    if len(isolation.candidates()) < 2:
        pytest.skip("only one isolation level is installed here")
    with Sandbox() as box:
        result = grade_submission(minimath, MINICOURSE / "submissions" / "correct.py", sandbox=box)
    assert result.isolation == isolation.candidates()[1] != failing
    assert result.score == result.max_score
