"""Piped into ``odoo-bin shell`` by :mod:`.richmenu` (``env`` is Odoo's). Prints one line
``BENCH_RESULT {json}``. Inputs from the environment: BENCH_N (identities).

Everything runs in the Odoo process: the emulator (ticking clock; a thread applies its
asynchronous bulk and batch jobs every 0.1 s as LINE would), 100k partners and identities written
with set-based SQL, friends written straight into the emulator's state, the ready-made menu pair
published through the addon, then two timed ``_line_reconcile_rich_menus()`` runs.
"""

import json
import os
import resource
import threading
import time

from line_emulator import Clock, Emulator, EmulatorServer
from line_emulator.state import FRIEND, User
from line_idlink.ratelimit import RateLimiter

N = int(os.environ["BENCH_N"])


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


emu = Emulator(seed=3, clock=Clock(frozen=False), log_bodies=False)
server = EmulatorServer(emu).start()
stop = threading.Event()


def apply_async_jobs():
    while not stop.wait(0.1):
        emu.run_pending()


threading.Thread(target=apply_async_jobs, daemon=True).start()

# The addon's own limiter and sleeps, unchanged, but counted (batch progress polling waits 40 s).
waited = [0.0]


def counting_sleep(seconds):
    waited[0] += max(0.0, seconds)
    time.sleep(seconds)


limiter = RateLimiter(sleep=counting_sleep)
type(env["line.channel"])._line_api_timing = lambda self: {"limiter": limiter,
                                                           "sleep": counting_sleep}

t_setup = time.perf_counter()
channel = env["line.channel"].create({
    "name": "Bench OA", "line_channel_id": emu.config.channel_id,
    "channel_secret": emu.config.channel_secret, "access_token": emu.config.access_token,
    "login_channel_id": emu.config.login_channel_id,
    "login_channel_secret": emu.config.login_channel_secret,
    "api_base": server.base_url, "auth_base": server.base_url})
user_ids = []
with emu.locked():
    for index in range(N):
        user = User(emu.ids.user_id(), f"user {index}", friendship=FRIEND, ever_followed=True)
        emu.users[user.user_id] = user
        user_ids.append(user.user_id)
cr = env.cr
env.flush_all()
cr.execute("""
    INSERT INTO res_partner (name, complete_name, active, type, is_company, create_uid, write_uid,
                             create_date, write_date)
    SELECT 'Bench customer ' || g, 'Bench customer ' || g, true, 'contact', false, 1, 1,
           now() at time zone 'utc', now() at time zone 'utc'
      FROM generate_series(1, %s) g
 RETURNING id""", [N])
partner_ids = [row[0] for row in cr.fetchall()]
cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [partner_ids])
cr.execute("""
    INSERT INTO line_identity (channel_id, company_id, line_user_id, partner_id, name,
                               follow_state, linked, rich_menu_state, rich_menu_attempts,
                               create_uid, write_uid, create_date, write_date)
    SELECT %s, %s, u, p, 'LINE user', 'followed', false, 'ok', 0, 1, 1,
           now() at time zone 'utc', now() at time zone 'utc'
      FROM unnest(%s::varchar[], %s::int[]) AS t(u, p)""",
           [channel.id, channel.company_id.id, user_ids, partner_ids])
env.invalidate_all()
channel.action_create_default_rich_menus()  # publishes both menus on the emulator
menus = {rule.role: rule.rich_menu_id for rule in channel.rich_menu_rule_ids}
default_id, linked_id = (menus["default"].line_rich_menu_id, menus["linked"].line_rich_menu_id)
assert default_id and linked_id, f"menus not published: {menus}"
channel._line_reconcile_rich_menus()  # sets LINE's default menu; nobody needs a per-user link
emu.run_pending()
setup_seconds = time.perf_counter() - t_setup


def phase(name, linked, expected_menu):
    env.flush_all()
    cr.execute("UPDATE line_identity SET linked = %s WHERE channel_id = %s", [linked, channel.id])
    env.invalidate_all()
    first = len(emu.request_log)
    waited_before = waited[0]
    rss_before = rss_mb()
    started = time.perf_counter()
    report = channel._line_reconcile_rich_menus()
    env.flush_all()
    seconds = time.perf_counter() - started
    emu.run_pending()  # anything LINE accepted but has not applied yet
    calls = {}
    for entry in emu.request_log[first:]:
        calls[entry["endpoint"]] = calls.get(entry["endpoint"], 0) + 1
    statuses = {}
    for entry in emu.request_log[first:]:
        statuses[str(entry["status"])] = statuses.get(str(entry["status"]), 0) + 1
    on_menu = sum(1 for uid in user_ids if emu.users[uid].rich_menu_id == expected_menu)
    cr.execute("SELECT count(*) FROM line_identity WHERE channel_id = %s AND rich_menu_state = 'ok'"
               " AND rich_menu_id = %s", [channel.id, menus["linked" if linked else "default"].id])
    odoo_ok = cr.fetchone()[0]
    return {"name": name, "seconds": seconds, "calls": calls, "statuses": statuses,
            "waited": waited[0] - waited_before, "switched": report["switched"],
            "failed": report["failed"], "on_menu": on_menu, "odoo_ok": odoo_ok,
            "rss_before": rss_before, "rss_after": rss_mb()}


results = [phase("default -> linked", True, linked_id), phase("linked -> default", False, None)]
stop.set()
server.stop()
print("BENCH_RESULT " + json.dumps({
    "n": N, "setup_seconds": setup_seconds, "phases": results,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
env.cr.rollback()
