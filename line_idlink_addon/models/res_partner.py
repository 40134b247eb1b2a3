from odoo import _, api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    line_identity_ids = fields.One2many("line.identity", "partner_id", string="LINE Accounts",
                                        groups="line_idlink_addon.group_line_user")
    line_linked = fields.Boolean("LINE Linked", compute="_compute_line_state",
                                 search="_search_line_linked",
                                 groups="line_idlink_addon.group_line_user")
    line_reachable = fields.Boolean("LINE Reachable", compute="_compute_line_state",
                                    search="_search_line_reachable",
                                    groups="line_idlink_addon.group_line_user",
                                    help="Linked and still a friend of the official account.")
    line_identity_count = fields.Integer(compute="_compute_line_state",
                                         groups="line_idlink_addon.group_line_user")

    @api.depends("line_identity_ids.linked", "line_identity_ids.follow_state")
    def _compute_line_state(self):
        for partner in self:
            linked = partner.sudo().line_identity_ids.filtered("linked")
            partner.line_linked = bool(linked)
            partner.line_reachable = any(i.follow_state == "followed" for i in linked)
            partner.line_identity_count = len(partner.sudo().line_identity_ids)

    @api.model
    def _line_identity_domain(self, reachable):
        """The linked identities (still friends when ``reachable``) that make a partner match."""
        domain = [("linked", "=", True)]
        if reachable:
            domain.append(("follow_state", "=", "followed"))
        return domain

    def _search_line_linked(self, operator, value):
        return self._line_search(operator, value, reachable=False)

    def _search_line_reachable(self, operator, value):
        return self._line_search(operator, value, reachable=True)

    def _line_search(self, operator, value, reachable):
        if operator not in ("=", "!="):
            raise NotImplementedError(_("Unsupported search on LINE state."))
        positive = (operator == "=") == bool(value)
        # an "any" subdomain (one SQL subquery), not the ids of every linked partner
        return [("line_identity_ids", "any" if positive else "not any",
                 self._line_identity_domain(reachable))]

    def write(self, vals):
        result = super().write(vals)
        if set(vals) & self.env["line.rich.menu.rule"]._line_segment_fields():
            self._line_rich_menu_partners_changed()
        return result

    def _line_rich_menu_partners_changed(self):
        """A field read by a segment rule changed: the linked identities of these partners get
        their menus recomputed (queued; the cron applies them)."""
        identities = self.env["line.identity"].sudo().search(
            [("partner_id", "in", self.ids), ("linked", "=", True),
             ("channel_id.rich_menu_rule_ids.role", "=", "segment")])
        if identities:
            identities._line_rich_menu_refresh()

    def action_view_line_identities(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("LINE Accounts"),
                "res_model": "line.identity", "view_mode": "list,form",
                "domain": [("partner_id", "=", self.id)]}
