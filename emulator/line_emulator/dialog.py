"""Browser pages of access.line.me: the account-link dialog, and a stand-in for "logged in to LINE".

A browser is "signed in to LINE" as a simulated user through a cookie that
``GET /__emulator__/users/{userId}/signin?next=URL`` sets (the LINE app knows who you are; a
browser here needs telling). ``GET /dialog/bot/accountLink?linkToken=&nonce=`` then acts as that
user, exactly like :meth:`SimUser.account_link`, and shows the outcome. Without the cookie the
dialog lists the users to sign in as, each link coming back to the same dialog.

In ``sync`` delivery mode the ``accountLink`` webhook has been delivered when the page is served.
"""

import html
from urllib.parse import quote

from .errors import LineError
from .routing import route
from .users import SimUser

COOKIE = "line_emulator_user"
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(title, body, status=200):
    text = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return status, text.encode("utf-8"), dict(HTML)


@route("GET", "/dialog/bot/accountLink", "accountLinkDialog", auth="none", host="access")
def account_link_dialog(call):
    emu = call.emu
    record = emu.users.get(call.request.cookies.get(COOKIE, ""))
    if record is None:
        return _sign_in_first(call)
    token, nonce = call.query("linkToken"), call.query("nonce")
    if not token:
        return page("Invalid link", "<p>This link has no link token.</p>", 400)
    result = SimUser(emu, record).account_link(token, nonce)
    if result.error:
        return page("Cannot link accounts", f"<p>{html.escape(result.error)}</p>", 400)
    name = html.escape(record.display_name)
    if result.event["link"]["result"] == "ok":
        return page("Accounts linked",
                    f"<p>{name}, your LINE account is linked. You can unlink it at any time.</p>")
    return page("Linking failed", f"<p>{name}, this link was made for another LINE account.</p>")


def _sign_in_first(call):
    here = quote(call.request.full_path, safe="")
    items = "".join(
        f"<li><a href=\"/__emulator__/users/{quote(uid)}/signin?next={here}\">"
        f"{html.escape(user.display_name)} ({uid})</a></li>"
        for uid, user in call.emu.users.items())
    return page("Log in to LINE", "<p>Choose the simulated LINE user who opens this link:</p>"
                f"<ul>{items or '<li>(no users yet)</li>'}</ul>", 401)


@route("GET", "/__emulator__/users/<userId>/signin", "controlSignIn", auth="control")
def sign_in(call):
    """Set the "signed in to LINE as" cookie, then go to ``next`` (a path or an http(s) URL)."""
    record = call.emu.users.get(call.args["userId"])
    if record is None:
        raise LineError(404, f"Unknown user {call.args['userId']}")
    target = call.query("next") or ""
    if target and not (target.startswith(("http://", "https://"))
                       or target.startswith("/") and not target.startswith("//")):
        raise LineError(400, "next must be a path on this server or an http(s) URL")
    if target:
        status, body, headers = 302, b"", {"Location": target}
    else:
        status, body, headers = page("Signed in to LINE",
                                     f"<p>as {html.escape(record.display_name)}</p>")
    from werkzeug.wrappers import Response

    response = Response(body, status=status, headers=headers)
    response.set_cookie(COOKIE, record.user_id, path="/", httponly=True, samesite="Lax")
    return response
