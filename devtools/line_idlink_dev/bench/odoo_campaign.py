"""``odoo-campaign``: one LINE mailing (``line_idlink_mass_mailing``) to N linked friends, in Odoo,
against the emulator, beside Odoo's own SMS Marketing sending the same N partners.

Needs an Odoo 18.0 installation (``ODOO_SRC``/``ODOO_PY``, see :mod:`.richmenu`). A database is
cloned from the addon's cached template database and ``line_idlink_mass_mailing`` and
``mass_mailing_sms`` are installed in it. The emulator runs in this process (real clock,
unlimited quota); the Odoo work runs in ``odoo-bin shell`` processes, as Odoo's crons would:

1. **LINE vs SMS.** N partners (with a mobile number) and N linked, following LINE users are
   written with set-based SQL. LINE: "Send" (``action_put_in_queue``), Odoo's mailing cron
   (``_process_mass_mailing_queue``: traces and queue rows), then the LINE queue
   (``line.message._process_queue``, what its cron runs) until every trace is final. SMS: the same
   with ``mailing_type='sms'``, Odoo's SMS queue (``sms.sms._process_queue``) and its gateway
   mocked at the IAP call (``SmsApi._contact_iap`` answers "success", no network; Odoo 18's
   SMS composer refuses more than about 12,000 recipients at once: its ``res_ids`` repr exceeds
   ``literal_eval``'s 100 KiB limit, raised here with Odoo's ``ODOO_LIMIT_LITEVAL_BUFFER``). Target:
   LINE time ≤ 0.5 × SMS time. Requests made, peak RSS of each Odoo process, duplicates and
   losses counted in the emulator's inboxes.
2. **Faults.** A second identical mailing while the emulator injects 10% HTTP 500, 2% connections
   dropped after LINE accepted the request, and 429 bursts, and the sending worker is killed
   (SIGKILL) three times, each time after about an eighth of the requests, and restarted (the leases of its claimed rows are shortened to 10 s for
   the bench, ``line.message.LEASE_SECONDS``, so the next worker resumes them without waiting 5
   minutes): 0 duplicates, 0 lost.
3. **Two workers.** A third mailing sent by two Odoo processes at once (as two servers on one
   database): 0 duplicates, 0 × 429 from LINE, and the queue's speed-up over one worker.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

from . import table
from .richmenu import DATA_DIR, REPO, Skipped, _base_command, _env, _odoo
from ..odoo_server import template_database

NAME = "odoo-campaign"
DEFAULT_N = 20_000
FULL_N = 100_000
MAX_RATIO = 0.5
ADDONS = "line_idlink_mass_mailing,mass_mailing_sms"
LEASE_SECONDS = 10
KILLS = 3

SETUP = """
import json
cr = env.cr
# a reused database (BENCH_ODOO_DB): earlier runs' mailings and queue rows are left alone
cr.execute("UPDATE mailing_mailing SET state = 'done' WHERE state IN ('in_queue', 'sending')")
cr.execute("UPDATE line_message SET state = 'canceled' WHERE state IN ('outgoing', 'sending')")
channel = env["line.channel"].create({"name": "Bench OA", "line_channel_id": CONFIG["cid"],
    "channel_secret": CONFIG["secret"], "access_token": CONFIG["token"],
    "api_base": CONFIG["base"], "auth_base": CONFIG["base"]})
users = CONFIG["users"]
n = len(users)
env.flush_all()
cr.execute('''
    INSERT INTO res_partner (name, complete_name, ref, mobile, phone_sanitized, active, type,
                             is_company, create_uid, write_uid, create_date, write_date)
    SELECT 'Bench customer ' || g, 'Bench customer ' || g, %s,
           '+32470' || lpad(g::text, 6, '0'), '+32470' || lpad(g::text, 6, '0'), true,
           'contact', false, 1, 1, now() at time zone 'utc', now() at time zone 'utc'
      FROM generate_series(1, %s) g ORDER BY g
 RETURNING id''', [CONFIG["tag"], n])
