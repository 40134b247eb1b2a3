# Source of notebooks/05_segmented_campaign.ipynb: edit here, then run notebooks/_build.py 05.

# %% [markdown]
# # 05 · A segmented LINE campaign: nobody twice, nobody lost
#
# Marketing wants two messages. **Light** buyers (1 to 4 orders this year) get the same coupon
# text. **Loyal** customers (5 or more orders) get a personal message with their name and points.
# Only customers who linked their LINE account, are still friends and didn't opt out are targeted.
#
# **How LINE wants it sent.** An identical message to many users goes by **multicast**, up to 500
# userIds per request. A personalised message goes by **push**, one user per request. Both
# endpoints accept an `X-Line-Retry-Key` (a UUID). If a request with that key was already
# *accepted*, LINE answers **409** and doesn't deliver again. LINE keeps the key for 24 hours.
#
# **What can go wrong.** Networks fail in the worst place. A request can reach LINE, be
# delivered, and then lose its answer on the way back. The sender can't tell that case apart from
# "never arrived". Without a retry key it must choose between sending twice and maybe not sending
# at all. Rate limits (429), 5xx answers and a crash in the middle of a run add more of the same
# doubt.
#
# **Why LINE designed it this way.** The retry key makes "send" safe to repeat. The sender stores
# a key *before* the first attempt and sends every retry with the same key. LINE delivers only if
# it didn't accept that key before, and otherwise answers 409.
#
# This notebook plans the campaign (`line_idlink.campaign.plan_campaign`). It then runs the plan
# with `CampaignRunner` and `Sender` against the emulator while two faults are injected: one
# **500** before the request is applied, and one request that is **accepted, then has its
# connection dropped**. Finally it counts every inbox to check that nobody got a message twice.

# %%
import io
import random
from collections import Counter

import matplotlib

matplotlib.use("Agg")  # render to PNG bytes, no GUI
import matplotlib.pyplot as plt
from IPython.display import Image, display

import nbhelpers as nb
from line_idlink import flex_builders, message_builders
from line_idlink.campaign import CampaignRunner, MemoryCampaignStore, Recipient, plan_campaign
from line_emulator import start_emulator
from line_idlink.sender import Sender
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import Backoff

nb.quiet()

server = start_emulator(seed=5)
emu = server.emulator
log = nb.RequestLog(emu)

# %% [markdown]
# ## 1. Customers and their purchases
#
# Here are 800 customers of a shop with a seeded purchase history. About 9 in 10 have linked LINE.
# Of those, a few have since blocked the Official Account, and a few opted out of marketing. In
# LINE terms, each linked customer is a simulated LINE user who added the account as a friend.

# %%
rng = random.Random(5)
customers = []
for n in range(800):
    orders = rng.choices([0, 1, 2, 3, 4, 5, 6, 8, 12], weights=[8, 30, 25, 15, 10, 5, 3, 2, 2])[0]
    customer = {"id": 1000 + n, "name": f"顧客{n:03d}", "orders": orders,
                "points": orders * 120 + rng.randint(0, 99), "line": None,
                "opted_out": rng.random() < 0.02}
    if rng.random() < 0.9:  # linked their LINE account (notebooks 01 and 02)
        customer["line"] = emu.add_user(customer["name"])
        customer["line"].follow()
        if rng.random() < 0.03:
            customer["line"].block()
    customers.append(customer)


def segment(customer):
    if customer["orders"] >= 5:
        return "loyal"
    return "light" if customer["orders"] >= 1 else None


table = Counter((segment(c), c["line"] is not None) for c in customers)
for (seg, linked), n in sorted(table.items(), key=lambda item: (str(item[0][0]), item[0][1])):
    print(f"  segment={seg!s:<6} linked={linked!s:<5} {n:>4} customers")

# %% [markdown]
# ## 2. Recipients and their rendered messages
#
# Every targeted customer becomes a `Recipient(customer id, LINE userId, messages, skip_reason)`.
# Unlinked customers have no userId. Blocked and opted-out customers carry a reason. Nobody is
# silently left out: each one appears in the plan as *skipped*, with the reason why.

# %%
COUPON = [message_builders.text("今週末は全品10%オフ！クーポンコード: AUTUMN10")]


