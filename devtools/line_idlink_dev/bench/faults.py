"""``faults``: N personalised sends through faults and crashes; nothing lost, nothing twice.

A :class:`~line_idlink.campaign.CampaignRunner` pushes one personalised text to each of N
friends (one push request per recipient) while the emulator injects, with seeded rules:

- 10 % 5xx: half before the request is applied (500), half AFTER it was applied (503: LINE has
  the message but the client sees an error, the case retry keys exist for);
- 2 % accepted-then-dropped connections (applied, then the socket is closed unanswered);
- 429 bursts: ``BURSTS`` runs of ``BURST_LENGTH`` consecutive 429s, longer than the sender's 6
  attempts, so a run gives up (RetriesExhausted) and has to be resumed;
- 3 process kills: the campaign store raises instead of saving (once before a request, twice
  after LINE accepted one but before "sent" was stored); a fresh Sender and CampaignRunner then
  resume on the same store, as a restarted worker would.

Duplicates and lost messages are counted from the users' inboxes in the emulator (targets 0 and
0), and each inbox message is checked to be that user's own text. The sender's backoff is
shortened (base 10 ms, cap 200 ms) so the run takes minutes, not hours; its policy is unchanged.
"""

import collections

from line_idlink.campaign import CampaignRunner
from line_idlink.sender import QuotaExceeded, RetriesExhausted, Sender
from line_idlink.retry import Backoff
from . import table
from .common import BenchEmulator, JsonCampaignStore, SimulatedKill, Stopwatch

NAME = "faults"
DEFAULT_N = 20_000
FULL_N = 100_000
BURSTS = 5
BURST_LENGTH = 8
MAX_RUNS = 1000


def _text(index):
    return f"Order #{index:06d} has shipped"


def fault_rules(n):
    rules = [
        {"endpoint": "pushMessage", "action": "status", "status": 500, "when": "before",
         "probability": 0.05, "seed": 101},
        {"endpoint": "pushMessage", "action": "status", "status": 503, "when": "after",
         "probability": 0.05, "seed": 102},
        {"endpoint": "pushMessage", "action": "drop", "when": "after", "probability": 0.02,
         "seed": 103},
    ]
    # Calls are counted over every attempt, retries included (about 1.15 per send).
    for burst in range(BURSTS):
        start = int(n * (burst + 0.5) / BURSTS)
        rules[:0] = [{"endpoint": "pushMessage", "action": "rate_limit", "nth": start + j}
                     for j in range(BURST_LENGTH)]
    return rules


def run(n=DEFAULT_N):
    kills = [(int(2 * n * share), state)
             for share, state in ((0.2, "sending"), (0.45, "sent"), (0.7, "sent"))]
    store = JsonCampaignStore(kills=kills)
    stops = collections.Counter()
    with BenchEmulator() as bench:
        user_ids = bench.add_friends(n)
        for rule in fault_rules(n):
            bench.emu.faults.add(rule)
        recipients = [(index, user_id, [{"type": "text", "text": _text(index)}])
                      for index, user_id in enumerate(user_ids)]
        with Stopwatch() as wall:
            for runs in range(1, MAX_RUNS + 1):  # each pass is a (re)started worker
                sender = Sender(bench.configuration(), backoff=Backoff(0.01, 0.2, seed=runs))
                runner = CampaignRunner(sender, store)
                try:
                    report = runner.run("faults", recipients if runs == 1 else None)
                except SimulatedKill:
                    stops["process killed"] += 1
                    continue
                except RetriesExhausted:
                    stops["gave up (retries exhausted), resumed"] += 1
                    continue
                except QuotaExceeded:  # no quota is set: this would be a bug
                    stops["quota"] += 1
                    break
                finally:
                    sender.close()
                if report.done:
                    break
        log = bench.emu.request_log
        faults = collections.Counter(e["fault"] for e in log if e["fault"])
        statuses = collections.Counter(e["status"] for e in log)
        inbox = {u: [m for m in bench.emu.users[u].inbox if m["api"] == "push"]
                 for u in user_ids}

    report = CampaignRunner(None, store).report("faults")
    duplicates = sum(len(msgs) - 1 for msgs in inbox.values() if len(msgs) > 1)
    lost = sum(1 for msgs in inbox.values() if not msgs)
    wrong = sum(1 for index, u in enumerate(user_ids)
                if any(m["message"].get("text") != _text(index) for m in inbox[u]))
    rows = [
        table.exactly("duplicates (inboxes)", duplicates, 0),
        table.exactly("lost (inboxes)", lost, 0),
        table.exactly("messages in the wrong inbox", wrong, 0),
        table.exactly("recipients 'sent' in the campaign store", report.counts.get("sent", 0), n),
        table.info("push requests made (attempts)", len(log)),
        table.info("5xx injected", faults.get("status", 0)),
        table.info("  dropped connections injected", faults.get("connection dropped", 0)),
        table.info("  429 injected (bursts)", faults.get("rate_limit", 0)),
        table.info("409 answers (already accepted, resumed by key)", statuses.get(409, 0)),
        table.exactly("process kills simulated", stops["process killed"], 3),
        table.info("runs gave up on a 429 burst and were resumed",
                   stops["gave up (retries exhausted), resumed"]),
        table.info("worker runs in all", sum(stops.values()) + 1),
        table.info("wall time", wall.seconds, "s"),
        table.info("sends/s (faults included)", n / wall.seconds, "sends/s"),
    ]
    return f"faults: {n:,} personalised sends with 10% 5xx, 2% dropped, 429 bursts and 3 " \
           "process kills", rows
