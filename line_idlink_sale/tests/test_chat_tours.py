import base64
import json
import os
import pathlib
import time

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.line_idlink_addon.tests.test_screenshots import SCREENSHOTS_ENV

from .common import SaleLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestChatTours(SaleLineCommon, HttpCase):
    """Chromium: a linked customer asks 注文履歴 / 請求書 in the emulator's chat page, sees the
    Flex carousel of their own records, follows its link (with the access token, not logged in
    to Odoo, as in LINE's in-app browser) and lands on the portal page. The pages are saved as
    README screenshots when LINE_IDLINK_SCREENSHOTS names a folder."""

    def setUp(self):
        super().setUp()
        self.aiko, self.ident_a = self.friend_linked_to("Aiko", self.partner_a)
        self.bunta, _ident_b = self.friend_linked_to("Bunta", self.partner_b)
        self.chat_url = f"{self.channel.api_base}/__emulator__/users/{self.aiko.user_id}/chat"
        self.browser = ChromeBrowser(self)
        self.addCleanup(self._stop_browser)
        self.authenticate(None, None, browser=self.browser)  # the test cursor's cookie only

    def _stop_browser(self):
        self.browser.stop()
        self._wait_remaining_requests()

    # ---- driving Chromium (DevTools protocol) --------------------------------------------------
    def js(self, expression):
        result = self.browser._websocket_request("Runtime.evaluate", params={
            "expression": expression, "awaitPromise": True, "returnByValue": True}, timeout=30)
        self.assertNotIn("exceptionDetails", result, expression)
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except AssertionError:  # the page is being replaced
                value = None
            if value:
                return value
            time.sleep(0.2)
        self.fail(f"Chromium: {what} (waited {timeout}s for {expression})")

    def screenshot(self, name):
        shot = base64.b64decode(self.browser._websocket_request(
            "Page.captureScreenshot", params={"format": "png"}, timeout=30)["data"])
        self.assertTrue(shot.startswith(b"\x89PNG"))
        folder = os.environ.get(SCREENSHOTS_ENV)
        if folder:
            pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
            (pathlib.Path(folder) / name).write_bytes(shot)

    def ask_in_chat(self, text):
        """Open Aiko's chat, type ``text`` and send it; Odoo receives and answers it."""
        self.browser.navigate_to(self.chat_url, wait_stop=True)
        self.wait_for("!!document.querySelector('form input[name=text]')", "the chat page opens")
        self.js(f"document.querySelector('input[name=text]').value = {json.dumps(text)};"
                "document.querySelector('form button[type=submit]').click()")
        self.wait_for(f"[...document.querySelectorAll('.le-sent')].some("
                      f"e => e.innerText === {json.dumps(text)})", f"{text} is sent")
        self.deliver()  # the webhook reaches Odoo, which replies
        self.browser.navigate_to(self.chat_url, wait_stop=True)
        return self.wait_for(
            "[...document.querySelectorAll('.le-flex:last-of-type .le-bubble')]"
            ".map(b => b.innerText)", "the answer shows in the chat")

    def open_link_of(self, title, label):
        """Tap ``label`` in the bubble titled ``title``; returns the page reached (URL, text)."""
        href = self.js(
            f"(() => {{ const bubble = [...document.querySelectorAll('.le-flex:last-of-type "
            f".le-bubble')].find(b => b.querySelector('p').innerText === {json.dumps(title)});"
            f" const link = [...bubble.querySelectorAll('a.le-button')]"
            f".find(a => a.innerText === {json.dumps(label)}); link.click(); return link.href; }})()")
        base = self.base_url()
        self.wait_for(f"location.href.startsWith({json.dumps(base)}) && "
                      f"document.readyState === 'complete' && "
                      f"document.body.innerText.includes({json.dumps(title)})",
                      f"the portal page of {title}")
        self.wait_until_idle()
        return href, self.js("location.href"), self.js("document.body.innerText")

    def wait_until_idle(self, quiet=1.5):
        """Wait for Odoo's portal page to finish starting (its chatter is mounted, lazily) and
        for the network to be quiet, so that closing Chromium cancels no request."""
        self.wait_for("(() => { if (!document.querySelector('.o_portal_chatter')) return true;"
                      " const root = document.querySelector('#chatterRoot');"
                      " return !!(root && root.shadowRoot && root.shadowRoot.querySelector('div'));"
                      " })()", "the portal chatter is mounted")
        count, since = None, time.monotonic()
        while time.monotonic() - since < quiet:
            now = self.js("performance.getEntriesByType('resource').length")
            if now != count:
                count, since = now, time.monotonic()
            time.sleep(0.25)

    def follow_to_portal(self, record, label, path):
        """Tap ``label`` in ``record``'s bubble: its portal page opens with its access token;
        returns the page's text."""
        href, url, text = self.open_link_of(record.name, label)
        self.assertIn(f"/my/{path}/{record.id}?access_token={record.access_token}", href)
        self.assertTrue(url.startswith(f"{self.base_url()}/my/{path}/{record.id}"), url)
        self.assertIn(record.name, text)
        return text

    # ---- the tours ---------------------------------------------------------------------------
    def test_order_history_in_the_chat_opens_the_order_portal_page(self):
        mine = self.order(self.partner_a, qty=2)
        other = self.order(self.partner_b, qty=3)
        bubbles = self.ask_in_chat("注文履歴")
        self.assertEqual(len(bubbles), 1, "one order, hers only")
        self.assertIn(mine.name, bubbles[0])
        self.assertNotIn(other.name, "".join(bubbles))
        self.screenshot("line-chat-order-history.png")

        text = self.follow_to_portal(mine, "Details", "orders")
        self.assertIn("Matcha 100g", text, "the order's lines, without logging in")
        self.screenshot("odoo-portal-order-from-line.png")

    def test_invoices_in_the_chat_open_the_invoice_portal_page(self):
        due = self.invoice(self.partner_a, amount=5000.0, due_in=10)
        late = self.invoice(self.partner_a, amount=1200.0, due_in=-3)
        other = self.invoice(self.partner_b, amount=700.0)
        bubbles = self.ask_in_chat("請求書")
        self.assertEqual(len(bubbles), 2)
        self.assertIn(late.name, bubbles[0], "the oldest due date first")
        self.assertIn("Overdue", bubbles[0])
        self.assertIn(due.name, bubbles[1])
        self.assertNotIn("Overdue", bubbles[1])
        self.assertNotIn(other.name, "".join(bubbles))
        self.screenshot("line-chat-invoices.png")

        self.follow_to_portal(due, "View and pay", "invoices")
        self.screenshot("odoo-portal-invoice-from-line.png")
