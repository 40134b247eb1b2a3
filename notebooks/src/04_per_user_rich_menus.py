# Source of notebooks/04_per_user_rich_menus.ipynb: edit here, then run notebooks/_build.py 04.

# %% [markdown]
# # 04 · Per-user rich menus: unlinked, linked, tabs, and 1,203 users at once
#
# The rich menu is the panel of big buttons under a LINE chat. After account linking it shows
# *who the user is to you*. A friend who hasn't linked sees a menu with a single **連携する**
# ("link") button. A linked customer sees **注文履歴** (orders), **ポイント** (points) and
# **連携解除** (unlink). LINE's own account-link guide suggests this pattern.
#
# **Why LINE designed it this way.** Every friend sees the same chat screen, but what a customer
# can do there depends on who they are to you. A per-user menu shows that without asking anyone
# to type commands. Aliases give a menu tabs without a round trip to your server, because the
# switch happens inside the LINE app.
#
# **How LINE decides what a user sees.** A menu linked to that user through the API (a per-user
# menu) comes first. If there is none, the API's default menu is shown. If there is no default
# either, the user sees no menu. A per-user change shows immediately. A menu is an image plus
# rectangular tap areas, and each area has an action. A `postback` action sends your bot an event.
# A `richmenuswitch` action flips to another menu through an **alias**, which is how menus get
# tabs.
#
# **What can go wrong**: LINE rejects menus with the wrong aspect ratio, a chat-bar text that is too
# long, areas outside the image, or broken actions. It also rejects an image whose size differs from
# the menu's, and refuses to link a menu that has no image. Rate limits are tight: 100 menu creations
# per hour, and bulk calls take at most 500 users. Bulk calls answer `202`, which means *accepted,
# applied later*, not *done*.
#
# We use `line_idlink.richmenu_spec.RichMenuSpec` to check menus before anything is sent, and
# `RichMenuClient` to make the calls.

# %%
from collections import Counter

import nbhelpers as nb
from line_emulator import start_emulator
from line_emulator.images import solid_png
from line_idlink.ratelimit import ManualTime
from line_idlink.richmenu_publisher import RichMenuClient
from line_idlink.richmenu_spec import RichMenuInvalid, RichMenuSpec

nb.quiet()

server = start_emulator(seed=4)
emu = server.emulator
log = nb.RequestLog(emu)
# The client sleeps while it polls a batch's progress. ManualTime makes that "sleep" move the
# emulator's clock instead of waiting for real.
time = ManualTime(on_sleep=emu.advance)
rich = RichMenuClient(server.messaging_configuration(), sleep=time.sleep, clock=time.now)

# %% [markdown]
# ## 1. Validate before sending
#
# Here is a first draft of the "linked" menu with several mistakes. `validate()` lists every
# problem, with LINE's property paths, and sends nothing. `publish()` runs the same check and
# refuses the menu.

# %%
draft = RichMenuSpec(
    size=(2500, 2000), name="linked (draft)", chat_bar_text="メニューを開く・閉じる・切り替え",
    areas=[
        {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 2000},
         "action": {"type": "postback", "label": "注文履歴"}},
        {"bounds": {"x": 1250, "y": 0, "width": 1300, "height": 2000},
         "action": {"type": "richmenuswitch", "richMenuAliasId": "Points Tab", "data": "tab=b"}},
    ])
for prop, message in draft.validate():
    print(f"  {prop:<32} {message}")

try:
    rich.publish(draft, solid_png(2500, 2000))
except RichMenuInvalid as exc:
    print("publish refused:", len(exc.errors), "problems")
log.show()
assert len(draft.validate()) == 5

# %% [markdown]
# LINE's own `validate` endpoint agrees. We POST the draft with plain `requests`, because the SDK's
# models would already refuse the long chat-bar text on the client side. LINE answers 400 with
# details. It reports four problems, not five: LINE tolerates an area that runs past the image
# edge and ignores the overhang. Our check refuses it anyway, because it is always a design
# mistake.

# %%
answer = nb.direct_session().post(f"{server.base_url}/v2/bot/richmenu/validate", json=draft.to_dict(),
                       headers={"Authorization": f"Bearer {emu.config.access_token}"})
print("HTTP", answer.status_code, answer.json()["message"])
for detail in answer.json().get("details", []):
    print(f"  {detail['property']:<32} {detail['message']}")
log.show()
assert answer.status_code == 400 and len(answer.json()["details"]) == 4

