from odoo import fields, models


class LineRichMenuArea(models.Model):
    _inherit = "line.rich.menu.area"

    postback_preset = fields.Selection(
        selection_add=[("points", "My points"), ("member_card", "Member card")],
        ondelete={"points": "set default", "member_card": "set default"})
