import re
import urllib.parse

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.line_idlink_mass_mailing.tests.common import LineMailingCommon
from odoo.addons.line_idlink_sale.tests.common import SaleLineCommon


class LineMailingSaleCommon(LineMailingCommon):
    """LINE mailings (the emulator, linked friends, Odoo's crons: LineMailingCommon) and sales
    orders (SaleLineCommon's product and order helpers) in one test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({
            "name": "Matcha 100g", "list_price": 1200.0, "type": "consu",
            "invoice_policy": "order", "taxes_id": [Command.clear()]})
        cls.user_marketing_sale = new_test_user(
            cls.env, login="line_marketer_sale", name="Saki Sales Marketer",
            groups="base.group_user,base.group_partner_manager,"
                   "mass_mailing.group_mass_mailing_user,"
                   "mass_mailing.group_mass_mailing_campaign,"
                   "sales_team.group_sale_salesman_all_leads,account.group_account_invoice")

    order = SaleLineCommon.order
    rpc = SaleLineCommon.rpc
    open_form = SaleLineCommon.open_form

    def shop_url(self, path):
        return f"{self.base_url()}{path}"

    def click_and_order(self, line_user, qty=1, invoice=False):
        """``line_user``'s customer taps the tracked link of the last LINE message they received
        and orders: Odoo's link tracker redirects the browser to the shop with the mailing's
        ``utm_*`` parameters, Odoo keeps them in the visitor's ``odoo_utm_*`` cookies, and the
        shop's order gets those campaign / medium / source records (what ``utm.mixin.default_get``
        does on the shop's request). Confirmed; invoiced (posted) when ``invoice``."""
        text = line_user.inbox[-1]["message"]["text"]
        path = re.search(r"(/r/\w+)$", text).group(1)
        self.opener.cookies.clear()  # the customer's own browser
        landed = self.url_open(path)
        self.assertEqual(landed.status_code, 200)
        self.assertIn("odoo_utm_medium=LINE", landed.headers.get("Set-Cookie", ""),
                      "Odoo keeps the tracked link's UTM in the visitor's cookies")
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(landed.url).query)
        utm = self.env["utm.mixin"]
        partner = self.env["line.identity"].sudo().search(
            [("line_user_id", "=", line_user.user_id)]).partner_id
        utm_values = {
            field: utm._find_or_create_record(model, params[param][0]).id
            for param, field, model in (("utm_campaign", "campaign_id", "utm.campaign"),
                                        ("utm_medium", "medium_id", "utm.medium"),
                                        ("utm_source", "source_id", "utm.source"))
            if param in params}
        order = self.env["sale.order"].create(dict(utm_values, **{
            "partner_id": partner.id,
            "order_line": [Command.create({"product_id": self.product.id,
                                           "product_uom_qty": qty})]}))
        order.action_confirm()
        if invoice:
            order._create_invoices().action_post()
        return order
