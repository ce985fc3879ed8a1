"""The trusted side of the sandbox: start the zygote, spawn children, call them safely.

A :class:`Sandbox` owns one zygote (a fork server inside the isolation boundary). Each
submission gets a :class:`Child`; every request to it has a wall-clock deadline, and a
child that misses one is killed with its whole process group. A zygote that stops
answering is torn down with its namespace and started again.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from proctor.sandbox import isolation
from proctor.sandbox.callback import CallbackTable
from proctor.sandbox.child import wire

#: The most a child may send back in one reply (arrays included).
MAX_REPLY_BYTES = 256 * 1024 * 1024
_ZYGOTE_START_TIMEOUT_S = 60.0
_CONTROL_TIMEOUT_S = 5.0
#: How long close() lets the zygote end on its own (it does when its control socket closes).
_CLOSE_GRACE_S = 2.0


class SandboxFailure(Exception):
    """The child could not answer: it died, hung, or broke the protocol."""


class SandboxTimeout(SandboxFailure):
    """A call ran past its wall-clock limit; the child was killed."""


class SandboxCrashed(SandboxFailure):
    """The child died or sent something that is not a valid reply."""


@dataclass(frozen=True)
class ChildRlimits:
    """The OS resource limits (setrlimit) of one sandbox child, on top of the isolation
    level; the runner derives them from the course's ``SubmissionLimits``."""

    memory_mb: int = 1024
    cpu_s: int = 130
    output_bytes: int = 1 << 20

    def to_json(self) -> dict[str, int]:
        return {"memory_mb": self.memory_mb, "cpu_s": self.cpu_s, "output_bytes": self.output_bytes}


#: The former name, for code written before the rename.
ChildLimits = ChildRlimits


