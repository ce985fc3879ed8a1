"""Imported only as a multiprocessing fork-server preload: the fork server exits when the
process that started it (the batch) does, even after ``kill -9``. Its pool workers follow
the batch themselves (``proctor.batch._worker_start``); threads do not survive a fork."""

import os

from proctor.lifeline import exit_with

exit_with(os.getppid())
