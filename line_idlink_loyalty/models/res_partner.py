from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError


class ResPartner(models.Model):
    _inherit = "res.partner"

    line_card_opened_at = fields.Datetime(
        "LINE Member Card Opened", readonly=True, copy=False,
        groups="line_idlink_addon.group_line_user",
        help="When the customer last opened the LINE member card (LIFF) with a verified LINE"
             " account.")

    def action_line_send_member_card(self):
        """Push the member card (a Flex card with a button to the LIFF page) to every LINE
        account linked to these customers, through the outgoing queue."""
        if not self.env.user.has_group("line_idlink_addon.group_line_user"):
            raise AccessError(_("Only LINE users may send LINE messages."))
        identities = self.env["line.identity"].sudo().search(
            [("partner_id", "in", self.ids), ("linked", "=", True),
             ("follow_state", "!=", "blocked"), ("channel_id.active", "=", True),
             ("channel_id.company_id", "in", self.env.companies.ids)])
        if not identities:
            raise UserError(_("No LINE account is linked to %(names)s (or it blocked the"
                              " official account).",
                              names=", ".join(self.mapped("display_name"))))
        queued = self.env["line.message"]
        for identity in identities:
            channel = identity.channel_id
            channel = channel.with_context(lang=channel._line_chat_lang(identity))
            message = channel._line_member_card_message(identity)
            queued |= self.env["line.message"].sudo()._line_enqueue(
                identity.channel_id, identity.line_user_id, [message],
                origin=identity.partner_id)
        for partner in identities.partner_id:
            partner.message_post(body=_("LINE member card sent."))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Member card queued"),
                           "message": _("%(count)s LINE message(s) queued.", count=len(queued)),
                           "type": "success", "sticky": False}}
