"""What every benchmark shares: an emulator on 127.0.0.1 with a ticking clock, friends created
straight in its state (in this process, or in a child process: :class:`ChildEmulator`), a JSON
campaign store that can simulate a crash, and memory figures."""

import collections
import json
import os
import resource
import subprocess
import sys
import time

from line_idlink.campaign import Batch
from line_emulator import Clock, Emulator, EmulatorServer
from line_emulator.state import FRIEND, User


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


class ChildEmulator:
    """The same benchmark emulator in a SEPARATE process (``python -m line_idlink_dev.bench.common``),
    so client and emulator each get a core and a GIL of their own, as a client and LINE would.

    It prints one JSON line (base URL, access token, the friends' userIds), then answers one JSON
    command per line on stdin: ``report`` (deliveries per user, requests, its own handling and CPU
    time) and ``quit``. Rate limits stay enforced by the emulator, in the child.
    """

    def __init__(self, friends, seed=1, limits=()):
        command = [sys.executable, "-m", "line_idlink_dev.bench.common", json.dumps(
            {"friends": friends, "seed": seed, "limits": list(limits)})]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        hello = self.process.stdout.readline()
        if not hello:
            self.process.wait()
            raise RuntimeError(f"the child emulator exited ({self.process.returncode})")
        hello = json.loads(hello)
        self.base_url = hello["base_url"]
        self.access_token = hello["access_token"]
        self.user_ids = hello["user_ids"]

    def configuration(self):
        from linebot.v3.messaging import Configuration

        return Configuration(host=self.base_url, access_token=self.access_token)

    def ask(self, op, **args):
        self.process.stdin.write(json.dumps(dict(args, op=op)) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def report(self, api=None):
        """``{"delivered": friends with >= 1 message, "duplicates": messages beyond the first per
        user, "per_user": {messages: friends}, "requests": {endpoint: n}, "throttled": n,
        "retry_keys": {endpoint: distinct keys},
        "server_seconds": s, "cpu_seconds": s}`` (CPU of the whole child so far); ``api`` counts
        only deliveries through that API."""
        return self.ask("report", api=api)

    def stop(self):
        if self.process.poll() is None:
            try:
                self.ask("quit")
            except (OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _serve_child(options):
    bench = BenchEmulator(seed=options.get("seed", 1))
    for endpoint, count, per_seconds in options.get("limits", []):
        bench.emu.limiter.set_limit(endpoint, count, per_seconds)
    user_ids = bench.add_friends(options.get("friends", 0))
    out = sys.stdout
    out.write(json.dumps({"base_url": bench.server.base_url,
                          "access_token": bench.emu.config.access_token,
                          "user_ids": user_ids}) + "\n")
    out.flush()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "quit":
                out.write("{}\n")
                break
            if command["op"] == "report":
                with bench.emu.locked():
                    counts = inbox_counts(bench.emu, command.get("api"))
                    answer = {"delivered": sum(1 for u in user_ids if counts.get(u)),
                              "duplicates": sum(c - 1 for c in counts.values() if c > 1),
                              "per_user": collections.Counter(counts[u] for u in user_ids),
                              "requests": bench.requests_by_endpoint(),
                              "throttled": sum(1 for e in bench.emu.request_log
                                               if e["status"] == 429),
                              "retry_keys": distinct_retry_keys(bench.emu),
                              "server_seconds": bench.server_seconds,
                              "cpu_seconds": cpu_seconds()}
                out.write(json.dumps(answer) + "\n")
            out.flush()
    finally:
        bench.stop()


def distinct_retry_keys(emu):
    """endpoint -> how many distinct X-Line-Retry-Key values it received."""
    keys = collections.defaultdict(set)
    for entry in emu.request_log:
        if entry.get("retryKey"):
            keys[entry["endpoint"]].add(entry["retryKey"])
    return {endpoint: len(values) for endpoint, values in keys.items()}


def cpu_seconds():
    """User + system CPU time of this process so far."""
    times = os.times()
    return times.user + times.system


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


if __name__ == "__main__":
    _serve_child(json.loads(sys.argv[1]))
