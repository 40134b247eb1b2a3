"""Messaging API: sending (reply, push, multicast, narrowcast, broadcast), validation, quota,
profile, followers, link tokens, aggregation units, audiences and statistics.

OWNER NOTE: the kernel stub below is to be completed by the messaging work.
"""

from .errors import LineError
from .routing import route


class MessagingState:
    def __init__(self, emu):
        self.emu = emu

    def run_pending(self):
        pass


@route("POST", "/v2/bot/message/push", "pushMessage", retry_key=True)
def push_message(call):
    body = call.json()
    emu = call.emu
    user = emu.users.get(body.get("to"))
    sent = []
    for message in body.get("messages", []):
        entry = {"id": emu.ids.message_id(), "quoteToken": emu.ids.quote_token()}
        sent.append(entry)
        if user is not None:
            user.inbox.append({"api": "push", "message": message, "requestId": call.request_id,
                               "messageId": entry["id"], "timestamp": emu.clock.now_ms()})
    if not sent:
        raise LineError(400, "The request body has 1 error(s)",
                        [{"message": "Size must be between 1 and 5", "property": "messages"}])
    return 200, {"sentMessages": sent}
