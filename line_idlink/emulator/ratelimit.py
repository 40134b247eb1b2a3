"""Per-channel, per-endpoint rate limits from LINE's table, evaluated on the emulator clock.

LINE counts per channel and per endpoint (method + path, parameters ignored). The windows here
are sliding, and only admitted requests count; a 429 is not processed at all.
"""

import collections
import threading

# LINE's published table lives once, in the client-side limiter; the emulator enforces the same.
from ..ratelimit import DEFAULT_LIMIT, LINE_LIMITS as LIMITS


class RateLimiter:
    def __init__(self, clock):
        self.clock = clock
        self.enabled = True
        self.limits = dict(LIMITS)
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def set_limit(self, endpoint, count, per_seconds):
        self.limits[endpoint] = (int(count), float(per_seconds))

    def limit_for(self, endpoint):
        return self.limits.get(endpoint, DEFAULT_LIMIT)

    def admit(self, endpoint):
        """Count one request if it fits in the window; False means answer 429."""
        if not self.enabled:
            return True
        count, window = self.limit_for(endpoint)
        now = self.clock.now()
        with self._lock:
            hits = self._hits[endpoint]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                return False
            hits.append(now)
            return True

    def reset(self):
        with self._lock:
            self._hits.clear()
