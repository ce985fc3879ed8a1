"""Bad input: one clear line and a documented exit status, and nothing lost.

A problem the user can fix before grading starts exits 2 with one line; a submission that
exists but cannot be used is graded (0, with the reason said once) and exits 0; ``--json``
prints JSON Lines. See README, "Exit status and output".
"""

from __future__ import annotations

import json

import pytest

from conftest import MINICOURSE
from proctor.cli import main

CORRECT = MINICOURSE / "submissions" / "correct.py"


def _grade(*argv: str) -> int:
    return main(["--course", str(MINICOURSE), "grade", "minimath", *argv])


def test_out_naming_an_existing_file_exits_2_with_one_line(tmp_path, capsys):
    taken = tmp_path / "results"
    taken.write_text("not a folder")
    assert _grade(str(CORRECT), "--out", str(taken)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "is a file" in err
    assert taken.read_text() == "not a folder"


def test_a_missing_submission_exits_2_with_one_line(tmp_path, capsys):
    assert _grade(str(tmp_path / "nope.py")) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "no such file" in err


@pytest.mark.parametrize("name, content, why", [
    ("empty.py", "", "is empty"),
    ("notes.txt", "my answers", "not a .py or .ipynb file"),
    ("broken.ipynb", '{"cells": [', "not a valid Jupyter notebook"),
])
def test_an_unusable_submission_is_graded_zero_saying_why_once(name, content, why, tmp_path, capsys):
    path = tmp_path / name
    path.write_text(content)
    assert _grade(str(path)) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and why in out and out.startswith(f"{name}: 0 / ")
    assert _grade(str(path), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["score"] == 0 and why in result["load"]["problem"]
    assert result["tests"] and all(t["status"] == "error" for t in result["tests"])
    assert not any(why in t["message"] for t in result["tests"])  # said once, in load.problem


def test_json_prints_one_object_per_submission_per_line(tmp_path, capsys):
    empty = tmp_path / "empty.py"
    empty.write_text("")
    assert _grade(str(empty), str(CORRECT), "--json") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["submission"] for line in lines] == ["empty.py", "correct.py"]


def test_show_gives_the_same_error_as_the_cli(tmp_path, capsys):
    from proctor.check import show
    from proctor.errors import SubmissionError

    missing = tmp_path / "nope.ipynb"
    with pytest.raises(SubmissionError) as caught:
        show(missing)
    assert main(["check", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"proctor: error: {caught.value}"
