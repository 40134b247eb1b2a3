from urllib.parse import parse_qs, urlsplit

import odoo.http
from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests.test_line_login import LineLoginMixin

from .common import ShopLineCommon


@tagged("post_install", "-at_install", "line_idlink", "line_idlink_website_sale")
class TestCheckoutLine(LineLoginMixin, ShopLineCommon, HttpCase):
    """"Log in with LINE" at checkout and "Link your LINE account" on the order confirmation,
    against the emulator's LINE Login, back to the page that asked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._shop_data()

    def order(self, partner, confirm=True):
        order = self.env["sale.order"].create({
            "partner_id": partner.id, "website_id": self.website.id,
            "order_line": [(0, 0, {"product_id": self.tea.id})]})
        if confirm:
            order.action_confirm()
        return order

    def in_session(self, **values):
        """Put ``values`` in this browser's Odoo session (what the shop stores there)."""
        self.session.update(values)
        odoo.http.root.session_store.save(self.session)

    def follow_cta(self, sim_user):
        """Press "Link your LINE account" on /shop/confirmation and log in at LINE: the
        callback's response."""
        page = self.url_open("/shop/confirmation")
        self.assertIn("o_line_confirmation_link", page.text)
        cta = self.url_open("/shop/confirmation/line", allow_redirects=False)
        self.assertEqual(cta.status_code, 303)
        start = urlsplit(cta.headers["Location"])
        self.assertEqual(start.path, "/line/login/start")
        self.assertEqual(parse_qs(start.query)["redirect"], ["/shop/confirmation"])
        login = self.url_open(f"{start.path}?{start.query}", allow_redirects=False)
        response = self.callback(self.emu.login.authorize(sim_user, login.headers["Location"]))
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/shop/confirmation")
        return response

    def test_checkout_sign_in_offers_log_in_with_line(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link(self.user_a.partner_id, aiko)
        self.authenticate(None, None)
        cart = self.order(self.website.user_id.partner_id, confirm=False)
        self.in_session(sale_order_id=cart.id)
        page = self.url_open("/shop/address")
        self.assertIn("o_line_checkout_login", page.text)
        href = self.login_button_href(page)
        self.assertEqual(parse_qs(urlsplit(href).query)["redirect"], ["/shop/checkout"])
        start = self.url_open(href, allow_redirects=False)
        response = self.callback(self.emu.login.authorize(aiko, start.headers["Location"]))
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/shop/checkout")
        self.adopt_session(response)
        self.assertEqual(self.session.uid, self.user_a.id)

    def test_guest_links_line_on_the_confirmation_page(self):
        aiko = self.emu.add_user("Aiko LINE")
        guest = self.env["res.partner"].create({"name": "Guest Buyer",
                                                "email": "guest@example.com"})
        order = self.order(guest)
        self.authenticate(None, None)
        self.in_session(sale_last_order_id=order.id)
        self.follow_cta(aiko)
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, guest, "the customer of the order just placed")
        self.assertFalse(self.session.uid, "still a guest")
        page = self.url_open("/shop/confirmation")
        self.assertIn("o_line_confirmation_linked", page.text)
        self.assertNotIn("o_line_confirmation_link\"", page.text)
        self.assertIn(order.name, page.text)

    def test_customer_links_line_on_the_confirmation_page(self):
        aiko = self.emu.add_user("Aiko LINE")
        order = self.order(self.user_a.partner_id)
        self.authenticate("line_portal_a", "line_portal_a")
        self.in_session(sale_last_order_id=order.id)
        self.follow_cta(aiko)
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_a.partner_id)
        self.assertIn("o_line_confirmation_linked", self.url_open("/shop/confirmation").text)

    def test_guest_whose_line_account_is_linked_logs_in(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link(self.user_a.partner_id, aiko)
        guest = self.env["res.partner"].create({"name": "Guest Buyer"})
        order = self.order(guest)
        self.authenticate(None, None)
        self.in_session(sale_last_order_id=order.id)
        self.adopt_session(self.follow_cta(aiko))
        self.assertEqual(self.session.uid, self.user_a.id, "logged in as the linked customer")
        self.assertEqual(self.identity(aiko).partner_id, self.user_a.partner_id, "not moved")
        self.assertFalse(self.env["line.identity"].search([("partner_id", "=", guest.id)]))

    def test_no_link_for_another_account_or_without_an_order(self):
        # an order whose customer has an account: a guest browser cannot link it
        order = self.order(self.user_b.partner_id)
        self.authenticate(None, None)
        self.in_session(sale_last_order_id=order.id)
        self.assertNotIn("o_line_confirmation_link", self.url_open("/shop/confirmation").text)
        # no order in this browser: back to the shop, nothing started
        self.authenticate(None, None)
        response = self.url_open("/shop/confirmation/line", allow_redirects=False)
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/shop/confirmation")
        self.assertNotIn("line_login_request", odoo.http.root.session_store.get(
            self.session.sid))
