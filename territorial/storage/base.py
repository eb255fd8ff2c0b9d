"""What the storage modules share: :class:`StorageError` and the clock."""

from __future__ import annotations

import datetime as dt

__all__ = ["StorageError", "now"]


class StorageError(Exception):
    """A save or read that cannot be done; ``message`` is a French sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
