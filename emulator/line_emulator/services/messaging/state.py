"""The Messaging API's state: reply and link tokens, what was sent to whom (for inboxes, the
quota and statistics), aggregation units, narrowcast jobs and audiences (``emu.messaging``).

Other parts of the emulator use:

- ``emu.messaging.issue_reply_token(user_id, event_ms)`` for each webhook event with a
  replyToken, and ``renew_reply_token(token)`` when that event is redelivered;
- ``emu.messaging.use_link_token(token, user_id)`` when a user opens the account-link dialog;
- ``emu.messaging.deliver(user_id, api, messages, request_id)`` to put messages in an inbox;
- ``emu.messaging.record_click(user, url, message_id)`` when a user opens a link of a message
  (``SimUser.open_url``); the Insight statistics count ``emu.messaging.clicks``.

The rules it applies are described in :mod:`.sending` (reply tokens, quota) and
:mod:`.narrowcast`.
"""

import collections

from ... import errors
from ...clock import jst_date
from ...errors import LineError
from ...message_links import message_urls
from ...message_store import Deliveries, Send
from ..audience.state import AudienceState
from .narrowcast import advance_narrowcasts

REPLY_TOKEN_TTL = 60
REPLY_TOKEN_MAX_AGE = 20 * 60
LINK_TOKEN_TTL = 10 * 60
NON_FRIEND_PUSH_WINDOW = 7 * 24 * 3600
UNITS_PER_MONTH = 1000
QUOTABLE = ("text", "textV2", "sticker", "image", "video")
QUOTA_APIS = ("push", "multicast", "narrowcast", "broadcast")


class MessagingState:
    def __init__(self, emu):
        self.emu = emu
        self.reply_tokens = {}  # token -> {"userId", "eventMs", "expires", "used"}
        self.link_tokens = {}  # token -> {"userId", "expires", "used"}
        # One record per (request, recipient): what quota, sent counts and statistics count,
        # {"api", "requestId", "userId", "messageIds", "unit", "time", ...} when read.
        self.deliveries = Deliveries()
        self.clicks = []  # {"requestId", "userId", "seq", "url", "time"}: links users opened
        self.usage = collections.Counter()  # "yyyyMM" (UTC+9) -> messages counted in the quota
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
            self._store(Send(api, request_id, messages, [user_id],
                             [entry["id"] for entry in sent], unit, notification_disabled,
                             self.emu.clock.now()))
            return sent

    def deliver_many(self, user_ids, api, messages, request_id, *, unit=None,
                     notification_disabled=False):
        """:meth:`deliver` to many users in one go (multicast, broadcast, narrowcast): the
        request is stored once, each inbox gets a reference to it (see :mod:`.message_store`)."""
        with self.emu.locked():
            message_ids = self.emu.ids.message_ids(len(user_ids) * len(messages))
            self._store(Send(api, request_id, messages, list(user_ids), message_ids, unit,
                             notification_disabled, self.emu.clock.now()))

    def _store(self, send):
        users = self.emu.users
        refs = send.refs
        for user_id in send.recipients:
            user = users.get(user_id)
            if user is not None:
                user.inbox.refs.extend(refs)
        self.deliveries.add(send)
        if send.api in QUOTA_APIS:
            self.usage[jst_date(send.time)[:6]] += len(send.recipients)

    # Clicks -------------------------------------------------------------------------------
    def record_click(self, user, url, message_id=None):
        """``user`` (a ``state.User``) opens ``url`` in a message of their inbox (the newest
        holding it, or the one with ``message_id``): recorded for the statistics, ``seq`` being
        the message's position in its request. False when no message holds it.

        Walks the user's own inbox references (no per-recipient work at sending time); a
        message id is only built when ``message_id`` is asked for."""
        with self.emu.locked():
            for send, j in reversed(user.inbox.refs):
                if message_id is not None and \
                        send.message_id(send.position(user.user_id), j) != message_id:
                    continue
                if url not in message_urls(send.messages[j]):
                    continue
                self.clicks.append({"requestId": send.request_id, "userId": user.user_id,
                                    "seq": j + 1, "url": url, "time": self.emu.clock.now()})
                return True
            return False

    # Quota --------------------------------------------------------------------------------
    def usage_this_month(self):
        """Messages counted against the quota this month: one per recipient delivered to."""
        return self.usage[jst_date(self.emu.clock.now())[:6]]

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
        with self.emu.locked():
            self.audiences.run_pending()
            advance_narrowcasts(self)
