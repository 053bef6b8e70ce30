"""The hub's figures, in Prometheus form (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class HubMetrics:
    """One registry per hub, so that tests and several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.clients = Gauge("sitroom_live_clients", "Screens connected to /cop",
                             registry=self.registry)
        self.lagging = Gauge("sitroom_live_lagging_clients",
                             "Screens taken out of their room until they catch up",
                             registry=self.registry)
        self.lag_events = Counter("sitroom_live_lagged", "Times a screen fell behind",
                                  registry=self.registry)
        self.events = Counter("sitroom_live_events", "Log events pushed",
                              registry=self.registry)
        self.frames = Counter("sitroom_live_frames", "Batch messages delivered to screens",
                              registry=self.registry)
        self.push_latency = Histogram(
            "sitroom_live_push_latency_seconds", "From commit of the newest event to its send",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
