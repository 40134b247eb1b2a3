"""The routes of the Messaging API's sending, narrowcast and account endpoints:
method, path, LINE's operationId, handler."""

from ...routing import Route
from . import accounts, narrowcast, sending

ROUTES = [
    Route("POST", "/v2/bot/message/reply", "replyMessage", sending.reply_message),
    Route("POST", "/v2/bot/message/push", "pushMessage", sending.push_message, retry_key=True),
    Route("POST", "/v2/bot/message/multicast", "multicast", sending.multicast, retry_key=True),
    Route("POST", "/v2/bot/message/broadcast", "broadcast", sending.broadcast, retry_key=True),
    Route("GET", "/v2/bot/message/quota", "getMessageQuota", sending.get_message_quota),
    Route("GET", "/v2/bot/message/quota/consumption", "getMessageQuotaConsumption",
          sending.get_message_quota_consumption),
    Route("POST", "/v2/bot/message/narrowcast", "narrowcast",
          narrowcast.narrowcast, retry_key=True),
    Route("GET", "/v2/bot/message/progress/narrowcast", "getNarrowcastProgress",
          narrowcast.get_narrowcast_progress),
    Route("GET", "/v2/bot/profile/<userId>", "getProfile", accounts.get_profile),
    Route("GET", "/v2/bot/followers/ids", "getFollowers", accounts.get_followers),
    Route("GET", "/v2/bot/info", "getBotInfo", accounts.get_bot_info),
    Route("POST", "/v2/bot/user/<userId>/linkToken", "issueLinkToken", accounts.issue_link_token),
] + [
    # Five endpoints that only check the messages
    Route("POST", f"/v2/bot/message/validate/{kind}", operation, sending.validate_only)
    for kind, operation in (("reply", "validateReply"), ("push", "validatePush"),
                            ("multicast", "validateMulticast"),
                            ("narrowcast", "validateNarrowcast"),
                            ("broadcast", "validateBroadcast"))
]
