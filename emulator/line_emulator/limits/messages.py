"""Message objects: ``messages`` arrays of 1..5, the fields every message shares (quick reply,
sender) and each type's own rules (:mod:`.simple_messages`, :mod:`.rich_messages`)."""

from .actions import action_field
from .checker import MAX_MESSAGES, MESSAGE_TYPES, QUICK_REPLY_MAX, SENDER_NAME_MAX, Check
from .rich_messages import RICH_CHECKS
from .simple_messages import SIMPLE_CHECKS

MESSAGE_CHECKS = {**SIMPLE_CHECKS, **RICH_CHECKS}


def validate_messages(messages, prop="messages"):
    """Errors of a ``messages`` array: 1..5 message objects, each within LINE's limits."""
    if messages is None:
        return [(prop, "must be specified")]
    if not isinstance(messages, list):
        return [(prop, "must be an array of message objects")]
    errors = []
    if not 1 <= len(messages) <= MAX_MESSAGES:
        errors.append((prop, f"Size must be between 1 and {MAX_MESSAGES}"))
    for index, message in enumerate(messages):
        errors += validate_message(message, f"{prop}[{index}]")
    return errors


def validate_message(message, prop):
    c = Check()
    kind = c.typed(message, prop, MESSAGE_TYPES, "message")
    if kind is None:
        return c.errors
    _common(c, message, prop)
    MESSAGE_CHECKS[kind](c, message, prop)
    return c.errors


def _common(c, message, prop):
    quick = message.get("quickReply")
    if quick is not None and c.obj(quick, f"{prop}.quickReply"):
        where = f"{prop}.quickReply"
        for i, item in enumerate(c.array(quick, "items", where, required=True, min_items=1,
                                          max_items=QUICK_REPLY_MAX)):
            item_prop = f"{where}.items[{i}]"
            if c.obj(item, item_prop):
                c.enum(item, "type", item_prop, ("action",), required=True)
                c.https_url(item, "imageUrl", item_prop)
                c.errors += action_field(item, item_prop, "quickreply")
    sender = message.get("sender")
    if sender is not None and c.obj(sender, f"{prop}.sender"):
        c.string(sender, "name", f"{prop}.sender", max_len=SENDER_NAME_MAX)
        c.https_url(sender, "iconUrl", f"{prop}.sender")
