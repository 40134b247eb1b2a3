"""``odoo-reminders``: the daily "invoice due soon" LINE reminder cron of ``line_idlink_sale`` on N
invoices of linked customers (default 500; invoices are created with the ORM, which bounds N).
The candidates are selected with one search; each batch is then rendered at once, queued with
one ``_line_enqueue_batch`` (a ``line.message`` row and its retry key per invoice) and noted
with one ``_message_log_batch``. Printed: the search, the time per
invoice and the projection to 100k candidates (issue 11: state the time). See
:mod:`.odoo_reminders_odoo`.
"""

from . import richmenu, table

NAME = "odoo-reminders"
DEFAULT_N = 500
FULL_N = 2_000
ADDON = "line_idlink_sale"
MAX_MINUTES_100K = 10.0  # issue 11: 100k candidates set-based; the same budget as odoo-carts


def run(n=DEFAULT_N):
    title = f"odoo-reminders: due-invoice reminders on LINE for {n:,} invoices"
    result, skipped = richmenu.measure_or_skip(n, title, "odoo_reminders_odoo.py", ADDON, NAME)
    if skipped:
        return skipped
    per_invoice = result["seconds"] / max(result["done"], 1)
    return title, [
        table.info("candidate search", result["search_ms"], "ms"),
        table.info("cron, all batches", result["seconds"], "s"),
        table.info("  per invoice", per_invoice * 1000, "ms"),
        table.at_most("  projected for 100k candidates", per_invoice * 100_000 / 60,
                      MAX_MINUTES_100K, "min"),
        table.exactly("reminders queued", result["queued"], n),
        table.exactly("second run: reminders", result["again"], 0),
        table.info("setup (invoices with the ORM)", result["setup_seconds"], "s"),
    ]
