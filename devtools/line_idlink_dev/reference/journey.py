"""The demo journey (``scripts/demo``): the LINE emulator and the reference shop in this process,
three customers and every flow, each step printed and checked. :mod:`line_idlink_dev.demo` is the
command; this module is the script it runs (notebooks may reuse :class:`Journey`).
"""

import json
from dataclasses import dataclass
from urllib.parse import quote

from line_idlink import message_builders
from line_emulator import Emulator, EmulatorServer
from line_idlink.retry import Backoff
from .app import LineSettings, ReferenceServer
from .browser import Browser, describe, page_text
from .campaigns import send_segmented_campaign
from .menus import NAMES, tap_point

SEED = 7
PASSWORD = "line-demo"
USERS = (("Aiko", "aiko@example.com"), ("Kenji", "kenji@example.com"), ("Yui", "yui@example.com"))
LIGHT = "はじめてのお買い物ありがとうございました。次回使える10%オフクーポンをお送りします。"
LOYAL = "いつもご愛顧ありがとうございます。会員様限定の先行セールにご招待します。"
CAMPAIGN = {"light": [message_builders.text(LIGHT)], "loyal": [message_builders.text(LOYAL)]}
# The 1st push of the campaign answers 500; the 3rd is delivered, then its connection drops.
FAULTS = ({"endpoint": "pushMessage", "action": "status", "status": 500, "times": 1},
          {"endpoint": "pushMessage", "action": "drop", "when": "after", "nth": 3, "times": 1})
MENU_LABELS = {"linked": "linked (per-user)", "unlinked": "unlinked (default)"}


class DemoFailure(AssertionError):
    """An expectation of the journey did not hold."""


@dataclass
class SummaryRow:
    user: str
    account: str
    link: str
    menu: str
    messages: int
    replies: int
    pushes: int
    campaign: int


