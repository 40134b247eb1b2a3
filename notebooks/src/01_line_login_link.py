# Source of notebooks/01_line_login_link.ipynb: edit here, then run notebooks/_build.py 01.

# %% [markdown]
# # 01 · Linking a customer account with LINE Login
#
# A customer is signed in to your shop and clicks **"Link with LINE"**. Your site sends the browser
# to LINE Login, the customer agrees on LINE's consent screen, and LINE sends the browser back to
# your callback URL with a one-time `code`. Your server exchanges that code for tokens. The **ID token** is
# a signed JWT whose `sub` claim is the customer's LINE userId. You store *customer ↔ userId*, and
# from then on your bot knows which customer sent each message.
#
# **Why LINE designed it this way.** LINE Login is OAuth 2.0 with OpenID Connect, and each
# parameter blocks a particular attack:
#
# - `state` ties the callback to the browser session that started the login. Without it an attacker
#   could send a victim their own callback URL and link the attacker's LINE account to the victim's
#   shop account (login CSRF).
# - `nonce` comes back inside the signed ID token, so a token from another login can't be replayed
#   into this one.
# - PKCE (`code_challenge` = SHA-256 of a secret `code_verifier`) makes a stolen `code` useless. Only
#   the server that holds the verifier can exchange the code, and the verifier never leaves that server.
# - `bot_prompt` asks the customer to add your LINE Official Account as a friend at the same time.
#   Only friends can receive your messages.
# - A LINE user has one userId per *provider*. If the Login channel and the Messaging API channel are
#   under the same provider, the `sub` you store is the `source.userId` of your bot's webhooks.
#
# **What can go wrong** (each case runs below): a callback whose `state` isn't yours, a code used
# twice, and an ID token that was altered, signed with another key, expired or issued for another
# login. Binding accounts by e-mail address alone is also unsafe. Bind only the `sub` of a verified ID
# token to a customer who is already signed in.
#
# Everything runs against the LINE platform **emulator**, in this process, on a frozen clock
# (2026-11-02 00:00 UTC) with seeded ids, so every run prints the same thing.

# %%
import base64
import hashlib
import json
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import jwt

import nbhelpers as nb
from line_emulator import start_emulator
from line_idlink.linking import AccountLinker
from line_idlink.login import IdTokenError, LoginClient, LoginError
from line_idlink.storage import MemoryStorage

nb.quiet()

CALLBACK = "https://shop.example/line/callback"  # registered in the LINE Login channel
server = start_emulator(seed=1, login_callback_urls=[CALLBACK])
emu = server.emulator
log = nb.RequestLog(emu)  # prints what LINE received since the last look


def when(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


print("LINE Login channel id:", emu.config.login_channel_id)
print("emulator clock:       ", when(emu.clock.now()), "(frozen)")

# %% [markdown]
# ## 1. The shop's LINE Login client
#
# `LoginClient` needs the Login channel's id and secret and the callback URL. In production
# `api_base` and `auth_base` default to `https://api.line.me` and `https://access.line.me`. Here both
# point at the emulator. The client reads the time from the emulator's clock, so it agrees with LINE
# about when a token expires. We also record every HTTP request the client sends, so we can see
# exactly what goes over the wire.

# %%
sent = []  # every request the client sends, as it went on the wire
http = nb.direct_session()  # a requests.Session (without proxies from the environment)
http.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))

client = LoginClient(emu.config.login_channel_id, emu.config.login_channel_secret, CALLBACK,
                     api_base=server.base_url, auth_base=server.base_url,
                     session=http, clock=emu.clock.now)

# %% [markdown]
# ## 2. The authorization URL
#
# When the customer clicks "Link with LINE", the server creates a fresh `state`, `nonce` and PKCE pair.
# It keeps all three in the customer's **server-side session** and redirects the browser to the URL.
# `state`, `nonce` and the challenge are random on every run, so we print only their lengths.

# %%
auth = client.authorization_request(scope=("openid", "profile"), bot_prompt="aggressive")
session = auth.to_session()  # {"state", "nonce", "code_verifier"}: stays on the server

RANDOM = {"state", "nonce", "code_challenge"}
query = dict(parse_qsl(urlsplit(auth.url).query))
print(urlsplit(auth.url).path)
for name, value in query.items():
    print(f"  {name:<22} {f'<{len(value)} random characters>' if name in RANDOM else value}")

# %% [markdown]
# The challenge is the Base64URL SHA-256 of the verifier. LINE stores the challenge with the code,
# and later checks the verifier against it. The verifier itself is not in the URL.

