"""An import's files beside the database: its error file and the ids it has updated.

Both are append-only and written before the chunk's transaction commits; the chunk's checkpoint
records their length. A resumed import truncates them back to the checkpointed length, so what a
killed process appended for a chunk that never committed disappears with that chunk's rows.
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.core.spreadsheet import BOM, safe_cell


def job_dir(org_id: int, job_id: int) -> Path:
    return Path(settings.DATA_DIR) / "imports" / str(org_id) / "jobs" / str(job_id)


def _reopen(path: Path, length: int) -> io.BufferedWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "ab")  # noqa: SIM115 (kept open for the whole import; closed by close())
    handle.truncate(length)
    handle.seek(length)
    return handle


class ErrorFile:
    """CSV (UTF-8 with BOM, for Excel) of the rows that did not go in: the original columns, then
    the row number, the column at fault and the reason. One line per problem."""

    def __init__(self, path: Path, headers: list[str], length: int) -> None:
        self.path = path
        self.handle = _reopen(path, length)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")
        if length == 0:
            self.writer.writerow([*map(safe_cell, headers), _("row"), _("column"), _("reason")])
            self.handle.write((BOM + self._take()).encode("utf-8"))

    def _take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text

    def add(self, values: list[str], row: int, column: str, reason: str) -> None:
        self.writer.writerow([*map(safe_cell, values), row, safe_cell(column), safe_cell(reason)])

    def flush(self) -> int:
        """Write what was added, make it durable, and return the file's length (for the checkpoint)."""
        text = self._take()
        if text:
            self.handle.write(text.encode("utf-8"))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()


class IdLog:
    """The customer ids an import has updated (8 bytes each): a later row of the same file that
    matches one of them is a duplicate within the file, also after a resume."""

    def __init__(self, path: Path, length: int) -> None:
        self.handle = _reopen(path, length)
        data = array("q")
        if length:
            with open(path, "rb") as existing:
                data.frombytes(existing.read(length))
        self.ids: set[int] = set(data)
        self.pending = array("q")

    def record(self, customer_id: int) -> None:
        self.ids.add(customer_id)
        self.pending.append(customer_id)

    def flush(self) -> int:
        if self.pending:
            self.handle.write(self.pending.tobytes())
            self.pending = array("q")
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()
