"""LINE Login v2.1 provider: authorization codes, access/refresh tokens, ID tokens, consent.

The Python API (``emu.login``)::

    location = emu.login.authorize(aiko, url)        # aiko consents; the redirect to the app
    token = emu.login.liff_id_token(aiko, nonce="n")  # what liff.getIDToken() gives a LIFF page
    access = emu.login.liff_access_token(aiko)        # what liff.getAccessToken() gives (12 h)

HTTP lives in :mod:`.login_routes`, ID-token signing in :mod:`.login_tokens`. All times are on
the emulator clock: advance it past ``exp`` to see tokens expire.

Undocumented behaviour chosen here
----------------------------------
- A bad ``client_id`` or ``redirect_uri`` is answered 400 without redirect; every other
  authorization error is redirected with LINE's upper-case codes (``INVALID_REQUEST``,
  ``INVALID_SCOPE``, ``UNSUPPORTED_RESPONSE_TYPE``, ``ACCESS_DENIED``, ``LOGIN_REQUIRED``,
  ``INTERACTION_REQUIRED``), ``error_description`` and ``state``.
- ``redirect_uri`` must be http(s); when ``login_callback_urls`` is set it must equal one of
  them in scheme, host and path (its query may differ: LINE allows extra query parameters).
- Only ``response_mode=query`` is emulated; other modes are redirected as ``INVALID_REQUEST``.
- ``prompt=none`` succeeds only when the user already consented to every requested scope
  (else ``INTERACTION_REQUIRED``); in the browser without a signed-in user: ``LOGIN_REQUIRED``.
- ``friendship_status_changed`` is added only when ``bot_prompt`` was given and the user was not
  yet a friend (the option is shown): ``true`` when they add the bot, ``false`` when declined.
- Token-endpoint errors are 400 with ``{"error", "error_description"}``: ``invalid_client``
  (wrong client_id/secret), ``invalid_grant`` (unknown, used or expired code or refresh token,
  redirect_uri mismatch, missing or wrong code_verifier), ``invalid_request`` (missing field,
  malformed code_verifier), ``unsupported_grant_type``. A failed exchange does not use the code.
  A code_verifier sent for a code without a challenge is ignored (RFC 7636 §4.5).
- Refresh rotates: a new access token and a new refresh token (90 days) come back, the old
  refresh token stops working, the old access token lives until it expires. No ``id_token``.
- ``grant_type=client_credentials`` (channel access token v2.1) and a revoke whose client_id is
  the Messaging API channel answer 501 "not emulated".
- Revoking an unknown or already revoked token answers 200 (RFC 7009 §2.2); revoking an access
  token also revokes its refresh token.
- ``GET /oauth2/v2.1/verify``: "access token expired" for an expired token, "invalid access
  token" for an unknown or revoked one (both 400 ``invalid_request``).
- Deauthorize accepts any token this channel issued (even expired or revoked), removes the
  user's consent and revokes all their Login tokens (web and LIFF); 400 "The user has already
  deauthorized the app" when no consent is left, 400 "Invalid user access token" when unknown.
- A Login token without ``profile`` gets 403 on /v2/profile and /friendship/v1/status, one
  without ``openid`` gets 403 on /oauth2/v2.1/userinfo.
- ID-token ``email`` is the fake ``<userId>@line.example``; ``amr`` is ``["linesso"]``;
  ``auth_time`` is added when ``max_age`` was requested.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass, field

from .errors import LineError
from .login_authorize import (SCOPES, AuthorizeError, AuthRedirect, OAuthError, add_query,
                              check_client, check_request, error_location, query_params)
from .login_tokens import IdTokenSigner
from .state import FRIEND

__all__ = ["AuthorizeError", "LoginState", "OAuthError"]

CODE_TTL = 10 * 60
ACCESS_TOKEN_TTL = 30 * 24 * 3600
LIFF_ACCESS_TOKEN_TTL = 12 * 3600
REFRESH_TOKEN_TTL = 90 * 24 * 3600
LIFF_SCOPES = SCOPES + ("chat_message.write",)
_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass
class AuthCode:
    code: str
    user_id: str
    redirect_uri: str
    scopes: tuple
    nonce: str
    code_challenge: str
    expires_at: float
    auth_time: float = None
    used: bool = False


@dataclass
class AccessToken:
    token: str
    user_id: str
    scopes: tuple
    expires_at: float
    kind: str = "web"  # "web" or "liff"
    refresh_token: str = None
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    user_id: str
    scopes: tuple
    expires_at: float
    access_token: str
    used: bool = False
    revoked: bool = False


@dataclass
class Grant:
    """A user's consent to the Login channel, which deauthorize removes."""

    user_id: str
    scopes: set = field(default_factory=set)


