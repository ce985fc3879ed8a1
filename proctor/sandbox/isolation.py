"""Choose how strongly the sandbox is isolated from the machine, and build its command.

Levels, strongest first:

* ``bwrap``: bubblewrap gives a read-only view of only the system libraries, the Python
  installation and proctor's child code; a private /tmp; new user, pid, network, IPC and
  UTS namespaces. The course's reference, suites and other submissions are not visible.
* ``unshare``: util-linux ``unshare`` gives no network and a private pid namespace, but the
  filesystem is the machine's (the child still drops to ``nobody`` when run as root).
* ``rlimits``: a plain child process with resource limits, for machines that allow
  neither. Students' local checks usually run at this level; nothing there is secret.

Every level also applies rlimits, setsid and the wall-clock timeouts.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy

CHILD_DIR = Path(__file__).with_name("child")
LEVELS = ("bwrap", "unshare", "rlimits")
_SANDBOX_CHILD_DIR = "/proctor_child"


def python_paths() -> list[str]:
    """Directories the sandboxed interpreter needs: its prefix and numpy's site dir."""
    numpy_site = str(Path(numpy.__file__).resolve().parent.parent)
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), numpy_site}
    return sorted(paths)


@functools.cache
def _bwrap_has_as_pid_1() -> bool:
    """bubblewrap 0.4+: the zygote can be the namespace's pid 1 (see ``_bwrap_command``)."""
    try:
        return "--as-pid-1" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True,
                                              timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


def _bwrap_command(python: str) -> list[str]:
    # --as-pid-1: the zygote is the namespace's init (it reaps its children itself), with no
    # bwrap init between: that init reports its exit before it has exited, so the outer
    # bwrap left it behind as a zombie for whoever inherited it.
    cmd = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           *(["--as-pid-1"] if _bwrap_has_as_pid_1() else []),
           "--die-with-parent", "--new-session", "--proc", "/proc", "--dev", "/dev",
           "--tmpfs", "/tmp", "--dir", "/work", "--chdir", "/tmp"]
    for sys_dir in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives",
                    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"):
        cmd += ["--ro-bind-try", sys_dir, sys_dir]
    for path in python_paths():
        cmd += ["--ro-bind", path, path]
    cmd += ["--ro-bind", str(CHILD_DIR), _SANDBOX_CHILD_DIR, "--"]
    return cmd + [python, "-I", f"{_SANDBOX_CHILD_DIR}/zygote.py"]


def command(level: str, control_fd: int) -> list[str]:
    """The argv that starts the zygote at ``level``, serving on ``control_fd``."""
    python = os.path.realpath(sys.executable)
    numpy_site = str(Path(numpy.__file__).resolve().parent.parent)
    if level == "bwrap":
        return _bwrap_command(python) + [str(control_fd), numpy_site]
    plain = [python, "-I", str(CHILD_DIR / "zygote.py"), str(control_fd), numpy_site]
    if level == "unshare":
        user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
        return ["unshare", *user, "--net", "--pid", "--fork", "--kill-child", "--"] + plain
    if level == "rlimits":
        return plain
    raise ValueError(f"unknown isolation level {level!r}; expected one of {', '.join(LEVELS)}")


@functools.cache
def available(level: str) -> bool:
    """Whether ``level`` actually works on this machine (tried once, then remembered)."""
    if level == "rlimits":
        return True
    tool = "bwrap" if level == "bwrap" else "unshare"
    if shutil.which(tool) is None:
        return False
    probe = command(level, 0)
    # Replace the zygote with a trivial import of numpy to test the same mounts.
    cut = probe.index("-I")
    argv = probe[:cut] + ["-I", "-c", "import sys; sys.path.append(sys.argv[1]); import numpy",
                          probe[-1]]
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, env=clean_env()).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def candidates(requested: str | None = None) -> list[str]:
    """The levels to try, strongest first, without trying any: ``requested`` (or env
    ``PROCTOR_ISOLATION``) alone, else every level whose tool is installed. Starting the
    fork server is the real test of a level (see ``Sandbox``); probing first would start
    an interpreter and import numpy twice."""
    requested = requested or os.environ.get("PROCTOR_ISOLATION") or None
    if requested:
        _check_name(requested)
        return [requested]
    return [level for level in LEVELS
            if level == "rlimits" or shutil.which("bwrap" if level == "bwrap" else "unshare")]


def _check_name(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown isolation level {level!r}; expected one of {', '.join(LEVELS)}")


def clean_env() -> dict[str, str]:
    """The whole environment the sandbox sees: nothing of the grader's."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
