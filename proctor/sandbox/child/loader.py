"""Run a submission's code into a namespace, one cell (or top-level statement) at a time.

Runs inside the sandbox. A cell that raises does not stop the rest: its error is recorded
and loading goes on, so definitions before and after it still count. IPython magics
(``%...``) and shell lines (``!...``) are not Python and are skipped.
"""

from __future__ import annotations

import ast
import traceback
from typing import Any, Callable

#: Cell magics whose body is still Python; any other ``%%magic`` cell is skipped whole.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})


def strip_ipython(source: str) -> tuple[str, int]:
    """Return the cell's Python part and how many magic or shell lines were dropped.

    A dropped line becomes ``pass`` at the same indentation, so the block structure and
    line numbers of everything else stay as the student wrote them.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in PYTHON_CELL_MAGICS:
            return "", len(lines)
        lines = ["pass"] + lines[1:]
        dropped = 1
    else:
        dropped = 0
    out = []
    for line in lines:
        if _is_magic_line(line):
            out.append(line[: len(line) - len(line.lstrip())] + "pass")
            dropped += 1
        else:
            out.append(line)
    return "\n".join(out), dropped


def _is_magic_line(line: str) -> bool:
    """True for ``%magic``, ``!cmd`` and ``x = %magic`` / ``x = !cmd``, not for ``a % b``."""
    stripped = line.strip()
    if stripped.startswith(("%", "!")):
        return True
    if "=" in stripped:
        rhs = stripped.split("=", 1)[1].lstrip()
        lhs = stripped.split("=", 1)[0]
        return rhs.startswith(("%", "!")) and not lhs.rstrip().endswith(("!", "<", ">", "="))
    return False


def split_module(source: str, filename: str) -> list[tuple[int, str]]:
    """Split a ``.py`` file into top-level statements so one failure does not hide the rest.

    Returns (first line, code) pairs. A file that does not parse is one unit, whose
    SyntaxError is then reported like any other load error.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return [(1, source)]
    lines = source.splitlines(keepends=True)
    units = []
    for node in tree.body:
        start = node.lineno - 1 if not getattr(node, "decorator_list", None) else min(
            d.lineno for d in node.decorator_list) - 1
        end = node.end_lineno or node.lineno
        # Pad with blank lines so tracebacks show the student's own line numbers.
        units.append((start + 1, "\n" * start + "".join(lines[start:end])))
    return units


def describe_error(exc: BaseException, keep: Callable[[str], bool]) -> dict[str, Any]:
    """A JSON-able account of a student exception, with only the student's frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if keep(f.filename)]
    tb = "".join(traceback.format_list(frames)) + "".join(
        traceback.format_exception_only(type(exc), exc))
    builtin = next((c.__name__ for c in type(exc).__mro__
                    if c.__module__ == "builtins" and issubclass(c, Exception)), None)
    line = frames[-1].lineno if frames else getattr(exc, "lineno", None)
    return {"type": type(exc).__name__, "builtin": builtin, "message": _safe_str(exc),
            "traceback": tb[-4000:], "line": line}


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:2000]
    except Exception:  # a student exception whose __str__ raises
        return f"<{type(exc).__name__} whose message could not be printed>"


def run_units(units: list[dict[str, Any]], namespace: dict[str, Any],
              progress: Callable[[int], None]) -> list[dict[str, Any]]:
    """Execute each unit ``{"index", "source", "filename", "kind"}``; return the errors.

    ``progress(index)`` is called before each unit so that the trusted side knows which
    unit was running if the process hangs or dies.
    """
    errors = []
    for unit in units:
        progress(unit["index"])
        code, _ = strip_ipython(unit["source"]) if unit["kind"] == "cell" else (unit["source"], 0)
        try:
            exec(compile(code, unit["filename"], "exec"), namespace)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # noqa: BLE001 - report all
            err = describe_error(exc, lambda fn: fn == unit["filename"])
            err["unit"] = unit["index"]
            err["where"] = unit["label"]
            errors.append(err)
    return errors
