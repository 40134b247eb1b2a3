"""Postback data of the chat actions: ``action=<name>`` plus optional parameters, built with
:func:`postback_data` and read back with :func:`parse_postback`. The ``POSTBACK_*`` constants are
the data of the actions the core's builders and the reference app use; an app adds actions of its
own (an Odoo bridge's rich-menu preset, e.g. ``optout``) by name. A leaf module (it only needs the
length checks of :mod:`line_idlink.texts`).
"""

import re
from urllib.parse import parse_qsl, urlencode

from .texts import DATA_MAX, MessageTooLarge, _fit, u16len

POSTBACK_LINK = "action=link"
POSTBACK_UNLINK = "action=unlink"  # asks "unlink?" (confirm template)
POSTBACK_UNLINK_CONFIRM = "action=unlink_confirm"  # the "yes" of that question
POSTBACK_UNLINK_CANCEL = "action=unlink_cancel"
POSTBACK_ORDERS = "action=orders"
POSTBACK_INVOICES = "action=invoices"
POSTBACK_BALANCE = "action=balance"
POSTBACK_POINTS = "action=points"
POSTBACK_MEMBER_CARD = "action=member_card"
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# The actions of the constants above (an app may use others: any ACTION_NAME).
ACTIONS = ("link", "unlink", "unlink_confirm", "unlink_cancel", "orders", "invoices", "balance",
           "points", "member_card")


def postback_data(action, **params):
    """``action=orders&page=2``: the postback data of an action with extra parameters. The action is
    a lowercase name (letters, digits, ``_``), the known ones or an app's own; LINE's 300-character
    limit raises :class:`~line_idlink.texts.MessageTooLarge`."""
    if not isinstance(action, str) or not ACTION_NAME.match(action):
        raise ValueError(f"a postback action is a lowercase name (a-z, 0-9, _), not {action!r}")
    data = urlencode({"action": action, **{k: str(v) for k, v in params.items()}})
    return _fit(data, DATA_MAX, "postback data", MessageTooLarge)


def parse_postback(data):
    """``"action=orders&page=2"`` -> ``{"action": "orders", "page": "2"}``. Garbage (not a
    string, too long) gives ``{}``; never raises, since the data comes back from the chat."""
    if not isinstance(data, str) or u16len(data) > DATA_MAX:
        return {}
    return dict(parse_qsl(data, keep_blank_values=True))
