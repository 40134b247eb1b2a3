"""Who is who: user profiles, follower ids, the bot's own info, and account-link tokens.

Undocumented behaviour chosen here
----------------------------------
- ``getProfile`` answers 404 ``{"message": "Not found"}`` for a malformed id, an unknown user,
  a user who never added the bot or who blocked it.
- Follower ids come in the order users were created in the emulator (stable); ``next`` is an
  opaque cursor naming the last id returned, so a follow or block between pages neither repeats
  nor skips anyone else. A bad ``start`` is a 400.
- ``issueLinkToken``: a malformed id is a 400, an unknown user a 404 ``Not found``, and a user
  who is not a friend (never added, or blocked) a 400 "The user hasn't added the LINE Official
  Account as a friend": LINE says the user must be a friend. A token is valid 10 minutes on the
  emulator clock; see ``MessagingState.use_link_token`` for its single use.
- Bot info: basicId ``@`` + 3 digits of the channel id + 5 letters from the bot user id;
  chatMode ``bot``, markAsReadMode ``auto``; displayName ``emu.messaging.bot_display_name``.
"""

import base64
import binascii
import re

from .errors import LineError, invalid, not_found
from .routing import route

FOLLOWERS_DEFAULT = 300
FOLLOWERS_MAX = 1000
USER_ID = re.compile(r"^U[0-9a-f]{32}$")


@route("GET", "/v2/bot/profile/<userId>", "getProfile")
def get_profile(call):
    user = call.emu.users.get(call.args["userId"])
    if user is None or not user.is_friend:
        raise not_found()
    return 200, user.profile()


def _cursor(user_id):
    return base64.urlsafe_b64encode(f"after:{user_id}".encode()).decode().rstrip("=")


def _after(start):
    try:
        text = base64.urlsafe_b64decode(start + "=" * (-len(start) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("after:") or not USER_ID.match(text[6:]):
        raise invalid([("start", "is not a continuation token returned by this endpoint")])
    return text[6:]


@route("GET", "/v2/bot/followers/ids", "getFollowers")
def get_followers(call):
    raw_limit = call.query("limit")
    try:
        limit = FOLLOWERS_DEFAULT if raw_limit is None else int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= FOLLOWERS_MAX:
        raise invalid([("limit", f"must be an integer between 1 and {FOLLOWERS_MAX}")])
    order = list(call.emu.users)  # creation order: stable across calls
    start = call.query("start")
    position = 0
    if start:
        after = _after(start)
        position = order.index(after) + 1 if after in order else len(order)
    friends = [uid for uid in order[position:] if call.emu.users[uid].is_friend]
    page = friends[:limit]
    body = {"userIds": page}
    if len(friends) > limit:
        body["next"] = _cursor(page[-1])
    return 200, body


@route("GET", "/v2/bot/info", "getBotInfo")
def get_bot_info(call):
    config = call.emu.config
    letters = "".join(chr(ord("a") + int(ch, 16) % 26) for ch in config.bot_user_id[1:6])
    return 200, {"userId": config.bot_user_id, "basicId": f"@{config.channel_id[-3:]}{letters}",
                 "displayName": call.emu.messaging.bot_display_name, "chatMode": "bot",
                 "markAsReadMode": "auto"}


@route("POST", "/v2/bot/user/<userId>/linkToken", "issueLinkToken")
def issue_link_token(call):
    user_id = call.args["userId"]
    if not USER_ID.match(user_id):
        raise invalid([("userId", "must be a user ID (U followed by 32 hex digits)")])
    user = call.emu.users.get(user_id)
    if user is None:
        raise not_found()
    if not user.is_friend:
        raise LineError(400, "The user hasn't added the LINE Official Account as a friend")
    return 200, {"linkToken": call.emu.messaging.issue_link_token(user_id)}
