# Source of notebooks/06_campaign_ab_tracking.ipynb: edit here, then run notebooks/_build.py 06.

# %% [markdown]
# # 06 · An A/B-tested LINE campaign: one body per request, a unit per variant, clicks per unit
#
# Marketing wants to try two versions of the autumn message on a segment of 1,000 customers.
# Variant **A** goes to 10% of the segment, variant **B** to another 10%. After a day the variant
# with more clicks, the **winner**, goes to the remaining 80%. This is what Odoo's A/B testing
# does with mailings, and what the LINE bridge (`line_idlink_mass_mailing`) does with LINE
# mailings. This notebook shows the LINE protocol underneath, call by call.
#
# **How LINE wants it sent.** A body that is *identical* for many users goes by **multicast**,
# up to 500 userIds per request. A body that differs per user (a name, a per-recipient link)
# goes by **push**, one user per request. Every push and multicast carries an `X-Line-Retry-Key`
# and may carry one **custom aggregation unit** (`customAggregationUnits: ["name"]`). LINE then
# keeps statistics per unit: impressions, and the users who opened a URL of the message.
#
# **What can go wrong.**
# - A variant's message reaches a user twice, or a user gets both variants: the test is then
#   worthless, and the customer annoyed. A request whose answer was lost is the usual cause.
# - A tracked link chosen per recipient forces a push per recipient: 500 times the requests of a
#   multicast. A link chosen per campaign can't tell *who* clicked.
# - LINE's figures are hidden below 20 (`null`), and LINE can't see what happens after the
#   click. Your own redirect service sees the click, but not the impressions.
#
# **Why LINE designed it this way.** Multicast is cheap because the body is stored once for all
# recipients: so it can't be personalised. The retry key makes a resend safe: LINE answers
# **409** to a key it already accepted, and delivers nothing again. Aggregation units are names
# *you* choose before sending (LINE can't add them afterwards), so one unit per variant gives
# per-variant statistics without storing request ids. LINE counts clicks on any URL of the
# message, without a redirect of yours; a redirect of yours adds who clicked and what they did
# next.
#
# Here variant A is identical for its recipients, with a campaign-level tracked link: one
# multicast. Variant B greets each customer by name and carries a per-recipient tracked link:
# one push each. The simulated users then open the links, and both sides of the story are read
# back: LINE's statistics per unit, and the clicks the redirect service recorded.

# %%
import json
import random
import re
import string
from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

import matplotlib

matplotlib.use("Agg")  # render to PNG bytes, no GUI
import matplotlib.pyplot as plt
from linebot.v3 import insight as line_insight
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Response

import nbhelpers as nb
from line_emulator import start_emulator
from line_emulator.clock import JST
from line_idlink import message_builders
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import Backoff
from line_idlink.sender import MULTICAST_MAX, Sender

nb.quiet()

server = start_emulator(seed=7)
emu = server.emulator
log = nb.RequestLog(emu)

# %% [markdown]
# ## 1. The segment and the split
#
# The segment holds 1,000 customers who linked their LINE account and are friends of the
# Official Account (notebooks 01, 02 and 05 show how they got there and who is left out). Like
# Odoo's A/B testing, the split is random: 10% for A, 10% for B, drawn without overlap. The
# other 80% wait for the winner. A seeded generator makes the draw repeat from run to run.

# %%
segment = []
for n in range(1000):
    user = emu.add_user(f"顧客{n:04d}")
    user.follow()
    segment.append({"id": 5000 + n, "name": f"顧客{n:04d}", "user": user})

rng = random.Random(7)
drawn = rng.sample(segment, 200)
groups = {"A": drawn[:100], "B": drawn[100:], "rest": [c for c in segment if c not in drawn]}
for name, members in groups.items():
    print(f"{name:<4} {len(members):>4} customers")

ids = {name: {c["id"] for c in members} for name, members in groups.items()}
assert not ids["A"] & ids["B"] and not (ids["A"] | ids["B"]) & ids["rest"]  # nobody in two
assert len(ids["A"] | ids["B"] | ids["rest"]) == len(segment)                # nobody left out

# %% [markdown]
# ## 2. A tracked-link service, like Odoo's `link_tracker`
#
# The messages don't carry the shop's URL itself, but a short one on the shop's own domain:
#
# - `/r/<code>`: a **campaign-level** link. Every recipient gets the same URL, so the body stays
#   identical and can go by multicast. A click tells *which variant*, not *who*.
# - `/r/<code>/l/<trace>`: a **per-recipient** link, as Odoo's SMS and the LINE bridge write
#   them (`/r/<code>/s/<id>` for SMS, `/r/<code>/l/<trace id>` for LINE). A click tells who, but
#   the body differs per recipient, so every recipient costs a push.
#
# The service records the click and redirects to the real page. It is a small WSGI app; the
# "browser" of the LINE app is werkzeug's test client, so no port is involved.

