from odoo import _, api, models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_foreign_keys(self, src_partners, dst_partner):
        # Re-point the LINE identities explicitly before the generic SQL pass: that pass DELETES
        # rows whose update violates a constraint, and a link must never vanish silently. A
        # partner may hold several LINE accounts, so every link is kept and noted in the chatter.
        # A merge is part of the link protocol: line.identity refuses partner_id writes otherwise.
        identities = self.env["line.identity"].sudo().search(
            [("partner_id", "in", src_partners.ids)])
        for identity in identities:
            source = identity.partner_id
            identity._line_link_protocol().write({"partner_id": dst_partner.id})
            identity.message_post(body=_(
                "Customer %(old)s merged into %(target)s; the LINE link moved with it.",
                old=source.display_name, target=dst_partner.display_name))
        return super()._update_foreign_keys(src_partners, dst_partner)
