"""Wake-ups between processes: "the log has grown", over Redis pub/sub.

Every process that writes (a `serve` process, a feed worker) publishes after each commit; every
hub listens and reads the log itself. The log stays the one source of what happened, so a lost
notice costs at most one poll interval, never an event.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import redis

from dashboard.live.deltas import is_urgent
from dashboard.model import Event

if TYPE_CHECKING:
    from dashboard.live.hub import Hub

log = logging.getLogger(__name__)

CHANNEL = "sitroom:log"


class RedisNotifier:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)

    def publish(self, events: list[Event]) -> None:
        """A store listener: tell every hub that the log grew (never fails the write)."""
        if not events:
            return
        notice = {"seq": events[-1].seq, "urgent": any(is_urgent(e) for e in events)}
        try:
            self.client.publish(CHANNEL, json.dumps(notice))
        except redis.RedisError as exc:
            log.warning("could not notify other processes through %s: %s", self.url, exc)

    def listen(self, hub: Hub) -> None:
        """Wake the hub on every notice; reconnect after Redis goes away (run as a greenlet)."""
        while hub.running:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while hub.running:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    try:
                        urgent = bool(json.loads(message["data"]).get("urgent"))
                    except (ValueError, AttributeError):
                        urgent = False
                    hub.wake(urgent=urgent)
            except redis.RedisError as exc:
                log.warning("lost Redis %s (%s); polling the log until it is back", self.url, exc)
                hub.socketio.sleep(2.0)