# %%
SHOP = "https://shop.example"
codes = random.Random(7)  # link_tracker draws random codes; seeded here


class LinkTracker:
    def __init__(self):
        self.links = {}   # code -> {"url", "variant"}
        self.traces = {}  # trace id -> (variant, customer id)
        self.clicks = []  # (code, trace id or None)
        self.urls = Map([Rule("/r/<code>", endpoint="campaign"),
                         Rule("/r/<code>/l/<int:trace>", endpoint="recipient")])

    def shorten(self, url, variant):
        code = "".join(codes.choices(string.ascii_letters + string.digits, k=6))
        self.links[code] = {"url": url, "variant": variant}
        return f"{SHOP}/r/{code}"

    def for_recipient(self, short_url, variant, customer_id):
        trace = len(self.traces) + 1
        self.traces[trace] = (variant, customer_id)
        return f"{short_url}/l/{trace}"

    def __call__(self, environ, start_response):
        endpoint, args = self.urls.bind_to_environ(environ).match()
        link = self.links.get(args["code"])
        if link is None or (endpoint == "recipient" and args["trace"] not in self.traces):
            return Response("unknown link", status=404)(environ, start_response)
        self.clicks.append((args["code"], args.get("trace")))
        return Response(status=302, headers={"Location": link["url"]})(environ, start_response)


tracker = LinkTracker()
browser = Client(tracker)
landing = f"{SHOP}/autumn?utm_source=line&utm_medium=line"
link_a = tracker.shorten(landing + "&utm_campaign=autumn_a", "A")
link_b = tracker.shorten(landing + "&utm_campaign=autumn_b", "B")
print("A:", link_a, "| B:", link_b)
assert browser.get(urlsplit(link_a).path + "/l/999").status_code == 404  # no such recipient
assert browser.get("/r/nope").status_code == 404 and tracker.clicks == []

# %% [markdown]
# ## 3. The bodies: one for all of A, one per customer of B
#
# Variant A is one text with the campaign-level link. Variant B names the customer and carries
# their own link. Grouping by the exact JSON of the messages decides the request type: a body
# shared by many users is a multicast, a body of one user is a push. That is what
# `line_idlink.campaign.plan_campaign` does (notebook 05). Sections 5 and 6 send A and B
# accordingly; section 11 writes the grouping out for the winner's send.

# %%
body_a = [message_builders.text(f"秋の新作が入荷しました🍁 今だけ送料無料 → {link_a}")]


def body_b(customer):
    url = tracker.for_recipient(link_b, "B", customer["id"])
    return [message_builders.text(f"{customer['name']}様、秋の新作をご用意しました🍁 → {url}")]


bodies = {c["id"]: body_a for c in groups["A"]}
bodies.update({c["id"]: body_b(c) for c in groups["B"]})
print("A: distinct bodies", len({repr(bodies[i]) for i in ids["A"]}),
      "| B: distinct bodies", len({repr(bodies[i]) for i in ids["B"]}))
print("B, first customer:", nb.describe_message(bodies[groups["B"][0]["id"]][0]))
assert len({repr(bodies[i]) for i in ids["A"]}) == 1               # A: one multicast
assert len({repr(bodies[i]) for i in ids["B"]}) == len(ids["B"])  # B can't be multicast

# %% [markdown]
# ## 4. The sender and the retry keys, made reproducible
#
# `Sender` (notebook 05) sends with a retry key per request and retries 5xx, 429 and lost
# answers with the *same* key. The keys come from a seeded factory here, backoff waits from a
# seeded generator, and sleeping moves a manual clock. Each key is **stored before the request
# leaves** (`key_store=`): after a crash, the stored key is what makes a resend safe.
#
# Each variant has its own aggregation unit. The Odoo bridge names them `odoo_mailing_<id>`, one
# per mailing; here they are `autumn_ab_a`, `autumn_ab_b` and, later, `autumn_ab_final`.

# %%
clock = ManualTime(on_sleep=emu.advance)
sender = Sender(server.messaging_configuration(), key_factory=nb.seeded_uuids(7),
                backoff=Backoff(base=0.5, seed=7), sleep=clock.sleep, clock=clock.now)
