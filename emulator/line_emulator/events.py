"""Builders for webhook event objects, in the shapes of LINE's ``webhook.yml``.

Every builder is called under the emulator lock (it draws seeded ids and reply tokens) and returns
a plain dict. Common fields: ``type``, ``mode`` ("active"), ``timestamp`` (emulator clock, ms),
``source`` ({"type": "user", "userId"}; absent for a failed accountLink), ``webhookEventId`` (a
ULID of the event time), ``deliveryContext`` ({"isRedelivery": false}) and ``replyToken`` where
LINE gives one.
"""


def _reply_token(emu, user_id, ms):
    # The messaging state owns reply tokens (single use, 1 minute, renewed on redelivery).
    return emu.messaging.issue_reply_token(user_id, ms)


def base_event(emu, event_type, user_id=None, reply=True, ms=None):
    """The common fields of an event that happens now; ``user_id=None`` leaves out ``source``."""
    ms = emu.clock.now_ms() if ms is None else ms
    event = {"type": event_type, "mode": "active", "timestamp": ms}
    if user_id is not None:
        event["source"] = {"type": "user", "userId": user_id}
    event["webhookEventId"] = emu.ids.ulid(ms)
    event["deliveryContext"] = {"isRedelivery": False}
    if reply:
        event["replyToken"] = _reply_token(emu, user_id, ms)
    return event


def follow(emu, user_id, is_unblocked):
    event = base_event(emu, "follow", user_id)
    event["follow"] = {"isUnblocked": bool(is_unblocked)}
    return event


def unfollow(emu, user_id):
    return base_event(emu, "unfollow", user_id, reply=False)


def text_message(emu, user_id, text):
    event = base_event(emu, "message", user_id)
    event["message"] = {
        "type": "text",
        "id": emu.ids.message_id(),
        "text": text,
        "quoteToken": emu.ids.quote_token(),
        "markAsReadToken": emu.ids.alnum(40),
    }
    return event


def postback(emu, user_id, data, params=None):
    event = base_event(emu, "postback", user_id)
    event["postback"] = {"data": data}
    if params:
        event["postback"]["params"] = dict(params)
    return event


def account_link(emu, user_id, ok, nonce):
    """``ok``: source and replyToken present. Failed: neither (LINE cannot vouch for the user)."""
    if ok:
        event = base_event(emu, "accountLink", user_id)
    else:
        event = base_event(emu, "accountLink", None, reply=False)
    event["link"] = {"result": "ok" if ok else "failed", "nonce": nonce}
    return event