# %% [markdown]
# ## 2. Three menus, with images
#
# Here are the corrected menus. One is for unlinked friends. The other two are the two **tabs** of
# the linked menu, "orders" and "points". Each tab has a tab bar along the top whose right or left
# half switches to the other tab through an alias. All sizes are LINE's standard 2500 × 1686 px or
# 2500 × 843 px, and each image has exactly the menu's size (`solid_png` makes a plain one).

# %%
def area(x, y, width, height, action):
    return {"bounds": {"x": x, "y": y, "width": width, "height": height}, "action": action}


def postback(label, data):
    return {"type": "postback", "label": label, "data": data, "displayText": label}


def switch(label, alias, data):
    return {"type": "richmenuswitch", "label": label, "richMenuAliasId": alias, "data": data}


unlinked = RichMenuSpec((2500, 843), "unlinked", "メニュー", [
    area(0, 0, 2500, 843, postback("連携する", "action=link"))])
orders_tab = RichMenuSpec((2500, 1686), "linked: orders tab", "メニュー", [
    area(1250, 0, 1250, 300, switch("ポイント", "linked-points", "tab=points")),
    area(0, 300, 1250, 1386, postback("注文履歴", "action=orders")),
    area(1250, 300, 1250, 1386, postback("連携解除", "action=unlink"))])
points_tab = RichMenuSpec((2500, 1686), "linked: points tab", "メニュー", [
    area(0, 0, 1250, 300, switch("注文", "linked-orders", "tab=orders")),
    area(0, 300, 2500, 1386, postback("ポイント", "action=points"))])

menus = {}
for spec, alias, colour in [(unlinked, None, (6, 199, 85)),
                            (orders_tab, "linked-orders", (30, 120, 200)),
                            (points_tab, "linked-points", (200, 120, 30))]:
    image = solid_png(*spec.width_height, colour)
    menus[spec.name] = rich.publish(spec, image, alias_id=alias)
    print(f"{spec.name:<20} {nb.short(menus[spec.name])}  image {len(image)} bytes"
          f"  alias={alias}")
log.show()

# %% [markdown]
# Each `publish` makes these calls: create the menu, upload its image to `api-data.line.me`, then
# look up the alias and create it (the lookup answers 404 the first time). If the upload fails, the
# menu is deleted again, so no menu without an image is left behind.
#
# ## 3. Default menu vs per-user menu
#
# The unlinked menu becomes the **default**. Hanako has linked her account (notebook 02), so she
# gets the orders tab as her **per-user** menu. Taro hasn't linked, so he sees the default.

# %%
rich.set_default(menus["unlinked"])
hanako, taro = emu.add_user("山田 花子"), emu.add_user("Taro")
hanako.follow()
taro.follow()
rich.link_user(hanako.user_id, menus["linked: orders tab"])
log.show()

NAMES = {menu_id: name for name, menu_id in menus.items()}


def sees(user):
    shown = user.rich_menu
    return f"{user.display_name} sees {NAMES.get(shown['richMenuId'])!r} ({shown['source']})"


print(sees(hanako))
print(sees(taro))
assert hanako.rich_menu == {"richMenuId": menus["linked: orders tab"], "source": "user"}
assert taro.rich_menu == {"richMenuId": menus["unlinked"], "source": "default"}

# %% [markdown]
# ## 4. Taps
#
# A tap on a `postback` area sends the bot a `postback` event with the area's `data`. The bot
# reads the data and does not care *which* menu was tapped. Below are the webhook events the taps
# produce (this notebook has no bot, so they go nowhere).

# %%
for user, x, y in [(taro, 1200, 400), (hanako, 300, 900), (hanako, 2000, 900)]:
    tapped = user.tap(x, y)
    print(f"{user.display_name} taps ({x}, {y}) on {tapped.action['label']}:")
    print("    ", nb.event_summary(tapped.event))

# %% [markdown]
# ## 5. Tabs through aliases
#
# Hanako taps the "ポイント" tab. The `richmenuswitch` action switches her chat to the menu behind
# the alias `linked-points` and also sends the bot a postback with the new alias and the status.
# Switching back works the same way. The switch is per user. Taro's menu doesn't change.

# %%
switched = hanako.tap(2000, 100)
print(nb.event_summary(switched.event))
print(sees(hanako))
print("LINE's API reports her menu as:", NAMES[rich.user_menu(hanako.user_id)])

