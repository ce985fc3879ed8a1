"""The correct `attention` a transformer is graded on when the student's own fails a test.

``reference/attention_stand_in.py`` holds no attention code: each call goes to the trusted
``reference/attention_service.py``. Graded by the attention assignment's own suites (a
submission that only re-exports it), it must earn every correctness task in full. The
efficiency task is out of its reach by design: a KV cache that lives on the trusted side
cannot be measured or pre-filled inside the sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.config import load_course
from proctor.dependencies import Requirement
from proctor.runner import grade_submission

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, sandbox):
    attention = load_course(REPO).assignment("attention")
    reexport = tmp_path_factory.mktemp("stand_in") / "reexport.py"
    reexport.write_text("from attention import (KVCache, MultiHeadAttention, ScaledDotProductAttention,\n"
                        "                       cached_self_attention, create_causal_mask)\n")
    stand_in = Requirement("attention", "attention", own=None, provides=attention.provides,
                           course_root=attention.course_root, reference=attention.reference)
    return grade_submission(attention, reexport, sandbox=sandbox, requirements=(stand_in,))


def test_the_stand_in_passes_every_correctness_task(graded) -> None:
    for task, totals in graded.tasks.items():
        if task != "efficiency":
            failing = [(t.name, t.message[:200]) for t in graded.tests if t.task == task and t.status != "passed"]
            assert totals["score"] == totals["max_score"] > 0, failing
    assert graded.dependencies["attention"]["correct"] == "stand_in"


def test_the_stand_in_holds_no_attention_code() -> None:
    source = (REPO / "reference/attention_stand_in.py").read_text()
    for computation in ("softmax", "np.exp", "sqrt", " @ ", "matmul", "einsum", "swapaxes", "reshape", "tril"):
        assert computation not in source, computation
