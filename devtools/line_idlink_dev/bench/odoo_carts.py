"""``odoo-carts``: the hourly abandoned-cart LINE reminder cron of ``line_idlink_website_sale``
(``website._send_abandoned_cart_line``) on N abandoned carts of linked customers (default
10k), in one cron call. Set-up with set-based SQL, then selection (SQL + read_group), Odoo's
abandoned-cart conditions, template rendering (one batched render) and one batched enqueue
(one ``line.message`` row with its retry key per cart); nothing is sent. Printed: the time per
cart and the projection to 100k candidates beside issue 11's budget (the 100k candidates of a
cron run handled in 10 minutes at most). See :mod:`.abandoned_carts_odoo`.
"""

from . import richmenu, table

NAME = "odoo-carts"
DEFAULT_N = 10_000
FULL_N = 100_000
ADDON = "line_idlink_website_sale"
MAX_MINUTES_100K = 10.0


def run(n=DEFAULT_N):
    title = f"odoo-carts: abandoned-cart reminders on LINE for {n:,} carts"
    result, skipped = richmenu.measure_or_skip(n, title, "abandoned_carts_odoo.py", ADDON, NAME)
    if skipped:
        return skipped
    return title, [
        table.info("cron, one call", result["cron_s"], "s"),
        table.info("  per cart", result["per_cart_ms"], "ms"),
        table.at_most("  projected for 100k candidates", result["per_cart_ms"] * 100_000 / 60_000,
                      MAX_MINUTES_100K, "min"),
        table.exactly("reminders queued", result["queued"], n),
        table.exactly("carts flagged as reminded", result["reminded"], n),
        table.info("setup (SQL clones)", result["setup_s"], "s"),
    ]