UNITS = {"A": "autumn_ab_a", "B": "autumn_ab_b", "rest": "autumn_ab_final"}
stored_keys = []  # stands for a database table: (variant, retry key, userIds)


def key_store_for(variant):
    return lambda key, user_ids: stored_keys.append((variant, key, list(user_ids)))


results = {"A": [], "B": [], "rest": []}

# %% [markdown]
# ## 5. Variant A: one multicast, and an answer lost on the way back
#
# The 100 recipients of A fit in one multicast. To show what the retry key is for, the emulator
# **applies the request and then drops the connection**: every user got the message, but the
# sender saw no answer. It retries with the same key, and LINE answers **409**: accepted before,
# nothing delivered again. The request body shows `customAggregationUnits`.

# %%
emu.faults.add({"endpoint": "multicast", "nth": 1, "action": "drop", "when": "after"})
users_a = [c["user"].user_id for c in groups["A"]]
assert len(users_a) <= MULTICAST_MAX
result = sender.multicast(users_a, body_a, aggregation_unit=UNITS["A"],
                          key_store=key_store_for("A"))
results["A"].append(result)
log.show(bodies=True)
print("status:", result.status, "| attempts:", result.attempts, "| history:", result.history)

statuses = [e["status"] for e in log.last]
assert statuses == [None, 409] and result.status == "accepted_before"
assert len({e["retryKey"] for e in log.last}) == 1                   # one key, both attempts
assert log.last[0]["body"]["customAggregationUnits"] == ["autumn_ab_a"]
assert all(len(c["user"].inbox) == 1 for c in groups["A"])           # delivered once, not twice

# %% [markdown]
# ## 6. Variant B: one push per customer, and a 500
#
# Each B customer has a body of their own, so B costs 100 push requests, each with its own key.
# The 7th push meets a **500** before LINE applies it: nothing was delivered, the retry with the
# same key delivers.

# %%
emu.faults.add({"endpoint": "pushMessage", "nth": 7, "action": "status", "status": 500})
for customer in groups["B"]:
    results["B"].append(sender.push(customer["user"].user_id, bodies[customer["id"]],
                                    aggregation_unit=UNITS["B"], key_store=key_store_for("B")))
entries = log.new()
print("requests:", dict(Counter((e["endpoint"], e["status"]) for e in entries)))
print("outcomes:", dict(Counter(r.status for r in results["B"])))

retried = [e for e in entries if e["retryKey"] == entries[6]["retryKey"]]
print("the 7th push:", [(e["seq"], e["status"], e["retryKey"][:8]) for e in retried])
assert [e["status"] for e in retried] == [500, 200]
assert all(r.status == "sent" for r in results["B"])
assert len({e["retryKey"] for e in entries}) == len(groups["B"])    # one key per request

# %% [markdown]
# ## 7. A resend after a "crash" is harmless
#
# Suppose the process died right after sending A and doesn't know whether LINE got the
# request. On restart it resends every request it has a stored key for, with **that key**.
# LINE answers 409 and delivers nothing: 409 means *accepted*, so the batch is done. Without
# the stored key, the resend would be a new request, and all of A would get the message twice.

# %%
variant, key, user_ids = stored_keys[0]
again = sender.multicast(user_ids, body_a, retry_key=key, aggregation_unit=UNITS["A"])
log.show()
print("resend of", variant, "->", again.status)
assert again.status == "accepted_before" and log.last[0]["status"] == 409
assert all(len(c["user"].inbox) == 1 for c in groups["A"])
assert emu.messaging.usage_this_month() == len(groups["A"]) + len(groups["B"])  # quota: once

# %% [markdown]
# ## 8. The customers open the links
#
# A day passes. Some customers tap the link in their chat: the LINE app counts the click for the
# message's aggregation unit, then opens the URL in its browser, which reaches the redirect
# service. The emulator's `SimUser.open_url(url)` is that tap (over HTTP:
# `POST /__emulator__/users/{userId}/open-url`). Who taps is drawn by a seeded generator; the
# rates are made up, only the measuring is real. A few customers tap twice.

# %%
taps = random.Random(70)
RATES = {"A": 0.36, "B": 0.27}
clicked = {"A": set(), "B": set()}


def open_link(customer):
    """The customer taps the first link of the last message in their chat."""
    url = re.search(r"https://\S+", customer["user"].inbox[-1]["message"]["text"]).group()
    tapped = customer["user"].open_url(url)   # LINE counts it (no webhook)
    return browser.get(urlsplit(tapped.uri).path)  # the LINE app's browser follows it


