"""ID tokens of the emulated LINE Login channel: HS256 for web login, ES256 (JWKS) for LIFF.

The ES256 key is derived from the emulator's seed, so a given seed always publishes the same
JWKS (``kid`` included) and notebooks that print a token stay stable.
"""

import base64
import hashlib

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://access.line.me"
ID_TOKEN_TTL = 3600
# The order of P-256: a private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# LINE's answers of POST /oauth2/v2.1/verify, in the order the checks run.
INVALID = "Invalid IdToken."
INVALID_ISSUER = "Invalid IdToken Issuer."
EXPIRED = "IdToken expired."
INVALID_AUDIENCE = "Invalid IdToken Audience."
INVALID_NONCE = "Invalid IdToken Nonce."
INVALID_SUBJECT = "Invalid IdToken Subject Identifier."


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class IdTokenSigner:
    """Signs and checks the ID tokens of one Login channel."""

    def __init__(self, seed, channel_id, channel_secret):
        self.channel_id = channel_id
        self.channel_secret = channel_secret
        digest = hashlib.sha256(f"line-emulator-liff-key:{seed}".encode()).digest()
        scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
        self.liff_key = ec.derive_private_key(scalar, ec.SECP256R1())
        numbers = self.liff_key.public_key().public_numbers()
        self._jwk = {
            "kty": "EC",
            "alg": "ES256",
            "use": "sig",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
        }
        self.liff_kid = hashlib.sha256((self._jwk["x"] + self._jwk["y"]).encode()).hexdigest()[:32]
        self._jwk["kid"] = self.liff_kid

    def jwks(self):
        return {"keys": [dict(self._jwk)]}

    def claims(self, user, now, scopes, nonce=None, auth_time=None):
        """The claims LINE puts in an ID token for ``user`` (a state.User) and these scopes."""
        iat = int(now)
        claims = {"iss": ISSUER, "sub": user.user_id, "aud": self.channel_id,
                  "exp": iat + ID_TOKEN_TTL, "iat": iat, "amr": ["linesso"]}
        if auth_time is not None:
            claims["auth_time"] = int(auth_time)
        if nonce:
            claims["nonce"] = nonce
        if "profile" in scopes:
            claims["name"] = user.display_name
            if user.picture_url:
                claims["picture"] = user.picture_url
        if "email" in scopes:
            claims["email"] = f"{user.user_id}@line.example"
        return claims

    def sign(self, claims, kind="web"):
        """``kind`` "web": HS256 with the channel secret; "liff": ES256 with the emulator key."""
        if kind == "web":
            return jwt.encode(claims, self.channel_secret, algorithm="HS256",
                              headers={"typ": "JWT"})
        if kind == "liff":
            return jwt.encode(claims, self.liff_key, algorithm="ES256",
                              headers={"typ": "JWT", "kid": self.liff_kid})
        raise ValueError("kind is 'web' or 'liff'")

    def verify(self, token, now, client_id, nonce=None, user_id=None):
        """The claims, or ``(None, message)`` with LINE's message for the first failed check."""
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg == "HS256":
                key = self.channel_secret
            elif alg == "ES256" and header.get("kid") == self.liff_kid:
                key = self.liff_key.public_key()
            else:
                return None, INVALID
            claims = jwt.decode(token, key, algorithms=[alg], options={
                "verify_signature": True, "verify_exp": False, "verify_iat": False,
                "verify_nbf": False, "verify_aud": False, "verify_iss": False})
        except (jwt.PyJWTError, ValueError, TypeError):
            return None, INVALID
        if claims.get("iss") != ISSUER:
            return None, INVALID_ISSUER
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp <= now:
            return None, EXPIRED
        if claims.get("aud") != client_id:
            return None, INVALID_AUDIENCE
        if nonce is not None and claims.get("nonce") != nonce:
            return None, INVALID_NONCE
        if user_id is not None and claims.get("sub") != user_id:
            return None, INVALID_SUBJECT
        return claims, None
