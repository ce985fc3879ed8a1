"""The batch journal: an append-only, fsync'd record of every submission finished.

One JSON object per line in ``DIR/journal.jsonl``, keyed by the student id and the sha256
of the submission's bytes, written only after the student's ``result.json`` is safely on
disk. After a crash (even ``kill -9`` or a power cut) ``--resume`` reads it back and skips
what is done; a line cut short by the crash is ignored and the file is repaired before the
next append, so one bad write can never corrupt the next record.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["DONE_STATUSES", "Journal"]

# "failed" (the grading machinery broke, not the student) is journaled for the record but
# retried on resume; "graded" and "rejected" (unusable input) are final for that file.
DONE_STATUSES = ("graded", "rejected")


@dataclass
class Journal:
    """Read and append ``journal.jsonl``; ``records`` maps (student_id, sha256) -> last record."""

    path: Path
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    damaged_lines: int = 0

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    key = (str(record["student_id"]), str(record["sha256"]))
                except (ValueError, KeyError, TypeError):
                    self.damaged_lines += 1  # a write cut short by a crash
                    continue
                self.records[key] = record

    def done(self, student_id: str, sha256: str) -> dict[str, Any] | None:
        """The final record for this exact file of this student, if there is one."""
        record = self.records.get((student_id, sha256))
        if record and record.get("status") in DONE_STATUSES:
            return record
        return None

    def append(self, record: dict[str, Any]) -> None:
        """Add one record durably: append, flush, fsync before returning."""
        record = {**record, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if self._needs_newline(fd):
                os.write(fd, b"\n")
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records[(str(record["student_id"]), str(record["sha256"]))] = record

    @staticmethod
    def _needs_newline(fd: int) -> bool:
        """True when the file ends in a partial line (a crash mid-write)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return False
        return os.pread(fd, 1, size - 1) != b"\n"

    def count(self, student_id: str) -> int:
        """How many distinct files of this student are journaled (for tests and reports)."""
        return sum(1 for sid, _ in self.records if sid == student_id)
