# Source of notebooks/08_liff_member_card.ipynb: edit here, then run notebooks/_build.py 08.

# %% [markdown]
# # 08 · The LIFF member card: verifying a LIFF ID token
#
# A customer taps **会員証** in the rich menu. LINE opens `https://liff.line.me/<LIFF ID>`, which
# loads your page (the LIFF app's *endpoint URL*) inside LINE. The page must show *this customer's*
# card: member number as a barcode and a QR code, points, tier. But the page is just JavaScript in
# a browser: anything it says about the user can be forged. So the page sends the server one thing,
# the **ID token** it gets from `liff.getIDToken()`, and the server decides who the user is.
#
# **Why LINE designed it this way.** A LIFF app belongs to a **LINE Login channel**. Its ID token is
# a JWT signed by LINE with **ES256** (an elliptic-curve key pair): LINE keeps the private key and
# publishes the public keys as a **JWK set** (`/oauth2/v2.1/certs`). Anyone can check the signature;
# only LINE can make one. The token names the user (`sub`, the LINE userId, the same one your bot's
# webhooks carry when the Login and Messaging API channels share a provider) and the channel it was
# issued for (`aud`). LINE says: send the *token* to your server, never the decoded profile
# (`liff.getDecodedIDToken()`, `liff.getProfile()`), because those are just JSON the page can write.
#
# **What can go wrong**: the server must check each point below, or a forged token gets a card
# (each case runs below):
#
# - the algorithm is **ES256**, pinned before anything else: a token with `alg: none`, or an HS256
#   token (web-login tokens are HS256, signed with the channel *secret*), must never be taken;
# - the signature, with the key of the JWK set named by the header's `kid`;
# - `iss` = `https://access.line.me`, `aud` = **your** LINE Login channel ID (a token another
#   provider's LIFF app obtained for the same person is not for you), `exp` not passed, `iat` not in
#   the future, and `nonce` when you sent one.
#
# The product does this in Odoo (`line_idlink_loyalty`): the card page posts the token to
# `/line/liff/card/<channel>/data`, and only a verified token of a linked customer gets a card; a
# refused token gets one fixed sentence, whatever the reason. Below, the same protocol against the
# LINE platform **emulator** (seed 7, frozen clock at 2026-11-02 00:00 UTC).

# %%
import base64
import json

import jwt
import requests
from jwt.algorithms import ECAlgorithm

import nbhelpers as nb
from line_emulator import start_emulator
from line_idlink.login import IdTokenError, LoginClient

nb.quiet()

server = start_emulator(seed=7)
emu = server.emulator
LOGIN_CHANNEL_ID = emu.config.login_channel_id  # the LINE Login channel that owns the LIFF app
print("LINE Login channel:", LOGIN_CHANNEL_ID)
print("LIFF ID:           ", emu.config.liff_id)
print("LIFF URL:           https://liff.line.me/" + emu.config.liff_id)

# %% [markdown]
# ## 1. What the page sends
#
# In the page, after `await liff.init({liffId})` (and `liff.login()` first in an external browser):
#
# ```js
# const idToken = liff.getIDToken();           // a JWT string, valid 1 hour
# fetch("/line/liff/card/1/data", {method: "POST", headers: {"Content-Type": "application/json"},
#       body: JSON.stringify({jsonrpc: "2.0", method: "call", params: {id_token: idToken}})});
# ```
#
# The emulator issues the same kind of token to its simulated user Aiko
# (`emu.login.liff_id_token`, what `liff.getIDToken()` returns inside LINE). A JWT is three
# Base64URL parts: header, claims, signature. ECDSA signatures differ on every signing, so only
# the first two are printed.

# %%
aiko = emu.add_user("Aiko")
token = emu.login.liff_id_token(aiko)


def part(jwt_text, index):
    raw = jwt_text.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


header, claims = part(token, 0), part(token, 1)
nb.show_json(header)
nb.show_json(claims)
assert header["alg"] == "ES256" and claims["aud"] == LOGIN_CHANNEL_ID
assert claims["sub"] == aiko.user_id and claims["exp"] - claims["iat"] == 3600

# %% [markdown]
# ## 2. How the server verifies it, step by step
#
# Fetch LINE's JWK set once and cache it (LINE rotates keys rarely; refetch when a token names an
# unknown `kid`). Then: pin the algorithm, pick the key by `kid`, check the signature, then the
# claims. Written out with PyJWT:

# %%
jwks = requests.get(f"{server.base_url}/oauth2/v2.1/certs", timeout=10).json()
keys = {item["kid"]: ECAlgorithm.from_jwk(item) for item in jwks["keys"]
        if item.get("kty") == "EC" and item.get("crv") == "P-256"}
print("JWK set:", [{k: item[k] for k in ("kty", "crv", "alg", "use")} for item in jwks["keys"]])

unverified = jwt.get_unverified_header(token)
assert unverified["alg"] == "ES256"  # pinned: decided before any key is looked at
verified = jwt.decode(token, keys[unverified["kid"]], algorithms=["ES256"],
                      audience=LOGIN_CHANNEL_ID, issuer="https://access.line.me",
                      options={"verify_exp": False})  # exp checked on the emulator's clock below
assert verified["exp"] > emu.clock.now() >= verified["iat"]
print("verified: sub =", nb.short(verified["sub"]), "| aud =", verified["aud"])

