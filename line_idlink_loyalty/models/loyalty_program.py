from odoo import fields, models


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    line_points_notice = fields.Boolean(
        "LINE Points Notices", default=True,
        help="Send a LINE message to the linked customer each time a card's points change (by an"
             " order or by staff). Transactional: sent even to customers who opted out of"
             " marketing messages.")
    line_tier_ids = fields.One2many("line.loyalty.tier", "program_id", string="Tiers", copy=True,
                                    help="Shown on the LINE member card: the highest tier whose"
                                         " threshold the card's points reach.")

    def _line_tier(self, points):
        """The name of the tier ``points`` reach in this program, or "" (no tiers, or below the
        lowest threshold)."""
        self.ensure_one()
        reached = self.line_tier_ids.filtered(lambda t: t.threshold <= points)
        return reached.sorted("threshold")[-1:].name or ""
