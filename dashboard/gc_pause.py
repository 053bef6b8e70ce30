"""Holding Python's cycle collector off while a big batch is built and written.

Building and writing records allocate millions of objects that all stay alive (JSON trees,
records, rows), and each allocation burst makes the collector traverse everything alive again:
~40% of a USGS parse, ~6% of a bulk write. Nothing is lost by waiting: this work makes no
reference cycles, and whatever cycles other threads make meanwhile are collected when the pause
ends (seconds, for the biggest batches). Pauses nest and may overlap across threads; collection
resumes (if it was on) when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cycle collector off for the block (see the module's docstring)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
