"""The fork server: preloads numpy once, then forks one child per submission.

Started by the trusted side (inside bubblewrap when available) as
``python zygote.py CONTROL_FD [EXTRA_SYS_PATH ...]``. The control socket is a
SOCK_SEQPACKET pair: each request is one JSON message, and a ``spawn`` request carries
the file descriptor of the socket the new child will serve on. Forking a process that
already imported numpy costs a millisecond where a fresh interpreter costs ~100 ms.

Only this directory is visible to the sandbox; it imports nothing else of proctor.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path[:0] = [os.path.dirname(os.path.abspath(__file__))] + sys.argv[2:]

import numpy  # noqa: E402,F401 - the point of the zygote: import once, fork many

# What submissions commonly import, loaded before children drop to nobody: without
# bubblewrap a child may not be able to read the grader's Python prefix (pyenv under
# /root), and numpy 2 imports numpy.random and numpy.linalg only when first used.
PRELOAD = ("numpy.random", "numpy.linalg", "numpy.fft", "math", "cmath", "random", "statistics",
           "itertools", "functools", "collections", "dataclasses", "typing", "abc", "enum",
           "copy", "warnings", "string", "re", "operator", "textwrap", "time", "decimal",
           "fractions")
for _name in PRELOAD:
    try:
        __import__(_name)
    except ImportError:
        pass

import imports  # noqa: E402
import loader  # noqa: E402,F401
import seccomp  # noqa: E402
import server  # noqa: E402
import wire  # noqa: E402,F401

NOBODY = 65534
#: The import directories, opened while the zygote can still read them (see imports.py).
IMPORT_DIRS = imports.open_dirs(sys.path)
_PR_SET_DUMPABLE = 4
_PR_SET_PDEATHSIG = 1


def _not_dumpable() -> None:
    """Stop same-uid children from ptracing the zygote or reading its /proc entries."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    try:
        resource.setrlimit(which, (soft, soft if hard is None else hard))
    except (ValueError, OSError):
        pass


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def child_main(fd: int, req: dict, workdir: str, zygote: int) -> None:
    """Become the sandboxed child for one submission. Never returns."""
    code = 0
    try:
        # The zygote is single-threaded, so this fires exactly when it dies, however it dies.
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != zygote:  # it died before that took effect
            os._exit(code)
        if req.get("cpus"):  # the grader's CPUs: one, when it waits on this child there
            try:
                os.sched_setaffinity(0, req["cpus"])
            except (OSError, ValueError):
                pass
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full output file fails writes, not the process
        os.setsid()
        os.chdir(workdir)
        out = os.open(os.path.join(workdir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        output_reader = os.open(os.path.join(workdir, "output.txt"), os.O_RDONLY)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        os.close(devnull)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        if os.geteuid() == 0:  # outside bubblewrap's user namespace: give up root
            os.chown(workdir, NOBODY, NOBODY)
            os.chown(os.path.join(workdir, "output.txt"), NOBODY, NOBODY)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            imports.install(IMPORT_DIRS)
        os.environ["HOME"] = workdir
        os.environ["TMPDIR"] = workdir
        tempfile.tempdir = workdir
        limits = req["limits"]
        _set_limit(resource.RLIMIT_AS, _vm_bytes() + int(limits["memory_mb"]) * 1024 * 1024)
        _set_limit(resource.RLIMIT_CPU, int(limits["cpu_s"]), int(limits["cpu_s"]) + 5)
        _set_limit(resource.RLIMIT_FSIZE, int(limits["output_bytes"]))
        _set_limit(resource.RLIMIT_NOFILE, 64)
        _set_limit(resource.RLIMIT_CORE, 0)
        _set_limit(resource.RLIMIT_NPROC, 1)  # no forks, no threads (root is exempt: see seccomp)
        sock = socket.socket(fileno=fd)
        sock.setblocking(True)
        seccomp.install()
        server.Server(sock, output_reader).serve()
    except BaseException:  # noqa: BLE001 - nothing may escape into the zygote's loop
        code = 70
    finally:
        os._exit(code)


def main() -> None:
    ctrl = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    _not_dumpable()
    root = tempfile.mkdtemp(prefix="proctor-")
    children: dict[int, str] = {}
    ctrl.send(json.dumps({"ready": True, "pid": os.getpid(), "uid": os.geteuid()}).encode())
    try:
        while True:
            data, fds, _flags, _addr = socket.recv_fds(ctrl, 65536, 4)
            if not data:
                return
            req = json.loads(data)
            reply: dict = {"ok": True}
            if req["op"] == "spawn":
                _forget_dead(children)
                workdir = tempfile.mkdtemp(dir=root)
                zygote = os.getpid()
                pid = os.fork()
                if pid == 0:
                    ctrl.close()
                    child_main(fds[0], req, workdir, zygote)
                children[pid] = workdir
                reply["pid"] = pid
            elif req["op"] == "kill":
                _kill(int(req["pid"]))
            for fd in fds:
                os.close(fd)
            ctrl.send(json.dumps(reply).encode())
    finally:
        for pid in list(children):
            _kill(pid)
        shutil.rmtree(root, ignore_errors=True)


def _kill(pid: int) -> None:
    for send in (os.killpg, os.kill):
        try:
            send(pid, signal.SIGKILL)
        except OSError:
            pass


def _forget_dead(children: dict[int, str]) -> None:
    """Remove the working directories of children that have exited."""
    for pid, workdir in list(children.items()):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(workdir, ignore_errors=True)
            del children[pid]
        except PermissionError:
            pass


if __name__ == "__main__":
    main()
    # Its control socket closed: nothing is left to do. Skip the interpreter's teardown
    # (numpy's modules and all), ~30 ms that Sandbox.close() would wait for.
    sys.stderr.flush()
    os._exit(0)
