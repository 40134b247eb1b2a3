from odoo import fields, models


class LineRichMenuArea(models.Model):
    _inherit = "line.rich.menu.area"

    postback_preset = fields.Selection(
        selection_add=[("orders", "My orders"), ("invoices", "My invoices"),
                       ("balance", "My balance"), ("custom",)],
        ondelete={"orders": "set default", "invoices": "set default", "balance": "set default"})