def s256(verifier):
    """PKCE S256: Base64URL(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LoginState:
    def __init__(self, emu):
        self.emu = emu
        config = emu.config
        self.signer = IdTokenSigner(emu.seed, config.login_channel_id, config.login_channel_secret)
        self.codes = {}
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.grants = {}  # userId -> Grant

    # Read access ---------------------------------------------------------------------------
    @property
    def liff_kid(self):
        return self.signer.liff_kid

    @property
    def liff_key(self):
        """The emulator's ES256 private key (tests forge tokens with it)."""
        return self.signer.liff_key

    def jwks(self):
        return self.signer.jwks()

    def token_record(self, token):
        """The live :class:`AccessToken` for ``token``, or None (unknown, revoked, expired)."""
        with self.emu.locked():
            record = self.access_tokens.get(token)
            if record is None or record.revoked or record.expires_at <= self.emu.clock.now():
                return None
            return record

    def user_for_access_token(self, token):
        """The state.User a valid Login access token belongs to, else None (HTTP auth="login")."""
        with self.emu.locked():
            record = self.token_record(token)
            return self.emu.users.get(record.user_id) if record else None

    # Authorization -------------------------------------------------------------------------
    def authorize(self, user, url, approve=True, add_friend=True):
        """``user`` opens the authorization ``url`` and consents; returns the redirect location.

        ``approve=False``: the user cancels (``ACCESS_DENIED``). ``add_friend=False``: the user
        unticks the bot_prompt option. Raises :class:`AuthorizeError` for a bad client_id or
        redirect_uri (LINE shows an error page instead of redirecting).
        """
        record = self._user_record(user)
        params = query_params(url)
        with self.emu.locked():
            redirect_uri = check_client(self.emu.config, params)
            try:
                request = check_request(params)
                if not approve:
                    raise AuthRedirect("ACCESS_DENIED", "The resource owner denied the request.")
                if request["prompt"] == "none" and not self._has_consent(record, request):
                    raise AuthRedirect("INTERACTION_REQUIRED",
                                       "The user has not consented to the requested scopes yet.")
            except AuthRedirect as exc:
                return error_location(redirect_uri, params, exc.error, exc.description)
            return self._grant_code(record, request, add_friend)

    def _has_consent(self, record, request):
        grant = self.grants.get(record.user_id)
        return grant is not None and set(request["scopes"]) <= grant.scopes

    def _grant_code(self, record, request, add_friend):
        emu = self.emu
        now = emu.clock.now()
        grant = self.grants.setdefault(record.user_id, Grant(record.user_id))
        grant.scopes.update(request["scopes"])
        code = AuthCode(emu.ids.alnum(20), record.user_id, request["redirect_uri"],
                        request["scopes"], request["nonce"], request["code_challenge"],
                        now + CODE_TTL, auth_time=now if request["max_age"] is not None else None)
        self.codes[code.code] = code
        extra = {}
        if request["bot_prompt"] and record.friendship != FRIEND:
            extra["friendship_status_changed"] = "true" if add_friend else "false"
            if add_friend:
                self._befriend(record)
        return add_query(request["redirect_uri"],
                         {"code": code.code, "state": request["state"], **extra})

    def _befriend(self, record):
        # SimUser.follow sends the follow webhook once the emulator lock is released.
        self.emu.user(record.user_id).follow()

    # Token endpoint ------------------------------------------------------------------------
    def check_client_secret(self, form):
        config = self.emu.config
        if form.get("client_id") != config.login_channel_id:
            raise OAuthError(400, "invalid_client", "invalid client_id")
        secret = form.get("client_secret") or ""
        if not hmac.compare_digest(secret.encode(), config.login_channel_secret.encode()):
            raise OAuthError(400, "invalid_client", "invalid client_secret")

    def exchange_code(self, form):
        """grant_type=authorization_code: validate everything, then use the code once."""
        for name in ("code", "redirect_uri", "client_id", "client_secret"):
            if not form.get(name):
                raise OAuthError(400, "invalid_request", f"{name} is required")
        self.check_client_secret(form)
        now = self.emu.clock.now()
        code = self.codes.get(form["code"])
        if code is None:
            raise OAuthError(400, "invalid_grant", "invalid authorization code")
        if code.used:
            raise OAuthError(400, "invalid_grant", "authorization code has already been used")
        if code.expires_at <= now:
            raise OAuthError(400, "invalid_grant", "authorization code expired")
        if form["redirect_uri"] != code.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the one of the "
                                                   "authorization request")
        if code.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                raise OAuthError(400, "invalid_grant", "code_verifier is required")
            if not 43 <= len(verifier) <= 128 or not set(verifier) <= _VERIFIER_CHARS:
                raise OAuthError(400, "invalid_request",
                                 "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]")
            if not hmac.compare_digest(s256(verifier), code.code_challenge):
                raise OAuthError(400, "invalid_grant", "invalid code_verifier")
        user = self.emu.users.get(code.user_id)
        code.used = True
        body = self._issue(user, code.scopes, "web", with_refresh=True)
        if "openid" in code.scopes:
            claims = self.signer.claims(user, now, code.scopes, code.nonce, code.auth_time)
            body["id_token"] = self.signer.sign(claims, "web")
        return body

    def refresh(self, form):
        for name in ("refresh_token", "client_id", "client_secret"):
            if not form.get(name):
                raise OAuthError(400, "invalid_request", f"{name} is required")
        self.check_client_secret(form)
        old = self.refresh_tokens.get(form["refresh_token"])
        if old is None or old.used or old.revoked:
            raise OAuthError(400, "invalid_grant", "invalid refresh token")
        if old.expires_at <= self.emu.clock.now():
            raise OAuthError(400, "invalid_grant", "refresh token expired")
        old.used = True
        return self._issue(self.emu.users[old.user_id], old.scopes, "web", with_refresh=True)

    def _issue(self, user, scopes, kind, with_refresh):
        emu = self.emu
        now = emu.clock.now()
        ttl = ACCESS_TOKEN_TTL if kind == "web" else LIFF_ACCESS_TOKEN_TTL
        access = AccessToken(emu.ids.token(43), user.user_id, tuple(scopes), now + ttl, kind)
        self.access_tokens[access.token] = access
        body = {"access_token": access.token, "token_type": "Bearer", "expires_in": ttl,
                "scope": " ".join(s for s in scopes if s != "email")}
        if with_refresh:
            refresh = RefreshToken(emu.ids.alnum(20), user.user_id, tuple(scopes),
                                   now + REFRESH_TOKEN_TTL, access.token)
            self.refresh_tokens[refresh.token] = refresh
            access.refresh_token = refresh.token
            body["refresh_token"] = refresh.token
        return body

    # LIFF ----------------------------------------------------------------------------------
    def liff_id_token(self, user, nonce=None, scopes=("openid", "profile")):
        """An ES256 ID token as ``liff.getIDToken()`` returns it (aud = the Login channel)."""
        record = self._user_record(user)
        self._check_liff_scopes(scopes)
        claims = self.signer.claims(record, self.emu.clock.now(), scopes, nonce)
        return self.signer.sign(claims, "liff")

    def liff_access_token(self, user, scopes=("openid", "profile")):
        """An access token as ``liff.getAccessToken()`` returns it (valid 12 hours)."""
        record = self._user_record(user)
        self._check_liff_scopes(scopes)
        with self.emu.locked():
            grant = self.grants.setdefault(record.user_id, Grant(record.user_id))
            grant.scopes.update(s for s in scopes if s in SCOPES)
            return self._issue(record, scopes, "liff", with_refresh=False)["access_token"]

    @staticmethod
    def _check_liff_scopes(scopes):
        bad = [s for s in scopes if s not in LIFF_SCOPES]
        if bad or not scopes:
            raise ValueError(f"LIFF scopes are any of {LIFF_SCOPES}; got {tuple(scopes)}")

    def sign_id_token(self, claims, kind="web"):
        """Sign arbitrary claims as this channel would (for tests of the verifier)."""
        return self.signer.sign(claims, kind)

    # Verify, revoke, deauthorize -----------------------------------------------------------
    def verify_id_token(self, token, client_id, nonce=None, user_id=None):
        claims, message = self.signer.verify(token, self.emu.clock.now(), client_id, nonce,
                                             user_id)
        if message:
            raise OAuthError(400, "invalid_request", message)
        return claims

    def verify_access_token(self, token):
        record = self.access_tokens.get(token)
        if record is None or record.revoked:
            raise OAuthError(400, "invalid_request", "invalid access token")
        remaining = int(record.expires_at - self.emu.clock.now())
        if remaining <= 0:
            raise OAuthError(400, "invalid_request", "access token expired")
        return {"scope": " ".join(s for s in record.scopes if s != "email"),
                "client_id": self.emu.config.login_channel_id, "expires_in": remaining}

    def revoke(self, token):
        record = self.access_tokens.get(token)
        if record is None:
            return
        record.revoked = True
        refresh = self.refresh_tokens.get(record.refresh_token or "")
        if refresh is not None:
            refresh.revoked = True

    def deauthorize(self, user_access_token):
        record = self.access_tokens.get(user_access_token)
        if record is None:
            raise LineError(400, "Invalid user access token")
        if record.user_id not in self.grants:
            raise LineError(400, "The user has already deauthorized the app")
        del self.grants[record.user_id]
        for token in list(self.access_tokens.values()) + list(self.refresh_tokens.values()):
            if token.user_id == record.user_id:
                token.revoked = True

    # Helpers -------------------------------------------------------------------------------
    def _user_record(self, user):
        """Accept a state.User, a SimUser or a userId."""
        if isinstance(user, str):
            if user not in self.emu.users:
                raise KeyError(f"no simulated user {user}")
            return self.emu.users[user]
        return getattr(user, "record", user)


# Importing the routes registers them with the emulator's route table.
from . import login_routes  # noqa: E402,F401
