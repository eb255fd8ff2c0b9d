"""What the server's warm-up (:mod:`ui.warmup`) loaded before the first run asked for it."""

from __future__ import annotations

from concurrent.futures import Future

__all__ = ["GEOGRAPHY", "preloaded_geography"]

#: The geography, set by the warm-up thread (never set under AppTest or a plain script run).
GEOGRAPHY: Future = Future()
_STARTED = False


def started() -> None:
    """Note that a warm-up is loading :data:`GEOGRAPHY` (so that runs wait for it)."""
    global _STARTED
    _STARTED = True


def preloaded_geography():
    """The geography loaded by the warm-up (waiting for it if it is on its way), or None
    when the server was not warmed up, or its loading failed."""
    if not _STARTED:
        return None
    try:
        return GEOGRAPHY.result()
    except Exception:  # noqa: BLE001 - the caller loads it itself
        return None
