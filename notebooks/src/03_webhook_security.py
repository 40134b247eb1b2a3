# Source of notebooks/03_webhook_security.ipynb: edit here, then run notebooks/_build.py 03.

# %% [markdown]
# # 03 · Webhook security: signatures, verification, redelivery, unknown events
#
# Everything your bot learns from LINE arrives as a **webhook**: LINE POSTs
# `{"destination": …, "events": […]}` to your URL. Anyone on the internet can POST to that URL, and
# LINE doesn't publish the IP addresses it sends from. So the only way to know a request came from
# LINE is the `x-line-signature` header. It is Base64(HMAC-SHA256(channel secret, **raw body
# bytes**)).
#
# **Why LINE designed it this way.** An HMAC over the exact bytes proves that the sender knows the
# channel secret and that not one byte changed on the way. It needs no client certificates and no IP
# lists. The price: you must verify the bytes *as received*. A framework that parses the JSON and
# serializes it again produces different bytes, and the check fails.
#
# **What can go wrong**, shown below:
#
# - LINE's "Verify" button sends a body with **no events**. Answer 200 anyway.
# - If your answer is not a 2xx and redelivery is on, LINE sends the **same event again** with the
#   same `webhookEventId` and `isRedelivery: true`. Your bot must handle it once.
# - LINE adds **new event types** over time. A bot must accept them (200) and ignore them politely.
#   It must not fail.
#
# The bot below does what LINE recommends and what the product does. It verifies the raw body,
# stores each new event under its `webhookEventId` (storing *is* de-duplicating), answers 200 at
# once, and handles the stored events afterwards.

# %%
import base64
import hashlib
import hmac
import json

from linebot.v3.messaging import ApiClient, MessagingApi, SetWebhookEndpointRequest
from werkzeug.wrappers import Request, Response

import nbhelpers as nb
from line_idlink import message_builders
from line_emulator import events as emulator_events
from line_emulator import start_emulator
from line_idlink.sender import Sender
from line_idlink.storage import MemoryStorage
from line_idlink.webhook import (WebhookError, WebhookReceiver, signature_from_headers,
                                 verify_signature)

nb.quiet()

server = start_emulator(seed=3)
emu = server.emulator
SECRET = emu.config.channel_secret  # the Messaging API channel secret
log = nb.RequestLog(emu)

# %% [markdown]
# ## The bot
#
# `answers` records what the bot answered to each webhook request. `crash_next` makes the bot fail
# *after* it stored the events. That is the nasty case: the bot has the event, but LINE thinks it
# was not delivered.

# %%
storage = MemoryStorage()
receiver = WebhookReceiver(SECRET, storage, emu.config.channel_id, clock=emu.clock.now)
sender = Sender(server.messaging_configuration(), sleep=nb.RecordingSleep())
answers = []  # (status, what happened) per webhook request
last = {}  # the last request as received: raw bytes and headers
crash_next = [0]


@Request.application
def webhook(request):
    raw = request.get_data()
    last.update(raw=raw, headers=dict(request.headers))
    try:
        receipt = receiver.receive(raw, signature_from_headers(request.headers))
    except WebhookError as exc:
        answers.append((400, str(exc)))
        return Response(str(exc), status=400)
    summary = (f"{len(receipt.accepted)} stored, {len(receipt.duplicates)} duplicate, "
               f"{len(receipt.unknown)} unknown type")
    if crash_next[0]:
        crash_next[0] -= 1
        answers.append((500, summary + ", then crashed"))
        return Response("internal error", status=500)
    answers.append((200, summary))
    return Response("OK")


@receiver.on("message")
def on_message(event):
    text = event.data["message"].get("text", "")
    sender.reply(event.reply_token, message_builders.text(f"受け付けました: {text}"))


bot = nb.serve(webhook)
api = MessagingApi(ApiClient(server.messaging_configuration()))
api.set_webhook_endpoint(SetWebhookEndpointRequest(endpoint=bot.url))  # or in the console

# %% [markdown]
# ## 1. A signed delivery
#
# Aiko adds the bot and writes a message with Japanese text and an emoji. Here is what reached the
# bot: the headers, and the raw body exactly as sent (compact UTF-8 JSON, not ASCII-escaped).

