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
    "segfault": "error", "memory_hog": None,  # MemoryError, or a timeout while it pages in 1 GB
    "fork": "error", "sys_exit": "error",
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
    from proctor.sandbox.client import ChildRlimits

    monkeypatch.setattr(isolation, "command", lambda level, fd: [
        sys.executable, "-c", "import sys; sys.stderr.write('no numpy here'); sys.exit(3)"])
    box = Sandbox("rlimits").start()
    with pytest.raises(RuntimeError, match="sandbox \\(rlimits\\) failed to start: no numpy here"):
        box.spawn(ChildRlimits())
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


# ------------------------------------------------------------------ one broken part of attention
# tests/hostile/*.py: examples/submissions/correct.py with one part broken (built by
# tests/hostile/build.py). Graded with a short call timeout so the suite stays quick; what
# is asserted is what a student sees, never how long it took (bench/hostile_grade_time.py
# measures that).

HOSTILE_PARTS = DATA.parent / "hostile"
SHORT_CALL_S = 3.0


@pytest.fixture(scope="module")
def attention_short(attention):
    import dataclasses

    return dataclasses.replace(attention, limits=dataclasses.replace(attention.limits, call_timeout_s=SHORT_CALL_S))


def _by_task(result: dict) -> dict[str, list[dict]]:
    tasks: dict[str, list[dict]] = {}
    for test in result["tests"]:
        tasks.setdefault(test["task"], []).append(test)
    return tasks


def test_hostile_parts_are_built_from_the_correct_submission():
    import subprocess
    import sys

    assert subprocess.run([sys.executable, str(HOSTILE_PARTS / "build.py"), "--check"]).returncode == 0


@pytest.mark.parametrize("name", ["loop", "ignore_signals", "fork"])
def test_a_part_that_never_returns_times_out_once(name, attention_short, sandbox):
    """One timeout for the looping callable (each real timeout kills the process, so one
    restart), every later call to it fails at once with the same message, and every test of
    every other part runs and passes."""
    result = grade_submission(attention_short, HOSTILE_PARTS / f"{name}.py", sandbox=sandbox).to_dict()
    tasks = _by_task(result)
    for task, tests in tasks.items():
        if task != "multi_head":
            assert {t["status"] for t in tests} == {"passed"}, task
            assert result["tasks"][task]["score"] == result["tasks"][task]["max_score"]
    timeouts = [t for t in tasks["multi_head"] if t["status"] == "timeout"]
    assert len(timeouts) > 1
    assert {t["message"] for t in timeouts} == {
        f"Your code did not finish: MultiHeadAttention.forward ran for more than {SHORT_CALL_S:g} s and was stopped."}
    assert result["load"]["restarts"] == 1


def test_a_part_that_exhausts_memory_costs_only_its_own_points(attention_short, sandbox):
    result = grade_submission(attention_short, HOSTILE_PARTS / "memory.py", sandbox=sandbox).to_dict()
    tasks = _by_task(result)
    for task, tests in tasks.items():
        if task != "multi_head":
            assert {t["status"] for t in tests} == {"passed"}, task
    assert result["tasks"]["multi_head"]["score"] < result["tasks"]["multi_head"]["max_score"]
    assert all(t["message"] for t in tasks["multi_head"] if t["status"] != "passed")


def test_a_part_slow_only_on_efficiency_inputs_costs_efficiency_points_only(attention_short, sandbox):
    """The contract: a correct but inefficient submission loses efficiency points only. Its
    timeout in an efficiency test must not make correctness tests skip the same callable."""
    result = grade_submission(attention_short, HOSTILE_PARTS / "slow_large.py", sandbox=sandbox).to_dict()
    tasks = _by_task(result)
    for task, tests in tasks.items():
        if task != "efficiency":
            assert {t["status"] for t in tests} == {"passed"}, task
    assert "timeout" in {t["status"] for t in tasks["efficiency"]}
    assert result["tasks"]["efficiency"]["score"] < result["tasks"]["efficiency"]["max_score"]
    assert result["load"]["restarts"] == 1


def test_the_standard_library_imports_at_every_level(attention, sandbox):
    """Student code can import what the grader's Python can (heapq, logging, csv, glob,
    pprint, json, ...), at every isolation level, and uses it in every part."""
    result = grade_submission(attention, HOSTILE_PARTS / "stdlib_imports.py", sandbox=sandbox).to_dict()
    assert result["load"]["errors"] == []
    for task, total in result["tasks"].items():  # efficiency's time checks vary with load
        assert task == "efficiency" or total["score"] == total["max_score"], task


def test_import_descriptors_open_nothing_above_the_import_directories(minimath, sandbox, tmp_path):
    """The open import directories (proctor/sandbox/child/imports.py) let the child read
    below them, not climb out of them: root's home stays unlistable from the child."""
    import os

    if os.geteuid() != 0 or not os.path.isdir("/root/.pyenv"):
        pytest.skip("shows only where the grader is root with Python in root's home")
    if sandbox.level == "bwrap":
        pytest.skip("bubblewrap binds the prefix into an empty tree; no descriptors are used")
    source = (DATA / "minicourse" / "submissions" / "correct.py").read_text()
    probe = tmp_path / "climb.py"
    probe.write_text(source + '''

import os as _os


def _climbs():
    for fd in range(3, 64):
        for up in range(1, 8):
            try:
                if ".pyenv" in _os.listdir(f"/proc/self/fd/{fd}/" + "../" * up):
                    return True
            except OSError:
                pass
    return False


_add = add


def add(a, b):
    return None if _climbs() else _add(a, b)
''')
    result = grade_submission(minimath, probe, sandbox=sandbox).to_dict()
    assert result["tasks"]["add"]["score"] == result["tasks"]["add"]["max_score"]