emu.advance(86400)
for name, rate in RATES.items():
    for customer in groups[name]:
        if taps.random() < rate:
            response = open_link(customer)
            assert response.status_code == 302 and response.location.startswith(landing)
            clicked[name].add(customer["id"])
            if taps.random() < 0.1:
                open_link(customer)
print({name: len(who) for name, who in clicked.items()}, "customers clicked;",
      len(tracker.clicks), "clicks reached the redirect service")
assert clicked["A"] and clicked["B"]

# %% [markdown]
# ## 9. LINE's statistics per unit
#
# `GET /v2/bot/insight/message/event/aggregation?customAggregationUnit=&from=&to=` (dates in
# UTC+9, at most 30 days apart) returns, per unit, the users who saw the message
# (`uniqueImpression`), those who opened any URL of it (`uniqueClick`), impressions per message
# and clicks per URL. On LINE the figures appear about a day after sending, and any figure
# under 20 is `null`. The emulator has them at once, with the same threshold.
#
# Note the `clicks` rows: A has one URL, so one row counts everybody. B has a URL per
# customer, so every row has one or two clicks, all hidden (`null`). Only the overview still
# counts B's clickers.

# %%
insight_api = line_insight.Insight(line_insight.ApiClient(line_insight.Configuration(
    host=server.base_url, access_token=emu.config.access_token)))
first = datetime.fromtimestamp(emu.clock.now() - 86400, JST).strftime("%Y%m%d")
last = datetime.fromtimestamp(emu.clock.now(), JST).strftime("%Y%m%d")
line_stats = {}
for name in ("A", "B"):
    stats = insight_api.get_statistics_per_unit(UNITS[name], first, last)
    line_stats[name] = stats
    print(f"{UNITS[name]}: uniqueImpression={stats.overview.unique_impression} "
          f"impression={stats.messages[0].impression} uniqueClick={stats.overview.unique_click}"
          f" | clicks rows={len(stats.clicks)}, hidden={sum(c.click is None for c in stats.clicks)}")
    for row in stats.clicks[:2]:
        print(f"    seq={row.seq} url={row.url} click={row.click} uniqueClick={row.unique_click}")

for name in ("A", "B"):
    assert line_stats[name].overview.unique_impression == len(groups[name])
    assert line_stats[name].overview.unique_click == len(clicked[name])
assert line_stats["A"].clicks[0].unique_click == len(clicked["A"])
log.show()
assert all(row.click is None for row in line_stats["B"].clicks)  # one URL per user: all < 20

# %% [markdown]
# ## 10. The redirect service's view: who clicked, per variant
#
# The campaign-level link of A tells the service *how many clicks*, not *how many people*: the
# customers who tapped twice count twice. The per-recipient links of B give each click to a
# customer, exactly what Odoo records on a mailing trace (and what makes revenue attributable).
# LINE's unique clicks per unit and the service's per-recipient clicks agree.

# %%
per_variant = Counter(tracker.links[code]["variant"] for code, _ in tracker.clicks)
people_b = {tracker.traces[trace][1] for _, trace in tracker.clicks if trace is not None}
print("clicks per variant (service):", dict(per_variant))
print("B customers identified by their link:", len(people_b))
print("unique clicks per unit (LINE):", {n: line_stats[n].overview.unique_click for n in "AB"})

assert per_variant["A"] >= len(clicked["A"])   # campaign-level: clicks, not people
assert people_b == clicked["B"]                # per-recipient: exactly who clicked
assert all(trace is None for code, trace in tracker.clicks if tracker.links[code]["variant"] == "A")

# %% [markdown]
# ## 11. The winner goes to the rest
#
# The winner is the variant with the higher click rate: unique clicks over recipients, from
# LINE's statistics (Odoo's A/B test compares clicks the same way, from its own traces). The
# rest of the segment, 800 customers, gets the winner's content with a new tracked link and a
# unit of its own. If the winner is A, 800 identical bodies fit in two multicasts (500 + 300).
# The first meets a 500, and its retry carries the same key.

# %%
rate = {n: line_stats[n].overview.unique_click / len(groups[n]) for n in ("A", "B")}
winner = max(rate, key=rate.get)
print("click rates:", {n: f"{r:.0%}" for n, r in rate.items()}, "-> winner:", winner)

link_final = tracker.shorten(landing + "&utm_campaign=autumn_final", "rest")


