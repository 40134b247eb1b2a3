"""Messaging API, sending: reply, push, multicast, broadcast, the five validate endpoints and the
monthly quota. Narrowcast lives in :mod:`.narrowcast`; profiles, followers, bot info and link
tokens in :mod:`.accounts`; sent counts, aggregation units and statistics in :mod:`.insight`;
audiences in :mod:`.audience`. :class:`MessagingState` holds the state of all of them.

Other parts of the emulator use:

- ``emu.messaging.issue_reply_token(user_id, event_ms)`` for each webhook event with a
  replyToken, and ``renew_reply_token(token)`` when that event is redelivered;
- ``emu.messaging.use_link_token(token, user_id)`` when a user opens the account-link dialog;
- ``emu.messaging.deliver(user_id, api, messages, request_id)`` to put messages in an inbox.

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

import re
from datetime import datetime, timedelta, timezone

from . import errors
from .errors import LineError, invalid
from .limits import validate_messages
from .routing import route

JST = timezone(timedelta(hours=9))
REPLY_TOKEN_TTL = 60
REPLY_TOKEN_MAX_AGE = 20 * 60
LINK_TOKEN_TTL = 10 * 60
NON_FRIEND_PUSH_WINDOW = 7 * 24 * 3600
MAX_BODY_BYTES = 2 * 1024 * 1024
MULTICAST_MAX = 500
UNITS_PER_MONTH = 1000
UNIT_NAME = re.compile(r"^[a-zA-Z0-9_]{1,30}$")
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
CHAT_ID = re.compile(r"^[UCR][0-9a-f]{32}$")
QUOTABLE = ("text", "textV2", "sticker", "image", "video")
QUOTA_APIS = ("push", "multicast", "narrowcast", "broadcast")


def jst_date(seconds):
    """``yyyyMMdd`` of a time in UTC+9, the calendar LINE's statistics use."""
    return datetime.fromtimestamp(seconds, JST).strftime("%Y%m%d")