# %%
aiko = emu.add_user("Aiko")
aiko.follow()
aiko.say("こんにちは 🍣 注文を確認したい")

print("headers:")
for name in ("Content-Type", "User-Agent", "X-Line-Signature"):
    print(f"  {name}: {last['headers'][name]}")
print("raw body,", len(last["raw"]), "bytes (ids shortened for print):")
print(nb.short(last["raw"].decode("utf-8")))

# %% [markdown]
# Checking the signature takes three lines. Always compare in constant time. `verify_signature`
# from `line_idlink.webhook` does exactly this.

# %%
raw, header = last["raw"], last["headers"]["X-Line-Signature"]
expected = base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()
print("computed == header:", hmac.compare_digest(expected, header))
print("verify_signature:  ", verify_signature(SECRET, raw, header))
assert verify_signature(SECRET, raw, header)

chat = nb.Inbox(aiko)
receiver.process_pending()  # the worker answers her message
chat.show()

# %% [markdown]
# ## 2. Re-serialized JSON fails the check
#
# This is the most common bug. The framework hands you parsed JSON, you serialize it again and check
# the signature over that. Python's default `json.dumps` escapes non-ASCII characters and adds
# spaces. Even `ensure_ascii=False` with compact separators can differ, for example in key order
# or number format. Different bytes give a different HMAC.

