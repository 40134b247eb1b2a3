"""Piped into ``odoo-bin shell`` by :mod:`.odoo_segments` (``env`` is Odoo's). Prints one line
``BENCH_RESULT {json}``. Input from the environment: BENCH_N (partners). Rolled back at the end.

N partners are inserted with SQL, then 0 to 7 confirmed orders each (copies of one real
confirmed order with other partners, dates over the last three years and amounts), so the
segments come out mixed: new, light, loyal, dormant and none."""

import json
import os
import time

N = int(os.environ["BENCH_N"])
cr = env.cr  # noqa: F821 - the Odoo shell's environment
env.flush_all()  # noqa: F821
started = time.perf_counter()
cr.execute("""
    INSERT INTO res_partner (name, complete_name, active, type, is_company, autopost_bills,
                             create_uid, write_uid, create_date, write_date)
    SELECT 'Bench customer ' || g, 'Bench customer ' || g, true, 'contact', false, 'ask', 1, 1,
           now() at time zone 'utc', now() at time zone 'utc'
      FROM generate_series(1, %s) g
 RETURNING id""", [N])
partner_ids = [row[0] for row in cr.fetchall()]
cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [partner_ids])
product = env["product.product"].create({"name": "Bench tea", "list_price": 1000})  # noqa: F821
model = env["sale.order"].create({  # noqa: F821
    "partner_id": partner_ids[0], "order_line": [(0, 0, {"product_id": product.id})]})
model.action_confirm()
env.flush_all()  # noqa: F821
cr.execute("""SELECT column_name FROM information_schema.columns
               WHERE table_name = 'sale_order' AND column_name NOT IN
                     ('id', 'partner_id', 'partner_invoice_id', 'partner_shipping_id',
                      'date_order', 'amount_total', 'name', 'access_token')""")
columns = ", ".join(f'"{row[0]}"' for row in cr.fetchall())
cr.execute(f"""
    INSERT INTO sale_order (partner_id, partner_invoice_id, partner_shipping_id, date_order,
                            amount_total, name, {columns})
    SELECT p.id, p.id, p.id,
           now() at time zone 'utc'
               - ((hashtext(p.id::text || '-' || k) & 1023) || ' days')::interval,
           1000 + (hashtext(k || '/' || p.id) & 8191), 'B' || p.id || '-' || k, {columns}
      FROM unnest(%s::int[]) p(id)
CROSS JOIN LATERAL generate_series(1, p.id %% 8) k
CROSS JOIN (SELECT {columns} FROM sale_order WHERE id = %s) m""", [partner_ids, model.id])
orders = cr.rowcount
cr.execute("SELECT count(DISTINCT partner_id) FROM sale_order WHERE partner_id = ANY(%s)",
           [partner_ids])
expected = cr.fetchone()[0]  # bench partners with confirmed orders
cr.execute("ANALYZE sale_order")
cr.execute("ANALYZE res_partner")
setup = time.perf_counter() - started

Partner = env["res.partner"]  # noqa: F821
timed = []
for _run in range(2):
    started = time.perf_counter()
    changed = Partner._cron_line_purchase_segments()
    timed.append((round(time.perf_counter() - started, 2), changed))
started = time.perf_counter()
Partner.browse(partner_ids[7:8])._line_update_purchase_stats()
one_ms = round((time.perf_counter() - started) * 1000, 1)
cr.execute("""SELECT count(*) FROM res_partner WHERE id = ANY(%s)
                 AND line_last_order_date IS NOT NULL""", [partner_ids])
with_history = cr.fetchone()[0]
cr.execute("""SELECT COALESCE(line_purchase_segment, 'none'), count(*) FROM res_partner
               WHERE id = ANY(%s) GROUP BY 1 ORDER BY 1""", [partner_ids])
segments = cr.fetchall()
cr.rollback()
print("BENCH_RESULT " + json.dumps({
    "orders": orders, "setup_seconds": round(setup, 1), "expected": expected,
    "with_history": with_history,
    "first_seconds": timed[0][0], "first_changed": timed[0][1],
    "second_seconds": timed[1][0], "second_changed": timed[1][1], "one_ms": one_ms,
    "segments": segments}))
