"""Client-side rate limiter: keep each LINE endpoint under its published limit before LINE says 429.

LINE counts per channel and per endpoint, so one :class:`RateLimiter` belongs to one channel and is
shared by everything that calls that channel (sender, rich-menu client). Endpoints are named by
LINE's operationId, as in the emulator's table.
Source: https://developers.line.biz/en/reference/messaging-api/#rate-limits

Undocumented behaviour chosen here:

- LINE does not say whether its windows are fixed or sliding. A sliding window ("never more than N
  requests in any W seconds") satisfies both, so that is what we enforce. A token bucket of burst N
  and refill N/W would allow up to 2N in one window and get 429s from a strict server.
- Unknown endpoints get LINE's "everything else" limit, 2,000 per second.
- LINE counts a request when it ARRIVES, in a strict window; a client can only count it when it
  takes the slot, before sending. The time between the two varies (thread scheduling, the GIL,
  the network: a few ms, tens on a busy machine), so with a window of exactly LINE's, two
  requests whose slots are one window apart can arrive less than a window apart, and the second
  gets a 429 (a backoff of 0.5 s or more). Measured against the emulator's strict window at 200
  multicasts/s: a 429 at nearly every window boundary, and still 2-5 per 600 requests with a
  fixed margin of 20 ms. So a request sent through :meth:`RateLimiter.slot` counts from the moment
  its ANSWER came back (LINE counted it before answering): its hit is moved from the slot's time
  to the answer's. Then no window of LINE's can hold more than N requests, whatever the jitter,
  without a guessed margin; the cost is each request's own round trip (a few ms locally, ~20 ms
  to LINE) added to its window. The SDK client takes the slot right before the HTTP call and
  settles it when the answer is read (:class:`line_idlink.retry.SlotAtSendApiClient`).
  ``margin`` adds a fixed number of seconds to every window on top (default 0). The Odoo addon's
  PostgreSQL limiter, whose slot is a database transaction, uses a fixed 0.25 s instead.
"""

import collections
import contextlib
import threading
import time

SECOND, MINUTE, HOUR = 1.0, 60.0, 3600.0

DEFAULT_LIMIT = (2000, SECOND)
# operationId -> (requests, per seconds). Source: https://developers.line.biz/en/reference/messaging-api/#rate-limits
LINE_LIMITS = {
    "pushMessage": (2000, SECOND),
    "replyMessage": (2000, SECOND),
    "multicast": (200, SECOND),  # 2,000/s before 2025-04-23; 200/s is the current published figure
    "narrowcast": (60, HOUR),
    "broadcast": (60, HOUR),
    "createRichMenu": (100, HOUR),
    "deleteRichMenu": (100, HOUR),
    "deleteRichMenuAlias": (100, HOUR),
    "getRichMenuBatchProgress": (100, HOUR),
    "richMenuBatch": (3, HOUR),
    "getRichMenuList": (10, SECOND),
    "getStatisticsPerUnit": (60, HOUR),
    "getMessageEvent": (60, HOUR),
    "getNumberOfMessageDeliveries": (60, HOUR),
    "getNumberOfFollowers": (60, HOUR),
    "getFriendsDemographics": (60, HOUR),
}
# Every audience-management endpoint: 60 requests per minute.
LINE_LIMITS.update({endpoint: (60, MINUTE) for endpoint in (
    "createAudienceGroup", "addAudienceToAudienceGroup", "createAudienceForUploadingUserIds",
    "addUserIdsToAudience", "getAudienceData", "updateAudienceGroupDescription",
    "deleteAudienceGroup", "getAudienceGroups")})


class RateLimiter:
    """Blocks (with the injected ``sleep``) until a request to ``endpoint`` fits in its window.

    ``clock`` and ``sleep`` are injectable so tests run on a fake clock and never really sleep;
    ``limits`` overrides entries of :data:`LINE_LIMITS`; ``margin`` (seconds) is added to every
    window. Thread-safe: waiting happens outside the lock, and a slot is only taken once it is
    free. :meth:`acquire` counts a request from its slot; :meth:`slot` from its answer (see the
    module doc).
    """

    def __init__(self, limits=None, clock=time.monotonic, sleep=time.sleep, margin=0.0):
        if margin < 0:
            raise ValueError("margin is 0 or more seconds")
        self.limits = dict(LINE_LIMITS)
        self.limits.update(limits or {})
        self.margin = margin
        self.clock = clock
        self.sleep = sleep
        self.waited = collections.Counter()  # endpoint -> seconds spent waiting (observability)
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def limit_for(self, endpoint):
        return self.limits.get(endpoint, DEFAULT_LIMIT)

    def delay_for(self, endpoint):
        """Seconds to wait before ``endpoint`` may be called again (0 when it may be called now)."""
        with self._lock:
            return self._delay(endpoint, self.clock())

    def acquire(self, endpoint):
        """Wait for a free slot for ``endpoint`` and take it; returns the seconds waited."""
        return self._take(endpoint)[0]

    @contextlib.contextmanager
    def slot(self, endpoint):
        """``with limiter.slot(endpoint): send()``: waits for a free slot and takes it, and on
        leaving (the answer read, or the request failed) counts the request from then on instead
        of from the slot, since LINE received it no later than that (see the module doc).
        Yields the seconds waited."""
        waited, taken_at = self._take(endpoint)
        try:
            yield waited
        finally:
            with self._lock:
                hits = self._hits[endpoint]
                with contextlib.suppress(ValueError):  # a slow request: already out of the window
                    hits.remove(taken_at)  # equal times are interchangeable
                hits.append(max(self.clock(), hits[-1] if hits else taken_at))  # stays sorted

    def _take(self, endpoint):
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                delay = self._delay(endpoint, now)
                if delay <= 0:
                    self._hits[endpoint].append(now)
                    return waited, now
            self.sleep(delay)
            waited += delay
            self.waited[endpoint] += delay

    def _delay(self, endpoint, now):
        count, window = self.limit_for(endpoint)
        window += self.margin
        hits = self._hits[endpoint]
        # The epsilon keeps float rounding from leaving a residual wait of 1e-16 s forever.
        while hits and hits[0] <= now - window + 1e-9:
            hits.popleft()
        if len(hits) < count:
            return 0.0
        # The oldest hit inside the window frees its slot exactly ``window`` after it was taken.
        return hits[0] + window - now


class ManualTime:
    """A clock that only moves when slept on: pass ``clock=t.now, sleep=t.sleep`` to the sender,
    rich-menu client or limiter to run them without real waits. ``slept`` records every wait;
    ``on_sleep(seconds)`` (e.g. an emulator's ``advance``) keeps another clock in step."""

    def __init__(self, start=0.0, on_sleep=None):
        self.current = float(start)
        self.slept = []
        self.on_sleep = on_sleep

    def now(self):
        return self.current

    def sleep(self, seconds):
        seconds = max(0.0, float(seconds))
        self.slept.append(seconds)
        self.current += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)
