"""LINE Login v2.1 client: authorization URL, code exchange, ID-token verification, profile,
friendship, refresh, revoke and deauthorize. Framework-free (requests + pyjwt + cryptography),
so the Odoo addon and the reference app share it.

Typical web flow::

    client = LoginClient(channel_id, channel_secret, "https://shop.example/line/callback")
    auth = client.authorization_request(bot_prompt="normal")
    session["line_login"] = auth.to_session()          # state, nonce, code_verifier
    redirect(auth.url)
    ...                                                  # LINE redirects back to the callback
    result = client.exchange_code(request.args, session.pop("line_login"))
    result.id_claims["sub"]                              # the LINE userId

ID tokens are verified with the algorithm pinned per kind: web login tokens are HS256 signed with
the channel secret and nothing else is accepted; LIFF tokens are ES256 checked against LINE's JWKS.
A ``clock`` (seconds since the epoch) can be injected, e.g. the emulator's ``emu.clock.now``.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import jwt
import requests
from jwt.algorithms import ECAlgorithm

ISSUER = "https://access.line.me"
SCOPES = ("openid", "profile", "email")
JWKS_TTL = 24 * 3600
JWKS_MIN_REFETCH = 60  # an unknown kid refetches the JWKS at most this often (key rotation)


# Errors -------------------------------------------------------------------------------------
class LoginError(Exception):
    """A LINE Login failure. ``status``: HTTP status (None when no answer); ``error`` and
    ``description``: LINE's ``error``/``error_description`` (or ``message``) or ours."""

    def __init__(self, message, status=None, error=None, description=None):
        super().__init__(message)
        self.status = status
        self.error = error
        self.description = message if description is None else description


class LoginDenied(LoginError):
    """The callback carries ``error``: the user cancelled, or LINE refused the request."""


class StateMismatch(LoginError):
    """The callback's ``state`` is not the one stored for this session (CSRF or a stale tab)."""


class MissingVerifier(LoginError):
    """No PKCE code_verifier was stored for this session, so the code cannot be exchanged."""


class IdTokenError(LoginError):
    """An ID token failed verification; never trust its claims."""

    def __init__(self, description):
        super().__init__(description, error="invalid_id_token")


class MalformedIdToken(IdTokenError):
    pass


class WrongAlgorithm(IdTokenError):
    pass


class BadSignature(IdTokenError):
    pass


class WrongIssuer(IdTokenError):
    pass


class WrongAudience(IdTokenError):
    pass


class IdTokenExpired(IdTokenError):
    pass


class IssuedInFuture(IdTokenError):
    pass


class NonceMismatch(IdTokenError):
    pass


# Results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuthRequest:
    """An authorization URL and the secrets the caller keeps in the user's session."""

    url: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)

    def to_session(self):
        """The three secrets as a dict (what :meth:`LoginClient.exchange_code` accepts)."""
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier}


