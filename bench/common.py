"""What the benchmarks share: progress on stderr, the results table, the machine's load."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Sequence


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the results."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def progress_printer(total: int, what: str, parts: int = 10) -> Callable[[int], None]:
    """A write_many progress callback that reports `parts` times on the way."""
    done = 0
    step = max(1, total // parts)
    mark = step

    def report(n: int) -> None:
        nonlocal done, mark
        done += n
        if done >= mark:
            say(f"  {what}: {done:,}/{total:,}")
            mark += step

    return report


def print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """One aligned row per figure (backend, measurement, value, target, met)."""
    header = ("backend", "measurement", "value", "target", "met")
    rows = [header, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    aligns = ("<", "<", ">", ">", "<")
    rule = "  ".join("-" * w for w in widths)
    for n, row in enumerate(rows):
        print("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, aligns, widths)).rstrip())
        if n == 0:
            print(rule)


def machine_load() -> str:
    """This process's CPU time, peak memory and the load: a busy machine slows every figure."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    loads = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"bench process CPU {usage.ru_utime + usage.ru_stime:.0f} s "
            f"(user {usage.ru_utime:.0f}, sys {usage.ru_stime:.0f}), "
            f"peak RSS {usage.ru_maxrss / 1024:,.0f} MB; {os.cpu_count()} cores; "
            f"load average 1/5/15 min {loads} at the end")
