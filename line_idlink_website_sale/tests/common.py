import datetime
import json
from urllib.parse import urlsplit

from odoo import fields
from odoo.tests import HttpCase, new_test_user

from odoo.addons.line_idlink_addon.tests.common import LineCommon

QUEUE_CRON = "line_idlink_addon.ir_cron_line_message_queue"


class ShopLineCommon(LineCommon):
    """A website shop with a LINE channel: products, customers, helpers to link them, leave a
    cart and read what LINE received."""

    @classmethod
    def _shop_setup(cls):
        cls._line_setup()
        cls._shop_data()

    @classmethod
    def _shop_data(cls):
        cls.website = cls.env["website"].get_current_website()
        cls.website.write({"send_abandoned_cart_line": True, "cart_abandoned_delay": 1.0})
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.website.company_id.id)], limit=1)
        cls.website.warehouse_id = cls.warehouse
        cls.tea = cls.env["product.product"].create({
            "name": "LINE Green Tea", "list_price": 1200.0, "type": "consu",
            "website_published": True})
        cls.kettle = cls.env["product.product"].create({
            "name": "LINE Kettle", "list_price": 5000.0, "type": "consu", "is_storable": True,
            "allow_out_of_stock_order": False, "website_published": True})
        cls.salesman = new_test_user(
            cls.env, login="line_salesman", password="line_salesman_pw1", name="Sally Sales",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads")

    def link(self, partner, sim_user=None, line_user_id=None, follow_state="followed"):
        """``partner`` linked with a LINE account (data set-up: what a finished account link
        leaves in the database; the webhook of the follow stays queued)."""
        if sim_user and follow_state == "followed":
            sim_user.follow()
        return self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id,
            "line_user_id": sim_user.user_id if sim_user else line_user_id,
            "name": sim_user.display_name if sim_user else "LINE user", "partner_id": partner.id,
            "linked": True, "follow_state": follow_state, "link_method": "messaging_api",
            "linked_since": fields.Datetime.now()})

    def cart(self, partner, product=None, hours_ago=3, qty=1):
        """A website cart of ``partner``, left ``hours_ago`` hours ago (its dates set in the
        database, as if the customer had left it then)."""
        order = self.env["sale.order"].create({
            "partner_id": partner.id, "website_id": self.website.id,
            "order_line": [(0, 0, {"product_id": (product or self.tea).id,
                                   "product_uom_qty": qty})]})
        self.leave(order, hours_ago)
        return order

    def leave(self, order, hours_ago):
        when = fields.Datetime.now() - datetime.timedelta(hours=hours_ago)
        self.env.flush_all()
        self.env.cr.execute("UPDATE sale_order SET date_order = %s, create_date = %s"
                            " WHERE id IN %s", (when, when, tuple(order.ids)))
        order.invalidate_recordset()

    def run_cart_cron(self):
        self.env.ref("line_idlink_website_sale.ir_cron_send_abandoned_cart_line") \
            .method_direct_trigger()

    def send_queue(self):
        self.env.ref(QUEUE_CRON).method_direct_trigger()

    def queued(self, record):
        return self.env["line.message"].search(
            [("res_model", "=", record._name), ("res_id", "=", record.id)])

    @staticmethod
    def received(sim_user):
        """The messages a LINE user received, as JSON text (one per message)."""
        return [json.dumps(entry["message"], ensure_ascii=False) for entry in sim_user.inbox]

    @staticmethod
    def button_uri(sim_user):
        message = sim_user.inbox[-1]["message"]
        return message["contents"]["footer"]["contents"][0]["action"]["uri"]

    def link_target(self, sim_user):
        """Where the button of the last message leads: its URI, or, when link_tracker is
        installed (e.g. by the mailing bridge) and the link is a tracked short link ``/r/<code>``,
        the page that short link redirects to (as the customer's phone follows it)."""
        uri = self.button_uri(sim_user)
        if not urlsplit(uri).path.startswith("/r/"):
            return uri
        self.assertIn("link.tracker", self.env, "a short link only with link_tracker")
        response = self.url_open(uri, allow_redirects=False)
        self.assertEqual(response.status_code, 301, uri)
        return response.headers["Location"]


class ShopHttpCase(ShopLineCommon, HttpCase):
    """The shop set up once per class, the emulator started for each test (``self.emu``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._shop_setup()

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()
