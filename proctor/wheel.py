"""A reproducible wheel of the engine, shipped inside each release.

proctor is not on the package index, and a bare ``proctor`` requirement would invite a
same-named stranger from it. So ``proctor release`` puts ``proctor-<version>-py3-none-any.whl``
in the student folder and ``requirements.txt`` names it by relative path.

The wheel is built from a clean copy of the engine's sources (no stale ``build/``, no
caches, fixed file modes) by the pinned setuptools backend, with ``SOURCE_DATE_EPOCH``
fixed, so the same sources give the same bytes on any machine with that setuptools.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from proctor import __version__
from proctor.errors import ProctorError

#: 1980-01-01, the earliest time a zip entry can carry.
SOURCE_DATE_EPOCH = "315532800"
_COPIED = ("pyproject.toml", "README.md", "LICENSE")
_SKIP = ("__pycache__", ".pyc", ".pyo")


def wheel_name() -> str:
    """The engine wheel's file name, as requirements.txt refers to it."""
    return f"proctor-{__version__}-py3-none-any.whl"


def source_tree() -> Path:
    """The engine's source checkout (where pyproject.toml sits beside the package)."""
    import proctor

    project = Path(proctor.__file__).resolve().parent.parent
    if not (project / "pyproject.toml").is_file():
        raise ProctorError(f"cannot build the engine wheel: proctor at {project} is not a source "
                           "checkout with a pyproject.toml (install proctor from its repository)")
    return project


def pinned_backend(pyproject: Path) -> str:
    """The exact setuptools version pyproject.toml's [build-system] pins."""
    import tomllib

    requires = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
    pins = [m.group(1) for r in requires if (m := re.fullmatch(r"setuptools==([\w.]+)", r.replace(" ", "")))]
    if not pins:
        raise ProctorError(f"{pyproject}: [build-system] must pin setuptools==<version> for a reproducible wheel")
    return pins[0]


def _stage(project: Path, stage: Path) -> None:
    """Copy what the wheel is built from, with fixed modes (umask must not change bytes)."""
    for name in _COPIED:
        if (project / name).is_file():
            shutil.copyfile(project / name, stage / name)
    shutil.copytree(project / "proctor", stage / "proctor", copy_function=shutil.copyfile,
                    ignore=lambda _dir, names: [n for n in names if n.endswith(_SKIP)])
    for path in [stage, *stage.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def build_wheel(out_dir: Path) -> Path:
    """Build the engine wheel into ``out_dir`` and return its path."""
    import setuptools

    project = source_tree()
    pinned = pinned_backend(project / "pyproject.toml")
    if setuptools.__version__ != pinned:
        raise ProctorError(f"building the engine wheel needs setuptools=={pinned} (pinned in pyproject.toml, "
                           f"so the bytes are reproducible); this Python has {setuptools.__version__}: "
                           f"pip install setuptools=={pinned}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="proctor-wheel-") as tmp:
        stage, dist = Path(tmp) / "src", Path(tmp) / "dist"
        stage.mkdir()
        _stage(project, stage)
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "0"}
        code = "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))"
        done = subprocess.run([sys.executable, "-c", code, str(dist)], cwd=stage, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ProctorError(f"building the engine wheel failed:\n{done.stderr[-2000:]}")
        built = dist / done.stdout.strip().splitlines()[-1]
        if built.name != wheel_name():
            raise ProctorError(f"the engine wheel came out as {built.name}, expected {wheel_name()} "
                               "(is proctor.__version__ the same as pyproject.toml's version?)")
        target = out_dir / built.name
        shutil.copyfile(built, target)
    return target
