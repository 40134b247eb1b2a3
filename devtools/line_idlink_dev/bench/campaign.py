"""``campaign``: core dispatch of an identical-body campaign with multicast.

A :class:`~line_idlink.campaign.CampaignRunner` with a :class:`~line_idlink.sender.Sender`
sends one text to N friends in batches of 500 against the emulator, whose multicast limit is
LINE's 200 requests/s: the ceiling is 200 × 500 = 100,000 recipients/s (target ≥ 0.95 of it).
Measured: planning and sending separately, requests made, memory, and, from the emulator's
delivery records, that every recipient got the message exactly once.

It runs twice:

- the emulator in a SEPARATE process (the checked figure): client and emulator each get a core
  and a GIL, as a client and LINE would. The CPU each process spends in the send phase gives
  each side's capacity alone ("n / CPU seconds"), which says whose side limits the rate;
- the emulator in THIS process (one GIL for both, as before): the process CPU and the emulator's
  request handling time are shown.
"""

import math

from line_idlink.campaign import CampaignRunner
from line_idlink.sender import MULTICAST_MAX, Sender
from . import table
from .common import (BenchEmulator, ChildEmulator, JsonCampaignStore, Stopwatch, cpu_seconds,
                     current_rss_mb, inbox_counts, peak_rss_mb)

NAME = "campaign"
DEFAULT_N = 100_000
FULL_N = 1_000_000
MULTICAST_PER_SECOND = 200
TARGET_RATIO = 0.95
CONCURRENCY = 4  # batches in flight: enough to cover a round trip at 200 req/s
MESSAGE = [{"type": "text", "text": "Limited edition: our winter set is here. 冬の限定セット"}]
CEILING = MULTICAST_PER_SECOND * MULTICAST_MAX


def _campaign(configuration, user_ids):
    """Plan and send in this process; returns (plan, send, our CPU seconds in send, report)."""
    store = JsonCampaignStore()
    with Sender(configuration) as sender:
        runner = CampaignRunner(sender, store, concurrency=CONCURRENCY)
        recipients = [(index, user_id, MESSAGE) for index, user_id in enumerate(user_ids)]
        with Stopwatch() as plan:
            runner.prepare("bench", recipients)
        del recipients
        cpu_before = cpu_seconds()
        with Stopwatch() as send:
            report = runner.run("bench")
        return plan, send, cpu_seconds() - cpu_before, report


def _capacity(n, seconds):
    return f"{n / seconds:,.0f} recipients/s ({n / seconds / CEILING:.2f} × ceiling)" \
        if seconds > 0 else "-"


def _separate_process(n):
    limits = [("multicast", MULTICAST_PER_SECOND, 1.0)]
    with ChildEmulator(n, limits=limits) as child:
        before = child.report("multicast")
        plan, send, our_cpu, report = _campaign(child.configuration(), child.user_ids)
        after = child.report("multicast")
    emulator_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    rows = [
        table.ratio_at_least("dispatch rate (send phase)", n / send.seconds, CEILING,
                             TARGET_RATIO, "recipients/s",
                             "ceiling 200 req/s × 500; emulator in its own process"),
        table.info("send phase wall time", send.seconds, "s"),
        table.info("our process CPU in the send phase", our_cpu, "s"),
        table.info("  our side alone: capacity", _capacity(n, our_cpu)),
        table.info("emulator process CPU in the send phase", emulator_cpu, "s"),
        table.info("  emulator alone: capacity", _capacity(n, emulator_cpu)),
        table.info("planning (validate, group, store plan)", plan.seconds, "s"),
        table.info("end to end (plan + send)", n / (plan.seconds + send.seconds), "recipients/s"),
        table.exactly("multicast requests made", after["requests"].get("multicast", 0),
                      math.ceil(n / MULTICAST_MAX)),
        table.info("429 answers", after["throttled"]),
        table.info("peak RSS (our process)", peak_rss_mb(), "MB"),
        table.exactly("recipients sent (runner report)", report.counts.get("sent", 0), n),
        table.exactly("duplicates (emulator deliveries)", after["duplicates"], 0),
        table.exactly("lost (emulator deliveries)", n - after["delivered"], 0),
    ]
    return rows


def _same_process(n):
    with BenchEmulator() as bench:
        bench.emu.limiter.set_limit("multicast", MULTICAST_PER_SECOND, 1.0)
        user_ids = bench.add_friends(n)
        rss_before = current_rss_mb()
        server_before = bench.server_seconds
        plan, send, cpu, report = _campaign(bench.configuration(), user_ids)
        server_time = bench.server_seconds - server_before
        counts = inbox_counts(bench.emu, "multicast")
        requests = bench.requests_by_endpoint()
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    lost = n - sum(1 for u in user_ids if counts.get(u))
    return [
        table.ratio_at_least("same process: dispatch rate (send phase)", n / send.seconds,
                             CEILING, TARGET_RATIO, "recipients/s",
                             "ceiling; emulator shares our process and GIL"),
        table.info("  send phase wall time", send.seconds, "s"),
        table.info("  process CPU (ours + emulator)", cpu, "s"),
        # Summed over the emulator's request threads: GIL waits included, overlaps wall time.
        table.info("  emulator request handling (summed over threads)", server_time, "s"),
        table.info("  planning", plan.seconds, "s"),
        table.info("  RSS before the campaign (emulator + users)", rss_before, "MB"),
        table.exactly("  same process: multicast requests made", requests.get("multicast", 0),
                      math.ceil(n / MULTICAST_MAX)),
        table.exactly("  same process: recipients sent", report.counts.get("sent", 0), n),
        table.exactly("  same process: duplicates", duplicates, 0),
        table.exactly("  same process: lost", lost, 0),
    ]


def run(n=DEFAULT_N):
    rows = _separate_process(n) + _same_process(n)
    return f"campaign: identical body to {n:,} friends, multicast limited to " \
           f"{MULTICAST_PER_SECOND} req/s, {CONCURRENCY} batches in flight", rows
