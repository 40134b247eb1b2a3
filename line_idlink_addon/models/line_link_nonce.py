from odoo import api, fields, models


class LineLinkNonce(models.Model):
    """One-time account-link nonce, stored only as its SHA-256 digest (see line_idlink.storage).

    Written and consumed through ``lib.odoo_storage`` with single SQL statements, so a nonce
    links at most once even when LINE delivers the ``accountLink`` event twice at once.
    """

    _name = "line.link.nonce"
    _description = "LINE Account-Link Nonce"
    _order = "id desc"
    _rec_name = "nonce_hash"

    nonce_hash = fields.Char(required=True, readonly=True, index=True)
    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True)
    # the channel's company, not stored: rows inserted with SQL carry it too
    company_id = fields.Many2one(related="channel_id.company_id")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    line_user_id = fields.Char("LINE User ID", required=True)
    link_token_hash = fields.Char(required=True)
    issued_at = fields.Datetime(required=True)
    expires_at = fields.Datetime(required=True)
    used_at = fields.Datetime()

    _sql_constraints = [("nonce_hash_uniq", "unique(nonce_hash)", "Nonces are unique.")]

    @api.autovacuum
    def _gc_line_expired_nonces(self):
        """Expired nonces are useless (an expired nonce never links); a used one is kept until
        its expiry so that a replay is still recognised as "already used"."""
        self.flush_model()
        self.env.cr.execute("DELETE FROM line_link_nonce WHERE expires_at < %s",
                            (fields.Datetime.now(),))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count
