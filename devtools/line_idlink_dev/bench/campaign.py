"""``campaign``: core dispatch of an identical-body campaign with multicast, and the emulator's
own capacity for it.

A :class:`~line_idlink.campaign.CampaignRunner` with a :class:`~line_idlink.sender.Sender`
sends one text to N friends in batches of 500 against the emulator, whose multicast limit is
LINE's 200 requests/s: the ceiling is 200 × 500 = 100,000 recipients/s. Two figures, side by
side, as ratios to that ceiling:

- the CLIENT's dispatch rate (target ≥ 0.95): the rate it keeps, from the times the emulator
  accepted its requests: 200 / the mean time from each request to the 200th after it
  (:func:`sustained_rate`), so that a first window sent as one burst (LINE's window is a second)
  says nothing by itself; 300,000 recipients (600 requests, three windows) by default. The
  limiter is production's (``RateLimiter()``: LINE's 200 per 1 s; the SDK client takes a slot
  right before each request and the request counts from its answer, so the arrival jitter that
  gave a 429 at nearly every window boundary with slot-time counting cannot; the cost is each
  request's round trip added to its window, a few ms here);
- the EMULATOR's capacity on one core (target ≥ 1.5): its limit lifted, multicasts of 500 sent as
  fast as it answers over 4 kept-alive connections by a lean client; its process CPU per request
  gives the requests/s one fully busy core absorbs. A load test can only tell whether the client
  reaches LINE's ceiling when the emulator absorbs more than that.

The emulator runs in a SEPARATE process for both (client and emulator each get a core and a GIL,
as a client and LINE would), then once more in THIS process (one GIL for both, as before).
Checked every time: requests made, and from the emulator's delivery records that every
recipient got the message exactly once.
"""

import contextlib
import json
import math
import time

from linebot.v3.messaging import Configuration

from line_idlink.campaign import CampaignRunner
from line_idlink.ratelimit import RateLimiter
from line_idlink.sender import MULTICAST_MAX, Sender
from . import table
from .common import (BenchEmulator, ChildEmulator, JsonCampaignStore, Stopwatch, blast,
                     cpu_seconds, current_rss_mb, inbox_counts, peak_rss_mb)

NAME = "campaign"
DEFAULT_N = 300_000
FULL_N = 1_000_000
MULTICAST_PER_SECOND = 200
WINDOW_COUNT = MULTICAST_PER_SECOND  # requests the first (1-second) window admits at once
TARGET_RATIO = 0.95
CAPACITY_TARGET = 1.5  # × the ceiling, on one core
SATURATION_REQUESTS = 600
CONCURRENCY = 12  # batches in flight: 200 req/s × (round trip 20-50 ms + our CPU per request), with
# spare ones waiting at the limiter when a slot frees (8 left none waiting half of the time)
MESSAGE = [{"type": "text", "text": "Limited edition: our winter set is here. 冬の限定セット"}]
CEILING = MULTICAST_PER_SECOND * MULTICAST_MAX
LIMIT = ("multicast", MULTICAST_PER_SECOND, 1.0)  # the emulator's: LINE's


class TimedLimiter(RateLimiter):
    """Production's limiter, noting how long each slot was held (slot to answer: the round trip
    that the limiter adds to that request's window)."""

    def __init__(self):
        super().__init__()
        self.held = []

    @contextlib.contextmanager
    def slot(self, endpoint):
        with super().slot(endpoint) as waited:
            taken = time.perf_counter()
            try:
                yield waited
            finally:
                self.held.append(time.perf_counter() - taken)

    def rows(self, prefix=""):
        held = sorted(self.held) or [0.0]
        return [
            table.info(f"  {prefix}limiter: waits summed over threads",
                       self.waited["multicast"], "s"),
            table.info(f"  {prefix}round trip slot -> answer (mean, p95)",
                       f"{1000 * sum(held) / len(held):.1f} ms, "
                       f"{1000 * held[int(0.95 * (len(held) - 1))]:.1f} ms"),
        ]


