"""The sandbox cannot see the course's secrets, the network, or the grader's environment."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

from conftest import MINICOURSE, ROOT, isolation_levels
from proctor.sandbox import isolation
from proctor.sandbox.client import Sandbox
from proctor.sandbox.proxy import StudentError, StudentModule, StudentSession
from proctor.submission import read_submission

PROBE = textwrap.dedent('''
    import os, socket
    import numpy as np

    def can_read(path):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            return True
        except OSError:
            return False

    def can_connect():
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(1)
            s.connect(("127.0.0.1", 9))
            return True
        except OSError as exc:
            return exc.errno not in (1, 13, 101, 97)  # EPERM, EACCES, ENETUNREACH, EAFNOSUPPORT

    def environment():
        return sorted(os.environ)

    def uid():
        return os.getuid()

    def object_array():
        return np.array([object()], dtype=object)

    def echo(x):
        return x

    def cpus():
        return sorted(os.sched_getaffinity(0))

    def mutate(x):
        x[...] = 0
        return x

    def everyday_imports():
        """What students' notebooks import: these must load at every isolation level,
        even where the child runs as nobody and cannot read the grader's Python prefix."""
        import math, random, time, itertools, functools, collections, dataclasses, typing
        import numpy.linalg, numpy.random
        return float(np.random.default_rng(0).standard_normal(3).sum() + math.sqrt(4)
                     + np.linalg.norm(np.eye(2)))
''')


@pytest.fixture(scope="module", params=isolation_levels())
def probe(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("probe") / "probe.py"
    path.write_text(PROBE)
    with Sandbox(request.param) as box:
        session = StudentSession(box, read_submission(path), call_timeout_s=10, submission_timeout_s=120)
        yield request.param, StudentModule(session)
        session.close()


@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs two CPUs")
def test_a_child_runs_on_the_cpus_of_its_grader(tmp_path):
    """`proctor grade` keeps itself and the submission's process on one CPU (on_one_cpu):
    each of a submission's ~1,000 round trips is then a switch on that CPU, not a wake-up
    of another one. Children spawned outside it may use every CPU the grader may."""
    from proctor.sandbox.client import on_one_cpu

    path = tmp_path / "probe.py"
    path.write_text(PROBE)
    every = sorted(os.sched_getaffinity(0))
    with Sandbox() as box:
        with on_one_cpu():
            one = sorted(os.sched_getaffinity(0))
            session = StudentSession(box, read_submission(path), call_timeout_s=10, submission_timeout_s=120)
            assert len(one) == 1 and StudentModule(session).cpus() == one
            session.close()
        assert sorted(os.sched_getaffinity(0)) == every
        session = StudentSession(box, read_submission(path), call_timeout_s=10, submission_timeout_s=120)
        assert StudentModule(session).cpus() == every
        session.close()


def test_environment_is_clean(probe, monkeypatch):
    _, student = probe
    assert "GRADER_SECRET" not in student.environment()
    assert set(student.environment()) <= set(isolation.clean_env()) | {"HOME", "TMPDIR", "PWD"}


def test_student_code_never_runs_as_root(probe):
    _, student = probe
    assert student.uid() != 0 or os.geteuid() != 0  # bwrap maps to nobody; others drop to nobody


def test_no_network(probe):
    _, student = probe
    assert student.can_connect() is False


def test_bwrap_hides_reference_suites_and_course(probe):
    level, student = probe
    if level != "bwrap":
        pytest.skip("only bubblewrap hides the filesystem")
    for secret in (ROOT / "reference" / "attention.py", MINICOURSE / "reference" / "minimath.py",
                   MINICOURSE / "graders" / "minimath" / "test_minimath.py", ROOT / "course.toml"):
        assert secret.exists()
        assert student.can_read(str(secret)) is False, secret


def test_values_cross_as_copies(probe):
    _, student = probe
    x = np.arange(6.0).reshape(2, 3)
    out = student.mutate(x)
    assert np.array_equal(x, np.arange(6.0).reshape(2, 3))  # the trusted copy is untouched
    assert np.array_equal(out, np.zeros((2, 3)))


def test_call_checking_inputs_reports_in_place_changes(probe):
    _, student = probe
    out, modified = student.call_checking_inputs("mutate", np.ones(3))
    assert modified == ["argument 1"] and np.array_equal(out, np.zeros(3))
    out, modified = student.call_checking_inputs("echo", x=np.ones(2))
    assert modified == [] and np.array_equal(out, np.ones(2))


def test_dtypes_and_shapes_roundtrip(probe):
    _, student = probe
    for value in (np.arange(5, dtype=np.int32), np.ones((2, 0, 3)), np.array(True), np.float32(2.5),
                  (1, "a", None, [1.5, np.nan]), {"k": np.eye(2)}):
        back = student.echo(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)


def test_object_arrays_do_not_cross_as_arrays(probe):
    _, student = probe
    back = student.object_array()
    assert not isinstance(back, np.ndarray)  # it stays in the sandbox, as a handle


def test_everyday_imports_work_at_every_level(probe):
    _, student = probe
    expected = np.random.default_rng(0).standard_normal(3).sum() + 2 + np.sqrt(2)
    assert student.everyday_imports() == pytest.approx(expected)


def test_missing_name_is_a_clear_error(probe):
    _, student = probe
    with pytest.raises(StudentError, match="does not define `nope`"):
        student.nope()