class MessagingState:
    def __init__(self, emu):
        from .audience import AudienceState

        self.emu = emu
        self.reply_tokens = {}  # token -> {"userId", "eventMs", "expires", "used"}
        self.link_tokens = {}  # token -> {"userId", "expires", "used"}
        # One record per (request, recipient): what quota, sent counts and statistics count.
        self.deliveries = []  # {"api", "requestId", "userId", "messageIds", "unit", "time", ...}
        self.units = {}  # "yyyyMM" (UTC+9) -> aggregation unit names in first-use order
        self.narrowcasts = {}  # requestId -> job, see narrowcast.py
        self.audiences = AudienceState(emu)
        self.async_delay = 1.0  # seconds each asynchronous step (narrowcast, audience) takes
        self.bot_display_name = "LINE ID Link demo"

    # Reply tokens -------------------------------------------------------------------------
    def issue_reply_token(self, user_id, event_ms):
        """A fresh reply token for an event of ``user_id`` that happened at ``event_ms``."""
        with self.emu.locked():
            token = self.emu.ids.reply_token()
            self.reply_tokens[token] = {"userId": user_id, "eventMs": int(event_ms),
                                        "expires": self._reply_expiry(event_ms), "used": False}
            return token

    def renew_reply_token(self, token):
        """On webhook redelivery: usable for one more minute, never past 20 min from the event.
        Returns False when the token is unknown, used or past that 20-minute cap."""
        with self.emu.locked():
            entry = self.reply_tokens.get(token)
            if entry is None or entry["used"]:
                return False
            if self.emu.clock.now() > entry["eventMs"] / 1000 + REPLY_TOKEN_MAX_AGE:
                return False
            entry["expires"] = self._reply_expiry(entry["eventMs"])
            return True

    def _reply_expiry(self, event_ms):
        return min(self.emu.clock.now() + REPLY_TOKEN_TTL, event_ms / 1000 + REPLY_TOKEN_MAX_AGE)

    def reply_token_entry(self, token):
        """The token's record if it can be used now, else None."""
        entry = self.reply_tokens.get(token) if isinstance(token, str) else None
        if entry is None or entry["used"] or self.emu.clock.now() > entry["expires"]:
            return None
        return entry

    # Link tokens --------------------------------------------------------------------------
    def issue_link_token(self, user_id):
        with self.emu.locked():
            token = self.emu.ids.link_token()
            self.link_tokens[token] = {"userId": user_id, "used": False,
                                       "expires": self.emu.clock.now() + LINK_TOKEN_TTL}
            return token

    def use_link_token(self, token, user_id):
        """The account-link dialog's check: ``"ok"`` (token consumed), ``"failed"`` (the token
        was issued for another user; it is NOT consumed, so the right user can still link) or
        ``None`` (unknown, expired or already used: LINE sends no webhook then)."""
        with self.emu.locked():
            entry = self.link_tokens.get(token)
            if entry is None or entry["used"] or self.emu.clock.now() > entry["expires"]:
                return None
            if entry["userId"] != user_id:
                return "failed"
            entry["used"] = True
            return "ok"

    # Delivery -----------------------------------------------------------------------------
    def can_push_to(self, user):
        """LINE delivers to friends, and to non-friends who messaged the bot 1:1 within 7 days;
        never to a user who blocked the bot."""
        if user is None or user.friendship == "blocked":
            return False
        if user.is_friend:
            return True
        return (user.last_message_at is not None
                and self.emu.clock.now() - user.last_message_at <= NON_FRIEND_PUSH_WINDOW)

    def new_sent_messages(self, messages, quote_tokens=True):
        sent = []
        for message in messages:
            entry = {"id": self.emu.ids.message_id()}
            if quote_tokens and message.get("type") in QUOTABLE:
                entry["quoteToken"] = self.emu.ids.quote_token()
            sent.append(entry)
        return sent

    def deliver(self, user_id, api, messages, request_id, *, unit=None,
                notification_disabled=False, sent=None):
        """Put ``messages`` in the inbox of ``user_id`` (no friendship check: callers decide) and
        record the delivery for quota and statistics. Returns the ``sentMessages`` entries."""
        with self.emu.locked():
            # Only reply and push answer with sentMessages: for multicast, narrowcast and
            # broadcast nobody ever sees a quote token, so none is drawn for them.
            sent = sent or self.new_sent_messages(messages, quote_tokens=False)
            self._record(user_id, api, messages, request_id, [entry["id"] for entry in sent],
                         unit, notification_disabled, self.emu.clock.now())
            return sent

    def deliver_many(self, user_ids, api, messages, request_id, *, unit=None,
                     notification_disabled=False):
        """:meth:`deliver` to many users in one go (multicast, broadcast, narrowcast): the lock,
        the clock and the id generator are taken once per request, not once per recipient."""
        with self.emu.locked():
            message_ids = iter(self.emu.ids.message_ids(len(user_ids) * len(messages)))
            now = self.emu.clock.now()
            for user_id in user_ids:
                self._record(user_id, api, messages, request_id,
                             [next(message_ids) for _ in messages], unit, notification_disabled,
                             now)

    def _record(self, user_id, api, messages, request_id, message_ids, unit,
                notification_disabled, now):
        user = self.emu.users.get(user_id)
        if user is not None:
            now_ms = int(round(now * 1000))
            for message, message_id in zip(messages, message_ids):
                user.inbox.append({"api": api, "message": message, "requestId": request_id,
                                   "messageId": message_id, "timestamp": now_ms})
        self.deliveries.append({
            "api": api, "requestId": request_id, "userId": user_id, "messageIds": message_ids,
            "unit": unit, "notificationDisabled": bool(notification_disabled), "time": now,
        })

    # Quota --------------------------------------------------------------------------------
    def usage_this_month(self):
        month = jst_date(self.emu.clock.now())[:6]
        return sum(1 for d in self.deliveries
                   if d["api"] in QUOTA_APIS and jst_date(d["time"])[:6] == month)

    def remaining_quota(self):
        """Messages left this month (narrowcast reservations included), None when unlimited."""
        quota = self.emu.config.quota
        if quota is None:
            return None
        reserved = sum(job.get("reserved", 0) for job in self.narrowcasts.values())
        return max(0, quota - self.usage_this_month() - reserved)

    def check_quota(self, recipients):
        remaining = self.remaining_quota()
        if recipients and remaining is not None and recipients > remaining:
            raise LineError(429, errors.QUOTA_EXCEEDED)

    # Aggregation units --------------------------------------------------------------------
    def use_unit(self, name):
        """Register a unit name for this month; from the 1,001st name on LINE silently drops
        it (the message goes out untagged): returns None then."""
        if name is None:
            return None
        names = self.units.setdefault(jst_date(self.emu.clock.now())[:6], [])
        if name in names:
            return name
        if len(names) >= UNITS_PER_MONTH:
            return None
        names.append(name)
        return name

    # Asynchronous work --------------------------------------------------------------------
    def run_pending(self):
        from .narrowcast import advance_narrowcasts

        with self.emu.locked():
            self.audiences.run_pending()
            advance_narrowcasts(self)


