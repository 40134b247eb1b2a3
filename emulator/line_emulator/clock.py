"""An injectable clock: frozen by default so tests and notebooks are deterministic."""

import threading
import time
from datetime import datetime, timezone

# 2026-11-02 00:00:00 UTC: the default "now" of a frozen emulator.
DEFAULT_EPOCH = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()


class Clock:
    """Seconds since the Unix epoch, either frozen (advanced by hand) or ticking with real time.

    A ticking clock still honours :meth:`advance`, which adds an offset; the CLI uses it so that
    link tokens and rate-limit windows expire as they do on LINE.
    """

    def __init__(self, start=DEFAULT_EPOCH, frozen=True):
        self._lock = threading.Lock()
        self.frozen = frozen
        self._base = float(start)
        self._started = time.monotonic()

    def now(self):
        with self._lock:
            if self.frozen:
                return self._base
            return self._base + (time.monotonic() - self._started)

    def now_ms(self):
        return int(round(self.now() * 1000))

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._base += float(seconds)

    def isoformat(self):
        return datetime.fromtimestamp(self.now(), timezone.utc).isoformat().replace("+00:00", "Z")
