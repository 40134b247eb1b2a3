"""Driver of scripts/odoo-queue-workers: two real Odoo processes send one LINE queue.

1. a fresh database with line_idlink_addon installed (odoo-bin -i);
2. the emulator in this process, on a real clock, with LINE's push limit lowered to PUSH_LIMIT
   per second (the same limit is given to Odoo: system parameter line_idlink_addon.rate_limits);
3. ROWS messages queued through ``line.message._line_enqueue`` (one odoo-bin shell);
4. two odoo-bin shell PROCESSES started together, each running the queue processing in a loop
   (``_process_queue``, what the cron runs), as two Odoo servers on one PostgreSQL would;
5. checks: every row sent, each user's inbox holds its one message, one push request per row
   (its retry key), and not a single 429 in the emulator's request log.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from line_emulator import Clock, start_emulator

ROWS = int(os.environ.get("ROWS", 60))
PUSH_LIMIT = int(os.environ.get("PUSH_LIMIT", 5))
ODOO_SRC, ODOO_PY, ROOT = os.environ["ODOO_SRC"], os.environ["ODOO_PY"], os.environ["ROOT"]
DB = f"odoo_queue_workers_{os.getpid()}"
DATA_DIR = tempfile.mkdtemp(prefix="odoo-queue-workers-")
ODOO_BIN = [ODOO_PY, f"{ODOO_SRC}/odoo-bin"]
OPTIONS = [f"--addons-path={ODOO_SRC}/addons,"
        f"{ODOO_SRC}/odoo/addons,{ROOT}", f"--data-dir={DATA_DIR}", "-d", DB,
        "--no-http", "--max-cron-threads=0", "--log-level=warn"]

SETUP = """
import json
channel = env["line.channel"].create({{"name": "Queue workers OA", "line_channel_id": {cid!r},
    "channel_secret": {secret!r}, "access_token": {token!r}, "api_base": {base!r},
    "auth_base": {base!r}}})
env["ir.config_parameter"].set_param("line_idlink_addon.rate_limits",
                                     json.dumps({{"pushMessage": [{limit}, 1]}}))
for i, user in enumerate({users!r}):
    env["line.message"]._line_enqueue(channel, user, [{{"type": "text", "text": f"msg {{i}}"}}])
env.cr.commit()
print("QUEUED", env["line.message"].search_count([("state", "=", "outgoing")]))
"""

WORKER = """
import time
queue, done, started = env["line.message"], 0, time.time()
while time.time() - started < 300:
    n = queue._process_queue(batch_size=5)
    done += n
    if not n:
        env.cr.commit()
        if not queue.search_count([("state", "in", ("outgoing", "sending"))]):
            break
        time.sleep(0.2)
env.cr.commit()
print("PROCESSED", done, round(time.time() - started, 1))
"""


def shell(code, wait=True):
    proc = subprocess.Popen(ODOO_BIN + ["shell"] + OPTIONS, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    proc.stdin.write(code)
    proc.stdin.close()
    return finish(proc) if wait else proc


def finish(proc):
    out = proc.stdout.read()
    if proc.wait():
        raise SystemExit(f"odoo-bin shell failed (exit {proc.returncode}):\n{out}")
    return out


def line(output, tag):
    for text in output.splitlines():
        if text.startswith(tag):
            return text.split()[1:]
    raise SystemExit(f"no {tag} line in:\n{output}")


def main():
    print(f"database {DB}: installing line_idlink_addon ...", flush=True)
    subprocess.run(["createdb", DB], check=True)
    try:
        subprocess.run(ODOO_BIN + OPTIONS + ["-i", "line_idlink_addon", "--stop-after-init"],
                       check=True)
        server = start_emulator(seed=5, clock=Clock(start=time.time(), frozen=False))
        emu = server.emulator
        emu.limiter.set_limit("pushMessage", PUSH_LIMIT, 1)
        users = [emu.add_user(f"User {i}") for i in range(ROWS)]
        for user in users:
            user.follow()
        config = emu.config
        out = shell(SETUP.format(cid=config.channel_id, secret=config.channel_secret,
                                 token=config.access_token, base=server.base_url,
                                 limit=PUSH_LIMIT, users=[u.user_id for u in users]))
        print(f"queued {line(out, 'QUEUED')[0]} messages; LINE allows {PUSH_LIMIT} pushes/s",
              flush=True)
        workers = [shell(WORKER, wait=False) for _ in range(2)]
        results, durations = [], []
        for number, proc in enumerate(workers, 1):
            out = finish(proc)
            processed, seconds = line(out, "PROCESSED")
            results.append(int(processed))
            durations.append(float(seconds))
            print(f"odoo process {number} (pid {proc.pid}): sent {processed} rows in {seconds} s")
        elapsed = max(durations)  # processing time, without odoo-bin's start-up
        pushes = emu.requests_for("pushMessage")
        statuses = {}
        for entry in pushes:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        inboxes = [len(u.inbox) for u in users]
        keys = {entry["retryKey"] for entry in pushes}
        print(json.dumps({"rows": ROWS, "processing_seconds": round(elapsed, 1),
                          "rows_per_second": round(ROWS / elapsed, 2),
                          "push_statuses": statuses, "distinct_retry_keys": len(keys),
                          "inbox_sizes": sorted(set(inboxes)), "per_process": results}))
        ok = (statuses == {200: ROWS} and len(keys) == ROWS and set(inboxes) == {1}
              and sum(results) == ROWS and all(results))
        print("RESULT: OK: each message delivered once, no 429" if ok else "RESULT: FAILED")
        server.stop()
        return 0 if ok else 1
    finally:
        if os.environ.get("KEEP_DB") != "1":
            subprocess.run(["dropdb", "--if-exists", DB], check=False)


if __name__ == "__main__":
    sys.exit(main())
