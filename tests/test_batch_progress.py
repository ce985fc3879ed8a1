"""The progress bar: a redrawn line with count, rate and ETA on a terminal; a few plain
lines in a log file; nothing when disabled."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from proctor.batch import Progress, run_batch
from proctor.errors import ProctorError


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_tty_bar_redraws_one_line_with_eta():
    stream = FakeTTY()
    bar = Progress(4, stream=stream)
    for name in "abcd":
        bar.update(name)
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "4/4 100%" in text and "ETA" in text and "/min" in text


def test_log_file_gets_at_most_one_line_per_tenth():
    stream = io.StringIO()
    bar = Progress(100, stream=stream)
    for i in range(100):
        bar.update(str(i))
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 11 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("[" + "#" * 28 + "] 100/100")


def test_disabled_prints_nothing():
    stream = io.StringIO()
    bar = Progress(3, enabled=False, stream=stream)
    bar.update("x")
    assert stream.getvalue() == ""


def test_empty_input_is_a_clear_error(tmp_path):
    (tmp_path / "subs").mkdir()
    with pytest.raises(ProctorError, match="no submissions found"):
        assignment = SimpleNamespace(id="x", notebook=Path("x.ipynb"))
        run_batch(assignment, tmp_path / "subs", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_summary_report_names_counts_files_and_problems():
    from proctor.batch import BatchSummary

    summary = BatchSummary(out="o", format="canvas", total=3, graded=2, rejected=1,
                           duration_s=30.0, workers=2, outputs={"canvas": "o/grades.csv"},
                           problems=["zoe: feedback.html not written"])
    text = summary.report()
    assert "3 submissions (canvas): 2 graded, 1 not gradable" in text
    assert "4.0 graded/min" in text and "o/grades.csv" in text and "! zoe" in text
    assert summary.to_dict()["per_minute"] == 4.0