partner_ids = sorted(row[0] for row in cr.fetchall())
cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [partner_ids])
cr.execute('''
    INSERT INTO line_identity (channel_id, line_user_id, partner_id, name, follow_state, linked,
                               linked_since, rich_menu_state, rich_menu_attempts, create_uid,
                               write_uid, create_date, write_date)
    SELECT %s, u, p, 'LINE user', 'followed', true, now() at time zone 'utc', 'ok', 0, 1, 1,
           now() at time zone 'utc', now() at time zone 'utc'
      FROM unnest(%s::varchar[], %s::int[]) AS t(u, p)''', [channel.id, users, partner_ids])
env.invalidate_all()
model = env["ir.model"]._get("res.partner")
common = {"mailing_model_id": model.id, "mailing_domain": repr([("ref", "=", CONFIG["tag"])])}
ids = {}
for key, values in {
        "line": {"mailing_type": "line", "line_channel_id": channel.id,
                 "line_body": "Hello from the LINE campaign bench"},
        "sms": {"mailing_type": "sms", "body_plaintext": "Hello from the SMS campaign bench"},
        "faults": {"mailing_type": "line", "line_channel_id": channel.id,
                   "line_body": "Second LINE campaign (faults)"},
        "workers": {"mailing_type": "line", "line_channel_id": channel.id,
                    "line_body": "Third LINE campaign (two workers)"}}.items():
    ids[key] = env["mailing.mailing"].create(dict(common, subject=f"Bench {key}", **values)).id
cr.commit()
print("BENCH_SETUP " + json.dumps({"mailings": ids, "partners": len(partner_ids)}), flush=True)
"""

PRELUDE = """
import json, os, resource, time
import odoo.addons.line_idlink_addon.models.line_message as line_message
line_message.LEASE_SECONDS = int(os.environ.get("BENCH_LEASE", line_message.LEASE_SECONDS))
cr = env.cr

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def traces_final(mailing_id):
    cr.execute('''SELECT count(*) FILTER (WHERE trace_status IN ('outgoing', 'process')),
                         count(*) FILTER (WHERE trace_status IN ('sent', 'pending', 'open')),
                         count(*) FROM mailing_trace WHERE mass_mailing_id = %s''', [mailing_id])
    pending, ok, total = cr.fetchone()
    return pending, ok, total

def send(mailing_id):
    mailing = env["mailing.mailing"].browse(mailing_id)
    mailing.action_put_in_queue()
    cr.commit()
    env["mailing.mailing"]._process_mass_mailing_queue()
    cr.commit()

def process_line(limit_seconds=3600):
    queue = env["line.message"]
    started, done = time.time(), 0
    while time.time() - started < limit_seconds:
        count = queue._process_queue(batch_size=100)
        done += count
        if not count:
            cr.commit()
            if not queue.search_count([("state", "in", ("outgoing", "sending"))]):
                break
            time.sleep(0.2)
    cr.commit()
    return done
"""

LINE_RUN = PRELUDE + """
mailing_id = MAILING
t0 = time.time()
send(mailing_id)
queued = time.time() - t0
process_line()
pending, ok, total = traces_final(mailing_id)
seconds = time.time() - t0
cr.execute("SELECT state FROM mailing_mailing WHERE id = %s", [mailing_id])
print("BENCH_RESULT " + json.dumps({"seconds": seconds, "queued_seconds": queued,
      "pending": pending, "ok": ok, "total": total, "state": cr.fetchone()[0],
      "peak_rss_mb": peak_mb()}), flush=True)
"""

SMS_RUN = PRELUDE + """
from odoo.addons.sms.tools.sms_api import SmsApi
calls = [0]

def contact_iap(self, local_endpoint, params, timeout=15):
    calls[0] += 1
    return [{"uuid": number["uuid"], "state": "success", "credit": 1}
            for message in params["messages"] for number in message["numbers"]]

SmsApi._contact_iap = contact_iap
mailing_id = MAILING
t0 = time.time()
send(mailing_id)
queued = time.time() - t0
while env["sms.sms"].search_count([("state", "=", "outgoing"), ("to_delete", "!=", True)]):
    env["sms.sms"]._process_queue()
    cr.commit()
