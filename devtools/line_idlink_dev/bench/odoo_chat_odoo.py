"""Piped into ``odoo-bin shell`` by :mod:`.odoo_chat` (``env`` is Odoo's). Prints one line
``BENCH_RESULT {json}``. Inputs from the environment: BENCH_N (questions asked), BENCH_ORDERS
(confirmed orders of the customer, default 1,000).

The emulator runs in this process (ticking clock). A linked customer with BENCH_ORDERS confirmed
orders (copies of one real order, written with SQL, the customer a follower of each as Odoo's
portal rule wants) asks 注文履歴 N times. Each question is the exact signed webhook body LINE
sends, built when it is sent (fresh reply token); it is received as the webhook route receives
it (``line.channel._line_receiver().receive``: signature, storage in a transaction of its own),
then the event cron runs (``line.webhook.event._cron_process``: dispatch, the scoped answer,
commit, the reply request). Timed: from receipt to the end of the cron call, when the reply
request has been answered by the emulator. The HTTP layer of Odoo's route is not included."""

import json
import os
import statistics
import time

from line_emulator import Clock, Emulator, EmulatorServer
from line_emulator import events as build

N = int(os.environ["BENCH_N"])
ORDERS = int(os.environ.get("BENCH_ORDERS", "1000"))

emu = Emulator(seed=3, clock=Clock(frozen=False), log_bodies=False)
server = EmulatorServer(emu).start()
cr = env.cr  # noqa: F821 - the Odoo shell's environment
channel = env["line.channel"].create({  # noqa: F821
    "name": "Bench OA", "line_channel_id": emu.config.channel_id,
    "channel_secret": emu.config.channel_secret, "access_token": emu.config.access_token,
    "api_base": server.base_url, "auth_base": server.base_url})
partner = env["res.partner"].create({"name": "Heavy buyer"})  # noqa: F821
product = env["product.product"].create({"name": "Bench tea", "list_price": 1000})  # noqa: F821
model = env["sale.order"].create({  # noqa: F821
    "partner_id": partner.id, "order_line": [(0, 0, {"product_id": product.id})]})
model.action_confirm()
env.flush_all()  # noqa: F821
cr.execute("""SELECT column_name FROM information_schema.columns WHERE table_name = 'sale_order'
                 AND column_name NOT IN ('id', 'name', 'date_order', 'access_token')""")
columns = ", ".join(f'"{row[0]}"' for row in cr.fetchall())
cr.execute(f"""
    INSERT INTO sale_order (name, date_order, {columns})
    SELECT 'H' || g, now() at time zone 'utc' - (g || ' hours')::interval, {columns}
      FROM generate_series(1, %s) g
CROSS JOIN (SELECT {columns} FROM sale_order WHERE id = %s) m""", [ORDERS - 1, model.id])
cr.execute("""INSERT INTO mail_followers (res_model, res_id, partner_id)
              SELECT 'sale.order', id, %s FROM sale_order WHERE partner_id = %s
              ON CONFLICT DO NOTHING""", [partner.id, partner.id])
cr.execute("ANALYZE sale_order")
cr.execute("ANALYZE mail_followers")
user = emu.add_user("Heavy buyer")
user.follow()  # no webhook URL: nothing is delivered
env["line.identity"]._line_link_protocol().create({  # noqa: F821
    "channel_id": channel.id, "line_user_id": user.user_id, "name": "Heavy buyer",
    "partner_id": partner.id, "linked": True, "follow_state": "followed",
    "link_method": "messaging_api"})
cr.commit()

Event = env["line.webhook.event"]  # noqa: F821
timings, replied, full = [], 0, 0
for _question in range(N):
    raw = json.dumps({"destination": emu.config.bot_user_id,
                      "events": [build.text_message(emu, user.user_id, "注文履歴")]},
                     ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signature = emu.webhooks.sign(raw)
    before = len(user.inbox)
    started = time.perf_counter()
    channel._line_receiver().receive(raw, signature)
    cr.commit()  # a new transaction sees the stored event, as the cron worker's would
    Event._cron_process()
    timings.append((time.perf_counter() - started) * 1000)
    answers = user.inbox[before:]
    replied += [entry["api"] for entry in answers] == ["reply"]
    full += len(answers) == 1 and len(answers[0]["message"]["contents"]["contents"]) == 10

timings.sort()
server.stop()
# the bench data stays in a throwaway database (committed by the event cron)
print("BENCH_RESULT " + json.dumps({
    "orders": ORDERS, "questions": N, "p50": statistics.median(timings),
    "p95": timings[max(0, int(len(timings) * 0.95) - 1)], "max": timings[-1],
    "replied_once": replied, "carousels_of_10": full}), flush=True)
