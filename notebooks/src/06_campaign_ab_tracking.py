# Source of notebooks/06_campaign_ab_tracking.ipynb: edit here, then run notebooks/_build.py 06.

# %% [markdown]
# # 06 · A/B test a LINE campaign: multicast or push, tracked links, LINE's statistics per unit
#
# Marketing tests two versions of a summer message on a sample of friends, then sends the better
# one to everyone else. This is what `line_idlink_mass_mailing` does inside Odoo; here every LINE
# call is written out.
#
# - **Version A** is the same text for everyone, with a *campaign-level* tracked link. Identical
#   bodies go by **multicast**: one request for up to 500 userIds.
# - **Version B** greets each customer by name and carries a *per-recipient* tracked link
#   (`/r/<code>/l/<n>`). Every body is different, so each one is a **push**: one request per user.
# - Each request carries a **custom aggregation unit** (`customAggregationUnits`, 1-30 characters of
#   `[A-Za-z0-9_]`, one per request, at most 1,000 different units a month). LINE aggregates its own
#   statistics per unit: `GET /v2/bot/insight/message/event/aggregation`.
# - Each request carries its **retry key** (`X-Line-Retry-Key`): a retry after a 500 or a lost
#   answer never delivers twice (notebook 05).
#
# **What can go wrong.** A campaign-level link keeps one body, so 100,000 people cost 200
# multicast requests, but a click can't be tied to a person: an A/B test "by clicks" then has
# nothing per person to compare. A per-recipient link tells you who clicked, at the price of one
# push per person, and the same retry-key discipline on every one of them. A version sent to a
# sample must not reach the same person again when the winner goes out.
#
# **Why LINE designed it this way.** LINE bills and limits per request and per recipient, and
# keeps statistics per *unit* you name, not per request: you tag every request of one version with
# the same unit and read one set of figures back. Those figures (impressions, unique clicks on
# LINE-shortened URLs) come only from 20 users on: LINE hides smaller numbers to protect people.

# %%
import io
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import matplotlib

matplotlib.use("Agg")  # render to PNG bytes, no GUI
import matplotlib.pyplot as plt
from IPython.display import Image, display
from linebot.v3.insight import ApiClient, Configuration, Insight

import nbhelpers as nb
from line_emulator import start_emulator
from line_idlink import message_builders
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import Backoff
from line_idlink.sender import Sender

nb.quiet()

server = start_emulator(seed=7)
emu = server.emulator
log = nb.RequestLog(emu)
clock = ManualTime(on_sleep=emu.advance)
sender = Sender(server.messaging_configuration(), key_factory=nb.seeded_uuids(7),
                backoff=Backoff(base=0.5, seed=7), sleep=clock.sleep, clock=clock.now)

# %% [markdown]
# ## 1. 150 friends, split into A, B and the rest
#
# Odoo's A/B testing picks a random sample per version (here 50 each, seeded) among the
# customers no version has reached yet; the rest waits for the winner.

# %%
rng = random.Random(7)
friends = []
for n in range(150):
    user = emu.add_user(f"顧客{n:03d}")
    user.follow()
    friends.append(user)
shuffled = friends[:]
rng.shuffle(shuffled)
group_a, group_b, rest = shuffled[:50], shuffled[50:100], shuffled[100:]
print("A:", len(group_a), "| B:", len(group_b), "| rest:", len(rest))

# %% [markdown]
# ## 2. Version A: one body, one multicast, campaign-level link
#
# The link is shortened once (`https://shop.example/r/SumA`). The first attempt gets a 500
# before LINE applies it; the retry carries the same key and delivers once.

# %%
BASE = "https://shop.example"
text_a = f"夏のセール開催中！全品20%オフ {BASE}/r/SumA"
emu.faults.add({"endpoint": "multicast", "nth": 1, "action": "status", "status": 500})
result_a = sender.multicast([u.user_id for u in group_a], [message_builders.text(text_a)],
                            aggregation_unit="summer_a")
entries = log.new()
print("status:", result_a.status, "| attempts:", result_a.attempts)
for entry in entries:
    print(f"  #{entry['seq']:<3} {entry['endpoint']:<10} {entry['status']}  key={entry['retryKey'][:8]}…")
assert [e["status"] for e in entries] == [500, 200]
assert len({e["retryKey"] for e in entries}) == 1

# %% [markdown]
# ## 3. Version B: a body per person, one push each, per-recipient links
#
# Each link carries the recipient's number (`/l/<n>`), which the shop's redirect maps back to
# the person (Odoo: the mailing trace).

# %%
links_b = {}
for n, user in enumerate(group_b, 1):
    links_b[n] = user
    body = f"{user.display_name}さん、夏のセールのご案内です。{BASE}/r/SumB/l/{n}"
    result = sender.push(user.user_id, [message_builders.text(body)], aggregation_unit="summer_b")
    assert result.ok