def _campaign(configuration, user_ids):
    """Plan and send in this process; returns (plan, send, our CPU seconds in send, report,
    limiter)."""
    store = JsonCampaignStore()
    limiter = TimedLimiter()  # production's (see the module doc)
    pool = CONCURRENCY + 2  # the SDK's default is 5 per CPU: never below the batches in flight
    if isinstance(configuration, Configuration):
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0,
                                                    pool)
    with Sender(configuration, limiter=limiter) as sender:
        runner = CampaignRunner(sender, store, concurrency=CONCURRENCY)
        recipients = [(index, user_id, MESSAGE) for index, user_id in enumerate(user_ids)]
        with Stopwatch() as plan:
            runner.prepare("bench", recipients)
        del recipients
        cpu_before = cpu_seconds()
        with Stopwatch() as send:
            report = runner.run("bench")
        return plan, send, cpu_seconds() - cpu_before, report, limiter


def sustained_rate(times, window=WINDOW_COUNT):
    """Requests/s a long campaign keeps: ``window`` / the mean time ``window`` consecutive
    accepted requests span (request k to request k + window), over every k. A first window sent
    as one burst cannot inflate it (its requests still span a full window to their successors);
    a client too slow to fill a window per second shows as spans longer than a second."""
    spans = [later - earlier for earlier, later in zip(times, times[window:])]
    return window * len(spans) / sum(spans) if spans and sum(spans) > 0 else 0.0


def _capacity(n, seconds):
    return f"{n / seconds:,.0f} recipients/s ({n / seconds / CEILING:.2f} × ceiling)" \
        if seconds > 0 else "-"


def _saturate(child):
    """The emulator's CPU per multicast of 500 with its limit lifted: (seconds, requests/s wall,
    statuses)."""
    child.set_limit("multicast", 10**9, 1.0)
    ids = child.user_ids
    bodies = [json.dumps({"to": ids[i:i + MULTICAST_MAX], "messages": MESSAGE}).encode()
              for i in range(0, max(1, len(ids) - MULTICAST_MAX + 1), MULTICAST_MAX)]
    before = child.cpu_seconds()
    statuses, wall = blast(child.base_url, child.access_token, "/v2/bot/message/multicast",
                           bodies, SATURATION_REQUESTS)
    cpu = child.cpu_seconds() - before
    return cpu / SATURATION_REQUESTS, SATURATION_REQUESTS / wall, statuses


