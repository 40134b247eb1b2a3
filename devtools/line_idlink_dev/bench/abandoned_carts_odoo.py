"""The abandoned-cart cron of ``line_idlink_website_sale`` on many carts. Piped into
``odoo-bin shell`` on a database with the bridge installed (``env`` is Odoo's); prints one line
``BENCH_RESULT {json}``. Input from the environment: BENCH_N (abandoned carts of linked customers).

    BENCH_N=10000 odoo-bin shell -d DB --addons-path=... < abandoned_carts_odoo.py

Set-up with set-based SQL (N partners, N linked identities, N carts of one line, left 3 hours
ago, cloned from one cart made with the ORM), then one timed run of the cron method
``website._send_abandoned_cart_line()`` (selection, Odoo's conditions, template rendering, one
queued ``line.message`` per cart); nothing is sent (the queue's speed is benchmarked apart).
"""

import json
import os
import time

N = int(os.environ["BENCH_N"])
cr = env.cr


def clone(table, template_id, values_sql, count_sql="%(n)s", params=None):
    """INSERT ``count`` copies of row ``template_id`` of ``table``; ``values_sql`` maps a column
    to an SQL expression (``g`` is 1..count); returns the new ids in order."""
    cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s"
               " AND column_name != 'id' ORDER BY ordinal_position", (table,))
    columns = [row[0] for row in cr.fetchall()]
    select = ", ".join(values_sql.get(c, f't."{c}"') for c in columns)
    cr.execute(f"""INSERT INTO "{table}" ({", ".join(f'"{c}"' for c in columns)})
                   SELECT {select} FROM "{table}" t, generate_series(1, {count_sql}) g
                    WHERE t.id = %(template)s ORDER BY g RETURNING id""",
               dict(params or {}, n=N, template=template_id))
    return [row[0] for row in cr.fetchall()]


website = env["website"].search([], limit=1)
website.write({"send_abandoned_cart_line": True, "cart_abandoned_delay": 1.0})
env["ir.config_parameter"].set_param("line_idlink_website_sale.cart_batch", N)  # one call
channel = env["line.channel"].create({
    "name": "Bench OA", "line_channel_id": "1650009999", "channel_secret": "0" * 32,
    "access_token": "bench", "company_id": website.company_id.id})
product = env["product.product"].create({"name": "Bench tea", "list_price": 1200.0,
                                         "type": "consu", "website_published": True})
t_setup = time.perf_counter()
partner = env["res.partner"].create({"name": "Bench customer"})
identity = env["line.identity"]._line_link_protocol().create({
    "channel_id": channel.id, "line_user_id": "U" + "0" * 32, "partner_id": partner.id,
    "linked": True, "follow_state": "followed", "link_method": "messaging_api"})
order = env["sale.order"].create({"partner_id": partner.id, "website_id": website.id,
                                  "order_line": [(0, 0, {"product_id": product.id})]})
env.flush_all()
partner_ids = clone("res_partner", partner.id, {"name": "'Bench customer ' || g"})
clone("line_identity", identity.id, {
    "line_user_id": "'U' || lpad(to_hex(g), 32, '0')",
    "partner_id": "(%(partners)s)[g]"}, params={"partners": partner_ids})
order_ids = clone("sale_order", order.id, {
    "name": "'BENCH/' || g", "access_token": "NULL",
    "partner_id": "(%(partners)s)[g]", "partner_invoice_id": "(%(partners)s)[g]",
    "partner_shipping_id": "(%(partners)s)[g]",
    "date_order": "now() at time zone 'utc' - interval '3 hours'",
    "create_date": "now() at time zone 'utc' - interval '3 hours'"},
    params={"partners": partner_ids})
clone("sale_order_line", order.order_line.id, {"order_id": "(%(orders)s)[g]"},
      params={"orders": order_ids})
cr.execute("DELETE FROM sale_order WHERE id = %s", (order.id,))
env.invalidate_all()
setup = time.perf_counter() - t_setup

t0 = time.perf_counter()
website._send_abandoned_cart_line()
env.flush_all()
elapsed = time.perf_counter() - t0
queued = env["line.message"].search_count([("res_model", "=", "sale.order")])
reminded = env["sale.order"].search_count([("cart_recovery_line_sent", "=", True)])
print("BENCH_RESULT " + json.dumps({"carts": N, "queued": queued, "reminded": reminded,
                                    "setup_s": round(setup, 1), "cron_s": round(elapsed, 2),
                                    "per_cart_ms": round(1000 * elapsed / N, 3)}))
cr.rollback()
