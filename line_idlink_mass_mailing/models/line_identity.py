from odoo import _, fields, models


class LineIdentity(models.Model):
    _inherit = "line.identity"

    line_marketing_optout = fields.Boolean(
        "No LINE Marketing", readonly=True, tracking=True, copy=False,
        help="This LINE user stopped marketing messages (LINE mailings) of this channel; they "
             "still receive transactional messages (orders, shipping, replies).")

    def _line_set_marketing_optout(self, optout, source):
        """Opt these LINE users out of (or back into) LINE mailings; ``source`` says where
        (chat, portal, back office) for the chatter notes on the identity and its partner.
        Returns the identities that changed."""
        changed = self.sudo().filtered(lambda i: i.line_marketing_optout != bool(optout))
        if not changed:
            return changed
        changed.write({"line_marketing_optout": bool(optout)})
        for identity in changed:
            body = (_("Opted out of LINE marketing messages (%(where)s).", where=source)
                    if optout else
                    _("Opted back in to LINE marketing messages (%(where)s).", where=source))
            if identity.partner_id:
                identity.partner_id._message_log(body=body)
        return changed