def _separate_process(n):
    with ChildEmulator(n, limits=[LIMIT]) as child:
        before = child.report("multicast")
        cpu_before = child.cpu_seconds()
        plan, send, our_cpu, report, limiter = _campaign(child.configuration(),
                                                         child.user_ids)
        emulator_cpu = child.cpu_seconds() - cpu_before
        after = child.report("multicast")
        times = child.arrival_times("multicast")
        per_request, wall_rate, statuses = (_saturate(child) if len(child.user_ids) >=
                                            MULTICAST_MAX else (0.0, 0.0, {}))
    # Fewer requests than one window (a tiny run): the send phase's rate is all there is
    rate = (sustained_rate(times) * MULTICAST_MAX if len(times) > WINDOW_COUNT
            else n / send.seconds)
    capacity = MULTICAST_MAX / per_request if per_request else 0.0
    rows = [
        table.ratio_at_least("dispatch rate (send phase)", rate, CEILING, TARGET_RATIO,
                             "recipients/s", "ceiling 200 req/s × 500; sustained: 200 / span "
                             "of 200 requests; emulator in its own process"),
        table.ratio_at_least("emulator capacity on one core", capacity, CEILING,
                             CAPACITY_TARGET, "recipients/s",
                             "ceiling; its CPU per multicast of 500, limit lifted"),
        table.at_most("  emulator CPU per multicast of 500", per_request * 1000,
                      1000 / (CAPACITY_TARGET * MULTICAST_PER_SECOND), "ms"),
        table.info("  saturated: requests/s on this machine (wall)", wall_rate, "req/s"),
        table.exactly("  saturated: answered 200", statuses.get(200, 0), SATURATION_REQUESTS),
        *limiter.rows(),
        table.info("send phase wall time", send.seconds, "s"),
        table.info("  send phase rate, first window's burst included", n / send.seconds,
                   "recipients/s"),
        table.info("our process CPU in the send phase", our_cpu, "s"),
        table.info("  our side alone: capacity", _capacity(n, our_cpu)),
        table.info("emulator process CPU in the send phase", emulator_cpu, "s"),
        table.info("  emulator alone: capacity", _capacity(n, emulator_cpu)),
        table.info("planning (validate, group, store plan)", plan.seconds, "s"),
        table.info("end to end (plan + send)", n / (plan.seconds + send.seconds), "recipients/s"),
        # Accepted, not made: a 429 (the limiters' windows seen from two clocks) is retried
        # and sends nothing; what must hold is one accepted request per batch
        table.exactly("multicast requests accepted", len(times), math.ceil(n / MULTICAST_MAX)),
        table.info("multicast requests made (429s included)",
                   after["requests"].get("multicast", 0)),
        table.info("429 answers (retried)", after["throttled"]),
        table.info("peak RSS (our process)", peak_rss_mb(), "MB"),
        table.exactly("recipients sent (runner report)", report.counts.get("sent", 0), n),
        table.exactly("duplicates (emulator deliveries)", after["duplicates"], 0),
        table.exactly("lost (emulator deliveries)", n - after["delivered"], 0),
    ]
    return rows


def _same_process(n):
    with BenchEmulator() as bench:
        bench.emu.limiter.set_limit(*LIMIT)
        user_ids = bench.add_friends(n)
        rss_before = current_rss_mb()
        server_before = bench.server_seconds
        plan, send, cpu, report, limiter = _campaign(bench.configuration(), user_ids)
        server_time = bench.server_seconds - server_before
        counts = inbox_counts(bench.emu, "multicast")
        requests = bench.requests_by_endpoint()
        times = [e["time"] for e in bench.emu.request_log
                 if e["endpoint"] == "multicast" and e["status"] == 200]
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    lost = n - sum(1 for u in user_ids if counts.get(u))
    return [
        table.ratio_at_least("same process: dispatch rate (send phase)",
                             sustained_rate(times) * MULTICAST_MAX if len(times) > WINDOW_COUNT
                             else n / send.seconds, CEILING, TARGET_RATIO,
                             "recipients/s", "ceiling; emulator shares our process and GIL"),
        *limiter.rows("same process: "),
        table.info("  send phase wall time", send.seconds, "s"),
        table.info("  process CPU (ours + emulator)", cpu, "s"),
        # Summed over the emulator's request threads: GIL waits included, overlaps wall time.
        table.info("  emulator request handling (summed over threads)", server_time, "s"),
        table.info("  planning", plan.seconds, "s"),
        table.info("  RSS before the campaign (emulator + users)", rss_before, "MB"),
        table.exactly("  same process: multicast requests accepted", len(times),
                      math.ceil(n / MULTICAST_MAX)),
        table.info("  same process: multicast requests made (429s included)",
                   requests.get("multicast", 0)),
        table.exactly("  same process: recipients sent", report.counts.get("sent", 0), n),
        table.exactly("  same process: duplicates", duplicates, 0),
        table.exactly("  same process: lost", lost, 0),
    ]


def run(n=DEFAULT_N):
    rows = _separate_process(n) + _same_process(n)
    return f"campaign: identical body to {n:,} friends, multicast limited to " \
           f"{MULTICAST_PER_SECOND} req/s, {CONCURRENCY} batches in flight", rows