pending, ok, total = traces_final(mailing_id)
seconds = time.time() - t0
print("BENCH_RESULT " + json.dumps({"seconds": seconds, "queued_seconds": queued,
      "pending": pending, "ok": ok, "total": total, "iap_calls": calls[0],
      "peak_rss_mb": peak_mb()}), flush=True)
"""

SEND_ONLY = PRELUDE + """
t0 = time.time()
send(MAILING)
print("BENCH_RESULT " + json.dumps({"seconds": time.time() - t0}), flush=True)
"""

WORKER = PRELUDE + """
t0 = time.time()
done = process_line()
print("BENCH_RESULT " + json.dumps({"seconds": time.time() - t0, "rows": done}), flush=True)
"""

CHECK = PRELUDE + """
pending, ok, total = traces_final(MAILING)
cr.execute("SELECT state FROM mailing_mailing WHERE id = %s", [MAILING])
print("BENCH_RESULT " + json.dumps({"pending": pending, "ok": ok, "total": total,
                                    "state": cr.fetchone()[0]}), flush=True)
"""


def _result(output):
    for line in output.splitlines():
        for tag in ("BENCH_RESULT ", "BENCH_SETUP "):
            if line.startswith(tag):
                return json.loads(line[len(tag):])
    raise RuntimeError(f"the Odoo shell printed no result:\n{output[-5000:]}")


class Odoo:
    def __init__(self, src, py, db):
        self.src, self.py, self.db = src, py, db

    def start(self, code, **environ):
        env = dict(_env(), **{k: str(v) for k, v in environ.items()})
        proc = subprocess.Popen(_base_command(self.src, self.py, self.db, ["shell"])
                                + ["--log-level=warn"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, start_new_session=True)
        proc.stdin.write(code)
        proc.stdin.close()
        return proc

    @staticmethod
    def finish(proc):
        out = proc.stdout.read()
        proc.wait()
        return _result(out)

    def run(self, code, **environ):
        return self.finish(self.start(code, **environ))


def _database(src, py):
    if os.environ.get("BENCH_ODOO_DB"):  # an existing database with the addons installed
        return os.environ["BENCH_ODOO_DB"]
    db = f"line_idlink_bench_campaign_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    template = template_database()
    if template:
        subprocess.run(["createdb", "-T", template, db], check=True)
        if (DATA_DIR / "filestore" / template).is_dir():
            subprocess.run(["cp", "-al", str(DATA_DIR / "filestore" / template),
                            str(DATA_DIR / "filestore" / db)], check=True)
    else:
        subprocess.run(["createdb", db], check=True)
    print(f"odoo-campaign: installing {ADDONS} into {db}", flush=True)
    install = subprocess.run(_base_command(src, py, db) + ["-i", ADDONS, "--without-demo=all",
                                                          "--stop-after-init",
                                                          "--log-level=warn"],
                             env=_env(), capture_output=True, text=True, timeout=3600)
    if install.returncode != 0:
        raise RuntimeError(f"installing {ADDONS} failed:\n{install.stdout[-3000:]}"
                           f"{install.stderr[-3000:]}")
    return db


def _drop(db):
    if os.environ.get("KEEP_DB") == "1" or os.environ.get("BENCH_ODOO_DB"):
        print(f"odoo-campaign: KEEP_DB=1: kept database {db}", flush=True)
        return
    subprocess.run(["dropdb", "--if-exists", "--force", db], capture_output=True)
    import shutil
    shutil.rmtree(DATA_DIR / "filestore" / db, ignore_errors=True)


def _requests(emu, first):
    counts, statuses = {}, {}
    for entry in emu.request_log[first:]:
        counts[entry["endpoint"]] = counts.get(entry["endpoint"], 0) + 1
        statuses[str(entry["status"])] = statuses.get(str(entry["status"]), 0) + 1
    return counts, statuses


def _inboxes(emu, user_ids, expected):
    """(duplicates, lost): messages beyond ``expected`` per user, users below it."""
    duplicates = lost = 0
    for uid in user_ids:
        size = len(emu.users[uid].inbox)
        duplicates += max(0, size - expected)
        lost += max(0, expected - size)
    return duplicates, lost


def measure(n):
    from line_emulator import Clock, Emulator, EmulatorServer
    from line_emulator.state import FRIEND, User

    src, py = _odoo()
    # a reused database (BENCH_ODOO_DB) already has the channel and users of seed 7
    seed = os.getpid() if os.environ.get("BENCH_ODOO_DB") else 7
    emu = Emulator(seed=seed, clock=Clock(start=time.time(), frozen=False), log_bodies=False)
    server = EmulatorServer(emu).start()
    db = _database(src, py)
    odoo = Odoo(src, py, db)
    result = {"n": n}
    try:
        user_ids = []
        with emu.locked():
            for index in range(n):
                user = User(emu.ids.user_id(), f"user {index}", friendship=FRIEND,
                            ever_followed=True)
                emu.users[user.user_id] = user
                user_ids.append(user.user_id)
        config = {"tag": f"bench{os.getpid()}", "cid": emu.config.channel_id, "secret": emu.config.channel_secret,
                  "token": emu.config.access_token, "base": server.base_url, "users": user_ids}
        setup = odoo.run(f"CONFIG = {json.dumps(config)}\n" + SETUP)
        mailings = setup["mailings"]

        # 1. LINE vs SMS, one worker ------------------------------------------------------------
        first = len(emu.request_log)
        result["line"] = odoo.run(LINE_RUN.replace("MAILING", str(mailings["line"])))
        result["line"]["requests"], result["line"]["statuses"] = _requests(emu, first)
        result["line"]["duplicates"], result["line"]["lost"] = _inboxes(emu, user_ids, 1)
        print(f"odoo-campaign: LINE run {json.dumps(result['line'])}", flush=True)
        # Odoo's SMS composer passes the record ids as a repr that Odoo's literal_eval refuses
        # beyond 100 KiB (about 12,000 ids): Odoo's own knob raises it for this run
        result["sms"] = odoo.run(SMS_RUN.replace("MAILING", str(mailings["sms"])),
                                 ODOO_LIMIT_LITEVAL_BUFFER=max(102400, 16 * n))
        print(f"odoo-campaign: SMS run {json.dumps(result['sms'])}", flush=True)

        # 2. faults and three killed workers ----------------------------------------------------
        first = len(emu.request_log)
        # each rule its own random sequence (same seed: the rarer rules would only fire
        # together with the 10% one, which wins)
        for rule in ({"endpoint": "multicast", "action": "status", "status": 500,
                      "probability": 0.10, "seed": 1},
                     {"endpoint": "multicast", "action": "drop", "when": "after",
                      "probability": 0.02, "seed": 2},
                     {"endpoint": "multicast", "action": "rate_limit", "probability": 0.05,
                      "seed": 3}):
            emu.faults.add(rule)
        started = time.time()
        odoo.run(SEND_ONLY.replace("MAILING", str(mailings["faults"])))
        kills = 0
        step = max(1, -(-n // 500) // 8)  # kill after about an eighth of the requests
        for __ in range(KILLS):
            seen = len(emu.requests_for("multicast"))
            proc = odoo.start(WORKER, BENCH_LEASE=LEASE_SECONDS)
            while proc.poll() is None and len(emu.requests_for("multicast")) < seen + step:
                time.sleep(0.05)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.stdout.read()
            proc.wait()
        odoo.finish(odoo.start(WORKER, BENCH_LEASE=LEASE_SECONDS))
        faults = odoo.run(CHECK.replace("MAILING", str(mailings["faults"])))
        faults["seconds"] = time.time() - started
        faults["kills"] = kills
        faults["requests"], faults["statuses"] = _requests(emu, first)
        faults["duplicates"], faults["lost"] = _inboxes(emu, user_ids, 2)
        result["faults"] = faults
        emu.faults.clear()

        # 3. two workers --------------------------------------------------------------------
        first = len(emu.request_log)
        send = odoo.run(SEND_ONLY.replace("MAILING", str(mailings["workers"])))
        procs = [odoo.start(WORKER) for __ in range(2)]
        runs = [odoo.finish(proc) for proc in procs]
        workers = odoo.run(CHECK.replace("MAILING", str(mailings["workers"])))
        workers["send_seconds"] = send["seconds"]
        workers["seconds"] = max(run["seconds"] for run in runs)
        workers["rows"] = [run["rows"] for run in runs]
        workers["requests"], workers["statuses"] = _requests(emu, first)
        workers["duplicates"], workers["lost"] = _inboxes(emu, user_ids, 3)
        result["workers"] = workers
        # the same queue work by one worker: the LINE run's processing time
        result["line"]["process_seconds"] = result["line"]["seconds"] - \
            result["line"]["queued_seconds"]
    finally:
        server.stop()
        _drop(db)
    return result


def run(n=DEFAULT_N):
    title = (f"odoo-campaign: one LINE mailing to {n:,} linked friends in Odoo (emulator) vs "
             "Odoo's SMS Marketing (IAP mocked)")
    try:
        r = measure(n)
    except Skipped as why:
        print(f"bench: SKIPPED odoo-campaign: {why}", file=sys.stderr)
        return f"{title}: SKIPPED", [table.info("skipped", str(why))]
    line, sms, faults, workers = r["line"], r["sms"], r["faults"], r["workers"]
    multicasts = line["requests"].get("multicast", 0)
    rows = [
        table.info("SMS: Send -> every trace final", sms["seconds"], "s"),
        table.info("  of which mailing cron (sms.sms + traces)", sms["queued_seconds"], "s"),
        table.info("  IAP calls (mocked)", sms["iap_calls"]),
        table.info("  peak RSS (Odoo process)", sms["peak_rss_mb"], "MB"),
        table.exactly("SMS: traces final and sent", sms["ok"], n),
        table.at_most("LINE: Send -> every trace final", line["seconds"],
                      MAX_RATIO * sms["seconds"], "s"),
        table.info("  LINE / SMS", line["seconds"] / sms["seconds"] if sms["seconds"] else 0),
        table.info("  of which mailing cron (traces + queue rows)", line["queued_seconds"], "s"),
        table.info("  requests to LINE", ", ".join(f"{k} {v}" for k, v in
                                                   sorted(line["requests"].items()))),
        table.info("  peak RSS (Odoo process)", line["peak_rss_mb"], "MB"),
        table.exactly("LINE: multicast requests (500 users each)", multicasts, -(-n // 500)),
        table.exactly("LINE: traces sent", line["ok"], n),
        table.exactly("LINE: mailing state", 1 if line["state"] == "done" else 0, 1),
        table.exactly("LINE: duplicates (inboxes)", line["duplicates"], 0),
        table.exactly("LINE: lost (inboxes)", line["lost"], 0),
        table.info("faults: Send -> every trace final (3 kills)", faults["seconds"], "s"),
        table.info("  workers killed", faults["kills"]),
        table.info("  LINE answers", ", ".join(f"{k} {v}" for k, v in
                                               sorted(faults["statuses"].items()))),
        table.exactly("faults: traces sent", faults["ok"], n),
        table.exactly("faults: duplicates (inboxes)", faults["duplicates"], 0),
        table.exactly("faults: lost (inboxes)", faults["lost"], 0),
        table.info("two workers: queue processing", workers["seconds"], "s"),
        table.info("  rows per worker", " / ".join(str(x) for x in workers["rows"])),
        table.info("  speed-up over one worker (queue)",
                   line["process_seconds"] / workers["seconds"] if workers["seconds"] else 0),
        table.exactly("two workers: 429 from LINE", int(workers["statuses"].get("429", 0)), 0),
        table.exactly("two workers: traces sent", workers["ok"], n),
        table.exactly("two workers: duplicates (inboxes)", workers["duplicates"], 0),
        table.exactly("two workers: lost (inboxes)", workers["lost"], 0),
    ]
    return title, rows
