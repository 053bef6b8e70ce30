"""The writer lock serves requests in the order they were made and counts who waits."""

from __future__ import annotations

import threading

import pytest

from dashboard.store.fifo_lock import FifoLock
from tests.support.waiting import wait_until


def test_waiters_get_the_lock_in_the_order_they_asked():
    lock = FifoLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for n in range(5):
        thread = threading.Thread(target=lambda n=n: (lock.acquire(), order.append(n),
                                                     lock.release()))
        thread.start()
        threads.append(thread)
        wait_until(lambda n=n: lock.waiting() == n + 1)  # each queued before the next starts
    lock.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    assert lock.waiting() == 0


def test_a_holder_asking_again_queues_behind_a_waiter():
    """What lets a bulk load give way: after releasing, its next request comes second."""
    lock = FifoLock()
    order: list[str] = []
    lock.acquire()
    other = threading.Thread(target=lambda: (lock.acquire(), order.append("other"),
                                            lock.release()))
    other.start()
    wait_until(lambda: lock.waiting() == 1)
    lock.release()
    with lock:
        order.append("holder again")
    other.join()
    assert order == ["other", "holder again"]


def test_an_interrupted_waiter_does_not_block_the_next():
    lock = FifoLock()
    lock.acquire()
    interrupted = threading.Event()

    class Interrupt(Exception):
        pass

    def impatient() -> None:
        real_wait = lock._turns.wait

        def wait(*args):
            real_wait(0.01)
            raise Interrupt  # as a signal or a greenlet kill would, mid-wait

        lock._turns.wait = wait
        try:
            with pytest.raises(Interrupt):
                lock.acquire()
        finally:
            lock._turns.wait = real_wait
            interrupted.set()

    first = threading.Thread(target=impatient)
    first.start()
    interrupted.wait(5)
    first.join()
    got = []
    second = threading.Thread(target=lambda: (lock.acquire(), got.append(True), lock.release()))
    second.start()
    wait_until(lambda: lock.waiting() == 1)  # the abandoned ticket is not counted
    lock.release()
    second.join(5)
    assert got == [True]
    assert lock.waiting() == 0