def winner_body(customer):
    if winner == "A":
        return [message_builders.text(body_a[0]["text"].replace(link_a, link_final))]
    url = tracker.for_recipient(link_final, "rest", customer["id"])
    return [message_builders.text(f"{customer['name']}様、秋の新作をご用意しました🍁 → {url}")]


same_body = {}  # the exact JSON of a body -> the customers who get it
for customer in groups["rest"]:
    body = winner_body(customer)
    same_body.setdefault(json.dumps(body, ensure_ascii=False), (body, []))[1].append(customer)

emu.faults.add({"endpoint": "multicast", "nth": 1, "action": "status", "status": 500})
for body, members in same_body.values():
    user_ids = [c["user"].user_id for c in members]
    if len(user_ids) == 1:
        results["rest"].append(sender.push(user_ids[0], body, aggregation_unit=UNITS["rest"],
                                           key_store=key_store_for("rest")))
        continue
    for start in range(0, len(user_ids), MULTICAST_MAX):
        results["rest"].append(sender.multicast(
            user_ids[start:start + MULTICAST_MAX], body, aggregation_unit=UNITS["rest"],
            key_store=key_store_for("rest")))
log.show()
print("requests for the rest:", len(results["rest"]),
      "| outcomes:", dict(Counter(r.status for r in results["rest"])))
assert all(r.ok for r in results["rest"])

# %% [markdown]
# ## 12. Nobody twice, nobody lost
#
# Every customer of the segment has exactly one message in their chat, from exactly one
# request, and it is the message of their own group. LINE's quota counted each customer once,
# whatever the retries and the resend.

# %%
unit_of = {d["requestId"]: d["unit"] for d in emu.messaging.deliveries}
group_of = {c["id"]: name for name, members in groups.items() for c in members}
seen = Counter()
for customer in segment:
    inbox = customer["user"].inbox
    assert len(inbox) == 1, (customer["name"], len(inbox))
    assert unit_of[inbox[0]["requestId"]] == UNITS[group_of[customer["id"]]]
    seen[unit_of[inbox[0]["requestId"]]] += 1
print("one message each, per unit:", dict(sorted(seen.items())))
print("quota used:", emu.messaging.usage_this_month(), "for", len(segment), "customers")
print("requests per group:", {n: len(r) for n, r in results.items()},
      "| stored keys:", len(stored_keys), "(one per request)")
assert emu.messaging.usage_this_month() == len(segment)
assert len({key for _, key, _ in stored_keys}) == len(stored_keys) == sum(map(len, results.values()))

# %% [markdown]
# ## 13. Sends and clicks per variant
#
# The final send gets its own clicks too (same seeded generator, the winner's rate). The chart
# puts the figures side by side: recipients, requests made, unique clicks reported by LINE and
# clicks that reached the redirect service. It is drawn with matplotlib's Agg backend; the data
# is seeded, so the figure is the same on every run.

# %%
for customer in groups["rest"]:
    if taps.random() < RATES[winner]:
        open_link(customer)
final = insight_api.get_statistics_per_unit(UNITS["rest"], first, last)
line_stats["rest"] = final
per_variant = Counter(tracker.links[code]["variant"] for code, _ in tracker.clicks)
figures = {name: {"recipients": len(groups[name]), "requests": len(results[name]),
                  "unique clicks (LINE)": line_stats[name].overview.unique_click,
                  "clicks (redirect)": per_variant[name]} for name in ("A", "B", "rest")}
for name, numbers in figures.items():
    print(f"{name:<4} {numbers}")
assert figures["rest"]["unique clicks (LINE)"] <= figures["rest"]["clicks (redirect)"]

# %%
labels = list(figures["A"])
colours = {"A": "#06c755", "B": "#1e78c8", "rest": "#f0a020"}
fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=100)
for offset, name in enumerate(("A", "B", "rest")):
    values = [figures[name][label] for label in labels]
    bars = ax.bar([i + offset * 0.27 for i in range(len(labels))], values, 0.27,
                  label=f"{name if name != 'rest' else winner + ' to the rest'} ({UNITS[name]})",
                  color=colours[name])
    ax.bar_label(bars, fontsize=8)
ax.set_xticks([i + 0.27 for i in range(len(labels))], labels)
ax.set_yscale("symlog")
ax.set_ylim(0, 5000)
ax.set_title(f"Autumn A/B test: sends and clicks per variant (winner: {winner})")
ax.legend(loc="upper right", fontsize=8)
nb.show_figure(fig)

# %%
sender.close()
server.stop()
