# Source of notebooks/02_messaging_api_account_link.ipynb: edit here, then run notebooks/_build.py 02.

# %% [markdown]
# # 02 · Account link through the Messaging API (ID連携)
#
# This flow starts in the LINE chat. A friend of your Official Account taps **連携する** ("link").
# Your bot asks LINE for a **link token** bound to that LINE user and replies with a button that
# opens your site with the token. The customer signs in to your site and confirms. Your server
# stores a one-time **nonce** and sends the browser to LINE's account-link dialog. LINE checks that
# the person in front of the dialog really owns the LINE account the token was issued for. It then
# sends your bot an `accountLink` webhook carrying the nonce. The bot looks the nonce up and stores
# *customer ↔ LINE userId*.
#
# **Why LINE designed it this way.** Suppose you built this yourself with a plain
# "link my account" URL. An attacker could send a victim the attacker's own URL, and the victim
# would link the attacker's LINE account to the victim's shop account. The attacker would then
# receive the victim's order updates, invoices and points in their chat. In LINE's flow, only the
# owner of the LINE account can complete the dialog. The nonce, which only your server could have
# issued, ties the result to the customer who was signed in.
#
# **What can go wrong**, and is shown below: a nonce used twice, a nonce that arrives after its
# 10-minute lifetime, a link token used after 10 minutes, and someone opening another person's link.
#
# The nonce rules used here (`line_idlink.linking`): at least 128 bits from `secrets`, stored only
# as a SHA-256 hash, valid 10 minutes, used once, and bound to the customer, the LINE user and the
# link token.

# %%
import json
import os
import sqlite3
import tempfile
from urllib.parse import parse_qsl, urlsplit

from linebot.v3.messaging import ApiClient, MessagingApi
from werkzeug.wrappers import Request, Response

import nbhelpers as nb
from line_idlink import message_builders, postbacks
from line_emulator import start_emulator
from line_idlink.linking import AccountLinker, LinkStatus
from line_idlink.sender import Sender
from line_idlink.storage import SQLiteStorage, digest
from line_idlink.webhook import WebhookError, WebhookReceiver, signature_from_headers

nb.quiet()

SHOP = "https://shop.example"
server = start_emulator(seed=2)
emu = server.emulator
log = nb.RequestLog(emu)
print("Messaging API channel:", emu.config.channel_id, "| bot userId:",
      nb.short(emu.config.bot_user_id))

# %% [markdown]
# ## 1. The bot
#
# The bot is a small WSGI app written here and served on a free local port. The emulator POSTs
# webhooks to it, as LINE would. The webhook route does only the fast part. It verifies the
# signature over the raw body, stores each new event under its `webhookEventId`, and answers 200
# (LINE expects an answer within 2 seconds). The events are handled later by `work()`, which plays
# the role of the cron or queue worker in a real deployment.
#
# Everything the bot keeps (link tokens, nonces, links, the event queue) goes in one SQLite
# database through `SQLiteStorage`.

# %%
db_path = os.path.join(tempfile.mkdtemp(), "shop.db")
storage = SQLiteStorage(db_path)
linker = AccountLinker(storage, emu.config.channel_id, clock=emu.clock.now,
                       auth_base=server.base_url)  # production: https://access.line.me
receiver = WebhookReceiver(emu.config.channel_secret, storage, emu.config.channel_id,
                           clock=emu.clock.now)
api = MessagingApi(ApiClient(server.messaging_configuration()))
sender = Sender(server.messaging_configuration(), sleep=nb.RecordingSleep())
received = []  # webhook bodies as LINE sent them (only to print them below)


@Request.application
def webhook(request):
    raw = request.get_data()  # the raw bytes: the signature is over exactly these
    try:
        receiver.receive(raw, signature_from_headers(request.headers))
    except WebhookError as exc:
        return Response(str(exc), status=400)
    received.append(json.loads(raw))
    return Response("OK")


def work():
    """The queue worker: handle every stored event once."""
    return receiver.process_pending()


bot = nb.serve(webhook)
emu.config.webhook_url = bot.url  # what you would type into the LINE Developers console

# %% [markdown]
# The handlers. On `follow` the bot greets the user with a "please link" button. The postback
# `action=link` issues a link token and replies with the button to the shop's `/line/link` page.
# `accountLink` hands the event to `AccountLinker.complete_link` and confirms the link in the chat.
# LINE requires that the confirmation tells the user how to unlink.

# %%
@receiver.on("follow")
def on_follow(event):
    sender.reply(event.reply_token, message_builders.link_first())


@receiver.on("postback")
def on_postback(event):
    if postbacks.parse_postback(event.data["postback"]["data"]).get("action") == "link":
        link_token = api.issue_link_token(event.user_id).link_token
        linker.remember_link_token(event.user_id, link_token)
        sender.reply(event.reply_token, message_builders.link_account(SHOP, link_token))


@receiver.on("accountLink")
def on_account_link(event):
    outcome = linker.complete_link(event)
    if outcome.ok and outcome.reply_token:
        sender.reply(outcome.reply_token, message_builders.link_done())
    return outcome

