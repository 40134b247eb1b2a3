# Source of notebooks/07_action_triggers.ipynb: edit here, then run notebooks/_build.py 07.

# %% [markdown]
# # 07 · Action-triggered messages: notices, a cart reminder, answers scoped to the asker
#
# The Odoo bridges `line_idlink_sale`, `line_idlink_sale_stock` and `line_idlink_website_sale`
# send LINE messages when something happens to a customer's records: an order is confirmed or
# shipped, an invoice is posted or falls due, a cart is left behind. They also answer 注文履歴
# (order history) in the chat. This notebook shows what those features do **at the protocol
# level**, with a small shop written here and the LINE platform emulator (seeded, frozen clock).
#
# **What can go wrong.** A notice is sent from a cron, long after the webhook that caused it,
# so it cannot use a reply token: it is a push, counted in the monthly quota, and a push whose
# answer is lost (timeout, dropped connection) may or may not have been delivered. A reminder
# cron that runs every hour can remind the same cart every hour, or remind a customer who has
# already ordered. And a chat answer built by a bot that runs without a logged-in user can show
# one customer another customer's orders if it trusts anything but the verified sender.
#
# **Why LINE designed it this way.** Replies are free but only live for a short time after the
# user's action; pushes can be sent any time but cost quota, so LINE gives them the
# `X-Line-Retry-Key`: a sender that stores the key before the first attempt can repeat the
# request safely, and LINE answers 409 to a key it already accepted (for 24 hours). The userId
# of a webhook event is vouched for by the signature (HMAC of the channel secret): that, and the
# account link the customer made, are the only things that say who is asking.
#
# Three rules carry over to any integration:
#
# 1. **A notice is a push with a retry key stored before the first attempt.** A push whose
#    answer is lost is retried with the *same* `X-Line-Retry-Key`, and LINE answers **409**
#    instead of delivering twice. Odoo stores the key in its outgoing queue (`line.message`)
#    in the same transaction as the order's confirmation.
# 2. **A reminder is sent at most once per record and stage**, and not at all when it no longer
#    applies (the customer has ordered since, the invoice is paid). The flag is written with the
#    message, so a second cron run finds nothing to do.
# 3. **An answer shows the asker's own records only.** The webhook runs without a logged-in user:
#    the bot resolves the customer from the LINE userId of a *verified* webhook (linked account)
#    and re-applies the portal's scope; nothing from the message or postback chooses whose data.

# %%
import datetime
from collections import Counter

from linebot.v3.messaging import ApiClient, MessagingApi, SetWebhookEndpointRequest
from werkzeug.wrappers import Request, Response

import nbhelpers as nb
from line_emulator import start_emulator
from line_idlink import flex_builders, message_builders, postbacks
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import Backoff
from line_idlink.sender import Sender
from line_idlink.storage import MemoryStorage
from line_idlink.webhook import WebhookReceiver, signature_from_headers

nb.quiet()

server = start_emulator(seed=7)
emu = server.emulator
log = nb.RequestLog(emu)
SHOP = "https://shop.example.com"
TODAY = datetime.date(2026, 4, 1)  # the shop's "today": frozen, like the emulator's clock

clock = ManualTime(on_sleep=emu.advance)
sender = Sender(server.messaging_configuration(), key_factory=nb.seeded_uuids(7),
                backoff=Backoff(base=0.5, seed=7), sleep=clock.sleep, clock=clock.now)

# %% [markdown]
# ## 1. The shop's customers
#
# Aiko and Bunta linked their LINE accounts (notebooks 01 and 02). Chika follows the official
# account but never linked. Each linked customer has orders; the bot keeps the link as
# `LINE userId -> customer id`, exactly what the Odoo addon keeps in `line.identity`.

# %%
aiko, bunta, chika = (emu.add_user(name) for name in ("Aiko", "Bunta", "Chika"))
for user in (aiko, bunta, chika):
    user.follow()
chat_a, chat_b, chat_c = nb.Inbox(aiko), nb.Inbox(bunta), nb.Inbox(chika)

