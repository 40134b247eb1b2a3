from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    line_notice_order_shipped = fields.Boolean("LINE: Order Shipped", default=False)
