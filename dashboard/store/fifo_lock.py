"""A lock taken in the order it was asked for, which says how many are waiting for it.

The store's writer lock: a bulk load holds it for a transaction of many chunks and gives it
up early when another writer waits (a responder's report must not wait for a million-row
import). With a plain Lock the load, running on, would take it straight back before the
waiting thread woke; here a new request queues behind the ones already made.
"""

from __future__ import annotations

import threading


class FifoLock:
    """First come, first served; not reentrant."""

    def __init__(self) -> None:
        self._turns = threading.Condition(threading.Lock())
        self._next_ticket = 0  # the ticket the next request gets
        self._serving = 0  # the ticket that holds the lock (or may take it)
        self._abandoned: set[int] = set()  # tickets whose waiter was interrupted

    def acquire(self) -> None:
        with self._turns:
            ticket = self._next_ticket
            self._next_ticket += 1
            try:
                while ticket != self._serving:
                    self._turns.wait()
            except BaseException:  # interrupted while waiting: the turn must not be lost
                if ticket == self._serving:
                    self._advance()
                else:
                    self._abandoned.add(ticket)
                raise

    def release(self) -> None:
        with self._turns:
            self._advance()

    def waiting(self) -> int:
        """How many requests wait behind the holder (0 when the lock is free)."""
        with self._turns:
            return max(0, self._next_ticket - self._serving - 1 - len(self._abandoned))

    def _advance(self) -> None:
        """Hand the lock to the next ticket still waiting."""
        self._serving += 1
        while self._serving in self._abandoned:
            self._abandoned.remove(self._serving)
            self._serving += 1
        self._turns.notify_all()

    def __enter__(self) -> FifoLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
