"""What every benchmark shares: an emulator on 127.0.0.1 with a ticking clock, friends created
straight in its state, a JSON campaign store that can simulate a crash, and memory figures."""

import collections
import json
import resource
import time

from ..campaign import Batch
from ..emulator import Clock, Emulator, EmulatorServer
from ..emulator.state import FRIEND, User


class BenchEmulator:
    """An emulator with a REAL clock (so its rate-limit windows are real), served on a free port.

    ``server_seconds`` adds up the time the emulator spends handling requests, so a benchmark can
    tell how much of its wall time is the emulator's and how much is ours (one process, one GIL).
    """

    def __init__(self, seed=1):
        self.emu = Emulator(seed=seed, clock=Clock(frozen=False), log_bodies=False)
        self.server_seconds = 0.0
        app = self.emu.app
        handle = app.handle

        def timed_handle(request):
            started = time.perf_counter()
            try:
                return handle(request)
            finally:
                self.server_seconds += time.perf_counter() - started

        app.handle = timed_handle
        self.server = EmulatorServer(self.emu).start()

    def configuration(self):
        return self.server.messaging_configuration()

    def add_friends(self, count, prefix="user"):
        """``count`` users who are friends of the bot, written into the state directly (the
        follow flow with its webhooks is not what is measured here)."""
        ids = []
        with self.emu.locked():
            for index in range(count):
                user = User(self.emu.ids.user_id(), f"{prefix} {index}", friendship=FRIEND,
                            ever_followed=True)
                self.emu.users[user.user_id] = user
                ids.append(user.user_id)
        return ids

    def requests_by_endpoint(self):
        return collections.Counter(entry["endpoint"] for entry in self.emu.request_log)

    def stop(self):
        self.server.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class SimulatedKill(BaseException):
    """Stands for the process dying: a BaseException, so no ``except Exception`` swallows it."""


class JsonCampaignStore:
    """A :class:`~line_idlink.campaign.CampaignStore` keeping each batch as a JSON text, as a
    database column would (so every save pays for serialisation), with O(1) saves.

    ``kills``: ``[(after_saves, state), ...]``; once ``saves`` has reached ``after_saves``, the
    next save of a batch in ``state`` raises :class:`SimulatedKill` INSTEAD of being stored, as
    if the process died just then (``"sending"``: before the request; ``"sent"``: LINE has
    accepted it but the store does not know).
    """

    def __init__(self, kills=()):
        self.rows = {}
        self.saves = 0
        self.pending_kills = sorted(kills)
        self.kills = []  # (save number, batch id, state that was not stored)

    def load_batches(self, campaign_id):
        rows = self.rows.get(campaign_id)
        return None if rows is None else [Batch.from_dict(json.loads(v)) for v in rows.values()]

    def save_batches(self, campaign_id, batches):
        self.rows[campaign_id] = {b.batch_id: json.dumps(b.to_dict()) for b in batches}

    def save_batch(self, campaign_id, batch):
        self.saves += 1
        if self.pending_kills:
            after, state = self.pending_kills[0]
            if self.saves >= after and batch.state == state:
                self.pending_kills.pop(0)
                self.kills.append((self.saves, batch.batch_id, batch.state))
                raise SimulatedKill(f"process killed at save {self.saves} (batch "
                                    f"{batch.batch_id} -> {batch.state} not stored)")
        rows = self.rows[campaign_id]
        if batch.batch_id not in rows:
            raise KeyError(batch.batch_id)
        rows[batch.batch_id] = json.dumps(batch.to_dict())


def inbox_counts(emu, api=None):
    """userId -> number of messages delivered (optionally only through one API)."""
    counts = collections.Counter()
    for record in emu.messaging.deliveries:
        if api is None or record["api"] == api:
            counts[record["userId"]] += len(record["messageIds"])
    return counts


def peak_rss_mb():
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return peak_rss_mb()


class Stopwatch:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