def render(customer):
    if segment(customer) == "light":
        return COUPON
    return [message_builders.text(f"{customer['name']}様、いつもありがとうございます。"
                                  f"{customer['points']}ポイントがたまっています。"),
            flex_builders.points(customer["points"], tier="ゴールド")]


def skip_reason(customer):
    user = customer["line"]
    if user is not None and user.friendship == "blocked":
        return "blocked the Official Account"
    return "opted out" if customer["opted_out"] else None


targeted = [c for c in customers if segment(c)]
recipients = [Recipient(c["id"], c["line"].user_id if c["line"] else None, render(c),
                        skip_reason(c)) for c in targeted]
print(len(recipients), "recipients")

# %% [markdown]
# ## 3. The dispatch plan
#
# `plan_campaign` groups recipients by the exact content of their messages. Identical content goes
# into multicast batches of at most 500. A message list shared by nobody else becomes a push. The
# plan is stored *before* anything is sent, so a run that crashes can resume from it.

# %%
plan = plan_campaign(recipients, aggregation_unit="autumn_sale")
shape = Counter((b.kind, b.state) for b in plan)
print("batches:", dict(shape))
print("multicast sizes:", [len(b.recipients) for b in plan if b.kind == "multicast"])
print("skipped because:", dict(Counter(b.error for b in plan if b.kind == "skip")))

light_ids = {c["id"] for c in targeted if segment(c) == "light"}
assert all(b.kind == "multicast" for b in plan if b.recipients[0][0] in light_ids
           and b.kind != "skip")
assert sum(len(b.recipients) for b in plan) == len(recipients)

# %% [markdown]
# ## 4. The sender, made reproducible
#
# `Sender` adds what the LINE SDK leaves to you: a retry key per request, backoff on 429/5xx and
# timeouts, a client-side rate limiter, and no hidden urllib3 retries. Three knobs make this run
# repeat exactly. Retry keys come from a seeded UUID factory, backoff uses a seeded random
# generator, and "sleeping" moves a manual clock (and the emulator's) instead of waiting. In
# production you leave all three at their defaults.

# %%
clock = ManualTime(on_sleep=emu.advance)
sender = Sender(server.messaging_configuration(), key_factory=nb.seeded_uuids(5),
                backoff=Backoff(base=0.5, seed=5), sleep=clock.sleep, clock=clock.now)
store = MemoryCampaignStore()
runner = CampaignRunner(sender, store, now=emu.clock.now)

# %% [markdown]
# ## 5. Inject two faults, then run
#
# - The **first multicast** gets a 500 *before* LINE applies it. Nothing was delivered, and the
#   retry delivers.
# - The **third push** is applied, so the message is delivered. Then the connection is dropped
#   before the answer arrives. The sender can't know the message was delivered. It retries with
#   the **same key**, and LINE answers **409**: already accepted.

# %%
emu.faults.add({"endpoint": "multicast", "nth": 1, "action": "status", "status": 500})
emu.faults.add({"endpoint": "pushMessage", "nth": 3, "action": "drop", "when": "after"})

report = runner.run("autumn-sale", recipients, aggregation_unit="autumn_sale")
entries = log.new()
print("outcomes:", report.counts, "| done:", report.done)
print("requests:", dict(Counter((e["endpoint"], e["status"]) for e in entries)))
print("backoff waits (s):", [round(wait, 3) for wait in clock.slept])

# %% [markdown]
# ## 6. The retry keys, request by request
#
# Here are the requests around the two faults. Each retry carries the key of its first attempt.
# The dropped push was delivered the first time, and its retry got 409 instead of a second
# delivery.

# %%
by_key = {}
for entry in entries:
    by_key.setdefault(entry["retryKey"], []).append(entry)
retried = {key: group for key, group in by_key.items() if len(group) > 1}
for key, group in retried.items():
    print(f"key {key[:8]}…")
    for entry in group:
        status = "dropped" if entry["status"] is None else entry["status"]
        print(f"    #{entry['seq']:<3} {entry['endpoint']:<12} {status!s:>7}"
              f"  {'[fault: ' + entry['fault'] + ']' if entry['fault'] else ''}")