customers = {101: "Aiko Sato", 102: "Bunta Kato"}
links = {aiko.user_id: 101, bunta.user_id: 102}  # verified account links only
orders = [
    {"id": 1, "customer": 101, "name": "S00011", "date": datetime.date(2026, 3, 2), "total": 3600,
     "state": "発送済み", "token": "tok-a-11"},
    {"id": 2, "customer": 101, "name": "S00014", "date": datetime.date(2026, 3, 20), "total": 1200,
     "state": "確定", "token": "tok-a-14"},
    {"id": 3, "customer": 102, "name": "S00012", "date": datetime.date(2026, 3, 5), "total": 8400,
     "state": "確定", "token": "tok-b-12"},
]
for order in orders:
    print(f"  {order['name']}  {customers[order['customer']]:<11} ¥{order['total']:>6,}")

# %% [markdown]
# ## 2. An order is confirmed: the notice, pushed with a retry key
#
# Odoo confirms S00014 and queues one `line.message` row: the recipient, the message and a
# retry key, committed with the confirmation. The queue cron then sends it. Here the first
# attempt **is delivered, but the connection drops before LINE's answer arrives** (fault
# injected after the request is applied). The sender cannot tell "delivered" from "lost", so it
# retries with the stored key.

# %%
def order_confirmed_notice(order):
    url = f"{SHOP}/my/orders/{order['id']}?access_token={order['token']}"
    return message_builders.buttons(
        f"ご注文 {order['name']} を承りました",
        f"ご注文 {order['name']}（¥{order['total']:,}）を承りました。",
        [message_builders.uri_action("注文を見る", url)])


queue = []  # the outgoing queue: one row per push, its retry key stored before any attempt
order = orders[1]
row = {"to": aiko.user_id, "messages": [order_confirmed_notice(order)],
       "retry_key": nb.seeded_uuids(70)(), "origin": ("sale.order", order["id"]),
       "state": "outgoing"}
queue.append(row)

emu.faults.add({"endpoint": "pushMessage", "nth": 1, "action": "drop", "when": "after"})
result = sender.push(row["to"], row["messages"], retry_key=row["retry_key"])
row["state"] = "sent" if result.ok else "error"
print("result:", result.status, "| attempts:", result.attempts, "| history:", result.history)
log.show()

attempts = [e for e in log.last if e["endpoint"] == "pushMessage"]
assert [e["retryKey"] for e in attempts] == [row["retry_key"]] * 2  # the same key twice
assert [e["status"] for e in attempts] == [None, 409]  # dropped, then "already accepted"
assert result.status == "accepted_before" and row["state"] == "sent"

# %% [markdown]
# Aiko's chat has the notice **once**, and LINE counted one message against the monthly quota.

# %%
chat_a.show()
assert len(chat_a.last) == 1 and emu.messaging.usage_this_month() == 1

# %% [markdown]
# ## 3. An abandoned cart: one reminder, not after an order
#
# Odoo's abandoned-cart rule: a draft website order with lines, older than the website's delay,
# not reminded yet, and no confirmed order by the same customer since. The LINE reminder adds
# "has a reachable LINE link" (an e-mail address is not needed) and links to the cart with its
# access token. Two carts: Aiko's is abandoned; Bunta's is too, but Bunta ordered afterwards.
# The reminder cron runs twice (hourly, like Odoo's).

# %%
carts = [
    {"id": 41, "customer": 101, "updated": datetime.datetime(2026, 3, 31, 8, 0), "lines": 2,
     "token": "cart-a-41", "reminded": False},
    {"id": 42, "customer": 102, "updated": datetime.datetime(2026, 3, 31, 9, 0), "lines": 1,
     "token": "cart-b-42", "reminded": False},
]
orders.append({"id": 4, "customer": 102, "name": "S00015", "date": datetime.date(2026, 3, 31),
               "total": 2400, "state": "確定", "token": "tok-b-15",
               "confirmed": datetime.datetime(2026, 3, 31, 12, 0)})
DELAY = datetime.timedelta(hours=10)  # the website's cart_abandoned_delay
NOW = datetime.datetime(2026, 4, 1, 9, 0)
line_user = {customer: user for user, customer in links.items()}


def ordered_since(cart):
    return any(o["customer"] == cart["customer"] and o.get("confirmed", datetime.datetime.min)
               > cart["updated"] for o in orders)