# Request helpers shared by the sending endpoints ---------------------------------------------
def read_body(call):
    """The JSON body, after LINE's 2 MB limit (413)."""
    if len(call.request.get_data(cache=True)) > MAX_BODY_BYTES:
        raise LineError(413, "The request body exceeds 2 MB")
    return call.json()


def common_errors(body, units=False):
    """messages, notificationDisabled and (push/multicast) customAggregationUnits."""
    found = validate_messages(body.get("messages"))
    if not isinstance(body.get("notificationDisabled", False), bool):
        found.append(("notificationDisabled", "must be a boolean"))
    if units and body.get("customAggregationUnits") is not None:
        names = body["customAggregationUnits"]
        if not isinstance(names, list):
            found.append(("customAggregationUnits", "must be an array"))
        else:
            if len(names) > 1:
                found.append(("customAggregationUnits", "Size must be between 0 and 1"))
            for i, name in enumerate(names):
                if not isinstance(name, str) or not UNIT_NAME.match(name):
                    found.append((f"customAggregationUnits[{i}]",
                                  "must match ^[a-zA-Z0-9_]{1,30}$"))
    return found


def _unit(body):
    names = body.get("customAggregationUnits") or []
    return names[0] if names else None


# Endpoints -----------------------------------------------------------------------------------
@route("POST", "/v2/bot/message/reply", "replyMessage")
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


@route("POST", "/v2/bot/message/push", "pushMessage", retry_key=True)
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
    unit = state.use_unit(_unit(body))
    if reachable:
        state.deliver(to, "push", messages, call.request_id, unit=unit, sent=sent,
                      notification_disabled=body.get("notificationDisabled", False))
    return 200, {"sentMessages": sent}


@route("POST", "/v2/bot/message/multicast", "multicast", retry_key=True)
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
        problems += [(f"to[{i}]", "must be a user ID (U followed by 32 hex digits)")
                     for i, uid in enumerate(to)
                     if not isinstance(uid, str) or not USER_ID.match(uid)]
    if problems:
        raise invalid(problems)
    state = call.emu.messaging
    recipients = [uid for uid in dict.fromkeys(to) if state.can_push_to(call.emu.users.get(uid))]
    state.check_quota(len(recipients))
    _send_to_many(call, body, "multicast", recipients, unit=state.use_unit(_unit(body)))
    return 200, {}


@route("POST", "/v2/bot/message/broadcast", "broadcast", retry_key=True)
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


def _validate_only(call):
    body = read_body(call)
    problems = validate_messages(body.get("messages"))
    if problems:
        raise invalid(problems)
    return 200, {}


for _kind, _operation in (("reply", "validateReply"), ("push", "validatePush"),
                          ("multicast", "validateMulticast"), ("narrowcast", "validateNarrowcast"),
                          ("broadcast", "validateBroadcast")):
    route("POST", f"/v2/bot/message/validate/{_kind}", _operation)(_validate_only)


@route("GET", "/v2/bot/message/quota", "getMessageQuota")
def get_message_quota(call):
    quota = call.emu.config.quota
    return 200, ({"type": "none"} if quota is None else {"type": "limited", "value": quota})


@route("GET", "/v2/bot/message/quota/consumption", "getMessageQuotaConsumption")
def get_message_quota_consumption(call):
    return 200, {"totalUsage": call.emu.messaging.usage_this_month()}
