from odoo import fields, models


class LineLoyaltyTier(models.Model):
    """A tier of a loyalty program (e.g. Regular / Silver / Gold): a card whose points reach
    ``threshold`` has this tier (the highest threshold reached wins). Shown on the LIFF member
    card and in the chat."""

    _name = "line.loyalty.tier"
    _description = "LINE Loyalty Tier"
    _order = "program_id, threshold, id"

    program_id = fields.Many2one("loyalty.program", required=True, ondelete="cascade",
                                 index=True)
    company_id = fields.Many2one(related="program_id.company_id")
    name = fields.Char(required=True, translate=True)
    threshold = fields.Float("From Points", required=True, default=0.0,
                             help="A card with at least this many points has this tier.")

    _sql_constraints = [
        ("threshold_positive", "CHECK(threshold >= 0)", "A tier starts at 0 points or more."),
        ("program_threshold_uniq", "unique(program_id, threshold)",
         "Two tiers of a program cannot start at the same number of points."),
    ]
