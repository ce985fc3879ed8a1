"""Shared fixtures for proctor's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.sandbox import isolation

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MINICOURSE = DATA / "minicourse"


def isolation_levels() -> list:
    """Every isolation level, skipped where this machine cannot provide it."""
    return [pytest.param(level, marks=pytest.mark.skipif(not isolation.available(level),
                                                         reason=f"{level} is not available here"))
            for level in isolation.LEVELS]


@pytest.fixture(scope="session")
def minimath():
    from proctor.config import load_course

    return load_course(MINICOURSE / "course.toml").assignment("minimath")


@pytest.fixture(scope="session")
def attention():
    from proctor.config import load_course

    return load_course(ROOT / "course.toml").assignment("attention")
