from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    line_notice_order_confirmed = fields.Boolean("LINE: Order Confirmed", default=False)
    line_notice_invoice_posted = fields.Boolean("LINE: Invoice Posted", default=False)
    line_notice_invoice_due = fields.Boolean("LINE: Invoice Due Soon", default=False)
    line_notice_due_days = fields.Integer("LINE: Days Before Due Date", default=3)
    line_notice_invoice_overdue = fields.Boolean("LINE: Invoice Overdue", default=False)
