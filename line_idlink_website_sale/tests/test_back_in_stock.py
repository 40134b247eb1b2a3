import json

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import ShopHttpCase

STOCK_CRON = "website_sale_stock.ir_cron_send_availability_email"


@tagged("post_install", "-at_install", "line_idlink", "line_idlink_website_sale")
class TestBackInStockLine(ShopHttpCase):
    """"Notify me on LINE" on a sold-out product: one message per subscriber when Odoo's
    back-in-stock cron finds it in stock again, then the request ends."""

    def restock(self, product, qty=5.0):
        self.env["stock.quant"].with_context(inventory_mode=True).create({
            "product_id": product.id, "inventory_quantity": qty,
            "location_id": self.warehouse.lot_stock_id.id}).action_apply_inventory()

    def subscribe(self, product, login=None):
        """POST the page's JSON call as the logged-in customer; (result, error message)."""
        if login:
            self.authenticate(login, login)
        response = self.url_open("/shop/line/stock_notification", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"product_id": product.id}}),
            headers={"Content-Type": "application/json"}).json()
        error = response.get("error")
        return response.get("result"), error and error["data"]["message"]

    def requests(self):
        return self.env["line.stock.notification"].search([])

    def test_tour_subscribe_then_notified_once(self):
        aiko, bunta = self.emu.add_user("Aiko LINE"), self.emu.add_user("Bunta LINE")
        self.link(self.user_a.partner_id, aiko)
        self.link(self.user_b.partner_id, bunta)
        self.start_tour(self.kettle.website_url, "line_idlink_website_sale_back_in_stock",
                        login="line_portal_a")
        self.assertEqual(self.requests().partner_id, self.user_a.partner_id)
        self.assertEqual(self.subscribe(self.kettle, "line_portal_b"), ({"subscribed": True},
                                                                        None))
        self.assertEqual(len(self.requests()), 2)

        self.env.ref(STOCK_CRON).method_direct_trigger()
        self.assertEqual(len(self.requests()), 2, "still sold out: everyone keeps waiting")
        self.assertFalse(self.queued(self.kettle))

        self.restock(self.kettle)
        self.env.ref(STOCK_CRON).method_direct_trigger()
        self.assertFalse(self.requests(), "the subscriptions end")
        self.assertEqual(sorted(self.queued(self.kettle).mapped("line_user_id")),
                         sorted([aiko.user_id, bunta.user_id]))
        self.send_queue()
        for user in (aiko, bunta):
            self.assertEqual(len(user.inbox), 1)
            self.assertIn("LINE Kettle", self.received(user)[0])
            self.assertTrue(self.link_target(user).endswith(self.kettle.website_url))

        self.env.ref(STOCK_CRON).method_direct_trigger()
        self.send_queue()
        self.assertEqual([len(aiko.inbox), len(bunta.inbox)], [1, 1], "once")

    @mute_logger("odoo.http")
    def test_only_linked_logged_in_customers_for_sold_out_products(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link(self.user_a.partner_id, aiko)
        # a visitor: Odoo's login is required
        self.authenticate(None, None)
        result, error = self.subscribe(self.kettle)
        self.assertIsNone(result)
        self.assertIn("Session", error)
        # a customer not linked with LINE
        self.assertIn("Link your account with LINE",
                      self.subscribe(self.kettle, "line_portal_b")[1])
        # an available product, an unpublished one
        self.assertIn("is available", self.subscribe(self.tea, "line_portal_a")[1])
        hidden = self.env["product.product"].create({
            "name": "Hidden", "is_storable": True, "allow_out_of_stock_order": False})
        self.assertIn("not available in this shop", self.subscribe(hidden)[1])
        self.assertFalse(self.requests())
        # the product page offers the button to the linked customer, a link to /my/line to
        # the others
        for login, offered, link_first in (("line_portal_a", True, False),
                                           ("line_portal_b", False, True)):
            self.authenticate(login, login)
            info = self.make_jsonrpc_request("/website_sale/get_combination_info", {
                "product_template_id": self.kettle.product_tmpl_id.id,
                "product_id": self.kettle.id, "combination": [], "add_qty": 1})
            self.assertEqual((info["line_stock_notification"],
                              info["line_stock_notification_link"]), (offered, link_first))

    def test_portal_users_see_and_delete_only_their_own(self):
        aiko, bunta = self.emu.add_user("Aiko LINE"), self.emu.add_user("Bunta LINE")
        self.link(self.user_a.partner_id, aiko)
        self.link(self.user_b.partner_id, bunta)
        self.subscribe(self.kettle, "line_portal_a")
        self.subscribe(self.kettle, "line_portal_b")
        mine_a, mine_b = (self.requests().filtered(lambda r: r.partner_id == user.partner_id)
                          for user in (self.user_a, self.user_b))
        Requests = self.env["line.stock.notification"].with_user(self.user_a)
        self.assertEqual(Requests.search([]), mine_a)
        with self.assertRaises(AccessError):
            mine_b.with_user(self.user_a).unlink()
        with self.assertRaises(AccessError):
            Requests.create({"product_id": self.kettle.id, "partner_id": self.user_b.partner_id.id,
                             "website_id": self.website.id})

        # "Cancel" on the product page, as Aiko: only her request goes
        self.authenticate("line_portal_a", "line_portal_a")
        self.make_jsonrpc_request("/shop/line/stock_notification/cancel",
                                  {"product_id": self.kettle.id})
        self.assertEqual(self.requests(), mine_b)

    def test_subscriber_no_longer_reachable_gets_nothing(self):
        aiko = self.emu.add_user("Aiko LINE")
        identity = self.link(self.user_a.partner_id, aiko)
        self.subscribe(self.kettle, "line_portal_a")
        identity.follow_state = "blocked"
        self.restock(self.kettle)
        self.env.ref(STOCK_CRON).method_direct_trigger()
        self.assertFalse(self.requests())
        self.assertFalse(self.queued(self.kettle))
