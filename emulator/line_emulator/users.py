"""Simulated LINE users: follow, block, talk, tap the rich menu, open the account-link dialog and
consent to LINE Login. Each action changes the emulator's state and sends the webhook LINE would.

    aiko = emu.add_user("Aiko")
    result = aiko.follow()          # ActionResult(events=[follow event], deliveries=[...])
    aiko.say("こんにちは 🍣")
    aiko.tap(100, 100)              # whatever the displayed rich menu has there

An action returns :class:`ActionResult`. In ``sync`` delivery mode its ``deliveries`` holds the
bot's answers when the action returns (called outside the emulator lock); in ``queued`` mode the
same list fills on ``emu.flush()``; in ``background`` mode when the worker gets to it.

Undocumented behaviour chosen here
----------------------------------
- ``follow()`` by a friend changes nothing and sends nothing (LINE offers no "add" button then).
  ``follow()`` by a user who blocked the bot is an unblock. ``follow.isUnblocked`` is true when
  the user had followed before.
- ``block()`` sends ``unfollow`` only if the user was a friend; blocking twice changes nothing.
  ``unblock()`` by a user who has not blocked the bot is refused (409).
- A user who never added the bot can still talk to it (message, postback, tap), as on LINE; a
  user who blocked it cannot (409: the chat is blocked).
- Account-link dialog: the nonce must be a string of 10 to 255 characters (LINE's rule). Otherwise
  the dialog shows an error, no webhook is sent and the link token is left unused. A link token
  that is unknown, expired or already used also sends nothing (as documented by LINE).
- A tap on a ``datetimepicker`` area sends a postback with whatever ``params`` the rich-menu state
  reports (the user "picks" the initial value); ``camera``, ``cameraRoll``, ``location`` and
  ``clipboard`` areas send nothing.
"""

from dataclasses import dataclass, field

from . import events as ev
from .errors import LineError
from .state import BLOCKED, FRIEND

NONCE_MIN, NONCE_MAX = 10, 255
POSTBACK_DATA_MAX = 300


class UserActionError(LineError, ValueError):
    """The simulated user cannot do that: 400 for a bad argument, 409 for the wrong state."""


def _bad(message):
    return UserActionError(400, message)


