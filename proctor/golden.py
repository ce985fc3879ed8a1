"""Golden cases: reference outputs on public inputs, computed at release time.

Public tests need expected values, but students never receive the reference. So an
assignment's ``graders/<id>/golden_cases.py`` (hidden) defines functions
``case_<name>(reference) -> dict`` returning inputs, expected outputs and, if useful,
known-wrong variants' outputs with their hints. ``proctor release`` runs them and writes
``checks/golden/<name>.json`` into the student template. Both the official grade and the
student's local check read those same files, so a public test sees identical data in
both places.

Files hold the wire format's JSON with array bytes in base64: exact, deterministic, and
never unpickled.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from typing import Any, Callable

from proctor.errors import ProctorError
from proctor.sandbox.child import wire

GOLDEN_MODULE = "golden_cases.py"
CASE_PREFIX = "case_"


def dumps(value: Any) -> str:
    """Serialise nested arrays, numbers, strings, lists, tuples and dicts to JSON text.

    Dicts keep their order (deterministic, since cases build them the same way each time):
    a variants dict's order is the tie-break order of :func:`proctor.diagnose.match_variant`.
    """
    buffers: list[memoryview] = []
    header = wire.encode(value, buffers)
    data = {"value": header, "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]}
    return json.dumps(data, indent=1) + "\n"


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    data = json.loads(text)
    buffers = [bytearray(base64.b64decode(b)) for b in data["buffers"]]
    return wire.decode(data["value"], buffers)


def case_functions(graders: Path) -> dict[str, Callable[[Any], Any]]:
    """The ``case_*`` functions of ``graders/golden_cases.py`` (empty if there is none)."""
    path = Path(graders) / GOLDEN_MODULE
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location("_proctor_golden_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name.removeprefix(CASE_PREFIX): fn for name, fn in sorted(vars(module).items())
            if name.startswith(CASE_PREFIX) and callable(fn)}


def write_cases(graders: Path, reference: Any, out_dir: Path) -> list[Path]:
    """Run every golden case against ``reference`` and write ``out_dir/<name>.json``."""
    written = []
    for name, fn in case_functions(graders).items():
        path = Path(out_dir) / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(fn(reference)))
        written.append(path)
    return written


class GoldenCases:
    """Loads golden cases by name from a directory (the ``golden`` fixture)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._cache: dict[str, Any] = {}

    def __call__(self, name: str) -> Any:
        if name not in self._cache:
            path = (self.directory or Path("<none>")) / f"{name}.json"
            if not path.is_file():
                raise ProctorError(f"golden case {name!r} not found at {path}; run `proctor release` to make it")
            self._cache[name] = loads(path.read_text())
        return self._cache[name]
