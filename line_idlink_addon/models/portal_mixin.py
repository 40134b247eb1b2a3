from odoo import models


class PortalMixin(models.AbstractModel):
    _inherit = "portal.mixin"

    def _line_ensure_access_tokens(self):
        """``_portal_ensure_token`` for many records with one UPDATE, for the links a LINE
        message carries (order, invoice, cart pages): a ``write`` per record costs a cron of
        thousands of them most of its time (on an invoice it also re-synchronises the lines)."""
        self.flush_recordset(["access_token"])
        missing = self.filtered(lambda record: not record.sudo().access_token)
        if not missing:
            return
        self.env.cr.execute(
            f'UPDATE "{self._table}" SET access_token = gen_random_uuid()::text '
            "WHERE id IN %s AND access_token IS NULL", [tuple(missing.ids)])
        missing.invalidate_recordset(["access_token"])
