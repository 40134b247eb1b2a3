"""The routes of LINE Login v2.1: method, path, LINE's operationId, handler."""

from ...routing import Route
from . import handlers

ROUTES = [
    Route("GET", "/oauth2/v2.1/authorize", "loginAuthorize",
          handlers.authorize, auth="none", host="access"),
    Route("POST", "/oauth2/v2.1/token", "loginIssueAccessToken", handlers.token, auth="none"),
    Route("POST", "/oauth2/v2.1/verify", "loginVerifyIdToken",
          handlers.verify_id_token, auth="none"),
    Route("GET", "/oauth2/v2.1/verify", "loginVerifyAccessToken",
          handlers.verify_access_token, auth="none"),
    Route("POST", "/oauth2/v2.1/revoke", "loginRevokeAccessToken", handlers.revoke, auth="none"),
    Route("POST", "/user/v1/deauthorize", "loginDeauthorize", handlers.deauthorize),
    Route("GET", "/oauth2/v2.1/certs", "loginJwks", handlers.certs, auth="none"),
    Route("GET", "/.well-known/openid-configuration", "loginDiscovery",
          handlers.discovery, auth="none", host="access"),
    Route("GET", "/v2/profile", "loginGetProfile", handlers.profile, auth="login"),
    Route("GET", "/friendship/v1/status", "loginGetFriendshipStatus",
          handlers.friendship, auth="login"),
    Route("GET", "/oauth2/v2.1/userinfo", "loginUserInfo", handlers.userinfo, auth="login"),
    Route("POST", "/oauth2/v2.1/userinfo", "loginUserInfo", handlers.userinfo, auth="login"),
]
