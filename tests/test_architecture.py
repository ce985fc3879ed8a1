"""docs/architecture.md is the newcomer's map: it must name every module the engine has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _map_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index("## Module map")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_every_module_is_on_the_map() -> None:
    """A module added without a line on the map fails here, with its path."""
    on_map = set(re.findall(r"^\| `(proctor/[^`]+\.py)` \|", _map_section(), re.M))
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "proctor").rglob("*.py")}
    assert sorted(modules - on_map) == [], "modules missing from docs/architecture.md's module map"
    assert sorted(on_map - modules) == [], "the map names modules that do not exist"


def test_the_map_gives_each_module_a_job() -> None:
    rows = re.findall(r"^\| `(proctor/[^`]+)` \| (.*) \|$", _map_section(), re.M)
    assert rows and all(job.strip() for _, job in rows)


def _imported_after(statement: str) -> set[str]:
    import os
    import subprocess
    import sys

    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return set(done.stdout.split())


def test_students_import_still_works_and_the_check_needs_no_cli() -> None:
    """Released READMEs say ``from proctor.check import show``; the local check it names
    no longer imports the CLI (they used to import each other)."""
    from proctor import check, local_check

    assert check.show is local_check.show and check.run_check is local_check.run_check
    loaded = _imported_after("from proctor.check import show")
    assert "proctor.local_check" in loaded and "proctor.cli" not in loaded


def test_the_terminal_summary_needs_no_templates() -> None:
    """``proctor grade`` without --out prints a summary; jinja2 loads only for a page."""
    assert "jinja2" not in _imported_after("from proctor.feedback.summary import summary_text")
