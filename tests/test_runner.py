"""The runner: suites run with their own modules, whatever the process imported before."""

from __future__ import annotations

import sys
import types

from conftest import MINICOURSE, ROOT
from proctor.runner import collect_tasks, grade_submission


def test_same_named_modules_elsewhere_do_not_replace_the_suite(minimath, monkeypatch):
    impostor = types.ModuleType("test_minimath")
    monkeypatch.setitem(sys.modules, "test_minimath", impostor)
    monkeypatch.setitem(sys.modules, "public.test_public", types.ModuleType("public.test_public"))
    assert collect_tasks(minimath.graders) == {"add", "scale", "counter"}
    result = grade_submission(minimath, MINICOURSE / "submissions" / "correct.py")
    assert result.score == result.max_score == 40
    assert sys.modules["test_minimath"] is impostor  # put back afterwards
    assert not hasattr(sys.modules["public.test_public"], "__file__")  # the stub, not the suite's


def test_no_suite_module_is_left_behind(attention):
    """A suite's modules (its ``conftest`` among them) leave sys.modules with the run."""
    before = set(sys.modules)
    collect_tasks(attention.graders)
    left = {name for name in set(sys.modules) - before
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(attention.graders))}
    assert left == set()


def test_grading_twice_gives_identical_json(minimath):
    from proctor.result import without_timing

    path = MINICOURSE / "submissions" / "correct.py"
    first = without_timing(grade_submission(minimath, path).to_dict())
    second = without_timing(grade_submission(minimath, path).to_dict())
    assert first == second


def test_grading_attention_twice_gives_identical_json(attention):
    """Efficiency checks included: only their wall-clock measurements may differ."""
    from proctor.result import without_timing
    from proctor.sandbox.client import Sandbox

    path = ROOT / "examples" / "submissions" / "bug_mask_inverted.py"
    with Sandbox() as box:
        first = grade_submission(attention, path, sandbox=box).to_dict()
        second = grade_submission(attention, path, sandbox=box).to_dict()
    assert first["score"] < first["max_score"]
    assert without_timing(first) == without_timing(second)


def test_grade_output_folders_never_collide(tmp_path):
    from pathlib import Path

    from proctor.cli import output_folders

    subs = [Path("a/correct.py"), Path("a/correct.ipynb"), Path("b/alice.py")]
    folders = output_folders(tmp_path, subs)
    assert len(set(folders)) == 3
    assert folders[2] == tmp_path / "alice"
    assert output_folders(tmp_path, [Path("x/one.py")]) == [tmp_path]