entries = log.new()
print("requests:", dict(Counter((e["endpoint"], e["status"]) for e in entries)))
print("distinct retry keys:", len({e["retryKey"] for e in entries}))
assert len(entries) == 50 and len({e["retryKey"] for e in entries}) == 50

# %% [markdown]
# ## 4. Clicks: what each kind of link can tell
#
# The shop's redirect (Odoo: `/r/<code>` and `/r/<code>/l/<trace>`) records each click before
# sending the visitor on. Here a seeded choice of readers clicks. For A the shop only learns
# *that* the link was clicked; for B it learns *who* clicked.

# %%
clicks = Counter()
clicked_b = set()


def click(url):
    """The shop's redirect: count the click on the link; per recipient when the URL says."""
    found = re.match(rf"{re.escape(BASE)}/r/(\w+)(?:/l/(\d+))?$", url)
    code, number = found.group(1), found.group(2)
    clicks[code] += 1
    if number:
        clicked_b.add(links_b[int(number)].user_id)


def url_in(user):
    return re.search(r"https://\S+", user.inbox[-1]["message"]["text"]).group(0)


for user in group_a:
    if rng.random() < 0.12:
        click(url_in(user))
for user in group_b:
    if rng.random() < 0.30:
        click(url_in(user))
print("clicks on A's link:", clicks["SumA"], "(people unknown)")
print("clicks on B's links:", clicks["SumB"], "by", len(clicked_b), "known people")
ratio = {"A": clicks["SumA"] / len(group_a), "B": len(clicked_b) / len(group_b)}
print("click rate:", {k: f"{v:.0%}" for k, v in ratio.items()})
assert clicks["SumB"] == len(clicked_b)  # per-recipient links: one known person per click

# %% [markdown]
# ## 5. LINE's own statistics per aggregation unit
#
# `getStatisticsPerUnit` takes the unit and a date range in UTC+9 (at most 30 days). LINE counts
# impressions when the message is displayed; the emulator counts one per delivery. Values under
# 20 would come back as `null`.

# %%
JST = timezone(timedelta(hours=9))
day = datetime.fromtimestamp(emu.clock.now(), JST).strftime("%Y%m%d")
config = Configuration(host=server.base_url, access_token=emu.config.access_token)
with ApiClient(config) as client:
    insight = Insight(client)
    stats = {unit: insight.get_statistics_per_unit(unit, day, day)
             for unit in ("summer_a", "summer_b")}
for unit, data in stats.items():
    print(f"{unit}: unique impressions {data.overview.unique_impression}, "
          f"impressions {data.messages[0].impression}")
assert stats["summer_a"].overview.unique_impression == 50
assert stats["summer_b"].overview.unique_impression == 50
_ = log.new()  # the two statistics calls

# %% [markdown]
# ## 6. The winner goes to the rest
#
# Odoo's A/B cron picks the version with the highest click rate and sends it to the customers
# neither version reached. Version B needs pushes again (one per person); A would be one
# multicast.

# %%
winner = max(ratio, key=ratio.get)
print("winner:", winner)
offset = len(links_b)
for n, user in enumerate(rest, offset + 1):
    links_b[n] = user
    body = f"{user.display_name}さん、夏のセールのご案内です。{BASE}/r/SumB/l/{n}"
    assert sender.push(user.user_id, [message_builders.text(body)],
                       aggregation_unit="summer_final").ok
entries = log.new()
print("winner requests:", dict(Counter((e["endpoint"], e["status"]) for e in entries)))
assert winner == "B" and len(entries) == len(rest)

inbox_sizes = Counter(len(user.inbox) for user in friends)
print("messages per friend:", dict(inbox_sizes))
assert inbox_sizes == {1: 150}  # everybody once, nobody twice

# %% [markdown]
# ## 7. Sends and clicks per version
#
# The chart is drawn with matplotlib's Agg backend and shown as a PNG. The data is seeded, so the
# figure is the same on every run.

# %%
requests = {"A": 1, "B": 50, "winner (B)": len(rest)}
reached = {"A": len(group_a), "B": len(group_b), "winner (B)": len(rest)}
clicked = {"A": clicks["SumA"], "B": len(clicked_b), "winner (B)": 0}
labels = list(requests)
fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
for offset, (name, values, colour) in enumerate([
        ("recipients", reached, "#06c755"), ("requests", requests, "#1e78c8"),
        ("clicks", clicked, "#f0a020")]):
    bars = ax.bar([i + offset * 0.27 for i in range(len(labels))],
                  [values[label] for label in labels], 0.27, label=name, color=colour)
    ax.bar_label(bars, fontsize=8)
ax.set_xticks([i + 0.27 for i in range(len(labels))], labels)
ax.set_title("Summer A/B test: recipients, LINE requests and clicks per version")
ax.legend(loc="upper right")
fig.tight_layout()
png = io.BytesIO()
fig.savefig(png, format="png", metadata={"Software": None})
plt.close(fig)
display(Image(png.getvalue()))

# %%
sender.close()
server.stop()
