"""A small progress bar on stderr, so stdout stays clean for ``--json``."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str = "", stream: TextIO | None = None,
                 enabled: bool = True, min_interval_s: float = 0.2):
        self.total = max(int(total), 1)
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
        eta = elapsed / fraction - elapsed if fraction > 0 else float("nan")
        self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total} "
                          f"{elapsed:5.1f}s eta {eta:5.1f}s {note}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
