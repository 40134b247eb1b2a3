"""Server side of the LIFF member card: verify the ID token a LIFF page posts.

A LIFF page gets its ID token from ``liff.getIDToken()``. It is an ES256 JWT signed by LINE; its
``aud`` is the LINE Login channel that owns the LIFF app. The check itself is the core's
:meth:`line_idlink.login.LoginClient.verify_id_token` with ``kind="liff"``: the algorithm is
pinned to ES256 (an HS256 token, ``alg: none`` or anything else is refused before any key is
looked at), the key comes from LINE's JWKS (``/oauth2/v2.1/certs``) by ``kid``, and the issuer,
audience, expiry, issue time, optional nonce and ``sub`` are checked.

The JWKS is cached by the LoginClient for 24 hours (an unknown ``kid`` refetches it at most once a
minute). One client is kept per worker process and per channel configuration (module-level
cache below), so a warm verification is a local ES256 check without any call to LINE.
"""

import threading
import time

from line_idlink.login import IdTokenError, LoginClient, LoginError

__all__ = ["IdTokenError", "LoginError", "liff_client", "verify_liff_token"]

_CLIENTS = {}
_LOCK = threading.Lock()
MAX_CLIENTS = 64


def liff_client(login_channel_id, login_channel_secret, api_base, auth_base):
    """The cached LoginClient of one LINE Login channel configuration (keyed on every value that
    decides where keys come from and what is checked, so a changed setting gets a new client)."""
    key = (str(login_channel_id), login_channel_secret, api_base, auth_base)
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            if len(_CLIENTS) >= MAX_CLIENTS:
                _CLIENTS.clear()
            client = LoginClient(login_channel_id, login_channel_secret, None, api_base=api_base,
                                 auth_base=auth_base, clock=time.time,
                                 timeout=10)  # a scalar: Odoo's test request hook rejects tuples
            _CLIENTS[key] = client
        return client


def verify_liff_token(client, id_token, nonce=None):
    """Verified claims of a LIFF ID token, else :class:`IdTokenError` / :class:`LoginError`
    (the JWKS could not be fetched)."""
    if not isinstance(id_token, str) or not id_token or len(id_token) > 8192:
        raise IdTokenError("no ID token, or not a string of at most 8192 characters")
    return client.verify_id_token(id_token, nonce=nonce, kind="liff")