# %%
parsed = json.loads(raw)
variants = {
    "json.dumps(parsed)": json.dumps(parsed).encode(),
    "json.dumps(parsed, ensure_ascii=False)": json.dumps(parsed, ensure_ascii=False).encode(),
    "compact, ensure_ascii=False, sort_keys": json.dumps(
        parsed, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(),
    "the raw bytes": raw,
}
for label, body in variants.items():
    print(f"{label:<40} {len(body):>4} bytes  valid={verify_signature(SECRET, body, header)}")
assert [verify_signature(SECRET, b, header) for b in variants.values()] == [False] * 3 + [True]

# %% [markdown]
# ## 3. Forged requests are refused, and nothing is stored
#
# Anyone can POST to the webhook URL. Below, someone sends a made-up `accountLink` event, first
# without a signature and then with one made from a guessed secret. Then the emulator itself sends
# a real event with a wrong signature: `bad_signature` is its switch for testing exactly this. The
# bot answers 400 each time and stores nothing.

# %%
fake = json.dumps({"destination": emu.config.bot_user_id, "events": [{
    "type": "accountLink", "mode": "active", "timestamp": 1793577600000,
    "source": {"type": "user", "userId": aiko.user_id}, "webhookEventId": "01FORGED0000000000000000",
    "deliveryContext": {"isRedelivery": False}, "replyToken": "0" * 32,
    "link": {"result": "ok", "nonce": "a-nonce-the-attacker-hopes-for"}}]}).encode()
guessed = base64.b64encode(hmac.new(b"guess", fake, hashlib.sha256).digest()).decode()

direct = nb.direct_session()
for label, headers in [("no signature", {}), ("guessed secret", {"x-line-signature": guessed})]:
    response = direct.post(bot.url, data=fake, headers={"Content-Type": "application/json",
                                                        **headers})
    print(f"{label:<16} -> {response.status_code} {response.text}")

emu.webhooks.bad_signature = True
aiko.say("this one is real, but its signature is wrong")
emu.webhooks.bad_signature = False
attempt = emu.webhooks.deliveries[-1]
print(f"{'wrong signature':<16} -> {attempt['status']} (LINE records: {attempt['error']})")

assert [status for status, _ in answers[-3:]] == [400, 400, 400]
assert storage.get_event("01FORGED0000000000000000") is None
assert storage.get_event(attempt["eventIds"][0]) is None

# %% [markdown]
# ## 4. The console's "Verify" button: no events
#
# When you save the webhook URL in the LINE Developers console and press **Verify**, LINE POSTs a
# correctly signed body whose `events` list is empty. The same test is available through the API
# as `POST /v2/bot/channel/webhook/test`. A bot that answers 400 to a body with no events fails
# this check. So does a bot that crashes on `events[0]`.

# %%
check = api.test_webhook_endpoint()
print("body the bot got:", nb.short(last["raw"].decode()))
print("bot answered:    ", answers[-1])
print(f"LINE reports:      success={check.success} statusCode={check.status_code} "
      f"reason={check.reason} at {check.timestamp.isoformat()}")
assert check.success and check.status_code == 200 and answers[-1][0] == 200

# %% [markdown]
# ## 5. Redelivery and de-duplication
#
# Webhook redelivery is a channel setting, and it is off by default. With it on, LINE sends an event
# again if your answer was not a 2xx. We turn it on. The bot then stores Aiko's next message and
# crashes before answering. LINE records a failure. After 10 seconds on the emulator clock it sends
# the same event again, with the same `webhookEventId` and `isRedelivery: true`. The bot finds the
# id already stored, so it doesn't store it twice, and it answers 200. The worker then handles the
# event exactly once.

# %%
emu.config.redelivery = True
log.skip()

crash_next[0] = 1
aiko.say("在庫はありますか？")
first = emu.webhooks.deliveries[-1]
emu.advance(10)  # LINE's redelivery comes after a while
second = emu.webhooks.deliveries[-1]

for attempt in (first, second):
    print(f"attempt {attempt['attempt']}: isRedelivery={attempt['isRedelivery']!s:<5} "
          f"-> {attempt['status']} {attempt['outcome']:<6} event {attempt['eventIds'][0][-6:]}")
print("bot answers:", answers[-2:])

handled = receiver.process_pending()
print("handled:", [(p.type, p.event_id[-6:]) for p in handled])
chat.show()
log.show()

assert first["eventIds"] == second["eventIds"] and second["isRedelivery"]
assert [p.event_id for p in handled] == first["eventIds"]
assert len(aiko.inbox) == 2 and len(emu.requests_for("replyMessage")) == 2  # one per message

# %% [markdown]
# Without the `webhookEventId` check, Aiko would have received two answers to one question. LINE
# also warns that duplicates can happen *without* redelivery, and that events can arrive out of
# order (sort by `timestamp` where order matters).

# %% [markdown]
# ## 6. Event types your SDK doesn't know yet
#
# LINE adds event types (for example `messageEdited` in 2026). Below, the emulator sends a correctly
# signed event of a type that doesn't exist yet. The bot must answer 200 and store the event. It
# must not crash in the SDK parser. The event goes to the default handler if there is one.
# Otherwise it is finished as "unhandled", which is not an error.

# %%
with emu.locked():  # the emulator's event builder draws seeded ids under its lock
    future = emulator_events.base_event(emu, "reactionAdded", aiko.user_id, reply=False)
    future["reaction"] = {"emoji": "👍"}
    emu.webhooks.submit([future])

print("bot answered:", answers[-1])
[processed] = receiver.process_pending()
record = storage.get_event(processed.event_id)
print(f"processed: type={processed.type} handled={processed.handled} stored as "
      f"finished with {record.error!r}")
assert answers[-1][0] == 200 and record.error == "unhandled"

# %% [markdown]
# With a default handler, the bot can at least log such events for a developer to look at:

# %%
seen = []
receiver.default(lambda event: seen.append((event.type, event.is_unknown)))
with emu.locked():
    emu.webhooks.submit([emulator_events.base_event(emu, "reactionAdded", aiko.user_id,
                                                    reply=False)])
receiver.process_pending()
print("default handler saw:", seen)
assert seen == [("reactionAdded", True)]

# %% [markdown]
# ## Summary: every delivery attempt LINE made
#
# `latencyMs` is also recorded, but it is real time and changes between runs, so it is not printed.

# %%
for d in emu.webhooks.deliveries:
    print(f"#{d['seq']:<2} attempt={d['attempt']} redelivery={d['isRedelivery']!s:<5} "
          f"events={len(d['eventIds'])} -> {d['status']} {d['outcome']:<6} {d['error'] or ''}")
print("answers by status:", {s: sum(1 for a, _ in answers if a == s) for s in (200, 400, 500)})

# %%
bot.stop()
server.stop()
