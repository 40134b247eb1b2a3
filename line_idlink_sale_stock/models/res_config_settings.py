from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    line_notice_order_shipped = fields.Boolean(
        related="company_id.line_notice_order_shipped", readonly=False)
