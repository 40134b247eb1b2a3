"""``push``: personalised push through :meth:`Sender.push` against a bare SDK loop.

Both loops send one personalised text per friend to the same emulator: the bare loop calls
``linebot.v3.messaging.MessagingApi.push_message`` and nothing else (no retry key, no limiter,
no result object); ours goes through :class:`~line_idlink.messaging.Sender` (UUID retry key,
client-side rate limiter, backoff policy, :class:`SendResult`). They alternate in blocks of
``BLOCK`` pushes after a warm-up, so load from elsewhere on the machine hits both alike.
Target: ours ≥ 0.9 × the bare loop.
"""

from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage

from ..messaging import Sender
from . import table
from .common import BenchEmulator, Stopwatch, inbox_counts

NAME = "push"
DEFAULT_N = 5_000
FULL_N = 20_000
TARGET_RATIO = 0.9
BLOCK = 50
WARM_UP = 20


def _text(prefix, index):
    return f"{prefix} {index}: your points balance is {index * 7 % 1000} pts"


def run(n=DEFAULT_N):
    with BenchEmulator() as bench:
        warm_ids = bench.add_friends(WARM_UP, prefix="warm-up")
        user_ids = bench.add_friends(n)
        bare_seconds = ours_seconds = 0.0
        results = []
        with ApiClient(bench.configuration()) as client, Sender(bench.configuration()) as sender:
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
            for start in range(0, n, BLOCK):
                block = numbered[start:start + BLOCK]
                with Stopwatch() as bare:
                    bare_loop(block)
                with Stopwatch() as ours:
                    our_loop(block)
                bare_seconds += bare.seconds
                ours_seconds += ours.seconds
        counts = inbox_counts(bench.emu, "push")
        keys = {e["retryKey"] for e in bench.emu.request_log
                if e["retryKey"] and e["endpoint"] == "pushMessage"} - {None}
        keys_expected = n + WARM_UP

    bare_rate, ours_rate = n / bare_seconds, n / ours_seconds
    wrong = sum(1 for u in user_ids if counts.get(u) != 2)  # one bare + one ours each
    rows = [
        table.ratio_at_least("Sender.push throughput", ours_rate, bare_rate, TARGET_RATIO,
                             "pushes/s", "bare SDK loop"),
        table.info("bare SDK push_message loop", bare_rate, "pushes/s"),
        table.info("per push: ours / bare", f"{ours_seconds / n * 1e3:.2f} / "
                   f"{bare_seconds / n * 1e3:.2f}", "ms"),
        table.exactly("Sender results ok", sum(1 for r in results if r.ok), n),
        table.exactly("distinct retry keys sent (warm-up included)", len(keys), keys_expected),
        table.exactly("users without exactly 1 bare + 1 ours", wrong, 0),
    ]
    return f"push: {n:,} personalised pushes, Sender vs bare SDK loop (alternating blocks of {BLOCK})", rows