# %% [markdown]
# ## 2. Follow, then tap "連携する"
#
# Hanako adds the Official Account. The webhook arrives, is stored, and gets a 200. Then the worker
# replies. `nb.Inbox` shows what appears in her chat.

# %%
hanako = emu.add_user("山田 花子")
chat = nb.Inbox(hanako)

hanako.follow()
nb.show_events(received[-1]["events"])
work()
chat.show()
log.show()

# %% [markdown]
# She taps the button. That sends the postback `action=link`. The bot calls
# `POST /v2/bot/user/{userId}/linkToken`, remembers which LINE user the token belongs to, and
# replies with a button to `https://shop.example/line/link?linkToken=…`.

# %%
hanako.postback(postbacks.POSTBACK_LINK)
nb.show_events(received[-1]["events"])
work()
chat.show()
log.show()


def link_token_in_chat(user):
    """The linkToken in the last "link your account" button the user received."""
    uri = user.inbox[-1]["message"]["template"]["actions"][0]["uri"]
    return dict(parse_qsl(urlsplit(uri).query))["linkToken"]


link_token = link_token_in_chat(hanako)
assert linker.line_user_for_link_token(link_token) == hanako.user_id

# %% [markdown]
# ## 3. The shop's `/line/link` page
#
# The button opens the shop's site in LINE's browser. The customer signs in (here: customer 42). The
# page then names the LINE account about to be linked and says that unlinking is possible at any
# time. When the customer confirms, the server stores a nonce and redirects to LINE's dialog. This
# function is the page's server side:

# %%
def link_page(link_token, customer_id):
    """GET /line/link?linkToken=… by a signed-in customer who pressed "confirm"."""
    line_user_id = linker.line_user_for_link_token(link_token)
    if line_user_id is None:
        print("page: this link has expired, ask for a new one in the LINE chat")
        return None
    name = api.get_profile(line_user_id).display_name
    print(f"page: link the LINE account 「{name}」 to customer {customer_id}? "
          "(you can unlink at any time)")
    return linker.start_link(customer_id, line_user_id, link_token).dialog_url


dialog_url = link_page(link_token, "42")
dialog = dict(parse_qsl(urlsplit(dialog_url).query))
print("redirect to", urlsplit(dialog_url).path, "with linkToken and a nonce of",
      len(dialog["nonce"]), "characters")
log.show()

# %% [markdown]
# **The nonce at rest.** The database holds only the nonce's SHA-256. It also stores whom the nonce
# is for, the hash of the link token it goes with, and when it expires (10 minutes). Someone who
# reads the database can't rebuild a dialog URL from it.

# %%
with sqlite3.connect(db_path) as db:
    row = db.execute("SELECT nonce_hash, customer_id, line_user_id, link_token_hash, created_at,"
                     " expires_at, used_at FROM line_nonce").fetchone()
nonce_hash, customer_id, line_user_id, token_hash, created_at, expires_at, used_at = row
print("nonce_hash     ", len(nonce_hash), "hex characters (SHA-256)")
print("customer_id    ", customer_id)
print("line_user_id   ", nb.short(line_user_id))
print("link token     ", "hash of this link token:", token_hash == digest(link_token))
print("lifetime       ", int(expires_at - created_at), "seconds | used_at:", used_at)

assert nonce_hash == digest(dialog["nonce"]) and dialog["nonce"] not in row
assert (customer_id, line_user_id) == ("42", hanako.user_id)

# %% [markdown]
# ## 4. LINE's dialog, then the `accountLink` webhook
#
# Hanako's LINE app opens the dialog. LINE checks that the link token belongs to her, marks the
# token used, and sends `accountLink` with `result: ok` and our nonce. The worker consumes the nonce
# atomically, stores the link, and replies.

# %%
result = hanako.account_link(dialog["linkToken"], dialog["nonce"])
body = received[-1]
print("webhook body as LINE sent it (nonce masked):")
print(nb.short(json.dumps(nb.masked(body), indent=1, ensure_ascii=False)))

[processed] = work()
outcome = processed.result
print("outcome:", outcome.status.value, "| customer", outcome.customer_id, "<->",
      nb.short(outcome.line_user_id))
chat.show()
log.show()

assert result.event["link"] == {"result": "ok", "nonce": dialog["nonce"]}
assert outcome.status is LinkStatus.LINKED and linker.customer_for(hanako.user_id) == "42"

# %% [markdown]
# ## 5. Attacks and accidents
#
# ### 5.1 The same dialog URL opened twice
#
# The link token was used once, so LINE refuses the dialog and sends no webhook.

# %%
before = len(received)
again = hanako.account_link(dialog["linkToken"], dialog["nonce"])
print("LINE shows:", again.error, "| webhooks sent:", len(received) - before)
assert again.error and len(received) == before

# %% [markdown]
# ### 5.2 A replayed nonce
#
# Suppose someone completes LINE's dialog with a *fresh* link token but an *old* nonce that leaked,
# for example from browser history. LINE has no reason to refuse it, because the nonce is ours and
# LINE doesn't know it. We refuse it: the nonce was used once already.

