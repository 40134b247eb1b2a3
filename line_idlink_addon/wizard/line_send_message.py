from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from line_idlink import message_builders


class LineSendMessage(models.TransientModel):
    """"Send LINE message" from a partner: a text queued for each linked, following LINE account.

    Each message becomes a ``line.message`` row (with its retry key) in this transaction; the
    queue cron sends it once the transaction is committed. The partner's chatter says what was
    queued and links to the rows; a failure is noted there too.
    """

    _name = "line.send.message"
    _description = "Send LINE Message"

    partner_id = fields.Many2one("res.partner", required=True)
    identity_ids = fields.Many2many("line.identity", string="LINE Accounts",
                                    compute="_compute_identity_ids", store=True, readonly=False)
    body = fields.Text("Message", required=True)

    @api.depends("partner_id")
    def _compute_identity_ids(self):
        for wizard in self:
            wizard.identity_ids = wizard.partner_id.sudo().line_identity_ids.filtered(
                lambda i: i.linked and i.follow_state == "followed")

    def action_send(self):
        self.ensure_one()
        identities = self.identity_ids.sudo()
        if not identities:
            raise UserError(_("%(partner)s has no linked LINE account that follows the official"
                              " account.", partner=self.partner_id.display_name))
        strangers = identities.filtered(lambda i: i.partner_id != self.partner_id
                                        or not i.linked or i.follow_state != "followed")
        if strangers:
            raise UserError(_("%(names)s is not a linked LINE account of %(partner)s that follows"
                              " the official account.", names=", ".join(
                                  strangers.mapped("display_name")),
                              partner=self.partner_id.display_name))
        try:
            message = message_builders.text(self.body)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        queue = self.env["line.message"]
        for identity in identities:
            queue |= queue._line_enqueue(identity.channel_id, identity.line_user_id, [message],
                                         origin=self.partner_id)
        links = Markup(", ").join(
            Markup('<a href="/odoo/action-line_idlink_addon.line_message_action/%s">%s</a>')
            % (row.id, row.identity_id.display_name or row.line_user_id)
            for row in queue.sudo())
        # sudo: a LINE agent may lack write access on the customer, yet the note must be kept
        # (the author stays the agent: sudo keeps env.user)
        self.partner_id.sudo().message_post(body=Markup(_(
            "LINE message queued for %(names)s: %(body)s")) % {"names": links, "body": self.body})
        return {"type": "ir.actions.act_window_close"}