@dataclass
class ActionResult:
    """What a user action produced: the webhook events and the delivery attempts."""

    events: list
    deliveries: list = field(default_factory=list)
    uri: str = None  # a tapped `uri` action: the URI the LINE app would open
    action: dict = None  # a tapped rich-menu area's action
    error: str = None  # what LINE would show the user instead (no event was sent)

    @property
    def event(self):
        """The single event of the action, or None."""
        return self.events[0] if self.events else None

    def to_json(self):
        data = {"events": self.events, "deliveries": list(self.deliveries)}
        for name in ("uri", "action", "error"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


class SimUser:
    """A handle on one simulated user (``state.User`` record) of an :class:`Emulator`."""

    def __init__(self, emu, user):
        self.emu = emu
        self.record = user

    def __repr__(self):
        return f"<SimUser {self.user_id} {self.display_name!r} {self.record.friendship}>"

    # What the user looks like --------------------------------------------------------------
    @property
    def user_id(self):
        return self.record.user_id

    @property
    def display_name(self):
        return self.record.display_name

    @property
    def friendship(self):
        return self.record.friendship

    @property
    def is_friend(self):
        return self.record.friendship == FRIEND

    @property
    def inbox(self):
        """Messages the bot sent this user: ``{"api", "message", "requestId", ...}``."""
        return self.record.inbox

    @property
    def rich_menu(self):
        """The rich menu the user sees: ``{"richMenuId", "source": "user"|"alias"|"default"}``."""
        menu, source = self.emu.richmenus.displayed(self.record)
        return {"richMenuId": menu["richMenuId"] if menu else None, "source": source}

    # Friendship ----------------------------------------------------------------------------
    def follow(self):
        """Add the bot as a friend (or unblock it): a ``follow`` event."""
        with self.emu.locked():
            record = self.record
            if record.friendship == FRIEND:
                return ActionResult([])
            unblocked = record.ever_followed or record.friendship == BLOCKED
            record.friendship, record.ever_followed = FRIEND, True
            return self._send([ev.follow(self.emu, record.user_id, unblocked)])

    def unblock(self):
        """Unblock the bot: a ``follow`` event with ``isUnblocked: true``."""
        with self.emu.locked():
            if self.record.friendship != BLOCKED:
                raise UserActionError(409, f"{self.user_id} has not blocked the bot")
            return self.follow()

    def block(self):
        """Block the bot: an ``unfollow`` event (no reply token) if the user was a friend."""
        with self.emu.locked():
            record = self.record
            if record.friendship == BLOCKED:
                return ActionResult([])
            was_friend = record.friendship == FRIEND
            record.friendship = BLOCKED
            return self._send([ev.unfollow(self.emu, record.user_id)] if was_friend else [])

    # Talking -------------------------------------------------------------------------------
    def say(self, text):
        """Send the bot a text message: a ``message`` event."""
        if not isinstance(text, str) or not text:
            raise _bad("text must be a non-empty string")
        with self.emu.locked():
            self._require_chat()
            self.record.last_message_at = self.emu.clock.now()
            return self._send([ev.text_message(self.emu, self.user_id, text)])

    send_text = say

    def postback(self, data, params=None):
        """A postback (a button or rich-menu area with a postback action): a ``postback`` event."""
        if not isinstance(data, str) or len(data) > POSTBACK_DATA_MAX:
            raise _bad(f"data must be a string of at most {POSTBACK_DATA_MAX} characters")
        if params is not None and not (isinstance(params, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in params.items())):
            raise _bad("params must be an object of strings")
        with self.emu.locked():
            self._require_chat()
            return self._send([ev.postback(self.emu, self.user_id, data, params)])

    def tap(self, x, y):
        """Tap the displayed rich menu at image pixel (x, y); the area's action decides the rest.

        postback / richmenuswitch / datetimepicker -> a ``postback`` event; message -> a
        ``message`` event with the action's text; uri -> no event, ``result.uri`` is the URI.
        """
        for name, value in (("x", x), ("y", y)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad(f"{name} must be a non-negative integer (image pixels)")
        with self.emu.locked():
            self._require_chat()
            tapped = self.emu.richmenus.tap(self.record, x, y)
            if not tapped or not tapped.get("action"):
                return ActionResult([], error=f"no rich-menu area at ({x}, {y})")
            action, params = tapped["action"], tapped.get("params")
            kind = action.get("type")
            if kind in ("postback", "richmenuswitch", "datetimepicker"):
                event = ev.postback(self.emu, self.user_id, action.get("data", ""), params)
                return self._send([event], action=action)
            if kind == "message":
                self.record.last_message_at = self.emu.clock.now()
                event = ev.text_message(self.emu, self.user_id, action.get("text", ""))
                return self._send([event], action=action)
            if kind == "uri":
                return ActionResult([], action=action, uri=action.get("uri"))
            return ActionResult([], action=action)

    # Account link and LINE Login ---------------------------------------------------------------
    def account_link(self, link_token, nonce):
        """Open ``https://access.line.me/dialog/bot/accountLink?linkToken=&nonce=`` as this user.

        ok: ``accountLink`` with source and replyToken; failed (the token belongs to someone
        else): ``accountLink`` with neither; unknown, expired or used token, or a bad nonce: no
        event, ``result.error`` says what the dialog shows.
        """
        if not isinstance(link_token, str) or not link_token:
            raise _bad("linkToken must be a non-empty string")
        if not isinstance(nonce, str) or not NONCE_MIN <= len(nonce) <= NONCE_MAX:
            return ActionResult([], error=f"The nonce must be {NONCE_MIN} to {NONCE_MAX} "
                                          "characters long")
        with self.emu.locked():
            outcome = self.emu.messaging.use_link_token(link_token, self.user_id)
            if outcome is None:
                return ActionResult([], error="This link has expired or was already used")
            event = ev.account_link(self.emu, self.user_id, outcome == "ok", nonce)
            return self._send([event])

    def authorize(self, url, approve=True, add_friend=True):
        """Open LINE Login's authorization ``url`` and consent (``approve=False``: cancel;
        ``add_friend=False``: untick the bot_prompt option). Returns the redirect location."""
        if not isinstance(url, str) or not url:
            raise _bad("url must be a non-empty string")
        return self.emu.login.authorize(self.record, url, approve=approve, add_friend=add_friend)

    # ------------------------------------------------------------------------------------------
    def _require_chat(self):
        if self.record.friendship == BLOCKED:
            raise UserActionError(409, f"{self.user_id} has blocked the bot: unblock first")

    def _send(self, events, **extra):
        records = self.emu.webhooks.submit(events) if events else []
        return ActionResult(events, records, **extra)
