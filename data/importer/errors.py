"""What the import steps raise, and the shape of their progress callback."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float], None]
"""``progress(stage, fraction)``; it may raise ``ImportCancelled`` to stop the import."""


class ImportFailure(Exception):
    """Bad input: one line for the user that names the file (and the column)."""

    def __init__(self, message: str, file: str | None = None, column: str | None = None):
        self.file, self.column = file, column
        where = ": ".join(p for p in (file, f"column {column!r}" if column else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ImportCancelled(Exception):
    """Raised by a progress callback to stop the import; nothing is written."""


def no_progress(_stage: str, _fraction: float) -> None:
    pass
