"""``odoo-chat``: a linked customer with 1,000 confirmed orders asks 注文履歴 in the chat; the time
from the webhook's receipt to the reply request (``line_idlink_sale``, in Odoo, against the
emulator). Target ≤ 300 ms (issue 11). See :mod:`.odoo_chat_odoo` for what is timed.

Needs an Odoo 18.0 installation (``ODOO_SRC``, ``ODOO_PY``) like :mod:`.richmenu`; the database
gets ``line_idlink_sale``. ``BENCH_ODOO_DB`` reuses a database: the bench commits its data
(the event cron commits), so give it a throwaway one.
"""

from . import richmenu, table

NAME = "odoo-chat"
DEFAULT_N = 30
FULL_N = 100
ADDON = "line_idlink_sale"
MAX_MS = 300.0


def run(n=DEFAULT_N):
    title = f"odoo-chat: 注文履歴 asked {n} times by a customer with 1,000 orders"
    result, skipped = richmenu.measure_or_skip(n, title, "odoo_chat_odoo.py", ADDON, NAME)
    if skipped:
        return skipped
    return title, [
        table.at_most("receipt -> reply request, p50", result["p50"], MAX_MS, "ms"),
        table.at_most("receipt -> reply request, p95", result["p95"], MAX_MS, "ms"),
        table.info("  max", result["max"], "ms"),
        table.exactly("questions answered by exactly one reply", result["replied_once"], n),
        table.exactly("  of which a carousel of the 10 latest orders", result["carousels_of_10"],
                      n),
    ]