class Sandbox:
    """One fork server at a given isolation level; spawns children for submissions."""

    def __init__(self, isolation_level: str | None = None) -> None:
        self._levels = isolation.candidates(isolation_level)
        self._proc: subprocess.Popen | None = None
        self._ctrl: socket.socket | None = None
        self._ready = False

    @property
    def level(self) -> str:
        """The isolation level in use: the strongest whose fork server started (or, before
        the first start completes, the one being tried)."""
        return self._levels[0]

    @property
    def pid_namespace(self) -> bool:
        return self.level in ("bwrap", "unshare")

    # --------------------------------------------------------------- zygote
    def start(self) -> "Sandbox":
        """Start the fork server without waiting for it to be ready.

        Its interpreter imports numpy while the caller gets on with its own work (loading
        the course, collecting the suite); the first spawn waits for it. Optional: a
        spawn starts the server itself if needed.
        """
        if self._proc is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self._proc = subprocess.Popen(
                    isolation.command(self.level, theirs.fileno()), pass_fds=(theirs.fileno(),),
                    env=isolation.clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, start_new_session=True, cwd="/")
            except OSError as exc:  # the tool itself is missing or not executable
                ours.close()
                return self._failed_to_start(str(exc))
            finally:
                theirs.close()
            self._ctrl = ours
            self._ready = False
        return self

    def _failed_to_start(self, why: str) -> "Sandbox":
        """Try the next level if the level was chosen automatically, else say why."""
        self.close()
        if len(self._levels) > 1:
            self._levels.pop(0)
            return self.start()
        raise RuntimeError(f"the sandbox ({self.level}) failed to start: {why.strip() or 'no output'}")

    def _wait_ready(self) -> None:
        """Wait for the fork server's hello, or fail with what it printed."""
        assert self._ctrl is not None and self._proc is not None
        self._ctrl.settimeout(_ZYGOTE_START_TIMEOUT_S)
        try:
            hello = self._ctrl.recv(4096)
        except OSError:
            hello = b""
        if not hello:
            err = self._proc.stderr.read().decode(errors="replace")[-2000:] if self._proc.stderr else ""
            self._failed_to_start(err)
            return self._wait_ready()
        self._ctrl.settimeout(_CONTROL_TIMEOUT_S)
        self._ready = True
        del self._levels[1:]  # settled: a later restart never quietly drops to a weaker level

    def _control(self, request: dict, fds: list[int] | None = None) -> dict:
        if self._ctrl is None or self._proc is None or self._proc.poll() is not None:
            self.close()
            self.start()
        if not self._ready:
            self._wait_ready()
        assert self._ctrl is not None
        try:
            socket.send_fds(self._ctrl, [json.dumps(request).encode()], fds or [])
            reply = self._ctrl.recv(65536)
            if not reply:
                raise OSError("zygote closed its control socket")
            return json.loads(reply)
        except (OSError, ValueError):
            self.close()  # a zygote that stops answering is replaced whole
            raise

    def spawn(self, limits: ChildRlimits) -> "Child":
        """A fresh child process at this isolation level, ready to load a submission."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # The child runs on the CPUs this process may run on (see on_one_cpu).
        request = {"op": "spawn", "limits": limits.to_json(), "cpus": _allowed_cpus()}
        try:
            try:
                reply = self._control(request, [theirs.fileno()])
            except (OSError, ValueError):
                reply = self._control(request, [theirs.fileno()])
        finally:
            theirs.close()
        return Child(self, ours, int(reply["pid"]), self._proc.pid if self._proc else None)

    def kill_child(self, pid: int, zygote_pid: int | None) -> None:
        """Kill a child and its process group, wherever its pid namespace is."""
        if not self.pid_namespace:
            for send in (os.killpg, os.kill):
                try:
                    send(pid, signal.SIGKILL)
                except OSError:
                    pass
            return
        if self._proc is None or zygote_pid != self._proc.pid:
            return  # its whole namespace is already gone
        try:
            self._control({"op": "kill", "pid": pid})
        except (OSError, ValueError):
            pass  # _control already tore the namespace down, which killed the child

    def close(self) -> None:
        """Stop the zygote and everything in its namespace."""
        if self._ctrl is not None:
            self._ctrl.close()
            self._ctrl = None
        if self._proc is not None:
            # Let the zygote end on its own first: it kills its children and its wrapper
            # (unshare, bwrap) reaps it and exits. Killing the whole group at once would
            # orphan the zygote mid-exit, a zombie for whoever inherits it.
            _wait_exit(self._proc, _CLOSE_GRACE_S if self._ready else 0.0)
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self._proc.kill()
            self._proc.wait()
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _allowed_cpus() -> list[int] | None:
    """The CPUs this process may run on (None where the OS does not say: macOS)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _current_cpu() -> int | None:
    """The CPU this thread is running on now (field 39 of its ``stat``; None off Linux)."""
    try:
        with open("/proc/thread-self/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def on_one_cpu() -> Iterator[None]:
    """Run the body on one CPU, the one this process is on, and put back its CPUs after.

    Sandbox children spawned meanwhile run on that CPU too (they follow the grader's CPUs).
    Grading is a conversation: a test sends a request and waits while the child answers,
    so the two never run at once, and a submission takes ~1,000 such round trips. On one
    CPU each hand-over is a direct switch (~40 us a round trip); across two it wakes an idle
    CPU each time, ~300 us a round trip in a virtual machine: 0.3 s of a submission. Start
    the fork server first, so its numpy import still runs beside this process's imports.
    """
    before, cpu = _allowed_cpus(), _current_cpu()
    if not before or len(before) == 1 or cpu not in before:
        yield
        return
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _wait_exit(proc: subprocess.Popen, timeout: float) -> None:
    """Wait at most ``timeout`` seconds for ``proc`` to exit, returning as soon as it has.

    ``Popen.wait(timeout=...)`` polls, sleeping up to 50 ms between looks: a zygote that
    exits in a millisecond cost every ``proctor grade`` ~60 ms. A pidfd (Linux 5.3+)
    becomes readable the moment the process exits; it is opened only while the process is
    unreaped (our child), so its pid cannot have been reused.
    """
    if timeout > 0 and proc.returncode is None and hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(proc.pid)
        except OSError:
            fd = None
        if fd is not None:
            try:
                select.select([fd], [], [], timeout)
            finally:
                os.close(fd)
            timeout = 0.0
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


class Child:
    """One sandboxed process holding one loaded submission."""

    def __init__(self, sandbox: Sandbox, sock: socket.socket, pid: int, zygote_pid: int | None) -> None:
        self.sandbox = sandbox
        self.sock = sock
        self.pid = pid
        self.zygote_pid = zygote_pid
        self.alive = True
        self.death: str | None = None

    def request(self, header: dict, buffers: list[memoryview] | None = None, *,
                timeout: float, on_progress: Any = None,
                on_callback: Any = None) -> tuple[dict, list[bytearray]]:
        """Send one request and wait for its reply, at most ``timeout`` seconds.

        ``on_progress(header)`` receives interim messages (load progress) before the reply;
        ``on_callback(header, buffers)`` answers the student code's calls to objects lent
        with this request (``proctor.sandbox.callback``), returning ``(header, buffers)``.
        """
        if not self.alive:
            raise SandboxCrashed(self.death or "the submission's process is not running")
        deadline = time.monotonic() + max(timeout, 0.001)
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            wire.send_msg(self.sock, header, buffers)
            while True:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                reply, reply_buffers = wire.recv_msg(self.sock, MAX_REPLY_BYTES)
                if "progress" in reply and on_progress is not None:
                    on_progress(reply)
                    continue
                if "callback" in reply:  # nothing lent: refused (see callback.py)
                    answer = on_callback or CallbackTable().serve
                    wire.send_msg(self.sock, *answer(reply, reply_buffers))
                    continue
                return reply, reply_buffers
        except socket.timeout:
            self.kill(f"it did not finish within {timeout:.3g} s")
            raise SandboxTimeout(self.death) from None
        except wire.PeerClosed:
            self.kill(self._exit_reason())
            raise SandboxCrashed(self.death) from None
        except (wire.WireError, OSError, ValueError) as exc:
            self.kill(f"it sent an invalid reply ({exc})")
            raise SandboxCrashed(self.death) from None

    def _exit_reason(self) -> str:
        return "the process exited or was killed (a crash, sys.exit/os._exit, or a resource limit)"

    def kill(self, reason: str = "killed by the grader") -> None:
        if self.alive:
            self.alive = False
            self.death = reason
            self.sandbox.kill_child(self.pid, self.zygote_pid)
            self.sock.close()
