"""Every process proctor starts dies with its parent and is reaped, at every level.

tests/process_watch.py runs the command as a child subreaper, so orphans (zombies
included) come back to it instead of disappearing under init. No wall-clock limit is
asserted: the kill test polls with a generous bound and the time it took is printed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, isolation_levels, load_tiny_course

WATCH = ROOT / "tests" / "process_watch.py"
CORRECT = ROOT / "examples" / "submissions" / "correct.py"


def _watch(*argv: str, cwd=ROOT) -> dict:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"}
    done = subprocess.run([sys.executable, str(WATCH), *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)
    return json.loads(done.stdout)


@pytest.mark.parametrize("level", isolation_levels())
def test_grade_leaves_no_process_behind_not_even_a_zombie(level):
    report = _watch("--", sys.executable, "-m", "proctor", "grade", "attention", str(CORRECT),
                    "--isolation", level)
    assert report["returncode"] == 0
    assert report["left_at_exit"] == []


@pytest.mark.slow
@pytest.mark.parametrize("level", isolation_levels())
def test_kill_9_of_a_batch_leaves_nothing_running(level, tmp_path, capsys):
    tiny = load_tiny_course()
    tiny.make_course(tmp_path / "course")
    tiny.make_submissions(tmp_path / "subs", 16, slow=0.3)
    report = _watch("--kill-after-results", "out", "3", "--bound", "120", "--", sys.executable, "-m", "proctor",
                    "--course", "course", "batch", "tiny", "subs", "-o", "out", "--workers", "2", "--no-progress",
                    "--isolation", level, cwd=tmp_path)
    assert report["killed"], "the batch finished before it could be killed"
    assert report["left_at_exit"], "nothing was running to check"
    assert report["left_after_bound"] == []
    with capsys.disabled():
        print(f"\n[{level}] all of the batch's processes gone {report['seconds_until_gone']} s after kill -9 "
              f"({len(report['left_at_exit'])} were running)")
