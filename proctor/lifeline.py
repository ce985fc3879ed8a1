"""End a helper process when the process it works for ends, even if that one was killed.

``PR_SET_PDEATHSIG`` fires when the parent *thread* exits, which is wrong where the parent
is a thread pool's (Dask) and unavailable where the parent is not the process to follow
(a multiprocessing pool worker's parent is the fork server, not the batch). Instead, a
daemon thread waits on a pidfd of the followed process and leaves with ``os._exit``: the
helper's own children (a sandbox's fork server) then see their control socket close and
end too.
"""

from __future__ import annotations

import os
import select
import threading


def exit_with(pid: int) -> bool:
    """Exit this process as soon as process ``pid`` has ended. False where pidfds are not
    supported (Linux < 5.3): then nothing watches."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return False

    def watch() -> None:
        select.select([fd], [], [])
        os._exit(70)

    threading.Thread(target=watch, name=f"proctor-exit-with-{pid}", daemon=True).start()
    return True
