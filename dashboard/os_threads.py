"""Real operating-system threads, also in processes gevent has monkey-patched.

Under gevent, `threading.Thread` makes a greenlet: blocking C calls in it (a SQLite checkpoint,
say) would stop the whole event loop. Work that must run beside the loop, and touches nothing
of gevent's, starts here instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


def start_os_thread(target: Callable[[], None], name: str) -> None:
    """Run target in an OS thread of its own (a daemon: it never holds the process open)."""
    if _patched():
        from gevent import monkey

        monkey.get_original("_thread", "start_new_thread")(target, ())
    else:
        threading.Thread(target=target, name=name, daemon=True).start()


def os_thread_ident() -> int:
    """The calling OS thread's id (gevent's patched get_ident names greenlets)."""
    if _patched():
        from gevent import monkey

        return monkey.get_original("_thread", "get_ident")()
    return threading.get_ident()


def os_sleep(seconds: float) -> None:
    """Sleep the calling OS thread (gevent's patched sleep would start a hub in it)."""
    if _patched():
        from gevent import monkey

        monkey.get_original("time", "sleep")(seconds)
    else:
        time.sleep(seconds)
