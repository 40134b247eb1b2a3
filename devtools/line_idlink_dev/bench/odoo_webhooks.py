"""``odoo-webhooks``: signed webhook events at a steady rate into Odoo's ``/line/webhook/<id>``.

Needs an Odoo 18.0 installation (``ODOO_SRC``, ``ODOO_PY``; without them it says plainly that it
skipped). A throwaway database gets the addon (from ``scripts/odoo-test``'s template database
when there is one, see :mod:`line_idlink_dev.odoo_server`), then one Odoo worker serves it: Odoo's
prefork server (``--workers=1``: one HTTP worker process, one cron worker process, which
processes the events as in production, woken by ``_trigger()``); ``BENCH_ODOO_WORKERS=0`` runs
the threaded server (one process, one cron thread) instead. The channel (created over
JSON-RPC, default rich menus published) talks to the emulator, which runs in a child process with a ticking clock
and builds each event when it is sent, so its reply token is real and fresh.

The benchmark process sends RATE events per second for SECONDS seconds (default 200/s for 60 s),
open loop: each request leaves at its scheduled time from a pool of threads, and its answer time
is counted from that scheduled time (a late start counts against Odoo, never hidden). Events,
one per request, in a fixed mix: 60 % text messages from 200 friends, 20 % ``follow`` and 20 %
"unlink" postbacks, each of those from a user of its own, to whom the bot answers exactly one
reply. Then it waits for the cron to process everything and reads the event rows.

Targets: answer p99 ≤ 100 ms; 0 lost (answered 200 but not stored; and none still unprocessed
when the bounded wait ends); 0 processed twice (a user of a follow or postback with more than
one message).
"""

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time

from . import table

NAME = "odoo-webhooks"
DEFAULT_N = 12_000  # events: 200/s for 60 s
FULL_N = 12_000
RATE = 200
SENDERS = 32
# Odoo's prefork server with one HTTP worker process and one cron worker process (the HTTP
# worker and the cron do not share one GIL); it also spawns Odoo's gevent process, which needs a
# working gevent in ODOO_PY (scripts/odoo-setup sees to it): without one, the bench says so and
# uses the threaded server. BENCH_ODOO_WORKERS=0: Odoo's threaded server (one process: HTTP
# threads and the cron thread).
WORKERS = int(os.environ.get("BENCH_ODOO_WORKERS", "1"))
P99_TARGET_MS = 100.0
FRIENDS = 200
TIMED = True  # takes --seconds / --rate


# The emulator child -------------------------------------------------------------------------
def _kind(index):
    slot = index % 10
    return "message" if slot < 6 else "follow" if slot < 8 else "postback"


def _serve_child():
    """``python -m line_idlink_dev.bench.odoo_webhooks``: the emulator, one JSON command a line."""
    from line_emulator import events as build
    from line_emulator.state import FRIEND, User
    from line_idlink.postbacks import POSTBACK_UNLINK
    from .common import BenchEmulator

    bench = BenchEmulator(seed=11)
    emu = bench.emu
    friends = bench.add_friends(FRIENDS, prefix="friend")
    answered = []  # users of follow/postback events: each must get exactly one message
    out = sys.stdout
    out.write(json.dumps({"base_url": bench.server.base_url,
                          "credentials": emu.config.public()}) + "\n")
    out.flush()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "quit":
                break
            if command["op"] == "bodies":
                items = []
                with emu.locked():
                    for index in range(command["start"], command["start"] + command["count"]):
                        kind = _kind(index)
                        if kind == "message":
                            user_id = friends[index % FRIENDS]
                            event = build.text_message(emu, user_id, f"注文の状況 #{index}")
                        else:
                            user = User(emu.ids.user_id(), f"user {index}", friendship=FRIEND,
                                        ever_followed=True)
                            emu.users[user.user_id] = user
                            answered.append(user.user_id)
                            event = (build.follow(emu, user.user_id, False) if kind == "follow"
                                     else build.postback(emu, user.user_id, POSTBACK_UNLINK))
                        raw = json.dumps({"destination": emu.config.bot_user_id,
                                          "events": [event]}, ensure_ascii=False,
                                         separators=(",", ":"))
                        items.append([kind, raw, emu.webhooks.sign(raw.encode("utf-8"))])
                out.write(json.dumps({"items": items}) + "\n")
            elif command["op"] == "report":
                with emu.locked():
                    counts = collections.Counter(len(emu.users[u].inbox) for u in answered)
                    statuses = collections.Counter(
                        f"{e['endpoint']} {e['status']}" for e in emu.request_log)
                out.write(json.dumps({"answered_users": len(answered),
                                      "messages": {str(k): v for k, v in counts.items()},
                                      "requests": statuses}) + "\n")
            out.flush()
    finally:
        bench.stop()


