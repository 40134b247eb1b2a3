from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class ResPartner(models.Model):
    _inherit = "res.partner"

    line_marketing_optout = fields.Boolean(
        "No LINE Marketing", compute="_compute_line_marketing_optout",
        inverse="_inverse_line_marketing_optout", search="_search_line_marketing_optout",
        groups="mass_mailing.group_mass_mailing_user,line_idlink_addon.group_line_user",
        help="The customer stopped LINE marketing messages on every linked LINE account "
             "(transactional messages still reach them).")

    @api.depends("line_identity_ids.line_marketing_optout", "line_identity_ids.linked")
    def _compute_line_marketing_optout(self):
        for partner in self:
            linked = partner.sudo().line_identity_ids.filtered("linked")
            partner.line_marketing_optout = bool(linked) and all(
                linked.mapped("line_marketing_optout"))

    def _inverse_line_marketing_optout(self):
        # back office: mailing users and LINE administrators (the field's groups) change it
        if not (self.env.su or self.env.user.has_group("mass_mailing.group_mass_mailing_user")
                or self.env.user.has_group("line_idlink_addon.group_line_admin")):
            raise AccessError(_("Only marketing users change the LINE marketing opt-out."))
        self.check_access("write")
        for partner in self:
            identities = partner.sudo().line_identity_ids.filtered("linked")
            identities._line_set_marketing_optout(
                partner.line_marketing_optout,
                _("back office, %(user)s", user=self.env.user.name))

    def _search_line_marketing_optout(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        partner_ids = self.env["line.identity"].sudo().search([
            ("linked", "=", True), ("line_marketing_optout", "=", True)]).partner_id.ids
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", partner_ids)]
