"""Piped into ``odoo-bin shell`` by :mod:`.odoo_reminders` (``env`` is Odoo's). Prints one line
``BENCH_RESULT {json}``. Input from the environment: BENCH_N (invoices). Rolled back at the end.

N linked customers, each with one posted invoice due in two days (created with the ORM, so
invoices are real); the company's "due soon" notice switched on; then the daily reminder cron
(``account.move._cron_line_invoice_reminders``) is called until it has nothing left, as
``ir.cron`` calls it again while it reports progress."""

import datetime
import json
import os
import time

from odoo import Command, fields

N = int(os.environ["BENCH_N"])
cr = env.cr  # noqa: F821 - the Odoo shell's environment
started = time.perf_counter()
channel = env["line.channel"].create({  # noqa: F821
    "name": "Bench OA", "line_channel_id": "2000000000", "channel_secret": "0" * 32,
    "access_token": "unused"})
company = env.company  # noqa: F821
company.write({"line_notice_invoice_due": True, "line_notice_due_days": 3})
product = env["product.product"].create({  # noqa: F821
    "name": "Bench tea", "list_price": 1000, "taxes_id": [Command.clear()]})
partners = env["res.partner"].create(  # noqa: F821
    [{"name": f"Bench customer {i}"} for i in range(N)])
env["line.identity"]._line_link_protocol().create([{  # noqa: F821
    "channel_id": channel.id, "line_user_id": "U%032x" % (index + 1), "partner_id": partner.id,
    "linked": True, "follow_state": "followed", "link_method": "messaging_api"}
    for index, partner in enumerate(partners)])
today = fields.Date.context_today(env.user)  # noqa: F821
moves = env["account.move"].create([{  # noqa: F821
    "move_type": "out_invoice", "partner_id": partner.id,
    "invoice_date": today - datetime.timedelta(days=1),
    "invoice_date_due": today + datetime.timedelta(days=2),
    "invoice_line_ids": [Command.create({"product_id": product.id, "quantity": 1,
                                         "price_unit": 1000})]} for partner in partners])
moves.action_post()
env.flush_all()  # noqa: F821
setup = time.perf_counter() - started

Move = env["account.move"]  # noqa: F821
started = time.perf_counter()
candidates = Move.search_count(Move._line_reminder_domain("due", company))
search_ms = (time.perf_counter() - started) * 1000
calls = done = 0
started = time.perf_counter()
while True:
    count = Move._cron_line_invoice_reminders()
    env.flush_all()  # noqa: F821
    calls += 1
    if not count:
        break
    done += count
seconds = time.perf_counter() - started
queued = env["line.message"].search_count([  # noqa: F821
    ("res_model", "=", "account.move"), ("res_id", "in", moves.ids)])
again = Move._cron_line_invoice_reminders()
cr.rollback()
print("BENCH_RESULT " + json.dumps({
    "candidates": candidates, "search_ms": round(search_ms, 1), "done": done, "calls": calls,
    "seconds": round(seconds, 2), "queued": queued, "again": again,
    "setup_seconds": round(setup, 1)}), flush=True)
