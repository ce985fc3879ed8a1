"""The same batch on a Dask cluster: one task per submission, results written client-side."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import load_tiny_course

from proctor.batch import run_batch
from proctor.config import load_course
from proctor.errors import ProctorError

tiny = load_tiny_course()
journal_lines, make_course, make_submissions = (tiny.journal_lines, tiny.make_course,
                                                tiny.make_submissions)

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_batch_on_dask_matches_truth(cluster, tmp_path):
    assignment = load_course(make_course(tmp_path / "course")).assignment("tiny")
    subs = tmp_path / "subs"
    truth = make_submissions(subs, 6)
    (subs / "broken.py").write_bytes(b"\x00\x01binary")
    out = tmp_path / "out"
    summary = run_batch(assignment, subs, out, scheduler=cluster.scheduler_address,
                        progress=False)
    assert (summary.graded, summary.rejected, summary.failed) == (6, 1, 0)
    assert summary.scheduler == cluster.scheduler_address
    for name, correct in truth.items():
        result = json.loads((out / name / "result.json").read_text())
        assert result["score"] == (10.0 if correct else 0.0), name
        assert result["isolation"]  # graded in a sandbox on the worker
    assert Counter(r["student_id"] for r in journal_lines(out)) == Counter(
        [*truth, "broken"])
    # resuming on the cluster grades nothing again
    again = run_batch(assignment, subs, out, scheduler=cluster.scheduler_address,
                      progress=False, resume=True)
    assert (again.graded, again.skipped) == (0, 7)


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    assignment = load_course(make_course(tmp_path / "course")).assignment("tiny")
    subs = tmp_path / "subs"
    make_submissions(subs, 1)
    with pytest.raises(ProctorError, match="cannot reach the Dask scheduler"):
        run_batch(assignment, subs, tmp_path / "out", scheduler="tcp://127.0.0.1:9",
                  progress=False)


def test_a_scheduler_without_workers_is_one_clear_error(tmp_path):
    assignment = load_course(make_course(tmp_path / "course")).assignment("tiny")
    subs = tmp_path / "subs"
    make_submissions(subs, 1)
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        with pytest.raises(ProctorError, match="has no workers") as caught:
            run_batch(assignment, subs, tmp_path / "out", scheduler=empty.scheduler_address,
                      progress=False)
    assert "\n" not in str(caught.value)


def test_a_course_batch_on_dask_grades_the_dependent_on_the_students_own_work(cluster, tmp_path):
    """The course and each student's required file reach the Dask task (scattered and
    passed as bytes): the same verdicts as the local pool (tests/test_batch_course.py)."""
    from test_batch_course import FILES, code, correct_minimath, make_chain

    from proctor.course_batch import run_course_batch

    chain = make_chain(tmp_path / "course")
    for aid, files in (("minimath", {"ada": correct_minimath(chain),
                                     "alan": code(FILES["subs/minimath_buggy.py"])}),
                       ("sums", {"ada": code(FILES["subs/sums_correct.py"]),
                                 "alan": code(FILES["subs/sums_correct.py"])})):
        (tmp_path / aid).mkdir()
        for who, data in files.items():
            (tmp_path / aid / f"{who}.py").write_bytes(data)
    out = tmp_path / "out"
    summary = run_course_batch(load_course(chain), [("minimath", tmp_path / "minimath"),
                                                    ("sums", tmp_path / "sums")], out,
                               scheduler=cluster.scheduler_address, progress=False)
    assert [summary.assignments[a].graded for a in summary.order] == [2, 2]
    alan = json.loads((out / "sums" / "alan" / "result.json").read_text())
    assert alan["score"] == 20 and alan["dependencies"]["minimath"]["own"]["file"] == "alan.py"
    assert alan["dependencies"]["minimath"]["passed_only_with_correct"] == 3