back = hanako.tap(300, 100)
print(nb.event_summary(back.event))
print(sees(hanako))
print(sees(taro))
log.show()

assert switched.event["postback"]["params"] == {"newRichMenuAliasId": "linked-points",
                                                "status": "SUCCESS"}
assert hanako.rich_menu["richMenuId"] == menus["linked: orders tab"]
assert taro.rich_menu["richMenuId"] == menus["unlinked"]

# %% [markdown]
# Unlinking the account returns her to the default, with a single call that removes her per-user
# menu:

# %%
rich.unlink_user(hanako.user_id)
print(sees(hanako))
rich.link_user(hanako.user_id, menus["linked: orders tab"])  # she links again
log.show()
assert hanako.rich_menu["source"] == "user"

# %% [markdown]
# ## 6. 1,203 customers linked at once: 3 calls
#
# A shop imports 1,203 customers who already linked, and all of them should get the linked menu.
# Linking them one by one would take 1,203 calls. `reconcile` compares who has which per-user menu
# *now* with who *should* have which, and plans the fewest calls. The bulk endpoint takes 500 users
# per call, so 1,203 users need 3 calls (500 + 500 + 203).

# %%
crowd = [emu.add_user(f"customer {n:04d}") for n in range(1203)]
for user in crowd:
    user.follow()

current = {user.user_id: None for user in crowd}  # nobody has a per-user menu yet
target = {user.user_id: menus["linked: orders tab"] for user in crowd}
plan = rich.reconcile(current, target, default_menu_id=menus["unlinked"])
print("planned calls:", plan.calls, "| users per call:",
      [len(plan.link[menus["linked: orders tab"]][i:i + 500]) for i in range(0, 1203, 500)])

report = rich.apply(plan)
log.show()
entries = log.last
print("requests:", Counter(e["endpoint"] for e in entries),
      "| statuses:", Counter(e["status"] for e in entries))
assert plan.calls == 3 and [users for _, users, _ in report.calls] == [500, 500, 203]

# %% [markdown]
# `202` means *accepted*. LINE applies bulk links in the background, usually within seconds. The
# emulator applies them when its clock moves. Before that nobody has switched, and after that all
# 1,203 have.

# %%
before = Counter(NAMES[u.rich_menu["richMenuId"]] for u in crowd)
emu.advance(1)
after = Counter(NAMES[u.rich_menu["richMenuId"]] for u in crowd)
print("before:", dict(before))
print("after: ", dict(after))
assert after == {"linked: orders tab": 1203}

# %% [markdown]
# ## 7. A redesign: everyone on the old tab moves in ONE call
#
# When *every* user of menu A moves to menu B, a single **batch** operation `link from A to B`
# replaces the bulk calls. Batch is limited to 3 requests per hour, so `reconcile` uses it only for
# large moves (by default at least 1,000 users). The client then polls the batch's progress until it
# reports `succeeded`: batches usually finish within seconds, so the first poll comes after 1 second
# and the wait doubles up to `poll_interval` (the progress endpoint allows 100 calls an hour). Each
# "sleep" moves the emulator clock, and this batch is done at the first poll.

# %%
orders_v2 = RichMenuSpec((2500, 1686), "linked: orders tab v2", "メニュー", orders_tab.areas)
menus[orders_v2.name] = rich.publish(orders_v2, solid_png(2500, 1686, (20, 90, 160)))
NAMES[menus[orders_v2.name]] = orders_v2.name
log.skip()

everyone = crowd + [hanako]
current = {u.user_id: menus["linked: orders tab"] for u in everyone}
target = {u.user_id: menus[orders_v2.name] for u in everyone}
plan = rich.reconcile(current, target, default_menu_id=menus["unlinked"])
print("batch operations:", nb.short(plan.batch_operations), "| calls:", plan.calls)
rich.apply(plan)
log.show()
entries = log.last
print("the client slept (emulator seconds):", time.slept)
print(dict(Counter(NAMES[u.rich_menu["richMenuId"]] for u in everyone)))

assert plan.calls == 1 and [e["endpoint"] for e in entries].count("richMenuBatch") == 1
assert all(u.rich_menu["richMenuId"] == menus[orders_v2.name] for u in everyone)

# %% [markdown]
# ## What LINE received, in total

# %%
for (endpoint, status), n in sorted(Counter((e["endpoint"], e["status"])
                                            for e in emu.request_log).items()):
    print(f"  {endpoint:<28} {status}  x{n}")

# %%
server.stop()
