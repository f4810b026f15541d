"""Per-IP rate limits on the anonymous doors (call handshake, login, demo tokens).

A sliding window in this process's memory: these limits are about one
address hammering one server (a CPU flood of scrypt checks or Whisper
pipelines), so they need no shared state. The per-account login lock, which
must hold across servers, is in the database (server.auth).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds per key.

    Args:
        limit: events allowed in a window (0 or less: unlimited).
        window_s: the window's length.
    """

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int:
        """Count one event for ``key``; returns 0 if allowed, else seconds to wait."""
        if self.limit <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            if len(self._events) > 10_000:
                self._sweep(now)
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(1, math.ceil(events[0] + self.window_s - now))
            events.append(now)
            return 0

    def _sweep(self, now: float) -> None:
        stale = [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]
        for key in stale:
            del self._events[key]
