"""The reference shop served next to a seeded emulator, with helpers that act like the people
using them: LINE users in the chat, customers in a browser."""

import pytest

from line_emulator import Emulator, EmulatorServer
from line_idlink_dev.reference import LineSettings, serve_reference, tap_point
from line_idlink_dev.reference.browser import Browser
from line_idlink.retry import Backoff

PASSWORD = "line-demo"


class Shop:
    def __init__(self, tmp_path):
        self.emu = Emulator(seed=5, delivery="sync")
        self.line = EmulatorServer(self.emu).start()
        self.server = None
        self.server = serve_reference(
            str(tmp_path / "shop.db"), LineSettings.from_emulator(self.line),
            clock=self.emu.clock.now, backoff=Backoff(base=0.001, cap=0.01, seed=1))
        self.app = self.server.app
        self.url = self.server.url
        self.emu.config.webhook_url = f"{self.url}/line/webhook"
        self.browsers = []

    def stop(self):
        for browser in self.browsers:
            browser.close()
        if self.server is not None:
            self.server.stop()
        self.line.stop()

    # People -------------------------------------------------------------------------------
    def user(self, name, follow=True):
        user = self.emu.add_user(name)
        if follow:
            user.follow()
        return user

    def browser(self, line_user=None):
        """A browser; ``line_user``: the LINE user this phone is logged in to LINE as."""
        browser = Browser({self.url: "app", self.line.base_url: "LINE"})
        if line_user is not None:
            browser.sign_in_to_line(self.line.base_url, line_user.user_id)
        self.browsers.append(browser)
        return browser

    def log_in(self, browser, email, page=None):
        page = page or browser.get(f"{self.url}/login")
        return browser.submit(page, "/login", email=email, password=PASSWORD)

    def customer_id(self, email):
        return self.app.db.customer_by_email(email)["id"]

    # Flows --------------------------------------------------------------------------------
    def link_url_from_chat(self, user):
        """The user taps 連携する on the menu; the URL of the button the bot answers with."""
        before = len(user.inbox)
        user.tap(*tap_point("unlinked", "連携する"))
        [button] = [item["message"] for item in user.inbox[before:]]
        return button["template"]["actions"][0]["uri"]

    def confirm_page(self, browser, link_url, email):
        page = browser.get(link_url)
        assert "/login" in page.url
        return self.log_in(browser, email, page)

    def link_via_chat(self, user, email):
        browser = self.browser(user)
        page = self.confirm_page(browser, self.link_url_from_chat(user), email)
        return browser.submit(page, "/line/link")

    def link_via_login(self, user, email):
        browser = self.browser(user)
        self.log_in(browser, email)
        return browser, browser.get(f"{self.url}/line/login?purpose=link")

    # What happened ------------------------------------------------------------------------
    @staticmethod
    def received(user, before=0):
        """The messages ``user`` got since their inbox held ``before`` of them."""
        return [item["message"] for item in user.inbox[before:]]

    def linked_customer(self, user):
        customer_id = self.app.linker.customer_for(user.user_id)
        return int(customer_id) if customer_id else None

    def menu_role(self, user):
        roles = {menu_id: role for role, menu_id in self.app.menu_ids.items()}
        return roles.get(user.rich_menu["richMenuId"])

    def count(self, table):
        return self.app.db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]

    def requests(self, endpoint):
        return [entry for entry in self.emu.request_log if entry["endpoint"] == endpoint]


@pytest.fixture
def shop(tmp_path):
    shop = Shop(tmp_path)
    yield shop
    shop.stop()
