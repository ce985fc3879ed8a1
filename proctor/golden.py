"""Golden cases: reference outputs on public inputs, for tests that run without the reference.

Public tests need expected values, but students never receive the reference. So an
assignment's ``graders/<id>/golden_cases.py`` (hidden) defines functions
``case_<name>(reference) -> dict`` returning inputs, expected outputs and, if useful,
known-wrong variants' outputs with their hints.

The official grade computes them from those course sources (:func:`official_cases`,
memoised per process by the sources' content hash), so it never depends on release output
(an export that leaves the release out grades the same). ``proctor release`` writes the
same text to ``checks/golden/<name>.json`` for students' local checks, and ``proctor
validate`` checks those files equal a fresh computation byte for byte
(:func:`released_drift`), so local checks cannot drift from the official grade.

Files hold the wire format's JSON with array bytes in base64: exact, deterministic, and
never unpickled.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from proctor.errors import ProctorError
from proctor.sandbox.child import wire

if TYPE_CHECKING:
    from proctor.config import Gradable

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


def module_inside(module: Any, root: Path) -> bool:
    """Was ``module`` loaded from a file under ``root`` (a suite's own helper)?"""
    where = getattr(module, "__file__", None)
    return bool(where) and Path(where).resolve().is_relative_to(root)


@contextlib.contextmanager
def _helpers_importable(graders: Path) -> Iterator[None]:
    """The suite's directory on ``sys.path`` while its golden cases load and run, as the
    plugin puts it there for the suite's tests: ``golden_cases.py`` imports the suite's
    helpers by their plain names (``from _inputs import ...``). Taken off again after,
    unless it was there already (inside a grading run)."""
    root = Path(graders).resolve()
    where = str(root)
    added = where not in sys.path
    if added:
        sys.path.insert(0, where)
    # Another suite's helper of the same name (its ``_inputs``), imported earlier in this
    # process (validating or auditing every assignment), is set aside meanwhile, and put back.
    saved = {}
    for name in {p.stem for p in root.glob("*.py")}:
        module = sys.modules.get(name)
        if module is not None and not module_inside(module, root):
            saved[name] = sys.modules.pop(name)
    try:
        yield
    finally:
        sys.modules.update(saved)
        if added and where in sys.path:
            sys.path.remove(where)


def case_functions(graders: Path) -> dict[str, Callable[[Any], Any]]:
    """The ``case_*`` functions of ``graders/golden_cases.py`` (empty if there is none)."""
    path = Path(graders) / GOLDEN_MODULE
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location("_proctor_golden_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with _helpers_importable(graders):
        spec.loader.exec_module(module)
    return {name.removeprefix(CASE_PREFIX): fn for name, fn in sorted(vars(module).items())
            if name.startswith(CASE_PREFIX) and callable(fn)}


def compute_cases(graders: Path, reference: Any) -> dict[str, str]:
    """Every golden case of ``graders`` run against ``reference``: ``{name: json text}``."""
    with _helpers_importable(graders):  # a case may import a helper when it runs
        return {name: dumps(fn(reference)) for name, fn in case_functions(graders).items()}


def write_cases(graders: Path, reference: Any, out_dir: Path) -> list[Path]:
    """Run every golden case against ``reference`` and write ``out_dir/<name>.json``."""
    written = []
    for name, text in compute_cases(graders, reference).items():
        path = Path(out_dir) / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def _source_files(assignment: Gradable) -> list[Path]:
    """What a case's value can depend on: the suite's modules (golden_cases.py and the
    helpers it imports) and the reference package's source."""
    graders = Path(assignment.graders)
    root = Path(assignment.course_root)
    top = str(assignment.reference).split(".")[0]
    files = [p for p in graders.rglob("*.py") if "__pycache__" not in p.parts]
    files += [p for p in (root / top).rglob("*.py") if "__pycache__" not in p.parts] if (root / top).is_dir() \
        else [root / f"{top}.py"]
    return sorted(p for p in files if p.is_file())


def source_hash(assignment: Gradable) -> str:
    """Content hash of everything golden cases are computed from, plus the seed."""
    digest = hashlib.sha256(f"seed={int(assignment.seed)}\n".encode())
    root = Path(assignment.course_root)
    for path in _source_files(assignment):
        digest.update(f"{path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


#: Computed cases per content hash: a batch computes them once, not per submission.
_COMPUTED: dict[str, dict[str, str]] = {}


def official_cases(assignment: Gradable, reference: Any) -> dict[str, str]:
    """The assignment's golden cases computed from its course sources (memoised)."""
    key = source_hash(assignment)
    if key not in _COMPUTED:
        _COMPUTED[key] = compute_cases(Path(assignment.graders), reference)
    return _COMPUTED[key]


def released_drift(assignment: Gradable, reference: Any, released: Path) -> list[str]:
    """How the golden files in ``released`` differ from a fresh computation (none: equal)."""
    fresh = compute_cases(Path(assignment.graders), reference)
    present = {p.stem: p for p in Path(released).glob("*.json")} if Path(released).is_dir() else {}
    problems = [f"{released}: golden case {name!r} is missing; re-run `proctor release`"
                for name in sorted(set(fresh) - set(present))]
    problems += [f"{present[name]}: no such golden case any more; re-run `proctor release`"
                 for name in sorted(set(present) - set(fresh))]
    for name in sorted(set(fresh) & set(present)):
        text = present[name].read_text()
        if text != fresh[name]:
            problems.append(f"{present[name]} differs from a fresh computation "
                            f"({_difference(text, fresh[name])}); re-run `proctor release`")
    return problems


def _ulps(a: Any, b: Any) -> int | None:
    """Largest distance in units in the last place between two equal-shaped float values,
    or None when they differ in anything else (structure, shape, dtype, non-float data)."""
    import numpy as np

    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return None
        parts = [_ulps(a[k], b[k]) for k in a]
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return None
        parts = [_ulps(x, y) for x, y in zip(a, b)]
    elif isinstance(a, (float, np.ndarray, np.floating)) and isinstance(b, (float, np.ndarray, np.floating)):
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype != y.dtype or x.shape != y.shape or x.dtype.kind != "f":
            return 0 if np.array_equal(x, y) else None
        ints = np.dtype(f"i{x.dtype.itemsize}")
        return int(np.abs(x.view(ints).astype(np.int64) - y.view(ints).astype(np.int64)).max(initial=0))
    else:
        return 0 if a == b else None
    return None if None in parts else max(parts, default=0)


def _difference(old: str, new: str) -> str:
    """Say whether two case texts differ in substance or only in floating-point last bits."""
    try:
        ulps = _ulps(loads(old), loads(new))
    except (ValueError, KeyError, TypeError):
        return "not a readable golden case"
    if ulps is None:
        return "different inputs, shapes or hints"
    return (f"floats differ by up to {ulps} units in the last place, as happens between machines "
            "whose numpy uses different SIMD code")


class GoldenCases:
    """Golden cases by name (the ``golden`` fixture): from a directory of released files
    (students' checks) or from a lazily called ``compute()`` (the official grade)."""

    def __init__(self, directory: Path | None, compute: Callable[[], dict[str, str]] | None = None) -> None:
        self.directory = directory
        self.compute = compute
        self._texts: dict[str, str] | None = None
        self._cache: dict[str, Any] = {}

    def _text(self, name: str) -> str:
        if self.compute is not None:
            if self._texts is None:
                self._texts = self.compute()
            if name not in self._texts:
                raise ProctorError(f"golden case {name!r} not found: golden_cases.py has no case_{name}")
            return self._texts[name]
        path = (self.directory or Path("<none>")) / f"{name}.json"
        if not path.is_file():
            raise ProctorError(f"golden case {name!r} not found at {path}; run `proctor release` to make it")
        return path.read_text()

    def __call__(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = loads(self._text(name))
        return self._cache[name]
