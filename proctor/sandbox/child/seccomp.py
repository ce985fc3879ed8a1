"""A tiny seccomp filter: the student's process may not create processes or sockets.

RLIMIT_NPROC is not enough: the kernel exempts processes whose real uid is root, which is
what bubblewrap's user namespace maps to when the grader runs as root. A seccomp filter
holds whatever the uid. It makes fork/vfork/clone/clone3 (so also threads), socket and
ptrace fail with EPERM. It is installed after the sandbox's own setup, right before the
submission is loaded, and cannot be removed by the process afterwards.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_X32_SYSCALL_BIT = 0x40000000
_BPF_RET_K = 0x06
_OFFSET_NR, _OFFSET_ARCH = 0, 4

# (audit arch, {syscall name: number}) per machine.
_TABLES = {
    "x86_64": (0xC000003E, {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "socket": 41,
                            "socketpair": 53, "ptrace": 101}),
    "aarch64": (0xC00000B7, {"clone": 220, "clone3": 435, "socket": 198, "socketpair": 199,
                             "ptrace": 117}),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(arch: int, numbers: list[int]) -> list[tuple[int, int, int, int]]:
    deny = _SECCOMP_RET_ERRNO | errno.EPERM
    prog = [(_BPF_LD_W_ABS, 0, 0, _OFFSET_ARCH),
            (_BPF_JEQ_K, 1, 0, arch),            # unknown architecture: allow (cannot judge)
            (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
            (_BPF_LD_W_ABS, 0, 0, _OFFSET_NR),
            (_BPF_JGE_K, 0, 1, _X32_SYSCALL_BIT),  # the x32 ABI's aliases of the same calls
            (_BPF_RET_K, 0, 0, deny)]
    for nr in numbers:
        prog += [(_BPF_JEQ_K, 0, 1, nr), (_BPF_RET_K, 0, 0, deny)]
    prog.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW))
    return prog


def install() -> bool:
    """Install the filter in this process. Returns False where it is not supported."""
    table = _TABLES.get(platform.machine())
    if table is None or struct.calcsize("P") != 8:
        return False
    arch, numbers = table
    prog = _program(arch, sorted(numbers.values()))
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
