"""The result of grading one submission, and its JSON (see docs/architecture.md).

Everything in it is computed on the trusted side. Apart from the timing field
``duration_s``, the same file always gives the same JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from proctor.atomic import write_json

STATUSES = ("passed", "failed", "error", "timeout")
#: Measurements that vary from run to run; everything else is deterministic.
TIMING_FIELDS = ("duration_s", "peak_memory_mb")
#: Keys of a test's ``details`` that hold wall-clock measurements (efficiency checks).
TIMING_DETAILS = ("time", "runtime")


@dataclass
class TestResult:
    """One test's verdict, with everything feedback needs to explain it."""

    id: str
    name: str
    task: str
    status: str
    score: float
    max_score: float
    visibility: str
    message: str = ""
    hint: str | None = None
    details: dict[str, Any] | None = None
    counterexample: str | None = None
    efficiency: dict[str, Any] | None = None


@dataclass
class Result:
    """The whole grade of one submission."""

    assignment: str
    submission: str
    score: float
    max_score: float
    tasks: dict[str, dict[str, float]]
    tests: list[TestResult]
    isolation: str
    duration_s: float
    peak_memory_mb: float | None = None
    proctor_version: str = ""
    seed: int = 0
    load: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    late: dict[str, Any] | None = None
    #: Keys other tools added (batch grading's ``student``, ``submission_sha256``...).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {**data.pop("extra"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        """Read a result back; keys this version does not know are kept in ``extra``."""
        known = {f.name for f in fields(cls)} - {"extra"}
        test_fields = {f.name for f in fields(TestResult)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["tests"] = [TestResult(**{k: v for k, v in t.items() if k in test_fields})
                           for t in data.get("tests", [])]
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known})

    def write(self, out_dir: Path | str) -> Path:
        """Write ``result.json`` into ``out_dir`` atomically: never a half-written file."""
        return write_json(Path(out_dir) / "result.json", self.to_dict())


def without_timing(data: dict[str, Any]) -> dict[str, Any]:
    """A result dict without its measurements, for comparing two gradings of one file."""
    out = {k: v for k, v in data.items() if k not in TIMING_FIELDS}
    out["tests"] = [{**test, "details": {k: v for k, v in test["details"].items() if k not in TIMING_DETAILS}}
                    if isinstance(test.get("details"), dict) else test for test in data.get("tests", [])]
    return out
