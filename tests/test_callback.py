"""Lending a trusted object to student code for one call (``proctor.sandbox.callback``).

The student's code sees a stand-in: attribute reads and method calls are answered by the
trusted side, values crossing as copies; the stand-in works only during the call it came
with, so code that keeps it cannot use the trusted object to pass another task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proctor.sandbox.callback import CallbackTable, Trusted
from proctor.sandbox.client import Sandbox
from proctor.sandbox.proxy import StudentError, StudentModule, StudentSession
from proctor.submission import read_submission

STUDENT = '''
import numpy as np

kept = []

def use(store, x):
    """Append x through the lent object, read an attribute, try to write into a copy."""
    kept.append(store)
    total = store.add(x)
    seen = store.items
    seen[...] = -1.0            # a copy: the trusted object's array is untouched
    return total, seen, type(store).__name__

def use_later(x):
    """The kept stand-in, in a later call."""
    return kept[0].add(x)

def private(store):
    return store._secret

def overflow(store):
    try:
        store.add(np.ones(100))
    except ValueError as exc:
        return "caught ValueError: " + str(exc)

def object_result(store):
    return store.make_object()
'''


class Store:
    """A trusted collaborator: adds arrays into a fixed buffer."""

    def __init__(self) -> None:
        self.items = np.zeros(4)
        self.count = 0
        self._secret = "hidden"

    def add(self, x: np.ndarray) -> float:
        if self.count + len(x) > len(self.items):
            raise ValueError("full")
        self.items[self.count:self.count + len(x)] = x
        self.count += len(x)
        return float(self.items.sum())

    def make_object(self) -> Any:
        return object()


@pytest.fixture(scope="module")
def student(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("lend") / "student.py"
    path.write_text(STUDENT)
    with Sandbox() as box:
        session = StudentSession(box, read_submission(path), call_timeout_s=10,
                                 submission_timeout_s=120)
        yield StudentModule(session)
        session.close()


def test_student_code_uses_a_lent_object_through_copies(student: Any) -> None:
    store = Store()
    total, seen, kind = student.use(Trusted(store, "Store"), np.array([1.0, 2.0]))
    assert total == 3.0 and store.count == 2
    assert seen.tolist() == [-1.0] * 4
    assert store.items.tolist() == [1.0, 2.0, 0.0, 0.0]
    assert kind == "TrustedProxy"


def test_a_kept_stand_in_cannot_be_used_in_a_later_call(student: Any) -> None:
    """Student code keeps the stand-in (say, in a cached-attention test) and uses it in a
    later call (say, a KV-cache test): it raises, and the trusted object is unchanged."""
    store = Store()
    student.use(Trusted(store), np.array([1.0]))
    with pytest.raises(StudentError, match="lent by the grader for one call only"):
        student.use_later(np.array([5.0]))
    assert store.count == 1 and store.items.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_private_names_and_non_data_results_are_refused(student: Any) -> None:
    with pytest.raises(StudentError) as private:
        student.private(Trusted(Store()))
    assert "hidden" not in str(private.value)
    with pytest.raises(StudentError, match="cannot be sent"):
        student.object_result(Trusted(Store()))


def test_a_trusted_exception_reaches_student_code_as_its_type(student: Any) -> None:
    assert student.overflow(Trusted(Store())) == "caught ValueError: full"


def test_a_callback_for_nothing_lent_is_refused() -> None:
    reply, buffers = CallbackTable().serve({"callback": 7, "op": "getattr", "name": "items"}, [])
    assert reply["ok"] is False and "one call only" in reply["error"]["message"]
    assert buffers == []


def test_numbers_are_never_reused() -> None:
    table = CallbackTable()
    first = table.lend(Trusted(Store()))
    table.clear()
    assert table.lend(Trusted(Store()))["__callback__"] != first["__callback__"]