class Journey:
    def __init__(self, out, db_path, seed=SEED, host="127.0.0.1", app_port=0, emulator_port=0):
        self.out = out
        self.emu = Emulator(seed=seed, delivery="sync")
        self.line = EmulatorServer(self.emu, host=host, port=emulator_port).start()
        self.browsers = []
        try:
            self.shop = ReferenceServer(
                db_path, LineSettings.from_emulator(self.line), host=host, port=app_port,
                clock=self.emu.clock.now, backoff=Backoff(base=0.05, cap=0.5, seed=seed)).start()
        except BaseException:
            self.line.stop()
            raise
        self.app = self.shop.app
        self.emu.config.webhook_url = f"{self.shop.url}/line/webhook"
        self.users = {name: self.emu.add_user(name) for name, _email in USERS}
        self.emails = dict(USERS)
        self.roles = {menu_id: role for role, menu_id in self.app.menu_ids.items()}
        self.seen_deliveries = 0
        self.menus_before = {}

    def stop(self):
        for browser in self.browsers:
            browser.close()
        self.shop.stop()
        self.line.stop()

    # Printing and checking ----------------------------------------------------------------
    def say(self, text=""):
        self.out(text)

    def step(self, number, title):
        self.say()
        self.say(f"== {number}{'.' if isinstance(number, int) else ':'} {title}")

    def expect(self, condition, what):
        if not condition:
            raise DemoFailure(what)
        self.say(f"   ok: {what}")

    def role(self, name):
        return self.roles.get(self.users[name].rich_menu["richMenuId"])

    def menu(self, name):
        menu = self.users[name].rich_menu
        return f"{NAMES.get(self.roles.get(menu['richMenuId']), '-')} ({menu['source']})"

    def marks(self):
        return {name: len(user.inbox) for name, user in self.users.items()}

    def report(self, marks):
        """Print the webhooks LINE sent since the last report and the messages each user got."""
        deliveries = self.emu.webhooks.deliveries
        for delivery in deliveries[self.seen_deliveries:]:
            kinds = ", ".join(self._event_type(eid) for eid in delivery["eventIds"])
            self.say(f"     LINE -> app: {kinds} webhook -> {delivery['status']}")
        self.seen_deliveries = len(deliveries)
        for name, user in self.users.items():
            for item in user.inbox[marks[name]:]:
                self.say(f"     {name} receives ({item['api']}): {describe(item['message'])}")

    def _event_type(self, event_id):
        record = self.app.storage.get_event(event_id)
        return json.loads(record.payload)["type"] if record else "(not stored)"

    def act(self, name, what, action):
        marks = self.marks()
        self.say(f"   {name} {what}")
        result = action()
        self.report(marks)
        return result

    def new_messages(self, name, marks):
        return [item["message"] for item in self.users[name].inbox[marks[name]:]]

    def browser(self, name):
        browser = Browser({self.shop.url: "app", self.line.base_url: "LINE"}, log=self._browse,
                          label=f"{name}'s browser")
        browser.sign_in_to_line(self.line.base_url, self.users[name].user_id)
        self.browsers.append(browser)
        return browser

    def _browse(self, line):
        self.say(f"     {line}")

    def show_page(self, page, *needles):
        text = page_text(page.text)
        for line in text.splitlines():
            if any(needle in line for needle in needles):
                self.say(f"       page says: {line}")
        return text

    # The journey --------------------------------------------------------------------------
    def run(self):
        self.follow_all()
        self.link_through_messaging_api()
        self.link_through_line_login()
        self.menus_switched()
        self.campaign()
        self.chat()
        self.unlink_from_chat()
        return self.summary()

    def follow_all(self):
        self.step(1, "Aiko, Kenji and Yui add the shop's LINE account as a friend")
        for name, user in self.users.items():
            marks = self.marks()
            self.act(name, "adds the shop as a friend", user.follow)
            got = self.new_messages(name, marks)
            self.expect(len(got) == 2 and got[1]["type"] == "template",
                        f"{name} got a welcome and an invitation to link")
            self.expect(self.role(name) == "unlinked" and user.rich_menu["source"] == "default",
                        f"{name} sees the default menu: {self.menu(name)}")
        self.menus_before = {name: self.menu(name) for name in self.users}

    def link_through_messaging_api(self):
        self.step(2, "Aiko links her account through the Messaging API (account-link flow)")
        aiko = self.users["Aiko"]
        marks = self.marks()
        self.act("Aiko", "taps 連携する on her rich menu",
                 lambda: aiko.tap(*tap_point("unlinked", "連携する")))
        [button] = self.new_messages("Aiko", marks)
        uri = button["template"]["actions"][0]["uri"]
        self.expect(uri.startswith(f"{self.shop.url}/line/link?linkToken="),
                    "the bot answered with a button to the shop's /line/link page")
        browser = self.browser("Aiko")
        self.say("   Aiko taps the button: her phone's browser (signed in to LINE as Aiko)"
                 " opens it")
        page = browser.get(uri)
        self.expect("/login" in page.url, "the shop asks her to log in first")
        page = browser.submit(page, "/login", note=" (aiko@example.com)",
                              email="aiko@example.com", password=PASSWORD)
        text = self.show_page(page, "「Aiko」", "いつでも解除")
        self.expect("「Aiko」" in text and "佐藤 愛子" in text,
                    "the confirmation page names the LINE account being linked (Aiko)")
        self.expect("いつでも解除" in text, "it says unlinking is possible at any time")
        marks = self.marks()
        page = browser.submit(page, "/line/link", note=" (confirm, with CSRF token)")
        self.report(marks)
        self.expect(page.status_code == 200 and "linked" in page.text,
                    "LINE's account-link dialog reports the accounts linked")
        self.expect(self.app.linker.customer_for(aiko.user_id) == str(self.customer_id("Aiko")),
                    "the shop stored the link Aiko -> 佐藤 愛子")
        got = self.new_messages("Aiko", marks)
        self.expect(len(got) == 1 and "解除" in got[0]["text"],
                    "Aiko got a confirmation that says how to unlink")
        self.expect(self.role("Aiko") == "linked", f"Aiko's menu is now {self.menu('Aiko')}")

    def link_through_line_login(self):
        self.step(3, "Kenji links his account with LINE Login from the shop's /my/line page")
        kenji = self.users["Kenji"]
        browser = self.browser("Kenji")
        page = browser.get(f"{self.shop.url}/login")
        page = browser.submit(page, "/login", note=" (kenji@example.com)",
                              email="kenji@example.com", password=PASSWORD)
        self.show_page(page, "まだ連携")
        marks = self.marks()
        page = browser.get(f"{self.shop.url}/line/login?purpose=link")
        self.report(marks)
        text = self.show_page(page, "連携中", "いつでも解除")
        self.expect("Kenji" in text and "LINEログイン" in text,
                    "/my/line shows the link to the LINE account Kenji, made with LINE Login")
        self.expect(self.app.linker.customer_for(kenji.user_id) == str(self.customer_id("Kenji")),
                    "the shop stored the link Kenji -> 鈴木 健二")
        self.expect(self.app.db.profile(kenji.user_id)["login_access_token"],
                    "the LINE Login token is kept with the link (revoked on unlink)")
        got = self.new_messages("Kenji", marks)
        self.expect(len(got) == 1 and "解除" in got[0]["text"],
                    "Kenji got a confirmation in LINE that says how to unlink")
        self.expect(self.role("Kenji") == "linked", f"Kenji's menu is now {self.menu('Kenji')}")

    def menus_switched(self):
        self.step(4, "Rich menus before and after linking")
        for name in self.users:
            self.say(f"   {name:6} before: {self.menus_before[name]:24} now: {self.menu(name)}")
        self.expect([self.role(n) for n in self.users] == ["linked", "linked", "unlinked"],
                    "Aiko and Kenji see the linked menu, Yui still the default one")
        marks = self.marks()
        self.act("Kenji", "taps ポイント on his linked menu",
                 lambda: self.users["Kenji"].tap(*tap_point("linked", "ポイント")))
        [points] = self.new_messages("Kenji", marks)
        self.expect(points["type"] == "flex" and "2,480" in points["altText"],
                    "Kenji's own points (2,480) come back as a Flex message")

    def campaign(self):
        self.step(5, "A segmented campaign: light buyers vs loyal buyers, while LINE misbehaves")
        self.say("   LINE is set to fail twice: the 1st push answers 500, the 3rd is delivered "
                 "but its answer is lost")
        for fault in FAULTS:
            self.emu.faults.add(fault)
        start = len(self.emu.request_log)
        report = send_segmented_campaign(self.app, CAMPAIGN)
        keys, names = {}, {u.user_id: n for n, u in self.users.items()}
        for entry in self.emu.request_log[start:]:
            if entry["endpoint"] != "pushMessage":
                continue
            key = keys.setdefault(entry["retryKey"], "key " + "AB"[len(keys) % 2])
            status = entry["status"] if entry["status"] is not None else "no answer"
            note = {"status": " (injected 500)", "connection dropped":
                    " (delivered, then the connection dropped)"}.get(entry["fault"], "")
            if entry["status"] == 409:
                note = " (already accepted: not sent again)"
            to = names.get((entry.get("body") or {}).get("to"), "?")
            self.say(f"     pushMessage to {to:5} retry {key}: {status}{note}")
        for outcome in report.outcomes:
            customer = self.app.db.customer(outcome.recipient_id)
            self.say(f"     {customer['name']} ({self.app.db.segment(customer['id'])}):"
                     f" {outcome.status}{' - ' + outcome.reason if outcome.reason else ''}")
        self.emu.faults.clear()
        self.expect(report.counts == {"sent": 2, "skipped": 1},
                    "2 customers sent, 1 skipped (Yui: not linked)")
        self.expect(len(keys) == 2, "each message kept its own retry key through its retries")
        for name, text, count in (("Aiko", LIGHT, 1), ("Kenji", LOYAL, 1), ("Yui", LIGHT, 0),
                                  ("Yui", LOYAL, 0)):
            got = self.campaign_count(name, text)
            self.expect(got == count, f"{name} has the {'light' if text == LIGHT else 'loyal'}"
                                      f" message {got} time(s): no duplicate, nothing lost")

    def chat(self):
        self.step(6, "Customer data in the chat")
        marks = self.marks()
        self.act("Aiko", "types 残高", lambda: self.users["Aiko"].say("残高"))
        [answer] = self.new_messages("Aiko", marks)
        body = json.dumps(answer, ensure_ascii=False)
        self.expect(answer["type"] == "flex" and "¥1,200" in body and "5,600" not in body,
                    "Aiko gets her own balance (¥1,200) as Flex, nobody else's")
        marks = self.marks()
        self.act("Yui", "types ポイント", lambda: self.users["Yui"].say("ポイント"))
        [answer] = self.new_messages("Yui", marks)
        self.expect(answer["type"] == "template" and "連携" in answer["altText"],
                    "Yui is not linked: she is invited to link instead")

    def unlink_from_chat(self):
        self.step(7, "Aiko unlinks from the chat")
        aiko = self.users["Aiko"]
        marks = self.marks()
        self.act("Aiko", "taps 連携解除 on her linked menu",
                 lambda: aiko.tap(*tap_point("linked", "連携解除")))
        [question] = self.new_messages("Aiko", marks)
        self.expect(question["type"] == "template" and question["template"]["type"] == "confirm",
                    "the bot asks for confirmation first")
        yes = question["template"]["actions"][0]
        self.act("Aiko", f"taps {yes['label']}", lambda: aiko.postback(yes["data"]))
        self.expect(self.app.linker.customer_for(aiko.user_id) is None,
                    "the link has ended in the shop")
        self.expect(self.role("Aiko") == "unlinked" and aiko.rich_menu["source"] == "default",
                    f"Aiko's menu is back to {self.menu('Aiko')}")

    # Summary ------------------------------------------------------------------------------
    def customer_id(self, name):
        return self.app.db.customer_by_email(self.emails[name])["id"]

    def campaign_count(self, name, text):
        return sum(1 for item in self.users[name].inbox
                   if item["message"].get("text") == text)

    def summary(self):
        rows = []
        for name, user in self.users.items():
            [link] = self.app.linker.links_for(self.customer_id(name)) or [None]
            inbox = user.inbox
            how = {"line_login": "LINE Login", "messaging_api": "Messaging API"}
            rows.append(SummaryRow(
                name, self.emails[name], f"linked ({how[link.method]})" if link else "not linked",
                MENU_LABELS[self.role(name)], len(inbox),
                sum(1 for item in inbox if item["api"] == "reply"),
                sum(1 for item in inbox if item["api"] == "push"),
                self.campaign_count(name, LIGHT) + self.campaign_count(name, LOYAL)))
        deliveries = self.emu.webhooks.deliveries
        self.step("Summary", "what each LINE user received")
        header = ("user", "shop account", "link now", "menu now", "messages", "replies",
                  "pushes", "campaign")
        table = [header] + [(r.user, r.account, r.link, r.menu, str(r.messages), str(r.replies),
                             str(r.pushes), str(r.campaign)) for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.say("   " + "  ".join(cell.ljust(w) if i < 4 else cell.rjust(w)
                                      for i, (cell, w) in enumerate(zip(row, widths))))
        answered = sum(1 for d in deliveries if d["status"] == 200)
        self.say(f"   webhooks: {len(deliveries)} sent by LINE, {answered} answered 200")
        self.expect(answered == len(deliveries), "the app answered every webhook with 200")
        return rows

    # Serve --------------------------------------------------------------------------------
    def print_urls(self):
        """For --serve: where a person clicks through the same flows in a browser."""
        yui = self.users["Yui"]
        marks = self.marks()
        yui.tap(*tap_point("unlinked", "連携する"))  # so that Yui's chat holds a link to open
        link = self.new_messages("Yui", marks)[0]["template"]["actions"][0]["uri"]
        line, shop = self.line.base_url, self.shop.url
        self.say()
        self.say("== Serving: open these in a browser (Ctrl-C to stop)")
        self.say(f"   shop:  {shop}/login  (aiko@ / kenji@ / yui@example.com, password {PASSWORD})")
        self.say(f"   LINE:  {line}/__emulator__/info  (the emulator; its clock is frozen)")
        self.say("   Sign in to LINE as a user, then go on to the shop:")
        for name, user in self.users.items():
            target = quote(link if name == "Yui" else f"{shop}/my/line", safe=":/")
            self.say(f"     {name:6} {line}/__emulator__/users/{user.user_id}/signin?next={target}")
        self.say("   Yui's link is the button in her chat: log in as yui@example.com and confirm.")
        self.say("   On /my/line, 'LINEで連携する' links with LINE Login. A user's chat and menu:")
        aiko = self.users["Aiko"].user_id
        x, y = tap_point("unlinked", "連携する")
        self.say(f"     {line}/__emulator__/users/{aiko}/inbox")
        self.say(f"     curl -X POST {line}/__emulator__/users/{aiko}/tap "
                 f"-H 'Content-Type: application/json' -d '{{\"x\": {x}, \"y\": {y}}}'")