statuses = {group[0]["endpoint"]: [e["status"] for e in group] for group in retried.values()}
assert statuses == {"multicast": [500, 200], "pushMessage": [None, 409]}

# %% [markdown]
# The stored batches say the same thing. The push whose answer was lost is `sent`, with the request
# id LINE accepted the first time, and it took 2 attempts.

# %%
batches = store.load_batches("autumn-sale")
for batch in batches:
    if batch.attempts > 1:
        print(f"batch {batch.batch_id} {batch.kind:<9} {len(batch.recipients):>3} recipients  "
              f"state={batch.state} attempts={batch.attempts} key={batch.retry_key[:8]}…  "
              f"request id={batch.request_id[:8]}…")

dropped = next(entry for entry in entries if entry["status"] is None)
[push_batch] = [b for b in batches if b.kind == "push" and b.attempts > 1]
print("request id of the dropped attempt:", dropped["requestId"][:8] + "…")
assert push_batch.state == "sent" and push_batch.request_id == dropped["requestId"]

# %% [markdown]
# ## 7. Zero duplicates: count every inbox
#
# Every light customer who should get the coupon has exactly one message. Every loyal customer has
# exactly one push, which holds their two message objects. Skipped customers have nothing.

# %%
inbox = {c["id"]: len(c["line"].inbox) if c["line"] else 0 for c in targeted}
expected = {}
for outcome in report.outcomes:
    customer = next(c for c in targeted if c["id"] == outcome.recipient_id)
    expected[outcome.recipient_id] = len(render(customer)) if outcome.status == "sent" else 0
mismatches = {cid: (inbox[cid], expected[cid]) for cid in inbox if inbox[cid] != expected[cid]}
print("recipients checked:", len(inbox), "| mismatches:", mismatches)
print("messages in inboxes by count per user:", dict(Counter(inbox.values())))

quota_used = emu.messaging.usage_this_month()
print("LINE counted deliveries (quota):", quota_used)
assert not mismatches and report.done
assert quota_used == report.counts["sent"]  # one per recipient, never one per retry

# %% [markdown]
# ## 8. Running it again sends nothing
#
# The plan is stored, and every batch is final (`sent` or `skipped`). Say a cron job starts the same
# campaign again, or it is resumed after a crash. No request goes to LINE.

# %%
again = runner.run("autumn-sale")
log.show()
assert again.counts == report.counts

# %% [markdown]
# ## 9. Sends and retries per segment
#
# The chart is drawn with matplotlib's Agg backend and shown as a PNG. The data is deterministic
# (seeded), so the figure is the same on every run.

# %%
segment_of = {c["id"]: segment(c) for c in targeted}
stats = {seg: Counter() for seg in ("light", "loyal")}
for batch in store.load_batches("autumn-sale"):
    seg = segment_of[batch.recipients[0][0]]
    if batch.state == "sent":
        stats[seg]["delivered to"] += len(batch.recipients)
        stats[seg]["requests"] += 1
        stats[seg]["retries"] += batch.attempts - 1
    else:
        stats[seg]["skipped"] += len(batch.recipients)
for seg, numbers in stats.items():
    print(f"{seg:<6} {dict(numbers)}")
assert stats["light"]["retries"] == 1 and stats["loyal"]["retries"] == 1

# %%
labels = ["delivered to", "requests", "retries", "skipped"]
fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
for offset, (seg, colour) in enumerate([("light", "#06c755"), ("loyal", "#1e78c8")]):
    values = [stats[seg][label] for label in labels]
    bars = ax.bar([i + offset * 0.4 for i in range(len(labels))], values, 0.4, label=seg,
                  color=colour)
    ax.bar_label(bars, fontsize=8)
ax.set_xticks([i + 0.2 for i in range(len(labels))], labels)
ax.set_yscale("symlog")
ax.set_ylim(0, 5000)
ax.set_title("Autumn sale: recipients, requests and retries per segment")
ax.legend(loc="upper right")
fig.tight_layout()
png = io.BytesIO()
fig.savefig(png, format="png", metadata={"Software": None})
plt.close(fig)
display(Image(png.getvalue()))

# %%
sender.close()
server.stop()
