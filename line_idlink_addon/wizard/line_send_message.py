from odoo import _, api, fields, models
from odoo.exceptions import UserError

from line_idlink import messages
from line_idlink.messaging import new_retry_key

from ..lib.line_api import LineCallFailed


class LineSendMessage(models.TransientModel):
    """"Send LINE message" from a partner: a text pushed to each linked, following LINE account.

    The retry key is stored on the wizard line BEFORE the push (the core's key_store hook), so a
    push that might have reached LINE is only ever resent with the same key.
    """

    _name = "line.send.message"
    _description = "Send LINE Message"

    partner_id = fields.Many2one("res.partner", required=True)
    identity_ids = fields.Many2many("line.identity", string="LINE Accounts",
                                    compute="_compute_identity_ids", store=True, readonly=False)
    body = fields.Text("Message", required=True)
    retry_keys = fields.Text(readonly=True)

    @api.depends("partner_id")
    def _compute_identity_ids(self):
        for wizard in self:
            wizard.identity_ids = wizard.partner_id.sudo().line_identity_ids.filtered(
                lambda i: i.linked and i.follow_state == "followed")

    def action_send(self):
        self.ensure_one()
        if not self.identity_ids:
            raise UserError(_("%(partner)s has no linked LINE account that follows the official"
                              " account.", partner=self.partner_id.display_name))
        try:
            message = messages.text(self.body)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        sent = []
        for identity in self.identity_ids.sudo():
            key = new_retry_key()
            self.retry_keys = f"{self.retry_keys or ''}{identity.line_user_id}: {key}\n"
            self.env.flush_all()
            try:
                with identity.channel_id._line_api() as api:
                    result = api.push(identity.line_user_id, [message], retry_key=key)
            except LineCallFailed as exc:
                raise UserError(str(exc)) from exc
            if not result.ok:
                self.partner_id.sudo().message_post(body=_(
                    "LINE message to %(name)s failed: %(error)s (retry key %(key)s).",
                    name=identity.display_name, error=str(result.error), key=key))
                continue
            sent.append(identity.display_name)
        if sent:
            # sudo: a LINE agent may lack write access on the customer, yet the note must be
            # kept (the author stays the agent: sudo keeps env.user)
            self.partner_id.sudo().message_post(body=_("LINE message sent to %(names)s: %(body)s",
                                                names=", ".join(sent), body=self.body))
        return {"type": "ir.actions.act_window_close"}
