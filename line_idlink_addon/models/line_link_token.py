from odoo import api, fields, models


class LineLinkToken(models.Model):
    """A link token LINE issued for one userId, remembered (as a SHA-256 digest) so the
    ``/line/link`` page knows whose LINE account the visitor is linking."""

    _name = "line.link.token"
    _description = "LINE Link Token"
    _order = "id desc"
    _rec_name = "token_hash"

    token_hash = fields.Char(required=True, readonly=True, index=True)
    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True)
    # the channel's company, not stored: rows inserted with SQL carry it too
    company_id = fields.Many2one(related="channel_id.company_id")
    line_user_id = fields.Char("LINE User ID", required=True)
    issued_at = fields.Datetime(required=True)
    expires_at = fields.Datetime(required=True)

    _sql_constraints = [("token_hash_uniq", "unique(token_hash)", "Link tokens are unique.")]

    @api.autovacuum
    def _gc_line_expired_link_tokens(self):
        """A link token is useless once expired (``/line/link`` refuses it)."""
        self.flush_model()
        self.env.cr.execute("DELETE FROM line_link_token WHERE expires_at < %s",
                            (fields.Datetime.now(),))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count
