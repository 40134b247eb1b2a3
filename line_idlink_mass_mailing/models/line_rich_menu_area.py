from odoo import fields, models


class LineRichMenuArea(models.Model):
    _inherit = "line.rich.menu.area"

    postback_preset = fields.Selection(
        selection_add=[("optout", "Stop LINE marketing (asks first)")],
        ondelete={"optout": "set default"})
