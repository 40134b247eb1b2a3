"""``odoo-segments``: the nightly purchase-history segment update of ``line_idlink_sale`` on N
partners (default 100k) with about 3.5 confirmed orders each.

Needs an Odoo 18.0 installation (``ODOO_SRC``, ``ODOO_PY``) like :mod:`.richmenu`: a database
with ``line_idlink_sale`` installed, then :mod:`.odoo_segments_odoo` piped into
``odoo-bin shell`` writes the partners and orders with set-based SQL and times
``res.partner._cron_line_purchase_segments()`` (one ``UPDATE … FROM`` an aggregate) twice: when
every partner changes, and when nothing does (a typical night changes few), plus the per-order
update run when one order is confirmed. The target (≤ 60 s for 100k partners) is the budget of a
nightly cron that must never hold the database for long.
"""

from . import richmenu, table

NAME = "odoo-segments"
DEFAULT_N = 100_000
FULL_N = 100_000
ADDON = "line_idlink_sale"
MAX_SECONDS = 60.0


def run(n=DEFAULT_N):
    title = f"odoo-segments: purchase-history segments of {n:,} partners (set-based SQL)"
    result, skipped = richmenu.measure_or_skip(n, title, "odoo_segments_odoo.py", ADDON, NAME)
    if skipped:
        return skipped
    return title, [
        table.info("confirmed orders", result["orders"]),
        table.at_most("nightly run, every partner changes", result["first_seconds"],
                      MAX_SECONDS, "s"),
        table.info("  partners updated", result["first_changed"]),
        table.exactly("  bench partners with a purchase history", result["with_history"],
                      result["expected"]),
        table.at_most("nightly run, nothing changes", result["second_seconds"], MAX_SECONDS,
                      "s"),
        table.exactly("  partners updated", result["second_changed"], 0),
        table.info("one order confirmed (its partner)", result["one_ms"], "ms"),
        table.info("segments", ", ".join(f"{k} {v}" for k, v in result["segments"])),
        table.info("setup (partners, orders)", result["setup_seconds"], "s"),
    ]
