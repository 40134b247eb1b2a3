"""HTTP endpoints of LINE Login v2.1 (access.line.me and api.line.me paths on one origin).

Two paths are shared with the channel-access-token API, so they are routed on the request:
``POST /oauth2/v2.1/token`` on ``grant_type`` and ``/oauth2/v2.1/verify`` on the method
(GET ``?access_token=`` verifies an access token, POST ``id_token=`` an ID token).
Operation names (LINE Login has no OpenAPI spec) start with ``login``.
"""

import html
from urllib.parse import quote

from werkzeug.wrappers import Response

from .errors import LineError
from .login_authorize import (AuthorizeError, AuthRedirect, OAuthError, check_client,
                              check_request, error_location, query_params)
from .routing import route

USER_COOKIE = "line_emulator_user"


# Authorization (the browser side, access.line.me) ---------------------------------------------
@route("GET", "/oauth2/v2.1/authorize", "loginAuthorize", auth="none", host="access")
def authorize(call):
    emu = call.emu
    # The raw query string: request.url would be IRI-decoded by some werkzeug versions.
    query = call.request.query_string.decode("latin-1")
    url = f"{call.request.base_url}?{query}" if query else call.request.base_url
    params = query_params(url)
    try:
        redirect_uri = check_client(emu.config, params)
    except AuthorizeError as exc:
        return _html(400, "LINE Login: bad request", f"<p>{html.escape(exc.description)}</p>")
    user = emu.users.get(call.request.cookies.get(USER_COOKIE, ""))
    if user is not None:
        return _redirect(emu.login.authorize(user, url))
    try:
        if check_request(params)["prompt"] == "none":
            raise AuthRedirect("LOGIN_REQUIRED", "The user is not logged in to LINE.")
    except AuthRedirect as exc:
        return _redirect(error_location(redirect_uri, params, exc.error, exc.description))
    return _user_picker(emu, call.request.path + (f"?{query}" if query else ""))


def _user_picker(emu, here):
    """No one is signed in to LINE in this browser: pick the simulated user (dialog.py signs in)."""
    items = "".join(
        f'<li><a href="/__emulator__/users/{quote(u.user_id)}/signin?next={quote(here, safe="")}">'
        f"{html.escape(u.display_name)}</a> <code>{u.user_id}</code></li>"
        for u in emu.users.values())
    body = (f"<p>Sign in to the emulated LINE as:</p><ul>{items}</ul>" if items
            else "<p>No simulated users yet: add one with emu.add_user() first.</p>")
    return _html(200, "LINE Login (emulator)", body)


def _html(status, title, body):
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def _redirect(location):
    return Response(b"", status=302, headers={"Location": location})


# Tokens (api.line.me) -------------------------------------------------------------------------
@route("POST", "/oauth2/v2.1/token", "loginIssueAccessToken", auth="none")
def token(call):
    form = call.form()
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return 200, call.emu.login.exchange_code(form), _NO_STORE
    if grant_type == "refresh_token":
        return 200, call.emu.login.refresh(form), _NO_STORE
    if grant_type == "client_credentials":
        raise LineError(501, "Not emulated: channel access tokens v2.1 (grant_type="
                             "client_credentials with a JWT assertion); use the emulator's "
                             "long-lived channel access token")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is required")
    raise OAuthError(400, "unsupported_grant_type", f"unsupported grant_type {grant_type}")


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@route("POST", "/oauth2/v2.1/verify", "loginVerifyIdToken", auth="none")
def verify_id_token(call):
    form = call.form()
    for name in ("id_token", "client_id"):
        if not form.get(name):
            raise OAuthError(400, "invalid_request", f"{name} is required")
    claims = call.emu.login.verify_id_token(form["id_token"], form["client_id"],
                                            form.get("nonce"), form.get("user_id"))
    return 200, claims


@route("GET", "/oauth2/v2.1/verify", "loginVerifyAccessToken", auth="none")
def verify_access_token(call):
    token = call.query("access_token")
    if not token:
        raise OAuthError(400, "invalid_request", "access_token is required")
    return 200, call.emu.login.verify_access_token(token)


@route("POST", "/oauth2/v2.1/revoke", "loginRevokeAccessToken", auth="none")
def revoke(call):
    form = call.form()
    emu = call.emu
    if form.get("client_id") == emu.config.channel_id:
        raise LineError(501, "Not emulated: revoking channel access tokens v2.1")
    if not form.get("access_token"):
        raise OAuthError(400, "invalid_request", "access_token is required")
    emu.login.check_client_secret(form)
    emu.login.revoke(form["access_token"])
    return 200, None


@route("POST", "/user/v1/deauthorize", "loginDeauthorize")
def deauthorize(call):
    token = call.json().get("userAccessToken")
    if not isinstance(token, str) or not token:
        raise LineError(400, "The request body has 1 error(s)",
                        [{"message": "must be specified", "property": "userAccessToken"}])
    call.emu.login.deauthorize(token)
    return 204, None


@route("GET", "/oauth2/v2.1/certs", "loginJwks", auth="none")
def certs(call):
    return 200, call.emu.login.jwks()


@route("GET", "/.well-known/openid-configuration", "loginDiscovery", auth="none", host="access")
def discovery(call):
    base = call.request.host_url.rstrip("/")
    return 200, {
        "issuer": "https://access.line.me",
        "authorization_endpoint": f"{base}/oauth2/v2.1/authorize",
        "token_endpoint": f"{base}/oauth2/v2.1/token",
        "revocation_endpoint": f"{base}/oauth2/v2.1/revoke",
        "userinfo_endpoint": f"{base}/oauth2/v2.1/userinfo",
        "scopes_supported": ["openid", "profile", "email"],
        "jwks_uri": f"{base}/oauth2/v2.1/certs",
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
    }


# User data with a Login access token (api.line.me) --------------------------------------------
def _token_with(call, scope):
    header = call.request.headers.get("Authorization", "")
    record = call.emu.login.token_record(header.partition(" ")[2])
    if scope not in record.scopes:  # record exists: the pipeline authenticated the token
        raise LineError(403, f"The access token was not granted the {scope} scope")
    return record


@route("GET", "/v2/profile", "loginGetProfile", auth="login")
def profile(call):
    user = call.emu.users[_token_with(call, "profile").user_id]
    body = {"userId": user.user_id, "displayName": user.display_name}
    if user.picture_url:
        body["pictureUrl"] = user.picture_url
    if user.status_message:
        body["statusMessage"] = user.status_message
    return 200, body


def _userinfo(call):
    record = _token_with(call, "openid")
    user = call.emu.users[record.user_id]
    body = {"sub": user.user_id}
    if "profile" in record.scopes:
        body["name"] = user.display_name
        if user.picture_url:
            body["picture"] = user.picture_url
    return 200, body


route("GET", "/oauth2/v2.1/userinfo", "loginUserInfo", auth="login")(_userinfo)
route("POST", "/oauth2/v2.1/userinfo", "loginUserInfo", auth="login")(_userinfo)


@route("GET", "/friendship/v1/status", "loginGetFriendshipStatus", auth="login")
def friendship(call):
    user = call.emu.users[_token_with(call, "profile").user_id]
    return 200, {"friendFlag": user.is_friend}
