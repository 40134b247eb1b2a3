"""What the emulator covers of LINE's APIs: emulated endpoints and deliberate gaps.

Every operationId in ``messaging-api.yml``, ``insight.yml`` and ``manage-audience.yml`` is either
served by a route (``@route(..., "<operationId>")``) or listed in :data:`NOT_EMULATED` with the
reason; ``tests/emulator/test_catalog.py`` keeps this true as endpoints are added. A call to a
LINE path the emulator does not serve answers ``501 {"message": "Not emulated: ..."}``.

Routes that are not in those specs (LINE Login, the account-link dialog on access.line.me) are
named in :data:`EXTRA_ENDPOINTS`; the ``/__emulator__`` control API (``auth="control"``) is the
emulator's own and is not listed.
"""

CATALOG_SPECS = ("messaging-api.yml", "insight.yml", "manage-audience.yml")

HOST_NAMES = {"api": "api.line.me", "api-data": "api-data.line.me", "access": "access.line.me",
              "manager": "manager.line.biz"}

_GROUPS = "groups and multi-person chats: the product talks to users 1:1 only"
_CONTENT = "content users send (images, video, audio): the product reads text and postbacks only"
_COUPON = "LINE coupons: not used by the product (it sends its own Flex offers)"
_MEMBERSHIP = "LINE membership plans: not used by the product (it has its own loyalty points)"
_AUDIENCE_TRACKING = ("audiences from click/impression tracking need LINE's message-event "
                      "tracking, which the emulator does not simulate")
_SHARED = "audiences shared from LINE Official Account Manager / business managers"

# operationId -> why the emulator leaves it out (calls answer 501 "Not emulated").
NOT_EMULATED = {
    # messaging-api.yml
    "getMessageContent": _CONTENT,
    "getMessageContentPreview": _CONTENT,
    "getMessageContentTranscodingByMessageId": _CONTENT,
    "getGroupMemberProfile": _GROUPS,
    "getRoomMemberProfile": _GROUPS,
    "getGroupMembersIds": _GROUPS,
    "getRoomMembersIds": _GROUPS,
    "leaveGroup": _GROUPS,
    "leaveRoom": _GROUPS,
    "getGroupSummary": _GROUPS,
    "getGroupMemberCount": _GROUPS,
    "getRoomMemberCount": _GROUPS,
    "markMessagesAsRead": "read receipts need a corporate contract (module channels)",
    "markMessagesAsReadByToken": "read receipts: the product never marks chats read",
    "pushMessagesByPhone": "LINE notification messages by phone number need a separate contract",
    "getPNPMessageStatistics": "LINE notification messages by phone number need a separate "
                               "contract",
    "getMembershipSubscription": _MEMBERSHIP,
    "getMembershipList": _MEMBERSHIP,
    "getJoinedMembershipUsers": _MEMBERSHIP,
    "listCoupon": _COUPON,
    "createCoupon": _COUPON,
    "getCouponDetail": _COUPON,
    "closeCoupon": _COUPON,
    "showLoadingAnimation": "chat loading animation: answers come back within the webhook",
    # insight.yml
    "getFriendsDemographics": "demographics need LINE's own estimates of age, gender and area",
    "getRichMenuInsightSummary": "rich-menu impressions need tracking the emulator lacks",
    "getRichMenuInsightDaily": "rich-menu impressions need tracking the emulator lacks",
    # manage-audience.yml
    "createClickBasedAudienceGroup": _AUDIENCE_TRACKING,
    "createImpBasedAudienceGroup": _AUDIENCE_TRACKING,
    "getSharedAudienceData": _SHARED,
    "getSharedAudienceGroups": _SHARED,
}

# Route endpoints that are not operationIds of LINE's OpenAPI specs -> what they are.
EXTRA_ENDPOINTS = {
    # LINE Login v2.1 (developers.line.biz/en/reference/line-login/), not in line-openapi. Some
    # share paths with channel-access-token.yml operations but are different APIs.
    "loginAuthorize": "LINE Login: GET access.line.me/oauth2/v2.1/authorize (consent screen)",
    "loginIssueAccessToken": "LINE Login: POST /oauth2/v2.1/token (authorization_code, "
                             "refresh_token)",
    "loginVerifyIdToken": "LINE Login: POST /oauth2/v2.1/verify (id_token)",
    "loginVerifyAccessToken": "LINE Login: GET /oauth2/v2.1/verify?access_token=",
    "loginRevokeAccessToken": "LINE Login: POST /oauth2/v2.1/revoke",
    "loginDeauthorize": "LINE Login: POST /user/v1/deauthorize",
    "loginJwks": "LINE Login: GET /oauth2/v2.1/certs (ES256 keys for LIFF ID tokens)",
    "loginDiscovery": "LINE Login: GET access.line.me/.well-known/openid-configuration",
    "loginGetProfile": "LINE Login: GET /v2/profile",
    "loginUserInfo": "LINE Login: GET/POST /oauth2/v2.1/userinfo",
    "loginGetFriendshipStatus": "LINE Login: GET /friendship/v1/status",
    # developers.line.biz/en/docs/messaging-api/linking-accounts/ (step 4).
    "accountLinkDialog": "Account link: GET access.line.me/dialog/bot/accountLink"
                         "?linkToken=&nonce=",
}


def build_routes():
    """The route table of a freshly built emulator app (importing every handler module)."""
    from . import routing
    from .core import Emulator

    Emulator().app  # noqa: B018 - building the app imports the handler modules
    return list(routing.ROUTES)


def line_path(path):
    """werkzeug rule syntax to LINE's: ``/v2/bot/profile/<userId>`` -> ``.../{userId}``."""
    import re

    return re.sub(r"<(?:[a-zA-Z_]\w*(?:\([^)]*\))?:)?(\w+)>", r"{\1}", path)


def emulated_endpoints():
    """``(method, path, operationId, host)`` rows of every emulated LINE endpoint, for the README.

    The ``/__emulator__`` control API is left out; paths use LINE's ``{param}`` syntax.
    """
    rows = {(r.method, line_path(r.path), r.endpoint, HOST_NAMES.get(r.host, r.host))
            for r in build_routes() if r.auth != "control"}
    return sorted(rows, key=lambda row: (row[3], row[1], row[0]))


def endpoints_markdown():
    """The README's endpoint reference: what the emulator serves and what it leaves out."""
    lines = ["# LINE endpoints served by the emulator", "",
             "Generated by `python -m line_emulator.catalog`; a test keeps it current.", "",
             "| host | method | path | operationId |", "|---|---|---|---|"]
    for method, path, endpoint, host in emulated_endpoints():
        lines.append(f"| {host} | {method} | `{path}` | {endpoint} |")
    lines += ["", "## Not emulated (answer 501 with a clear message)", "",
              "| operationId | why |", "|---|---|"]
    lines += [f"| {name} | {why} |" for name, why in sorted(NOT_EMULATED.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(endpoints_markdown(), end="")
