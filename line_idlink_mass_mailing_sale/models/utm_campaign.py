from odoo import fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    # like mass_mailing_sale_sms for SMS: the A/B winner of LINE mailings by their sales
    # (mass_mailing_sale's sale_quotation_count / sale_invoiced_amount, from the mailing's source)
    ab_testing_line_winner_selection = fields.Selection(selection_add=[
        ("sale_quotation_count", "Quotations"),
        ("sale_invoiced_amount", "Revenues"),
    ], ondelete={"sale_quotation_count": "set default", "sale_invoiced_amount": "set default"})
