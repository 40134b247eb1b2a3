"""Checking a LINE Login authorization request, and the OAuth-shaped errors of the provider.

Errors about the client (``client_id``, ``redirect_uri``) are shown to the user (400, never
redirected: redirecting to an unverified URL would be an open redirect); every other error goes
back to the app's ``redirect_uri`` with ``error``, ``error_description`` and ``state``.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import LineError

SCOPES = ("openid", "profile", "email")


class OAuthError(LineError):
    """An OAuth-shaped error answer: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status, error, description):
        super().__init__(status, description,
                         body={"error": error, "error_description": description})
        self.error = error
        self.description = description


class AuthorizeError(OAuthError):
    """An authorization request LINE refuses without redirecting (bad client_id/redirect_uri)."""

    def __init__(self, description):
        super().__init__(400, "invalid_request", description)


class AuthRedirect(Exception):
    """An authorization error that goes back to the app's redirect_uri."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error = error
        self.description = description


def check_client(config, params):
    """Validate client_id and redirect_uri; returns the redirect_uri or raises AuthorizeError."""
    if params.get("client_id") != config.login_channel_id:
        raise AuthorizeError(f"client_id {params.get('client_id')!r} is not this LINE Login "
                             f"channel (expected {config.login_channel_id})")
    redirect_uri = params.get("redirect_uri") or ""
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthorizeError("redirect_uri must be an absolute http(s) URL")
    if config.login_callback_urls:
        key = (parts.scheme, parts.netloc, parts.path)
        allowed = {tuple(urlsplit(u)[:3]) for u in config.login_callback_urls}
        if key not in allowed:
            raise AuthorizeError(f"redirect_uri {redirect_uri} is not a registered "
                                 "callback URL of the channel")
    return redirect_uri


def check_request(params):
    """The checked request as a dict, or :class:`AuthRedirect` with LINE's error code."""
    if params.get("response_type") != "code":
        raise AuthRedirect("UNSUPPORTED_RESPONSE_TYPE", "response_type must be code")
    if not params.get("state"):
        raise AuthRedirect("INVALID_REQUEST", "state is required")
    scopes = tuple(s for s in (params.get("scope") or "").split(" ") if s)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise AuthRedirect("INVALID_SCOPE", f"unknown scope: {' '.join(unknown)}")
    if "openid" not in scopes and "profile" not in scopes:
        raise AuthRedirect("INVALID_SCOPE", "scope must include openid or profile")
    if "email" in scopes and "openid" not in scopes:
        raise AuthRedirect("INVALID_SCOPE", "the email scope needs openid")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is not None and method != "S256":
        raise AuthRedirect("INVALID_REQUEST", "code_challenge_method must be S256")
    if method is not None and not challenge:
        raise AuthRedirect("INVALID_REQUEST", "code_challenge_method needs a code_challenge")
    if params.get("bot_prompt") not in (None, "normal", "aggressive"):
        raise AuthRedirect("INVALID_REQUEST", "bot_prompt must be normal or aggressive")
    if params.get("prompt") not in (None, "consent", "none", "login"):
        raise AuthRedirect("INVALID_REQUEST", "prompt must be consent, none or login")
    if params.get("response_mode", "query") != "query":
        raise AuthRedirect("INVALID_REQUEST", f"response_mode={params['response_mode']} is not "
                                              "emulated; use query")
    max_age = params.get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise AuthRedirect("INVALID_REQUEST", "max_age must be a number of seconds")
    return {"redirect_uri": params["redirect_uri"], "state": params["state"],
            "scopes": scopes, "nonce": params.get("nonce"), "code_challenge": challenge,
            "bot_prompt": params.get("bot_prompt"), "prompt": params.get("prompt"),
            "max_age": max_age}


def error_location(redirect_uri, params, error, description):
    query = {"error": error, "error_description": description}
    if params.get("state"):
        query["state"] = params["state"]
    return add_query(redirect_uri, query)


def add_query(url, params):
    """``url`` with ``params`` appended to its query (its own parameters are kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_params(url):
    """The first value of each query parameter of ``url``."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
