from odoo import api, models

from .res_partner import _MERGING, _MERGING_KEY


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    @api.model
    def _update_values(self, src_partners, dst_partner):
        # the purchase-history fields are not copied from the merged contacts (they are
        # computed, and refused by res.partner.write): recomputed in _merge below
        return super()._update_values(src_partners,
                                      dst_partner.with_context({_MERGING_KEY: _MERGING}))

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        partners = self.env["res.partner"].browse(partner_ids).exists()
        if partners:
            partners._line_update_purchase_stats()  # the orders now all belong to one of them
        return result
