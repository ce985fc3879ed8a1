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
