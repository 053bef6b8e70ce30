"""The patches of the Socket.IO transport (dashboard/live/transport.py), on their own.

The live tests run them end to end in a real `sitroom serve`; here, the edge cases."""

from __future__ import annotations

import threading

import engineio
from engineio.socket import Socket

from dashboard.live.transport import wait_for_frames_without_timers


def test_a_writer_gets_what_is_queued_in_one_wake_up_and_ends_on_close():
    wait_for_frames_without_timers()
    wait_for_frames_without_timers()  # idempotent
    sock = Socket(engineio.Server(async_mode="threading"), "sid")
    for frame in ("a", "b"):
        sock.queue.put(frame)
    assert sock.poll() == ["a", "b"]
    sock.queue.put("c")
    sock.queue.put(None)  # what close() and the end of the reader put
    assert sock.poll() == ["c"]
    assert sock.poll() == []  # the None stays queued for the next wait: the writer ends
    got: list = []
    waiting = threading.Thread(target=lambda: got.append(sock.poll()))
    sock.queue.put(None)
    waiting.start()
    waiting.join(5)
    assert got == [[]]
    sock.queue.join()  # every item was marked done: close(wait=True) does not hang