# %% [markdown]
# The project's core does the same in one call, `LoginClient.verify_id_token(token, kind="liff")`
# (`kind="liff"` pins ES256 and the JWK set; `kind="web"` pins HS256 and the channel secret). It
# caches the JWK set for 24 hours, so after the first call a verification is a local ES256 check
# (`scripts/bench liff` measures it: the target is ≤ 2 ms). The Odoo addon keeps one client per
# worker and channel.

# %%
client = LoginClient(LOGIN_CHANNEL_ID, emu.config.login_channel_secret, None,
                     api_base=server.base_url, auth_base=server.base_url, clock=emu.clock.now)
for _ in range(3):
    assert client.verify_id_token(token, kind="liff")["sub"] == aiko.user_id
print("JWK set fetched", len(emu.requests_for("loginJwks")), "time(s) for 1 + 3 verifications")
assert len(emu.requests_for("loginJwks")) == 2  # ours above + the client's one

# %% [markdown]
# ## 3. What the server must refuse
#
# Each forged or stale token below is refused before its claims are read as true. The Odoo card
# page answers all of them the same way (`{"status": "refused", ...}`), shows nothing about anyone,
# and logs the reason.

# %%
signer = emu.login.signer  # the emulator's keys, to forge tokens as an attacker could not


def b64(value):
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


other_server = start_emulator(seed=8)  # another provider's LINE Login channel and LIFF app
stranger = other_server.emulator.add_user("Aiko")
h, p, s = token.split(".")
cases = [
    ("HS256 (a web-login token)", signer.sign(claims, "web")),
    ("alg: none", f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."),
    ("another channel's audience", signer.sign(dict(claims, aud="1999999999"), "liff")),
    ("expired (issued 2 h ago)", signer.sign(signer.claims(aiko.record, emu.clock.now() - 7200,
                                                           ("openid",)), "liff")),
    ("claims edited, signature kept", ".".join([h, b64(dict(claims, sub="U" + "0" * 32)), s])),
    ("another provider's LIFF app", other_server.emulator.login.liff_id_token(stranger)),
]
refusals = []
for label, forged in cases:
    try:
        client.verify_id_token(forged, kind="liff")
        print(f"{label:<32} ACCEPTED (this must never happen)")
    except IdTokenError as exc:
        refusals.append(type(exc).__name__)
        print(f"{label:<32} {type(exc).__name__}")
other_server.stop()
assert refusals == ["WrongAlgorithm", "WrongAlgorithm", "WrongAudience", "IdTokenExpired",
                    "BadSignature", "BadSignature"]

# %% [markdown]
# ## 4. LINE's verify endpoint gives the same answers
#
# Instead of checking locally you may POST the token to LINE's `/oauth2/v2.1/verify` with
# `client_id` = your LINE Login channel ID (one HTTP call per opening, and LINE's rate limits apply;
# the local check above needs none). The emulator answers as LINE does:

# %%
for label, candidate in [("the real token", token)] + cases[2:4]:
    answer = requests.post(f"{server.base_url}/oauth2/v2.1/verify", timeout=10,
                           data={"id_token": candidate, "client_id": LOGIN_CHANNEL_ID})
    body = answer.json()
    print(f"{label:<28} {answer.status_code} "
          f"{body.get('error_description') or 'sub=' + nb.short(body.get('sub'))}")

# %% [markdown]
# ## 5. After the check: whose card?
#
# `sub` is a LINE userId, not a customer. The server looks up the **active link** of that userId on
# the channel the token was checked for (`line.identity`, made by the account link or by LINE
# Login) and shows that customer's cards with the portal's own rule (exact partner, active loyalty
# and eWallet programs, not expired). A LINE user who is not linked gets a **Link with LINE**
# button that goes through LINE Login and comes back to the card. In short:

# %%
links = {aiko.user_id: "Aiko Customer"}  # the channel's active links: LINE userId -> customer


def card_answer(candidate):
    try:
        sub = client.verify_id_token(candidate, kind="liff")["sub"]
    except IdTokenError:
        return {"status": "refused"}
    if sub not in links:
        return {"status": "not_linked", "link_url": "/line/liff/card/1/link"}
    return {"status": "card", "name": links[sub]}


bunta = emu.add_user("Bunta")
for label, candidate in [("Aiko", token), ("Bunta (not linked)", emu.login.liff_id_token(bunta)),
                         ("forged", cases[0][1])]:
    print(f"{label:<20}", card_answer(candidate))
assert card_answer(token)["status"] == "card"
server.stop()

# %% [markdown]
# ## 6. In the product
#
# - Channel settings (`line_idlink_loyalty`): the **LIFF ID** (its endpoint URL is shown to copy
#   into the LINE Developers console: `https://<odoo>/line/liff/card/<channel id>`) and the **LIFF
#   SDK URL** (LINE's CDN `https://static.line-scdn.net/liff/edge/2/sdk.js` by default; an offline
#   test points it at a stand-in such as `line_idlink_loyalty/static/tests/liff_mock_sdk.js`).
# - The card page loads the SDK, posts the token to `/line/liff/card/<channel id>/data` and shows
#   the answer; the member number is drawn by Odoo's `/report/barcode` route (Code 128 and QR).
# - A verified opening is recorded on the customer (partner form: "Member card last opened").