# %%
verifier = session["code_verifier"]
s256 = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
assert query["code_challenge"] == s256 and query["code_challenge_method"] == "S256"
assert verifier not in auth.url
assert query["state"] == session["state"] and query["nonce"] == session["nonce"]
print(f"code_verifier: {len(verifier)} characters, kept on the server; challenge = S256(verifier)")

# %% [markdown]
# ## 3. The customer agrees on LINE
#
# In the emulator, LINE user 山田 花子 (Hanako) opens the URL and consents. Because of
# `bot_prompt=aggressive` she is offered the shop's Official Account and adds it. LINE then redirects
# her browser to the callback with `code`, the same `state`, and `friendship_status_changed=true`.
# LINE also sends the shop's bot a `follow` webhook. This notebook has no bot; notebook 02 does.

# %%
hanako = emu.add_user("山田 花子")
print("friendship before:", hanako.friendship)

location = hanako.authorize(auth.url)
callback = dict(parse_qsl(urlsplit(location).query))
print("LINE redirects the browser to", location.split("?")[0])
for name, value in callback.items():
    print(f"  {name:<26} {'<the state we sent>' if name == 'state' else value}")
print("friendship after: ", hanako.friendship)

assert callback["state"] == session["state"]
assert callback["friendship_status_changed"] == "true" and hanako.is_friend

# %% [markdown]
# ## 4. The callback: check `state`, exchange the code
#
# `exchange_code` first compares the callback's `state` with the session's. Then it POSTs the code
# with the channel secret and the PKCE verifier to LINE's token endpoint. Finally it verifies the ID
# token it receives: HS256 with the channel secret, `iss`, `aud`, `exp`, `iat` and our `nonce`.
# Here is the request as LINE received it (secrets masked):

# %%
result = client.exchange_code(callback, session)

token_request = sent[-1]
print(token_request.method, urlsplit(token_request.url).path, "(form-encoded)")
for name, value in parse_qsl(token_request.body):
    print(f"  {name:<14} {'<secret>' if name in ('client_secret', 'code_verifier') else value}")
