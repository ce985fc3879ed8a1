"""The public API for writing a grader suite; everything else in ``proctor`` is private.

A suite (``graders/<assignment>/``) imports from here only::

    from proctor.testing import assert_close, CheckFailure, examples, seeds, quarter_steps

Fixtures the engine gives every suite test (no import needed): ``student``, ``reference``
(hidden tests only), ``golden``, ``tol`` (a :class:`Tolerance`), ``rng``, ``record``,
``assignment`` and ``check`` (a :class:`Checker`). See docs/authoring.md.
"""

from proctor.asserts import CheckFailure, assert_close, assert_raises, describe_value
from proctor.efficiency import assert_growth, assert_within_factor, measure_call
from proctor.sandbox.callback import Trusted
from proctor.sandbox.client import SandboxFailure
from proctor.sandbox.proxy import StudentError
from proctor.testing._alternatives import Alternative, Checker
from proctor.testing._golden import Evaluated, evaluated
from proctor.testing._profiles import HIDDEN_PROFILE, PUBLIC_PROFILE, examples, profile
from proctor.testing._strategies import (
    BLOCK, Case, blocking, chunk_schedule, quarter_steps, seeded, seeds)
from proctor.testing._tolerance import Tolerance

__all__ = [
    "BLOCK", "HIDDEN_PROFILE", "PUBLIC_PROFILE", "Alternative", "Case", "CheckFailure", "Checker",
    "Evaluated", "SandboxFailure", "StudentError", "Tolerance", "Trusted", "assert_close",
    "assert_growth", "assert_raises", "assert_within_factor", "blocking", "chunk_schedule",
    "describe_value", "evaluated", "examples", "measure_call", "profile", "quarter_steps",
    "seeded", "seeds",
]
