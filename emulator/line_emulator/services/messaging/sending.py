"""Messaging API, sending: reply, push, multicast, broadcast, the five validate endpoints and the
monthly quota. Narrowcast lives in :mod:`.narrowcast`; profiles, followers, bot info and link
tokens in :mod:`.accounts`; sent counts, aggregation units and statistics in the insight
service; audiences in the audience service. :class:`~.state.MessagingState` (``emu.messaging``)
holds the state of all of them.

Undocumented behaviour chosen here
----------------------------------
- A reply token is valid while ``now <= issued + 60 s`` (emulator clock) and never after 20 min
  from the event; a redelivery renews it for 60 s within that cap unless it was used.
- The request body is validated before the reply token, so a bad body leaves the token usable.
  A reply to a user who has since blocked the bot answers 200 and delivers nothing.
- Replies are free (not counted in the quota, as on LINE); push, multicast, narrowcast and
  broadcast count one per recipient actually delivered, whatever the number of message objects.
  The month is the calendar month in UTC+9.
- ``to`` of a push must look like a LINE id (U/C/R + 32 hex digits) or the call is a 400. A
  well-formed id of an unknown user, a group or a room answers 200 and delivers nothing (the
  emulator has no groups). sentMessages always carry ids, delivered or not.
- Duplicate user ids in a multicast are delivered once.
- A message id is per recipient and message; quoteToken is returned for text, textV2,
  sticker, image and video messages.
- A request body over 2 MB is a 413 ``{"message": "The request body exceeds 2 MB"}``.
"""

from ...errors import LineError, invalid
from ...limits import validate_messages
from ...state import FRIEND
from .bodies import (CHAT_ID, MULTICAST_MAX, USER_ID, all_user_ids, common_errors, read_body,
                     unit_of)


def reply_message(call):
    body = read_body(call)
    problems = common_errors(body)
    if not isinstance(body.get("replyToken"), str) or not body["replyToken"]:
        problems.insert(0, ("replyToken", "must be specified"))
    if problems:
        raise invalid(problems)
    state = call.emu.messaging
    entry = state.reply_token_entry(body["replyToken"])
    if entry is None:
        raise LineError(400, "Invalid reply token")
    entry["used"] = True
    messages = body["messages"]
    sent = state.new_sent_messages(messages)
    user = call.emu.users.get(entry["userId"])
    if user is not None and user.friendship != "blocked":
        state.deliver(user.user_id, "reply", messages, call.request_id, sent=sent,
                      notification_disabled=body.get("notificationDisabled", False))
    return 200, {"sentMessages": sent}


def push_message(call):
    body = read_body(call)
    problems = common_errors(body, units=True)
    to = body.get("to")
    if to is None:
        problems.insert(0, ("to", "must be specified"))
    elif not isinstance(to, str) or not CHAT_ID.match(to):
        problems.insert(0, ("to", "must be a user ID, group ID or room ID"))
    if problems:
        raise invalid(problems)
    state = call.emu.messaging
    user = call.emu.users.get(to)
    reachable = state.can_push_to(user)
    state.check_quota(1 if reachable else 0)
    messages = body["messages"]
    sent = state.new_sent_messages(messages)
    unit = state.use_unit(unit_of(body))
    if reachable:
        state.deliver(to, "push", messages, call.request_id, unit=unit, sent=sent,
                      notification_disabled=body.get("notificationDisabled", False))
    return 200, {"sentMessages": sent}


def multicast(call):
    body = read_body(call)
    problems = common_errors(body, units=True)
    to = body.get("to")
    if to is None:
        problems.insert(0, ("to", "must be specified"))
    elif not isinstance(to, list):
        problems.insert(0, ("to", "must be an array of user IDs"))
    else:
        if not 1 <= len(to) <= MULTICAST_MAX:
            problems.insert(0, ("to", f"Size must be between 1 and {MULTICAST_MAX}"))
        if not all_user_ids(to):
            problems += [(f"to[{i}]", "must be a user ID (U followed by 32 hex digits)")
                         for i, uid in enumerate(to)
                         if not isinstance(uid, str) or not USER_ID.match(uid)]
    if problems:
        raise invalid(problems)
    state = call.emu.messaging
    users, can_push_to = call.emu.users, state.can_push_to
    # Friends first (one comparison each), others through the full rule; each user's own id
    # string is kept, not the request's copy.
    recipients = [user.user_id for user in map(users.get, dict.fromkeys(to))
                  if user is not None and (user.friendship == FRIEND or can_push_to(user))]
    state.check_quota(len(recipients))
    _send_to_many(call, body, "multicast", recipients, unit=state.use_unit(unit_of(body)))
    return 200, {}


def broadcast(call):
    body = read_body(call)
    problems = common_errors(body)
    if problems:
        raise invalid(problems)
    friends = [user.user_id for user in call.emu.users.values() if user.is_friend]
    call.emu.messaging.check_quota(len(friends))
    _send_to_many(call, body, "broadcast", friends)
    return 200, {}


def _send_to_many(call, body, api, recipients, unit=None):
    call.emu.messaging.deliver_many(recipients, api, body["messages"], call.request_id, unit=unit,
                                    notification_disabled=body.get("notificationDisabled", False))


def validate_only(call):
    """The five validate endpoints: the messages are checked, nothing is sent."""
    body = read_body(call)
    problems = validate_messages(body.get("messages"))
    if problems:
        raise invalid(problems)
    return 200, {}



def get_message_quota(call):
    quota = call.emu.config.quota
    return 200, ({"type": "none"} if quota is None else {"type": "limited", "value": quota})


def get_message_quota_consumption(call):
    return 200, {"totalUsage": call.emu.messaging.usage_this_month()}
