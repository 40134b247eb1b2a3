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

    def order_from(self, mailing, partner, qty=1, invoice=False):
        """A confirmed order of ``partner`` carrying ``mailing``'s UTM source, medium and
        campaign, as Odoo's link tracker records them when the customer comes through one of
        the mailing's tracked links; invoiced (posted) when ``invoice``."""
        order = self.env["sale.order"].create({
            "partner_id": partner.id, "source_id": mailing.source_id.id,
            "medium_id": mailing.medium_id.id, "campaign_id": mailing.campaign_id.id,
            "order_line": [Command.create({"product_id": self.product.id,
                                           "product_uom_qty": qty})]})
        order.action_confirm()
        if invoice:
            order._create_invoices().action_post()
        return order
