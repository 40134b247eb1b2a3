"""``push``: personalised push through :meth:`Sender.push` against a bare SDK loop.

Both loops send one personalised text per friend to the same emulator: the bare loop calls
``linebot.v3.messaging.MessagingApi.push_message`` and nothing else (no retry key, no limiter,
no result object); ours goes through :class:`~line_idlink.sender.Sender` (UUID retry key,
client-side rate limiter, backoff policy, :class:`SendResult`). They alternate in blocks of
``BLOCK`` pushes after a warm-up, so load from elsewhere on the machine hits both alike.
Target: ours ≥ 0.9 × the bare loop.

The checked figure runs against an emulator in a SEPARATE process (as against LINE, the server's
work does not share our GIL); the same comparison with the emulator in this process follows. The
difference matters because ours sends a retry key, which the emulator must check and remember:
in one process that server-side work is charged to our loop.
"""

from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage

from line_idlink.sender import Sender
from . import table
from .common import BenchEmulator, ChildEmulator, Stopwatch, distinct_retry_keys, inbox_counts

NAME = "push"
DEFAULT_N = 5_000
FULL_N = 20_000
TARGET_RATIO = 0.9
BLOCK = 50
WARM_UP = 20


def _text(prefix, index):
    return f"{prefix} {index}: your points balance is {index * 7 % 1000} pts"


def _compare(configuration, warm_ids, user_ids):
    """Alternating blocks of bare and ours; returns (bare seconds, our seconds, our results)."""
    bare_seconds = ours_seconds = 0.0
    results = []
    with ApiClient(configuration) as client, Sender(configuration) as sender:
        api = MessagingApi(client)

        def bare_loop(block):
            for index, user_id in block:
                api.push_message(PushMessageRequest(
                    to=user_id, messages=[TextMessage(text=_text("bare", index))]))

        def our_loop(block):
            for index, user_id in block:
                results.append(sender.push(
                    user_id, [{"type": "text", "text": _text("ours", index)}]))

        warm = list(enumerate(warm_ids))
        bare_loop(warm)
        our_loop(warm)
        results.clear()
        numbered = list(enumerate(user_ids))
        for start in range(0, len(numbered), BLOCK):
            block = numbered[start:start + BLOCK]
            with Stopwatch() as bare:
                bare_loop(block)
            with Stopwatch() as ours:
                our_loop(block)
            bare_seconds += bare.seconds
            ours_seconds += ours.seconds
    return bare_seconds, ours_seconds, results


def _separate_process(n):
    with ChildEmulator(WARM_UP + n) as child:
        warm_ids, user_ids = child.user_ids[:WARM_UP], child.user_ids[WARM_UP:]
        bare_seconds, ours_seconds, results = _compare(child.configuration(), warm_ids, user_ids)
        after = child.report("push")
    bare_rate, ours_rate = n / bare_seconds, n / ours_seconds
    return [
        table.ratio_at_least("Sender.push throughput", ours_rate, bare_rate, TARGET_RATIO,
                             "pushes/s", "bare SDK loop; emulator in its own process"),
        table.info("bare SDK push_message loop", bare_rate, "pushes/s"),
        table.info("per push: ours / bare", f"{ours_seconds / n * 1e3:.2f} / "
                   f"{bare_seconds / n * 1e3:.2f}", "ms"),
        table.exactly("Sender results ok", sum(1 for r in results if r.ok), n),
        table.exactly("distinct retry keys sent (warm-up included)",
                      after["retry_keys"].get("pushMessage", 0), n + WARM_UP),
        # every user (warm-up included) got exactly one bare and one of ours
        table.exactly("users without exactly 1 bare + 1 ours",
                      n + WARM_UP - after["per_user"].get("2", 0), 0),
    ]


def _same_process(n):
    with BenchEmulator() as bench:
        warm_ids = bench.add_friends(WARM_UP, prefix="warm-up")
        user_ids = bench.add_friends(n)
        bare_seconds, ours_seconds, results = _compare(bench.configuration(), warm_ids, user_ids)
        counts = inbox_counts(bench.emu, "push")
        keys = distinct_retry_keys(bench.emu).get("pushMessage", 0)
    wrong = sum(1 for u in warm_ids + user_ids if counts.get(u) != 2)
    return [
        table.ratio_at_least("same process: Sender.push throughput", n / ours_seconds,
                             n / bare_seconds, TARGET_RATIO, "pushes/s",
                             "bare SDK loop; emulator shares our process and GIL"),
        table.info("  per push: ours / bare", f"{ours_seconds / n * 1e3:.2f} / "
                   f"{bare_seconds / n * 1e3:.2f}", "ms"),
        table.exactly("  same process: Sender results ok", sum(1 for r in results if r.ok), n),
        table.exactly("  same process: distinct retry keys", keys, n + WARM_UP),
        table.exactly("  same process: users without exactly 1 bare + 1 ours", wrong, 0),
    ]


def run(n=DEFAULT_N):
    rows = _separate_process(n) + _same_process(n)
    return f"push: {n:,} personalised pushes, Sender vs bare SDK loop (alternating blocks of " \
           f"{BLOCK})", rows
