"""Run a command as a child subreaper and report what of it is left: ``python
tests/process_watch.py [--kill-after-results DIR N] -- COMMAND...`` prints one JSON object.

Made a child subreaper (prctl PR_SET_CHILD_SUBREAPER through ctypes), this process
inherits every orphan the command leaves, so it can see them, zombies included, where init
would hide them. With ``--kill-after-results``, the command is killed with SIGKILL once
``DIR`` holds N ``*/result.json``, and survivors are polled for (up to ``--bound`` seconds,
a generous limit: the time it took is reported, not asserted).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def children() -> list[dict]:
    """This process's children (orphans of the command included): pid, state, command."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me:
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            found.append({"pid": int(entry.name), "state": fields[0], "cmd": cmd[:120] or name})
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-after-results", nargs=2, metavar=("DIR", "N"))
    parser.add_argument("--bound", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(json.dumps({"error": "prctl(PR_SET_CHILD_SUBREAPER) failed"}))
        return 1
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report: dict = {"killed": False}
    if args.kill_after_results:
        where, n = Path(args.kill_after_results[0]), int(args.kill_after_results[1])
        while proc.poll() is None and len(list(where.glob("*/result.json"))) < n:
            time.sleep(0.05)
        report["killed"] = proc.poll() is None
        proc.kill()
    report["returncode"] = proc.wait()
    gone_at = time.monotonic()
    report["left_at_exit"] = children()  # zombies included: nobody has reaped them yet
    deadline = gone_at + (args.bound if args.kill_after_results else 0.0)
    left = report["left_at_exit"]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [c for c in children() if c["state"] != "Z"]
    report["seconds_until_gone"] = round(time.monotonic() - gone_at, 2)
    report["left_after_bound"] = left
    while children():  # clean up whatever is left, and what it leaves in turn
        for c in children():
            try:
                os.kill(c["pid"], signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
