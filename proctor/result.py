"""The result of grading one submission, and its JSON (see docs/architecture.md).

Everything in it is computed on the trusted side. Apart from the timing field
``duration_s``, the same file always gives the same JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
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
    """One test's verdict, with everything feedback needs to explain it.

    The plugin creates it when the test is collected and fills in the verdict as the test
    runs; the runner then sets ``score`` and ``max_score`` from course.toml's points.
    """

    id: str
    name: str
    task: str
    status: str = "passed"
    score: float = 0.0
    max_score: float = 0.0
    visibility: str = "hidden"
    message: str = ""
    hint: str | None = None
    details: dict[str, Any] | None = None
    counterexample: str | None = None
    efficiency: dict[str, Any] | None = None
    #: Stable id of the misconception behind a failure (the known-wrong variant that matched,
    #: or a diagnosis such as ``error:NotImplementedError``), so feedback can group by it.
    misconception: str | None = None
    #: Public tests only: the failing input as named values (arrays as nested lists).
    example: dict[str, Any] | None = None
    #: "correct" when this verdict is from the run on correct versions of the required
    #: assignments' work (course.toml ``requires``), not the student's own; None otherwise.
    dependency: str | None = None


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
    #: Per required assignment: the student's file of it (name, sha256) or why none was
    #: used, which correct version stood in where needed, and how many tests passed only on it.
    dependencies: dict[str, dict[str, Any]] | None = None
    #: Keys other tools added (batch grading's ``student``, ``submission_sha256``...).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # Only assignments that require others say which work they ran on: every other
        # result keeps the JSON it always had.
        if data["dependencies"] is None:
            del data["dependencies"]
        for test in data["tests"]:
            if test["dependency"] is None:
                del test["dependency"]
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


@dataclass(frozen=True)
class LoadNote:
    """One thing that happened while loading a submission: the one schema every writer reads.

    ``kind`` is ``"error"`` (a part raised), ``"skipped"`` (a part hung or crashed and was
    left out) or ``"note"`` (nothing wrong: e.g. an nbgrader test cell that is not run).
    ``where`` names the part as the student finds it: ``cell [5]`` (its execution count),
    the cell's first line, or ``line 12`` of a script.
    """

    kind: str
    where: str
    message: str
    type: str = ""
    unit: int | None = None
    line: int | None = None
    traceback: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind != "note"

    def text(self) -> str:
        """One line: "cell [3] raised NameError: name 'x' is not defined"."""
        if not self.is_error:
            return f"{self.where}: {self.message}" if self.where else self.message
        what = ": ".join(x for x in (self.type, self.message) if x) or "an error"
        where = self.where
        if self.line is not None and not where.startswith("line "):  # a script's where is its line
            where += f", line {self.line}"
        if self.kind == "skipped":
            return f"{where}: {self.message}" if where else self.message
        return f"{where} raised {what}" if where else what

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_notes(load: Any) -> list[LoadNote]:
    """Every load note of a result's ``load`` block, errors first: the one reader.

    Reads the current shape (``errors``/``notes`` lists of :class:`LoadNote` dicts) and the
    older ones (``{"cell": 3, "error": "..."}``, the loader's ``unit/where/type/message``,
    notes as plain strings), so results written by earlier versions still read.
    """
    if not isinstance(load, dict):
        return []
    out: list[LoadNote] = []
    for key, kind in (("errors", "error"), ("notes", "note")):
        for item in load.get(key) or []:
            if isinstance(item, str):
                out.append(LoadNote(kind=kind, where="", message=item))
            elif isinstance(item, dict):
                out.append(_note_from_dict(item, kind))
    return out


def _note_from_dict(d: dict[str, Any], default_kind: str) -> LoadNote:
    kind = str(d.get("kind") or ("skipped" if d.get("type") == "Skipped" else default_kind))
    where = d.get("where") or (f"cell {d['cell']}" if d.get("cell") is not None else "")
    message, type_ = str(d.get("message") or ""), str(d.get("type") or "")
    if not message and d.get("error"):  # the short form: "NameError: ..." in one string
        type_, _, message = str(d["error"]).rpartition(": ") if ": " in str(d["error"]) else ("", "", str(d["error"]))
    line = d.get("line")
    unit = d.get("unit")
    return LoadNote(kind=kind, where=str(where), message=message, type="" if type_ == "Skipped" else type_,
                    unit=unit if isinstance(unit, int) else None, line=line if isinstance(line, int) else None,
                    traceback=str(d.get("traceback") or ""))


def load_block(problem: str | None, errors: list[dict[str, Any]], notes: list[str], restarts: int,
               labels: dict[int, str] | None = None) -> dict[str, Any]:
    """A result's ``load`` block, in the one schema; ``labels`` maps a part's index to the
    name the student knows it by (a notebook cell's execution count or first line)."""
    read = [_note_from_dict(e, "error") for e in errors if isinstance(e, dict)]
    if labels:
        read = [replace(n, where=labels.get(n.unit, n.where)) if n.unit is not None else n for n in read]
    return {"problem": problem,
            "errors": [n.to_dict() for n in read],
            "notes": [LoadNote(kind="note", where="", message=str(n)).to_dict() for n in notes],
            "restarts": restarts}


def without_timing(data: dict[str, Any]) -> dict[str, Any]:
    """A result dict without its measurements, for comparing two gradings of one file."""
    out = {k: v for k, v in data.items() if k not in TIMING_FIELDS}
    out["tests"] = [{**test, "details": {k: v for k, v in test["details"].items() if k not in TIMING_DETAILS}}
                    if isinstance(test.get("details"), dict) else test for test in data.get("tests", [])]
    return out