# %%
hanako.postback(postbacks.POSTBACK_LINK)  # a new link token...
work()
chat.show()
hanako.account_link(link_token_in_chat(hanako), dialog["nonce"])  # ...with the old nonce
nb.show_events(received[-1]["events"])
[processed] = work()
print("outcome:", processed.result.status.value, "-", processed.result.reason)
chat.show()
assert processed.result.status is LinkStatus.USED_NONCE

# %% [markdown]
# ### 5.3 Too late
#
# Kenji asks for a link but reads the message only 11 minutes later. By then his link token has
# expired (LINE gives it 10 minutes), so the shop's page no longer accepts it.
#
# A nonce also expires. Suppose the `accountLink` webhook is received in time, but the worker is down
# and handles it only 11 minutes later. The nonce has expired by then and nothing is linked. The
# customer starts again from the chat. We move the emulator's clock forward instead of waiting.

# %%
kenji = emu.add_user("佐藤 健二")
kenji.follow()
kenji.postback(postbacks.POSTBACK_LINK)
work()
kenji_token = link_token_in_chat(kenji)

emu.advance(11 * 60)
print("after 11 minutes, the page says:")
assert link_page(kenji_token, "43") is None

kenji.postback(postbacks.POSTBACK_LINK)  # a new token, used at once this time
work()
kenji_dialog = dict(parse_qsl(urlsplit(link_page(link_token_in_chat(kenji), "43")).query))
kenji.account_link(kenji_dialog["linkToken"], kenji_dialog["nonce"])
print("webhook stored; the worker is down for 11 minutes")
emu.advance(11 * 60)
[processed] = work()
print("outcome:", processed.result.status.value, "-", processed.result.reason)
assert processed.result.status is LinkStatus.EXPIRED_NONCE
assert linker.customer_for(kenji.user_id) is None

# %% [markdown]
# ### 5.4 Someone else's link
#
# This is the attack LINE's flow exists for. Mallory taps "連携する" in her own chat and gets a link
# to the shop page with *her* link token. She sends it to Hanako, who is signed in to the shop as
# customer 42. If Hanako confirms, Mallory's LINE account would be linked to Hanako's shop account.
#
# There are two defences. First, the page names the LINE account 「Mallory」, which should make
# Hanako stop. Second, if she goes on anyway, the dialog opens in **Hanako's** LINE app. LINE sees
# that the link token belongs to Mallory and sends `result: failed`, with no `source` and no
# `replyToken`. The bot links nothing, and it burns the nonce so that it can't be reused.

# %%
mallory = emu.add_user("Mallory")
mallory.follow()
mallory.postback(postbacks.POSTBACK_LINK)
work()

trap_url = link_page(link_token_in_chat(mallory), "42")  # Hanako confirms...
trap = dict(parse_qsl(urlsplit(trap_url).query))
hanako.account_link(trap["linkToken"], trap["nonce"])  # ...in her own LINE app
nb.show_events(received[-1]["events"])
[processed] = work()
print("outcome:", processed.result.status.value, "-", processed.result.reason)

# Mallory now tries the same dialog URL herself: the nonce is burnt.
mallory.account_link(trap["linkToken"], trap["nonce"])
[processed_again] = work()
print("Mallory with the same URL:", processed_again.result.status.value)

assert received[-2]["events"][0]["link"]["result"] == "failed"
assert "source" not in received[-2]["events"][0] and "replyToken" not in received[-2]["events"][0]
assert processed.result.status is LinkStatus.FAILED_RESULT
assert processed_again.result.status is LinkStatus.USED_NONCE
assert linker.customer_for(mallory.user_id) is None
assert [link.line_user_id for link in linker.links_for("42")] == [hanako.user_id]

# %% [markdown]
# ## 6. Unlink
#
# Unlinking needs no call to LINE, because the Messaging API has no unlink endpoint. The shop
# deletes the pair. Notebook 04 shows how the per-user rich menu switches back to the "link" menu.

# %%
ended = linker.unlink(customer_id="42")
print("ended:", [(link.customer_id, nb.short(link.line_user_id)) for link in ended])
assert linker.customer_for(hanako.user_id) is None

# %% [markdown]
# ## Summary: what the bot saw and did
#
# Every webhook event the bot stored, in order, and what LINE received from the bot.

# %%
with sqlite3.connect(db_path) as db:
    rows = db.execute("SELECT payload, error FROM line_webhook_event ORDER BY seq").fetchall()
for payload, error in rows:
    print(nb.event_summary(json.loads(payload)), "|", error or "handled")

from collections import Counter

print()
for (endpoint, status), n in sorted(Counter((e["endpoint"], e["status"])
                                            for e in emu.request_log).items()):
    print(f"  {endpoint:<16} {status}  x{n}")
assert len(rows) == 13 and all(error is None for _, error in rows)

# %%
bot.stop()
server.stop()
storage.close()
