"""Adding an assignment must not change the engine: every commit that adds or edits the
transformer's content (its contract and notebook, reference, suites, mutants, examples,
release) touches no file under ``proctor/``. Generic features it needed (``requires``,
grading on required work) landed in commits of their own. Read from git history, so it
holds for every commit since the transformer began, not just the current tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTENT = ("assignments/transformer/", "graders/transformer/", "reference/transformer",
           "mutants/transformer/", "examples/transformer/", "student_template/transformer/")


def _commits() -> list[tuple[str, list[str]]]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    log = subprocess.run(["git", "log", "--no-merges", "--format=@@%h %s", "--name-only"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    commits: list[tuple[str, list[str]]] = []
    for line in log.splitlines():
        if line.startswith("@@"):
            commits.append((line[2:], []))
        elif line.strip() and commits:
            commits[-1][1].append(line.strip())
    return commits


def test_transformer_content_commits_touch_no_engine_file() -> None:
    content = [(c, files) for c, files in _commits() if any(f.startswith(CONTENT) for f in files)]
    if not content:
        pytest.skip("the history holds no transformer commit (a shallow clone)")
    mixed = [(c[:80], [f for f in files if f.startswith("proctor/")]) for c, files in content]
    assert not [m for m in mixed if m[1]], [m for m in mixed if m[1]]