@dataclass(frozen=True)
class Tokens:
    """Secrets are left out of repr() so that a logged result leaks nothing."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int
    expires_at: float  # on the client's clock
    scope: tuple
    refresh_token: str = field(default=None, repr=False)
    id_token: str = field(default=None, repr=False)
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class LoginResult:
    tokens: Tokens
    id_claims: dict  # verified claims; None when openid was not granted
    friendship_status_changed: bool = None  # None: LINE did not show the add-friend option


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str
    picture_url: str = None
    status_message: str = None


def _pkce_pair():
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]: within 43..128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _field(obj, name):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _equal(a, b):
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


# The client ---------------------------------------------------------------------------------
class LoginClient:
    def __init__(self, channel_id, channel_secret, redirect_uri, api_base="https://api.line.me",
                 auth_base="https://access.line.me", session=None, timeout=(3.05, 10), leeway=30,
                 clock=time.time):
        if not channel_id or not channel_secret:
            raise ValueError("channel_id and channel_secret of the LINE Login channel are required")
        self.channel_id = str(channel_id)
        self.channel_secret = channel_secret
        self.redirect_uri = redirect_uri
        self.api_base = api_base.rstrip("/")
        self.auth_base = auth_base.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.leeway = leeway
        self.clock = clock
        self._jwks = {}  # kid -> public key
        self._jwks_fetched_at = None

    # Authorization --------------------------------------------------------------------------
    def authorization_request(self, scope=("openid", "profile"), bot_prompt=None, ui_locales=None,
                              prompt=None, extra=None):
        """A fresh authorization URL with state, nonce and a PKCE S256 challenge.

        ``extra``: other documented parameters (``max_age``, ``disable_auto_login`` ...).
        """
        scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope)
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown LINE Login scope(s) {unknown}; use {SCOPES}")
        if "openid" not in scopes and "profile" not in scopes:
            raise ValueError("scope must include openid or profile")
        if "email" in scopes and "openid" not in scopes:
            raise ValueError("the email scope needs openid")
        if bot_prompt not in (None, "normal", "aggressive"):
            raise ValueError("bot_prompt is 'normal', 'aggressive' or None")
        if prompt not in (None, "consent", "none", "login"):
            raise ValueError("prompt is 'consent', 'none', 'login' or None")
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier, challenge = _pkce_pair()
        params = {"response_type": "code", "client_id": self.channel_id,
                  "redirect_uri": self.redirect_uri, "state": state, "scope": " ".join(scopes),
                  "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
        for name, value in (("bot_prompt", bot_prompt), ("ui_locales", ui_locales),
                            ("prompt", prompt)):
            if value:
                params[name] = value
        clash = set(extra or {}) & set(params)
        if clash:
            raise ValueError(f"extra cannot override {sorted(clash)}")
        params.update(extra or {})
        # quote (not quote_plus): LINE wants the scopes separated by %20
        url = f"{self.auth_base}/oauth2/v2.1/authorize?{urlencode(params, quote_via=quote)}"
        return AuthRequest(url, state, nonce, verifier)

    def exchange_code(self, callback_params, expected):
        """Check the callback against the stored request, exchange the code, verify the ID token.

        ``callback_params``: the callback's query (dict or MultiDict); ``expected``: the
        :class:`AuthRequest` or its ``to_session()`` dict.
        """
        error = callback_params.get("error")
        if error:
            description = callback_params.get("error_description") or "no description"
            raise LoginDenied(f"LINE Login refused: {error}: {description}", error=error,
                              description=description)
        if not _equal(callback_params.get("state"), _field(expected, "state")):
            raise StateMismatch("the callback's state does not match this session's login "
                                "request (forged callback, or the login started in another tab)",
                                error="state_mismatch")
        verifier = _field(expected, "code_verifier")
        if not verifier:
            raise MissingVerifier("no PKCE code_verifier is stored for this login request; "
                                  "start the login again", error="missing_verifier")
        code = callback_params.get("code")
        if not code:
            raise LoginError("the callback has neither code nor error", error="invalid_callback")
        body = self._post("/oauth2/v2.1/token", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
            "client_id": self.channel_id, "client_secret": self.channel_secret,
            "code_verifier": verifier})
        tokens = self._tokens(body)
        claims = None
        if tokens.id_token:
            nonce = _field(expected, "nonce")
            if not nonce:  # never skip the replay check because the session lost the nonce
                raise NonceMismatch("no nonce is stored for this login request; start the "
                                    "login again")
            claims = self.verify_id_token(tokens.id_token, nonce=nonce)
        elif "openid" in tokens.scope:
            raise LoginError("the token answer has the openid scope but no id_token",
                             error="invalid_response")
        changed = callback_params.get("friendship_status_changed")
        return LoginResult(tokens, claims, None if changed is None else changed == "true")

    # ID tokens ------------------------------------------------------------------------------
    def verify_id_token(self, token, nonce=None, kind="web", jwks=None):
        """Verified claims of a LINE ID token, else an :class:`IdTokenError` subclass.

        ``kind="web"``: HS256 with the channel secret only. ``kind="liff"``: ES256 with LINE's
        JWKS only (``jwks``: a JWKS dict to use instead of fetching ``/oauth2/v2.1/certs``).
        """
        if kind not in ("web", "liff"):
            raise ValueError("kind is 'web' or 'liff'")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise MalformedIdToken(f"the ID token is not a JWT: {exc}") from None
        alg = header.get("alg")
        expected_alg = "HS256" if kind == "web" else "ES256"
        if alg != expected_alg:
            raise WrongAlgorithm(f"the ID token is signed with {alg!r}, but a {kind} ID token "
                                 f"must be {expected_alg}")
        key = self.channel_secret if kind == "web" else self._jwk_key(header.get("kid"), jwks)
        try:
            claims = jwt.decode(token, key, algorithms=[expected_alg], options={
                "verify_signature": True, "verify_exp": False, "verify_iat": False,
                "verify_nbf": False, "verify_aud": False, "verify_iss": False})
        except jwt.InvalidSignatureError:
            raise BadSignature(f"the ID token's {expected_alg} signature is not valid for this "
                               "channel") from None
        except jwt.PyJWTError as exc:
            raise MalformedIdToken(f"the ID token cannot be decoded: {exc}") from None
        self._check_claims(claims, nonce)
        return claims

    def _check_claims(self, claims, nonce):
        now = self.clock()
        if claims.get("iss") != ISSUER:
            raise WrongIssuer(f"the ID token's issuer is {claims.get('iss')!r}, not {ISSUER}")
        aud = claims.get("aud")
        if aud != self.channel_id and not (isinstance(aud, list) and self.channel_id in aud):
            raise WrongAudience(f"the ID token is for channel {aud!r}, not {self.channel_id}")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)):
            raise MalformedIdToken("the ID token lacks a numeric exp or iat")
        if now > exp + self.leeway:
            raise IdTokenExpired(f"the ID token expired {int(now - exp)} s ago")
        if iat > now + self.leeway:
            raise IssuedInFuture(f"the ID token is issued {int(iat - now)} s in the future "
                                 "(check the server clock)")
        if nonce is not None and not _equal(claims.get("nonce"), nonce):
            raise NonceMismatch("the ID token's nonce is not the one of this login request "
                                "(a replayed token?)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise MalformedIdToken("the ID token has no sub (LINE userId)")

    def _jwk_key(self, kid, jwks):
        if jwks is not None:
            keys = self._parse_jwks(jwks)
        else:
            now = self.clock()
            fetched = self._jwks_fetched_at
            stale = fetched is None or now - fetched > JWKS_TTL
            if stale or (kid not in self._jwks and now - fetched >= JWKS_MIN_REFETCH):
                self._jwks = self._parse_jwks(self._get("/oauth2/v2.1/certs"))
                self._jwks_fetched_at = now
            keys = self._jwks
        if kid not in keys:
            raise BadSignature(f"the ID token's key id {kid!r} is not in LINE's JWKS")
        return keys[kid]

    @staticmethod
    def _parse_jwks(jwks):
        keys = {}
        for item in (jwks or {}).get("keys", []):
            if item.get("kty") != "EC" or item.get("crv") != "P-256":
                continue  # only P-256 keys can verify ES256; never reuse others
            try:
                keys[item.get("kid")] = ECAlgorithm.from_jwk(item)
            except (jwt.PyJWTError, ValueError, KeyError):
                continue
        return keys

    # Tokens and user data -------------------------------------------------------------------
    def refresh(self, refresh_token):
        body = self._post("/oauth2/v2.1/token", {
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": self.channel_id, "client_secret": self.channel_secret})
        return self._tokens(body)

    def verify_access_token(self, access_token):
        """``{scope, client_id, expires_in}`` after checking it is this channel's, unexpired."""
        body = self._get("/oauth2/v2.1/verify", params={"access_token": access_token})
        if str(body.get("client_id")) != self.channel_id:
            raise LoginError(f"the access token belongs to channel {body.get('client_id')}, "
                             f"not {self.channel_id}", error="wrong_channel")
        if not isinstance(body.get("expires_in"), (int, float)) or body["expires_in"] <= 0:
            raise LoginError("the access token has expired", error="expired")
        return body

    def profile(self, access_token):
        body = self._get("/v2/profile", bearer=access_token)
        return Profile(body["userId"], body.get("displayName"), body.get("pictureUrl"),
                       body.get("statusMessage"))

    def userinfo(self, access_token):
        return self._get("/oauth2/v2.1/userinfo", bearer=access_token)

    def friendship(self, access_token):
        """True when the user is a friend of the linked official account (and not blocking)."""
        return bool(self._get("/friendship/v1/status", bearer=access_token).get("friendFlag"))

    def revoke(self, access_token):
        self._post("/oauth2/v2.1/revoke", {"access_token": access_token,
                                           "client_id": self.channel_id,
                                           "client_secret": self.channel_secret}, expect_json=False)

    def deauthorize(self, user_access_token, channel_access_token):
        """End the user's consent to this channel (LINE requires it when they unlink)."""
        self._request("POST", "/user/v1/deauthorize", json={"userAccessToken": user_access_token},
                      bearer=channel_access_token, expect_json=False)

    # HTTP -----------------------------------------------------------------------------------
    def _tokens(self, body):
        try:
            expires_in = int(body["expires_in"])
            return Tokens(body["access_token"], body.get("token_type", "Bearer"), expires_in,
                          self.clock() + expires_in, tuple((body.get("scope") or "").split()),
                          body.get("refresh_token"), body.get("id_token"), body)
        except (KeyError, TypeError, ValueError):
            raise LoginError("the token answer lacks access_token or expires_in",
                             error="invalid_response") from None

    def _get(self, path, params=None, bearer=None):
        return self._request("GET", path, params=params, bearer=bearer)

    def _post(self, path, form, expect_json=True):
        return self._request("POST", path, data=form, expect_json=expect_json)

    def _request(self, method, path, bearer=None, expect_json=True, **kwargs):
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        try:
            response = self.session.request(method, self.api_base + path, headers=headers,
                                            timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise LoginError(f"LINE Login {method} {path} failed: {exc}",
                             error="connection_error") from exc
        if response.status_code >= 300:
            body = _json_or_none(response) or {}
            error = body.get("error") if isinstance(body, dict) else None
            description = ((body.get("error_description") or body.get("message"))
                           if isinstance(body, dict) else None) or response.reason
            raise LoginError(f"LINE Login {method} {path} answered HTTP {response.status_code}: "
                             f"{error + ': ' if error else ''}{description}",
                             status=response.status_code, error=error or "http_error",
                             description=description)
        if not expect_json:
            return None
        body = _json_or_none(response)
        if not isinstance(body, dict):
            raise LoginError(f"LINE Login {method} {path} answered no JSON object",
                             status=response.status_code, error="invalid_response")
        return body


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None