class EmulatorChild:
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", __name__],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        hello = self.process.stdout.readline()
        if not hello:
            raise RuntimeError(f"the emulator child exited ({self.process.wait()})")
        hello = json.loads(hello)
        self.base_url, self.credentials = hello["base_url"], hello["credentials"]
        self.lock = threading.Lock()

    def ask(self, op, **args):
        with self.lock:
            self.process.stdin.write(json.dumps(dict(args, op=op)) + "\n")
            self.process.stdin.flush()
            return json.loads(self.process.stdout.readline())

    def stop(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write('{"op": "quit"}\n')
                self.process.stdin.flush()
                self.process.wait(20)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


# Sending ------------------------------------------------------------------------------------
def send(url, child, rate, seconds):
    """Open-loop sender: (answers [(kind, status, ms from the scheduled time, ms from the
    request's start)], dispatch delays [s], first, last).

    Each request leaves from a pool of threads at its scheduled time (or as soon as a thread is
    free); its event is built by the emulator child just then, as LINE builds an event when it
    sends it, so reply tokens and timestamps are as fresh as LINE's."""
    import requests

    total = rate * seconds
    local = threading.local()
    answers, delays = [], []
    jobs = queue.Queue()

    def worker():
        local.session = requests.Session()
        while True:
            job = jobs.get()
            if job is None:
                return
            scheduled, index = job
            sent = time.perf_counter()
            delays.append(sent - scheduled)
            kind, raw, signature = child.ask("bodies", start=index, count=1)["items"][0]
            try:
                status = local.session.post(url, data=raw.encode("utf-8"), timeout=60, headers={
                    "Content-Type": "application/json", "x-line-signature": signature}
                ).status_code
            except requests.RequestException:
                status = "error"
            done = time.perf_counter()
            answers.append((kind, status, (done - scheduled) * 1000, (done - sent) * 1000))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for index in range(total):
        scheduled = started + index / rate
        pause = scheduled - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        jobs.put((scheduled, index))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        while thread.is_alive():  # joined in steps, so that Ctrl-C interrupts
            thread.join(0.5)
    return answers, delays, started, time.perf_counter()


# Odoo ---------------------------------------------------------------------------------------
def _event_figures(db, channel_id):
    from ..odoo_server import psql

    row = psql(f"""
        SELECT count(*), count(*) FILTER (WHERE state = 'done'),
               count(*) FILTER (WHERE state = 'error'), count(*) FILTER (WHERE attempts > 1),
               count(*) FILTER (WHERE state IN ('pending', 'processing')),
               coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), 0),
               coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY lag), 0),
               coalesce(max(lag), 0), coalesce(extract(epoch FROM max(finished_at)), 0),
               (SELECT error FROM line_webhook_event WHERE state = 'error' AND channel_id =
                       {int(channel_id)} ORDER BY id LIMIT 1)
          FROM (SELECT *, extract(epoch FROM finished_at - received_at) AS lag
                  FROM line_webhook_event WHERE channel_id = {int(channel_id)}) e""", db)
    fields = row.split("|")
    names = ("stored", "done", "error", "retried", "waiting", "lag_p50", "lag_p95", "lag_max",
             "last_finished", "first_error")
    values = dict(zip(names, fields))
    for name in names[:5]:
        values[name] = int(values[name])
    for name in names[5:9]:
        values[name] = float(values[name])
    return values


def measure(rate, seconds, say=print):
    from ..odoo_demo import publish_menus, setup_odoo
    from ..odoo_server import (JsonRpc, OdooInstallation, OdooServer, drop_database,
                               prepare_database)

    odoo = OdooInstallation.from_env()
    db = f"line_idlink_bench_wh_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    log_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "odoo-bench")
    os.makedirs(log_dir, exist_ok=True)
    log = os.path.join(log_dir, f"{db}.log")
    server = child = None
    try:
        prepare_database(odoo, db, log=log, say=lambda text: say(f"odoo-webhooks: {text}"))
        workers = WORKERS
        if workers and not _gevent_works(odoo):
            say(f"odoo-webhooks: gevent does not start in {odoo.python} (Odoo's prefork server"
                " needs it; run scripts/odoo-setup): using the threaded server")
            workers = 0
        server = OdooServer(odoo, db, workers=workers, cron_threads=1, log_path=log,
                            log_level="warn", extra=["--log-handler=line_idlink:WARNING"]).start()
        say(f"odoo-webhooks: odoo-bin --workers={workers} --max-cron-threads=1 on {server.url} "
            f"(log {log})")
        child = EmulatorChild()
        rpc = JsonRpc(server.url, db).login("admin", "admin")
        channel_id, webhook_url, _customers = setup_odoo(
            rpc, server.url, child.base_url, child.credentials, say=lambda text: None)
        publish_menus(rpc, channel_id, say=lambda text: None)
        say(f"odoo-webhooks: sending {rate * seconds:,} events at {rate}/s for {seconds} s")
        answers, delays, first, last = send(webhook_url, child, rate, seconds)
        sent_at_end = time.time()
        wait = max(300, 5 * seconds)
        deadline = time.monotonic() + wait
        while True:
            figures = _event_figures(db, channel_id)
            if not figures["waiting"] or time.monotonic() > deadline:
                break
            time.sleep(1)
        emulator = child.ask("report")
        return {"answers": answers, "delays": delays, "wall": last - first, "wait": wait,
                "workers": workers,
                "events": figures, "drain": max(0.0, figures["last_finished"] - sent_at_end),
                "emulator": emulator}
    finally:
        if child:
            child.stop()
        if server:
            server.stop()
        if os.environ.get("KEEP_DB") == "1":
            say(f"odoo-webhooks: KEEP_DB=1: kept database {db}")
        else:
            drop_database(db)


def _percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _gevent_works(odoo):
    """Odoo's prefork server spawns ``odoo-bin gevent``, which dies at once (and is respawned
    forever) when gevent cannot monkey-patch in that Python."""
    check = subprocess.run([odoo.python, "-W", "ignore", "-c",
                            "import gevent.monkey; gevent.monkey.patch_all()"],
                           env=odoo.environ(), capture_output=True, timeout=120)
    return check.returncode == 0


def run(n=DEFAULT_N, seconds=None, rate=None):
    from ..odoo_server import OdooUnavailable

    rate = rate or RATE
    seconds = seconds or max(1, round(n / rate))

    def title_for(workers):
        server = ("one Odoo process (threaded server) with one cron thread" if not workers else
                  f"{workers} Odoo HTTP worker process(es) + one cron worker (prefork server)")
        return (f"odoo-webhooks: {rate * seconds:,} signed events at {rate}/s for {seconds} s "
                f"into /line/webhook/<id>, {server}, against the emulator")

    try:
        result = measure(rate, seconds)
    except OdooUnavailable as why:
        print(f"bench: SKIPPED odoo-webhooks: {why}", file=sys.stderr)
        return f"{title_for(WORKERS)}: SKIPPED", [table.info("skipped", str(why))]
    title = title_for(result["workers"])
    answers, events, emulator = result["answers"], result["events"], result["emulator"]
    sent = len(answers)
    ok = [a for a in answers if a[1] == 200]
    times = [a[2] for a in answers]
    statuses = collections.Counter(str(a[1]) for a in answers)
    messages = emulator["messages"]
    twice = sum(count for got, count in messages.items() if int(got) > 1)
    unanswered = int(messages.get("0", 0))
    rows = [
        table.info("answer time p50", _percentile(times, 0.50), "ms"),
        table.info("answer time p95", _percentile(times, 0.95), "ms"),
        table.at_most("answer time p99", _percentile(times, 0.99), P99_TARGET_MS, "ms"),
        table.info("answer time max", max(times, default=0.0), "ms"),
        table.info("  once the request left: p50 / p99", " / ".join(
            f"{_percentile([a[3] for a in answers], q):,.1f}" for q in (0.5, 0.99)), "ms"),
        table.info("rate achieved", sent / result["wall"] if result["wall"] else 0.0,
                   "events/s"),
        table.info("answers", ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))),
        table.exactly("events answered 200", len(ok), sent),
        table.exactly("events stored", events["stored"], len(ok)),
        table.exactly("events processed (done)", events["done"], events["stored"]),
        table.exactly("lost (answered 200, not stored)", len(ok) - events["stored"], 0),
        table.exactly(f"not processed {result['wait']} s after the last send", events["waiting"],
                      0),
        table.exactly("processed twice (a user answered more than once)", twice, 0),
        table.info("  users who got no answer", unanswered),
        table.info("  events in error", events["error"]
                   if not events["error"] else f"{events['error']:,}: {events['first_error']}"),
        table.info("  events tried more than once", events["retried"]),
        table.info("processing lag (stored -> processed) p50", events["lag_p50"], "s"),
        table.info("processing lag p95", events["lag_p95"], "s"),
        table.info("processing lag max", events["lag_max"], "s"),
        table.info("last event processed, after the last send", result["drain"], "s"),
        table.info("late dispatches (> 10 ms after schedule)",
                   sum(1 for d in result["delays"] if d > 0.010)),
    ]
    return title, rows


if __name__ == "__main__":
    _serve_child()
