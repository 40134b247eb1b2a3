import json
from urllib.parse import urlsplit

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ShopHttpCase


@tagged("post_install", "-at_install", "line_idlink", "line_idlink_website_sale")
class TestAbandonedCartLine(ShopHttpCase):
    """Abandoned carts reminded on LINE: Odoo's conditions (switch, delay, later order...),
    customers without e-mail included, once per cart, through the outgoing queue."""

    def customer(self, name, email=False):
        return self.env["res.partner"].create({"name": name, "email": email})

    def test_linked_customer_without_email_is_reminded_once(self):
        aiko = self.emu.add_user("Aiko LINE")
        partner = self.customer("Aiko Guest")  # no e-mail: Odoo's e-mail cannot reach her
        self.link(partner, aiko)
        cart = self.cart(partner, qty=2)
        self.website.send_abandoned_cart_email = True
        # Odoo's own e-mail cron flags a cart without e-mail as done; LINE still reminds it
        self.env.ref("website_sale.ir_cron_send_availability_email").method_direct_trigger()
        self.assertTrue(cart.cart_recovery_email_sent)

        self.run_cart_cron()
        message = self.queued(cart)
        self.assertEqual(len(message), 1)
        self.assertEqual((message.state, message.line_user_id), ("outgoing", aiko.user_id))
        self.assertTrue(cart.cart_recovery_line_sent)
        self.assertTrue(cart.access_token)
        self.assertIn("reminder sent on LINE", cart.message_ids[0].body)
        self.assertFalse(aiko.inbox, "nothing leaves before the queue runs")

        self.send_queue()
        self.assertEqual(len(aiko.inbox), 1)
        text = self.received(aiko)[0]
        self.assertIn("LINE Green Tea", text)
        self.assertIn("Aiko Guest", text)
        uri = self.link_target(aiko)
        self.assertEqual(urlsplit(uri).path, "/shop/cart")
        self.assertEqual(urlsplit(uri).query, f"access_token={cart.access_token}")
        self.assertEqual([r["retryKey"] for r in self.emu.requests_for("pushMessage")],
                         [message.retry_key])

        # the cron runs again (next hour), the cart is still abandoned: no second reminder
        self.leave(cart, hours_ago=30)
        self.run_cart_cron()
        self.send_queue()
        self.assertEqual(len(self.queued(cart)), 1)
        self.assertEqual(len(aiko.inbox), 1)

    def test_reminder_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_website_sale"],
                                                        ["ja_JP"], overwrite=True)
        aiko = self.emu.add_user("Aiko LINE")
        partner = self.customer("Aiko")
        partner.lang = "ja_JP"
        self.link(partner, aiko)
        self.cart(partner)
        self.run_cart_cron()
        self.send_queue()
        message = aiko.inbox[0]["message"]
        text = self.received(aiko)[0]
        self.assertIn("Aiko 様", text)
        self.assertIn("カートに商品が残っています", message["altText"])
        self.assertEqual(message["contents"]["footer"]["contents"][0]["action"]["label"],
                         "注文を再開する")

    def test_reminder_link_restores_the_cart(self):
        aiko = self.emu.add_user("Aiko LINE")
        partner = self.customer("Aiko Guest")
        self.link(partner, aiko)
        cart = self.cart(partner)
        self.run_cart_cron()
        self.send_queue()
        parts = urlsplit(self.link_target(aiko))
        # another browser (the phone that opened LINE): Odoo offers to restore the cart
        self.authenticate(None, None)
        page = self.url_open(f"{parts.path}?{parts.query}&revive=squash")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(urlsplit(page.url).path, "/shop/cart")
        self.assertIn("LINE Green Tea", page.text)
        self.assertIn(f'data-order-id="{cart.id}"', page.text, "this very cart")

    def test_same_conditions_as_the_email(self):
        users = {name: self.emu.add_user(name) for name in ("A", "B", "C", "D", "E", "F")}
        partners = {name: self.customer(f"Customer {name}", f"{name.lower()}@example.com")
                    for name in users}
        for name in ("A", "B", "D", "E", "F"):
            self.link(partners[name], users[name])
        # C is not linked; D blocked the official account
        self.env["line.identity"].search([("partner_id", "=", partners["D"].id)]).write(
            {"follow_state": "blocked"})
        ok = self.cart(partners["A"])
        ordered_since = self.cart(partners["B"])
        later = self.env["sale.order"].create({
            "partner_id": partners["B"].id, "website_id": self.website.id,
            "order_line": [(0, 0, {"product_id": self.tea.id})]})
        later.action_confirm()
        not_linked = self.cart(partners["C"])
        blocked = self.cart(partners["D"])
        too_recent = self.cart(partners["E"], hours_ago=0.5)
        sold_out = self.cart(partners["F"], product=self.kettle)  # no stock left
        free = self.env["product.product"].create({"name": "Free sample", "list_price": 0,
                                                   "website_published": True})
        free_cart = self.cart(partners["A"], product=free)

        self.run_cart_cron()
        reminded = self.env["line.message"].search([("res_model", "=", "sale.order")])
        self.assertEqual(reminded.mapped("res_id"), [ok.id])
        self.assertTrue(ordered_since.cart_recovery_line_sent, "checked once, like Odoo")
        self.assertTrue(sold_out.cart_recovery_line_sent)
        self.assertTrue(free_cart.cart_recovery_line_sent)
        self.assertFalse(not_linked.cart_recovery_line_sent, "may still link and be reminded")
        self.assertFalse(blocked.cart_recovery_line_sent)
        self.assertFalse(too_recent.cart_recovery_line_sent)

        # the website's switch off: nothing
        self.website.send_abandoned_cart_line = False
        self.leave(too_recent, hours_ago=3)
        self.run_cart_cron()
        self.assertFalse(self.queued(too_recent))

    def test_cron_works_in_batches(self):
        """One batch per call (ir.cron calls again while carts remain, committing between)."""
        self.env["ir.config_parameter"].set_param("line_idlink_website_sale.cart_batch", 1)
        for name in ("Aiko", "Bunta"):
            partner = self.customer(name)
            self.link(partner, self.emu.add_user(name))
            self.cart(partner)
        reminders = self.env["line.message"].search_count
        self.run_cart_cron()
        self.assertEqual(reminders([("res_model", "=", "sale.order")]), 1)
        self.run_cart_cron()
        self.assertEqual(reminders([("res_model", "=", "sale.order")]), 2)

    def test_many_carts_in_one_run_each_get_their_own_reminder(self):
        """The cron renders its carts in one batch (the template compiled once per language)
        and queues them with one batched enqueue: each customer still gets their own text, in
        their language, with their own retry key, once."""
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_website_sale"],
                                                        ["ja_JP"], overwrite=True)
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        users, carts = [], self.env["sale.order"]
        for name, lang, qty in (("Aiko", "ja_JP", 1), ("Bunta", "en_US", 2),
                                ("Chika", "ja_JP", 3), ("Daichi", "en_US", 4)):
            partner = self.customer(name)
            partner.lang = lang
            users.append(self.emu.add_user(name))
            self.link(partner, users[-1])
            carts |= self.cart(partner, qty=qty)
        template = self.env.ref("line_idlink_website_sale.mail_template_sale_cart_recovery_line")
        odoo_bodies = {cart.id: template._render_field("body_html", cart.ids,
                                                       compute_lang=True)[cart.id]
                       for cart in carts}  # Odoo's own rendering, one cart at a time
        self.assertEqual(template.with_context(line_qweb_compile_once=True)._render_field(
            "body_html", carts.ids, compute_lang=True), odoo_bodies)

        self.run_cart_cron()
        rows = self.env["line.message"].search([("res_model", "=", "sale.order"),
                                                ("res_id", "in", carts.ids)])
        self.assertEqual(len(rows), 4)
        self.assertEqual(len(set(rows.mapped("retry_key"))), 4)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                         triggers + 1, "one wake-up of the queue for the whole batch")
        self.assertTrue(all(carts.mapped("cart_recovery_line_sent")))
        self.send_queue()
        for user, cart, greeting in zip(users, carts, ("Aiko 様", "Hello Bunta",
                                                       "Chika 様", "Hello Daichi")):
            self.assertEqual(len(user.inbox), 1)
            text = self.received(user)[0]
            self.assertIn(greeting, text)
            self.assertIn(f"x {int(cart.order_line.product_uom_qty)}", text)
            self.assertEqual(urlsplit(self.link_target(user)).query,
                             f"access_token={cart.access_token}")

    def test_send_on_line_button(self):
        aiko = self.emu.add_user("Aiko LINE")
        linked, other = self.customer("Aiko Guest"), self.customer("Not on LINE")
        self.link(linked, aiko)
        cart, other_cart = self.cart(linked), self.cart(other)
        self.website.send_abandoned_cart_line = False  # the button works without the cron

        self.authenticate("line_salesman", "line_salesman_pw1")
        form = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "sale.order", "method": "get_views", "args": [[[False, "form"]]],
            "kwargs": {}})
        arch = form["views"]["form"]["arch"]
        self.assertIn('name="action_recovery_line_send"', arch)
        self.assertIn("Send on LINE", arch)
        values = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "sale.order", "method": "read",
            "args": [[cart.id, other_cart.id], ["line_cart_recovery_available"]], "kwargs": {}})
        self.assertEqual([v["line_cart_recovery_available"] for v in values], [True, False])

        result = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "sale.order", "method": "action_recovery_line_send",
            "args": [[cart.id]], "kwargs": {}})
        self.assertEqual(result["tag"], "display_notification")
        self.assertTrue(cart.cart_recovery_line_sent)
        self.send_queue()
        self.assertEqual(len(aiko.inbox), 1)
        values = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "sale.order", "method": "read",
            "args": [[cart.id], ["line_cart_recovery_available"]], "kwargs": {}})
        self.assertFalse(values[0]["line_cart_recovery_available"], "the button is gone")
        for method, args in (("write", [[cart.id], {"cart_recovery_line_sent": False}]),
                             ("action_recovery_line_send", [[cart.id]])):
            with mute_logger("odoo.http"):
                response = self.url_open("/web/dataset/call_kw", data=json.dumps({
                    "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                        "model": "sale.order", "method": method, "args": args,
                        "kwargs": {}}}), headers={"Content-Type": "application/json"}).json()
            self.assertIn("error", response, f"{method} refused")
        self.assertTrue(cart.cart_recovery_line_sent)
        self.assertEqual(len(self.queued(cart)), 1, "a cart is reminded once")

        with mute_logger("odoo.http"):
            response = self.url_open("/web/dataset/call_kw", data=json.dumps({
                "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                    "model": "sale.order", "method": "action_recovery_line_send",
                    "args": [[other_cart.id]], "kwargs": {}}}),
                headers={"Content-Type": "application/json"}).json()
        self.assertIn("not linked with LINE", response["error"]["data"]["message"])
        self.assertFalse(self.queued(other_cart))


@tagged("post_install", "-at_install", "line_idlink", "line_idlink_website_sale")
class TestAbandonedCartTour(ShopHttpCase):
    """Chromium: a linked customer fills a cart and leaves; the reminder reaches LINE; its
    link brings the cart back."""

    def test_cart_abandoned_and_reminded(self):
        aiko = self.emu.add_user("Aiko LINE")
        partner = self.user_a.partner_id
        self.link(partner, aiko)
        self.start_tour("/shop", "line_idlink_website_sale_cart_abandon", login="line_portal_a")
        cart = self.env["sale.order"].search([("partner_id", "=", partner.id),
                                              ("website_id", "=", self.website.id)])
        self.assertEqual(cart.order_line.product_id, self.tea)

        self.run_cart_cron()
        self.assertFalse(self.queued(cart), "not abandoned yet (the website's delay)")
        self.leave(cart, hours_ago=2)
        self.run_cart_cron()
        self.send_queue()
        self.assertEqual(len(aiko.inbox), 1)
        self.assertIn("LINE Green Tea", self.received(aiko)[0])
        parts = urlsplit(self.link_target(aiko))
        self.start_tour(f"{parts.path}?{parts.query}", "line_idlink_website_sale_cart_resume",
                        login="line_portal_a")
