from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _line_shop_identity(self, company):
        """This customer's LINE account (sudo ``line.identity``) that the shop can message:
        linked, still a friend, in an active channel of ``company``; empty if none."""
        self.ensure_one()
        return self.env["line.identity"].sudo().search([
            ("partner_id", "=", self.id), ("linked", "=", True),
            ("follow_state", "=", "followed"), ("channel_id.company_id", "=", company.id)],
            order="id", limit=1)
