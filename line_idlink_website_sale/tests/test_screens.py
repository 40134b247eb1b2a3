import odoo.http
from odoo.tests import tagged

from odoo.addons.line_idlink_addon.tests import test_screenshots

from .common import ShopHttpCase


@tagged("post_install", "-at_install", "line_idlink", "line_idlink_website_sale")
class TestShopScreens(ShopHttpCase):
    """Chromium: the confirmation page's "Link your LINE account", the sold-out product page's
    "Notify me on LINE" and the cart form's "Send on LINE" (saved as README screenshots when
    LINE_IDLINK_SCREENSHOTS names a folder)."""

    capture = test_screenshots.TestScreens.capture  # the module, not the class: not re-run
    session_values = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.write({"name": "Sakura Shop", "login_channel_id": "2006000001",
                           "login_channel_secret": "f" * 32})

    def authenticate(self, user, password, browser=None):
        """The tour's browser session, plus what the shop keeps in it (the last order)."""
        super().authenticate(user, password, browser)
        if self.session_values:
            self.session.update(self.session_values)
            odoo.http.root.session_store.save(self.session)

    def test_confirmation_page_offers_line(self):
        order = self.env["sale.order"].create({
            "partner_id": self.user_a.partner_id.id, "website_id": self.website.id,
            "order_line": [(0, 0, {"product_id": self.tea.id})]})
        order.action_confirm()
        self.session_values = {"sale_last_order_id": order.id}
        self.capture("line_portal_a", "/shop/confirmation",
                     "line_idlink_website_sale_screen_confirmation",
                     "odoo-shop-confirmation-line.png")

    def test_product_page_notify_me_on_line(self):
        self.link(self.user_a.partner_id, line_user_id="U" + "a" * 32)
        self.capture("line_portal_a", self.kettle.website_url,
                     "line_idlink_website_sale_back_in_stock", "odoo-shop-notify-on-line.png")
        self.assertEqual(self.env["line.stock.notification"].search([]).partner_id,
                         self.user_a.partner_id)

    def test_cart_form_send_on_line(self):
        partner = self.env["res.partner"].create({"name": "Aiko Guest"})
        self.link(partner, line_user_id="U" + "b" * 32)
        cart = self.cart(partner)
        self.salesman.write({"password": "line_salesman"})
        self.capture("line_salesman", f"/odoo/sale.order/{cart.id}",
                     "line_idlink_website_sale_send_on_line", "odoo-shop-send-on-line.png")
        self.assertTrue(cart.cart_recovery_line_sent)
        self.assertEqual(self.queued(cart).line_user_id, "U" + "b" * 32)
