"""A small progress bar on stderr, so stdout stays clean for ``--json``.

A resumed run starts part-way (``start``): its time left is estimated from the steps
taken in this run only, not from the whole count, which would promise far too soon an end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str = "", stream: TextIO | None = None,
                 enabled: bool = True, min_interval_s: float = 0.2, start: int = 0):
        self.total = max(int(total), 1)
        self.start = min(max(int(start), 0), self.total)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.min_interval_s = min_interval_s
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < self.min_interval_s and done < self.total:
            return
        self._last_draw = now
        fraction = min(done / self.total, 1.0)
        bar = "#" * int(30 * fraction)
        elapsed = now - self.started
        taken = done - self.start  # steps this run took: the only measure of its pace
        eta = elapsed * (self.total - done) / taken if taken > 0 else float("nan")
        self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total} "
                          f"{elapsed:5.1f}s eta {eta:5.1f}s {note}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