log.show()
print("granted scope:", " ".join(result.tokens.scope), "| access token valid for",
      result.tokens.expires_in // 86400, "days | refresh token:", bool(result.tokens.refresh_token))

# %% [markdown]
# The verified claims. `sub` is Hanako's LINE userId, which is also the userId the shop's bot sees
# in her webhooks. `nonce` is the one from this customer's session.

# %%
claims = result.id_claims
print("header:", jwt.get_unverified_header(result.tokens.id_token))
for name in ("iss", "sub", "aud", "name", "amr"):
    print(f"  {name:<5} {claims[name]}")
print(f"  iat   {when(claims['iat'])}")
print(f"  exp   {when(claims['exp'])}  (one hour later)")
print("  nonce matches this session:", claims["nonce"] == session["nonce"])

assert claims["sub"] == hanako.user_id
assert claims["aud"] == emu.config.login_channel_id and claims["iss"] == "https://access.line.me"

# %% [markdown]
# ## 5. What the callback refuses
#
# A forged callback carries someone else's `state`, and it is refused before any request to LINE. A
# replayed callback (the same code a second time) reaches LINE, and LINE answers `invalid_grant`,
# because a code works only once.

# %%
before = len(sent)
try:
    client.exchange_code({**callback, "state": "state-of-another-browser"}, session)
except LoginError as exc:
    print(f"forged callback:   {type(exc).__name__}: {exc}")
assert len(sent) == before  # nothing was sent to LINE

try:
    client.exchange_code(callback, session)
except LoginError as exc:
    print(f"replayed callback: {type(exc).__name__}: {exc.error}: {exc.description}")
    assert exc.status == 400 and exc.error == "invalid_grant"
log.show()

# %% [markdown]
# ## 6. What ID-token verification refuses
#
# Never trust an ID token's claims before you verify it. Below are five bad tokens: the real token
# with its payload edited, a token signed by someone who doesn't know the channel secret, an
# unsigned token (`alg: none`), the real token checked against *another* login's nonce, and the real
# token checked two hours later (after its `exp`).

# %%
token = result.tokens.id_token
header, payload, signature = token.split(".")


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


stolen = dict(claims, sub="U" + "0" * 32)
edited = ".".join([header, b64(stolen), signature])
forged = jwt.encode(stolen, "a guessed secret that is long enough", algorithm="HS256")
unsigned = ".".join([b64({"alg": "none", "typ": "JWT"}), b64(stolen), ""])
later = LoginClient(emu.config.login_channel_id, emu.config.login_channel_secret, CALLBACK,
                    clock=lambda: emu.clock.now() + 2 * 3600)

cases = [
    ("payload edited, signature kept", lambda: client.verify_id_token(edited, session["nonce"])),
    ("signed with a guessed secret", lambda: client.verify_id_token(forged, session["nonce"])),
    ("alg: none", lambda: client.verify_id_token(unsigned, session["nonce"])),
    ("another login's nonce", lambda: client.verify_id_token(token, "nonce-of-another-login")),
    ("checked 2 hours later", lambda: later.verify_id_token(token, session["nonce"])),
]
refusals = []
for label, check in cases:
    try:
        check()
        print(f"{label:<32} ACCEPTED (this must never happen)")
    except IdTokenError as exc:
        refusals.append(type(exc).__name__)
        print(f"{label:<32} {type(exc).__name__}: {exc}")

assert refusals == ["BadSignature", "BadSignature", "WrongAlgorithm", "NonceMismatch",
                    "IdTokenExpired"]
assert client.verify_id_token(token, session["nonce"])["sub"] == hanako.user_id  # the real one

# %% [markdown]
# ## 7. Link the customer to `sub`
#
# The customer is signed in to the shop as customer 42, and the verified `sub` says who they are on
# LINE. `AccountLinker.link_from_login` stores the pair. A LINE account links to at most one
# customer per channel: linking the same pair again changes nothing, and a *different* customer who
# tries to claim the same LINE account is refused.

# %%
linker = AccountLinker(MemoryStorage(), emu.config.channel_id, clock=emu.clock.now)

outcome = linker.link_from_login("42", claims)
print(f"customer 42 -> {nb.short(outcome.line_user_id)}: {outcome.status.value}")
again = linker.link_from_login("42", claims)
print(f"customer 42 again:      {again.status.value} ({again.reason})")
other = linker.link_from_login("77", claims)
print(f"customer 77, same LINE: {other.status.value} ({other.reason})")

assert outcome.ok and outcome.link.method == "line_login"
assert again.status.value == "already_linked" and other.status.value == "line_user_taken"
assert linker.customer_for(hanako.user_id) == "42"

# %% [markdown]
# The access token also lets the shop read Hanako's LINE profile and ask whether she is a friend of
# the Official Account. These calls use *her* token as the bearer, not the channel access token.

# %%
profile = client.profile(result.tokens.access_token)
print("profile:", profile.display_name, nb.short(profile.user_id))
is_friend = client.friendship(result.tokens.access_token)
print("friend of the Official Account:", is_friend)
log.show()
assert profile.user_id == hanako.user_id and is_friend

# %% [markdown]
# ## 8. Unlink: end the link, revoke, deauthorize
#
# A customer must be able to unlink at any time. LINE's LINE Login guidelines also require calling
# **deauthorize** when a user ends the link. Deauthorize removes her consent to the Login channel and
# invalidates every token it issued to her. Deauthorize authenticates with the *channel* access
# token. We also revoke the access token we hold.

# %%
ended = linker.unlink(line_user_id=hanako.user_id)
print("links ended:", [(link.customer_id, nb.short(link.line_user_id)) for link in ended])

client.revoke(result.tokens.access_token)
client.deauthorize(result.tokens.access_token, emu.config.access_token)
log.show()

# %% [markdown]
# After that the token is dead, and a second deauthorize is refused because no consent is left.
# The customer can link again at any time with a fresh login.

# %%
for label, call in [
    ("verify access token", lambda: client.verify_access_token(result.tokens.access_token)),
    ("read the profile", lambda: client.profile(result.tokens.access_token)),
    ("deauthorize again", lambda: client.deauthorize(result.tokens.access_token,
                                                     emu.config.access_token)),
]:
    try:
        call()
        print(f"{label:<20} succeeded (unexpected)")
    except LoginError as exc:
        print(f"{label:<20} HTTP {exc.status}: {exc.description}")
log.show()

assert linker.customer_for(hanako.user_id) is None
assert emu.login.token_record(result.tokens.access_token) is None

# %% [markdown]
# ## What LINE received, in total
#
# Every request to the emulator is in its request log. Here are the calls counted by endpoint:

# %%
from collections import Counter

counts = Counter((entry["endpoint"], entry["status"]) for entry in emu.request_log)
for (endpoint, status), n in sorted(counts.items()):
    print(f"  {endpoint:<26} {status}  x{n}")
assert counts[("loginIssueAccessToken", 200)] == 1 and counts[("loginDeauthorize", 204)] == 1

# %%
server.stop()
