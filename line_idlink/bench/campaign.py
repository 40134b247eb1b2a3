"""``campaign``: core dispatch of an identical-body campaign with multicast.

A :class:`~line_idlink.campaign.CampaignRunner` with a :class:`~line_idlink.messaging.Sender`
sends one text to N friends in batches of 500 against the emulator, whose multicast limit is
LINE's 200 requests/s: the ceiling is 200 × 500 = 100,000 recipients/s (target ≥ 0.95 of it).
Measured: planning and sending separately, requests made, memory, and, from the emulator's
delivery records, that every recipient got the message exactly once.

Because emulator and runner share one process (and one GIL), the emulator's own handling time is
measured too: "our side" = send time minus emulator time tells whether the shortfall, if any, is
ours or the emulator's.
"""

import math

from ..campaign import CampaignRunner
from ..messaging import MULTICAST_MAX, Sender
from . import table
from .common import BenchEmulator, JsonCampaignStore, Stopwatch, current_rss_mb, inbox_counts, \
    peak_rss_mb

NAME = "campaign"
DEFAULT_N = 100_000
FULL_N = 1_000_000
MULTICAST_PER_SECOND = 200
TARGET_RATIO = 0.95
MESSAGE = [{"type": "text", "text": "Limited edition: our winter set is here. 冬の限定セット"}]


def run(n=DEFAULT_N):
    with BenchEmulator() as bench:
        bench.emu.limiter.set_limit("multicast", MULTICAST_PER_SECOND, 1.0)
        user_ids = bench.add_friends(n)
        rss_before = current_rss_mb()
        store = JsonCampaignStore()
        with Sender(bench.configuration()) as sender:
            runner = CampaignRunner(sender, store)
            recipients = [(index, user_id, MESSAGE) for index, user_id in enumerate(user_ids)]
            with Stopwatch() as plan:
                runner.prepare("bench", recipients)
            del recipients
            server_before = bench.server_seconds
            with Stopwatch() as send:
                report = runner.run("bench")
            server_time = bench.server_seconds - server_before
        counts = inbox_counts(bench.emu, "multicast")
        requests = bench.requests_by_endpoint()
        throttled = sum(1 for e in bench.emu.request_log if e["status"] == 429)

    ceiling = MULTICAST_PER_SECOND * MULTICAST_MAX
    rate = n / send.seconds
    ours = send.seconds - server_time
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    lost = n - sum(1 for u in user_ids if counts.get(u))
    rows = [
        table.ratio_at_least("dispatch rate (send phase)", rate, ceiling, TARGET_RATIO,
                             "recipients/s", "ceiling 200 req/s × 500"),
        table.info("send phase wall time", send.seconds, "s"),
        table.info("  of which emulator handling", server_time, "s"),
        table.info("  of which our side (runner, store, SDK, HTTP)", ours, "s"),
        table.info("our side alone: capacity", n / ours if ours > 0 else 0.0,
                   f"recipients/s ({n / ours / ceiling if ours > 0 else 0:.2f} × ceiling)"),
        table.info("planning (validate, group, store plan)", plan.seconds, "s"),
        table.info("end to end (plan + send)", n / (plan.seconds + send.seconds), "recipients/s"),
        table.exactly("multicast requests made", requests.get("multicast", 0),
                      math.ceil(n / MULTICAST_MAX)),
        table.info("429 answers", throttled),
        table.info("RSS before the campaign (emulator + users)", rss_before, "MB"),
        table.info("peak RSS (whole process)", peak_rss_mb(), "MB"),
        table.exactly("recipients sent (runner report)", report.counts.get("sent", 0), n),
        table.exactly("duplicates (emulator deliveries)", duplicates, 0),
        table.exactly("lost (emulator deliveries)", lost, 0),
    ]
    return f"campaign: identical body to {n:,} friends, multicast limited to " \
           f"{MULTICAST_PER_SECOND} req/s", rows