def remind_abandoned_carts(now):
    sent = []
    for cart in carts:
        if cart["reminded"] or not cart["lines"] or now - cart["updated"] < DELAY:
            continue
        cart["reminded"] = True  # flagged with the message: at most once per cart
        if ordered_since(cart) or cart["customer"] not in line_user:
            continue
        url = f"{SHOP}/shop/cart?access_token={cart['token']}"
        result = sender.push(line_user[cart["customer"]], [message_builders.buttons(
            "カートに商品が残っています", "カートに商品が残っています。ご購入はこちらから。",
            [message_builders.uri_action("カートを見る", url)])])
        sent.append((cart["id"], result.status))
    return sent


print("first run: ", remind_abandoned_carts(NOW))
print("second run:", remind_abandoned_carts(NOW + datetime.timedelta(hours=1)))
chat_a.show()
chat_b.show()
assert [c["reminded"] for c in carts] == [True, True]
assert len(chat_a.last) == 1 and not bunta.inbox  # Bunta ordered since: no reminder

# %% [markdown]
# ## 4. 注文履歴 in the chat: a Flex carousel of the asker's own orders
#
# The bot answers the keyword 注文履歴 (or the rich-menu postback `action=orders`). The webhook
# is verified (signature), the event stored, then handled: the customer is the one **linked to
# the event's userId**, and the orders are that customer's only. A user who is not linked gets
# the invitation to link instead.

# %%
storage = MemoryStorage()
receiver = WebhookReceiver(emu.config.channel_secret, storage, emu.config.channel_id,
                           clock=emu.clock.now)


@Request.application
def webhook(request):
    receiver.receive(request.get_data(), signature_from_headers(request.headers))
    return Response("OK")


def order_history(customer_id):
    own = sorted((o for o in orders if o["customer"] == customer_id),
                 key=lambda o: o["date"], reverse=True)
    return flex_builders.order_list([
        {"name": o["name"], "date": o["date"], "total": o["total"], "state": o["state"],
         "url": f"{SHOP}/my/orders/{o['id']}?access_token={o['token']}"} for o in own[:10]])


def answer(event):
    user_id = event.user_id
    if event.type == "message":
        action = {"注文履歴": "orders"}.get(event.data["message"].get("text", "").strip())
    else:
        action = postbacks.parse_postback(event.data["postback"]["data"]).get("action")
    if action != "orders":
        return
    customer = links.get(user_id)  # from the verified event, never from the message
    reply = order_history(customer) if customer else message_builders.link_first()
    sender.reply(event.reply_token, [reply])


receiver.on("message")(answer)
receiver.on("postback")(answer)
bot = nb.serve(webhook)
api = MessagingApi(ApiClient(server.messaging_configuration()))
api.set_webhook_endpoint(SetWebhookEndpointRequest(endpoint=bot.url))  # or in the console
log.skip()

aiko.say("注文履歴")
bunta.postback("action=orders")
chika.say("注文履歴")
handled = receiver.process_pending()
chat_a.show()
chat_b.show()
chat_c.show()

# %% [markdown]
# What each carousel holds, bubble by bubble: Aiko sees S00014 and S00011, Bunta S00015 and
# S00012, Chika no order at all.

# %%
def bubble_titles(message):
    contents = message["contents"]
    bubbles = contents["contents"] if contents["type"] == "carousel" else [contents]
    return [b["header"]["contents"][0]["text"] for b in bubbles]


seen = {"Aiko": bubble_titles(chat_a.last[0]["message"]),
        "Bunta": bubble_titles(chat_b.last[0]["message"])}
for name, titles in seen.items():
    print(f"{name:<6} {titles}")
print("Chika ", nb.describe_message(chat_c.last[0]["message"]))

assert seen == {"Aiko": ["S00014", "S00011"], "Bunta": ["S00015", "S00012"]}
assert not set(seen["Aiko"]) & set(seen["Bunta"])  # nobody sees another customer's order
assert chat_c.last[0]["message"]["type"] == "template"  # the invitation to link
assert Counter(e["endpoint"] for e in log.new()) == Counter({"replyMessage": 3})

# %% [markdown]
# The answers went by **reply** (free, no retry key: LINE forbids one on replies). A notice is a
# **push** (counted in the quota, with a retry key). That is the difference between section 4
# and sections 2-3.

# %%
bot.stop()
sender.close()
server.stop()
