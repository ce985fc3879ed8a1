"""Shared fixtures for proctor's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.sandbox import isolation

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MINICOURSE = DATA / "minicourse"


def load_tiny_course():
    """tests/data/lms/tiny_course.py, the course builder of the batch and export tests,
    loaded by path (independent of pytest's import mode), once."""
    import importlib.util
    import sys

    name = "proctor_tests_tiny_course"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, DATA / "lms" / "tiny_course.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


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


@pytest.fixture(scope="module")
def sandbox():
    """One fork server for a module's gradings (tests that vary the isolation level define
    their own)."""
    from proctor.sandbox.client import Sandbox

    box = Sandbox()
    try:
        yield box
    finally:
        box.close()
