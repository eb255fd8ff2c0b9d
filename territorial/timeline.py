"""Start-up marks for the benchmark's timeline (``bench/startup.py``).

When the environment variable ``TERRITORIAL_STARTUP_LOG`` is ``1``, the first occurrence
of each named event is printed on stderr as ``[startup] <epoch seconds> <event>``; the
benchmark reads them from the server's log. Otherwise :func:`mark` does nothing.

>>> mark("nothing printed without the variable")
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["mark"]

_SEEN: set[str] = set()


def mark(event: str) -> None:
    """Print the time of ``event`` once per process (when start-up logging is on)."""
    if event in _SEEN or os.environ.get("TERRITORIAL_STARTUP_LOG") != "1":
        return
    _SEEN.add(event)
    print(f"[startup] {time.time():.3f} {event}", file=sys.stderr, flush=True)
