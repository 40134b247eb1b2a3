"""The core's rate-limiter protocol (:class:`line_idlink.ratelimit.RateLimiter`: ``acquire``,
``delay_for``, ``limit_for``, ``waited``) kept in PostgreSQL, so that every Odoo worker and every
server on one database counts against the same per-channel, per-endpoint LINE limits.

How it works: the table ``line_rate_limit`` (model ``line.rate.limit``) holds one row per request
admitted in the current window of a (channel, endpoint). Taking a slot is one short transaction
on its own cursor, serialized per (channel, endpoint) by ``pg_advisory_xact_lock``, in READ
COMMITTED (so the transaction that waited on the lock sees the slot the previous holder just
committed): drop the rows older than the window, look at the N-th most recent hit, insert a row
if the window has room, commit. Time is PostgreSQL's ``clock_timestamp()``: servers whose clocks
differ still share one window.

The window is LINE's (``line_idlink.ratelimit.LINE_LIMITS``, a sliding window, as the core's
limiter) plus :data:`WINDOW_MARGIN` seconds: a slot is taken a few milliseconds before the request
reaches LINE, and without the margin two requests taken just inside one window could arrive just
inside the next one (LINE would count N+1).

``max_wait``: waits longer than this many seconds raise :class:`RateLimitWait` instead of
sleeping, so the outgoing queue puts the row back for later instead of blocking a cron worker for
an hour (``richMenuBatch`` allows 3 per hour). ``None`` (the default) sleeps, as the core does.
"""

import collections
import json
import logging
import time

from line_idlink.ratelimit import DEFAULT_LIMIT, LINE_LIMITS

_logger = logging.getLogger(__name__)

WINDOW_MARGIN = 0.25  # seconds added to every window (see the module doc)
LOCK_NAMESPACE = 0x4C494E45  # "LINE": first key of pg_advisory_xact_lock(int, int)
LIMITS_PARAM = "line_idlink_addon.rate_limits"


class RateLimitWait(Exception):
    """The endpoint's window is full for longer than the caller is willing to wait."""

    def __init__(self, endpoint, delay):
        super().__init__(f"{endpoint}: LINE's rate limit allows the next request in "
                         f"{delay:.1f} s")
        self.endpoint = endpoint
        self.delay = delay


def configured_limits(env):
    """LINE's table, overridden by the system parameter ``line_idlink_addon.rate_limits``:
    JSON ``{"pushMessage": [1000, 1]}`` (requests, per seconds), e.g. to stay below LINE."""
    limits = dict(LINE_LIMITS)
    raw = env["ir.config_parameter"].sudo().get_param(LIMITS_PARAM)
    if raw:
        try:
            extra = json.loads(raw)
            limits.update({str(endpoint): (int(count), float(window))
                           for endpoint, (count, window) in extra.items()
                           if int(count) > 0 and float(window) > 0})
        except (ValueError, TypeError, AttributeError) as exc:
            _logger.warning("Ignoring the system parameter %s (%s): expected JSON such as "
                            '{"pushMessage": [1000, 1]}', LIMITS_PARAM, exc)
    return limits


class PgRateLimiter:
    """A per-channel limiter whose state is rows in PostgreSQL (see the module doc)."""

    def __init__(self, registry, channel_key, limits=None, sleep=time.sleep, max_wait=None,
                 margin=WINDOW_MARGIN):
        self.registry = registry
        self.channel_key = str(channel_key)
        self.limits = dict(LINE_LIMITS)
        self.limits.update(limits or {})
        self.sleep = sleep
        self.max_wait = max_wait
        self.margin = margin
        self.waited = collections.Counter()  # endpoint -> seconds this instance slept

    def limit_for(self, endpoint):
        return self.limits.get(endpoint, DEFAULT_LIMIT)

    def delay_for(self, endpoint):
        """Seconds before ``endpoint`` may be called again (0: now), without taking a slot."""
        return self._slot(endpoint, take=False)

    def acquire(self, endpoint):
        """Wait for a free slot and take it; returns the seconds waited. Raises
        :class:`RateLimitWait` when the wait would exceed ``max_wait``."""
        waited = 0.0
        while True:
            delay = self._slot(endpoint, take=True)
            if delay <= 0:
                return waited
            if self.max_wait is not None and waited + delay > self.max_wait:
                raise RateLimitWait(endpoint, delay)
            self.sleep(delay)
            waited += delay
            self.waited[endpoint] += delay

    def _slot(self, endpoint, take):
        count, window = self.limit_for(endpoint)
        window += self.margin
        with self.registry.cursor() as cr:  # its own transaction, committed on exit
            if not self.registry.in_test_mode():
                # the snapshot must be taken AFTER the lock is granted (see the module doc)
                cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                       (LOCK_NAMESPACE, f"{self.channel_key}:{endpoint}"))
            cr.execute("SELECT extract(epoch FROM clock_timestamp())::float8")
            now = cr.fetchone()[0]
            cr.execute("""DELETE FROM line_rate_limit
                           WHERE channel_key = %s AND endpoint = %s AND hit_at <= %s""",
                       (self.channel_key, endpoint, now - window))
            # the N-th most recent hit still in the window frees its slot `window` after it
            cr.execute("""SELECT hit_at FROM line_rate_limit
                           WHERE channel_key = %s AND endpoint = %s
                        ORDER BY hit_at DESC OFFSET %s LIMIT 1""",
                       (self.channel_key, endpoint, count - 1))
            row = cr.fetchone()
            if row is not None:
                return max(row[0] + window - now, 0.001)
            if take:
                cr.execute("""INSERT INTO line_rate_limit (channel_key, endpoint, hit_at)
                              VALUES (%s, %s, %s)""", (self.channel_key, endpoint, now))
            return 0.0
