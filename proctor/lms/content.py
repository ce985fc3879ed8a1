"""Check that a chosen submission file is something worth grading, before any sandbox starts.

A corrupt or empty notebook, or a ``.py`` that is really binary, would otherwise reach the
grader and fail every test with a confusing message; here it becomes one clear error row.
"""

from __future__ import annotations

import json

__all__ = ["SUFFIXES", "check_content"]

SUFFIXES = (".ipynb", ".py")


def check_content(filename: str, data: bytes) -> str | None:
    """Why ``data`` is not a gradable ``.ipynb``/``.py`` file, or None when it is."""
    lower = filename.lower()
    if not data.strip():
        return f"{filename}: the file is empty"
    if lower.endswith(".ipynb"):
        return _check_notebook(filename, data)
    if lower.endswith(".py"):
        return _check_python(filename, data)
    return f"{filename}: not a .ipynb or .py file"


def _check_python(filename: str, data: bytes) -> str | None:
    if b"\x00" in data:
        return f"{filename}: binary data, not Python source (contains NUL bytes)"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return (f"{filename}: not UTF-8 text (byte {error.start}); is it really a .py "
                f"file? Save it as UTF-8 and resubmit")
    return None


def _check_notebook(filename: str, data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return f"{filename}: not a notebook (not UTF-8 text, byte {error.start})"
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        return (f"{filename}: corrupt notebook, not valid JSON (line {error.lineno}, "
                f"column {error.colno}: {error.msg}); was the upload cut short?")
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        return f"{filename}: JSON but not a Jupyter notebook (no cells)"
    import nbformat  # slow to import (jsonschema format checkers): only when needed

    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{filename}: invalid notebook ({type(error).__name__}: {message[:200]})"
    code = [c for c in nb.cells if c.cell_type == "code" and str(c.source).strip()]
    if not code:
        return f"{filename}: the notebook has no code (every code cell is empty)"
    return None
