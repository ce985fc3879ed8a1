"""Imports from directories the child can no longer open by name, through open descriptors.

Without bubblewrap (the ``unshare`` and ``rlimits`` levels) there is no mount namespace in
which to show the child the interpreter's files, and a child that dropped from root to
``nobody`` cannot reach a Python installed in root's home (pyenv, conda, containers):
``/root`` is ``drwx------``. Changing the host's permissions is not ours to do. Instead the
zygote, still root, opens each import directory once (:func:`open_dirs`); every child
inherits those descriptors, and after dropping privileges :func:`install` puts a meta path
finder first that looks each module up through ``/proc/self/fd/N/...``. The kernel resolves
such a path from the open directory itself, without walking the directories above it, so
only what lies below an import directory becomes reachable, read-only as its permissions
say; ``..`` out of it still needs the search permission ``nobody`` lacks on ``/root``.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from typing import Any, Sequence

_FD_ROOT = "/proc/self/fd"


def open_dirs(paths: Sequence[Any]) -> dict[str, int]:
    """Open each existing directory of ``paths`` (``sys.path``); real path -> descriptor."""
    dirs: dict[str, int] = {}
    for entry in paths:
        if not isinstance(entry, str) or not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real not in dirs:
            try:
                dirs[real] = os.open(real, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                pass
    return dirs


class FdPathFinder:
    """Finds modules in the opened directories, for ``sys.path`` and packages' ``__path__``."""

    def __init__(self, dirs: dict[str, int]) -> None:
        # Longest first, so site-packages wins over a prefix that contains it.
        self.dirs = sorted(dirs.items(), key=lambda item: len(item[0]), reverse=True)

    def map(self, entry: str) -> str | None:
        """``entry`` as a path through an open descriptor, or None if none covers it."""
        real = os.path.realpath(entry) if not entry.startswith(_FD_ROOT) else entry
        for root, fd in self.dirs:
            if real == root or real.startswith(root + os.sep):
                return f"{_FD_ROOT}/{fd}{real[len(root):]}"
        return None

    def find_spec(self, fullname: str, path: Sequence[str] | None = None, target: Any = None) -> Any:
        entries = sys.path if path is None else path
        mapped = [m for m in (self.map(e) for e in entries if isinstance(e, str) and e) if m]
        if not mapped:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, mapped, target)

    def invalidate_caches(self) -> None:
        pass


def install(dirs: dict[str, int]) -> None:
    """Serve imports from ``dirs`` (see :func:`open_dirs`) before the normal path search."""
    if dirs:
        sys.meta_path.insert(0, FdPathFinder(dirs))
        sys.path_importer_cache.clear()
