"""The routes of access.line.me's account-link dialog (and its sign-in helper):
method, path, LINE's operationId, handler."""

from ...routing import Route
from . import handlers

ROUTES = [
    Route("GET", "/dialog/bot/accountLink", "accountLinkDialog",
          handlers.account_link_dialog, auth="none", host="access"),
    Route("GET", "/__emulator__/users/<userId>/signin", "controlSignIn",
          handlers.sign_in, auth="control"),
]
