from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class MailingLineTest(models.TransientModel):
    """Send a LINE mailing to the marketer's own linked LINE account (like ``mailing.sms.test``),
    through the outgoing queue; the body is rendered on the first recipient (on the marketer
    when the mailing targets contacts)."""

    _name = "mailing.line.test"
    _description = "Test LINE Mailing"

    mailing_id = fields.Many2one("mailing.mailing", "Mailing", required=True,
                                 ondelete="cascade")
    # the marketer's own LINE account, read as superuser: marketers need no access to
    # line.identity (LINE user ids) to test on their own account
    identity_name = fields.Char("Your LINE Account", compute="_compute_identity_name",
                                help="Your own LINE account linked on the mailing's channel.")

    def _line_identity(self):
        self.ensure_one()
        return self.env["line.identity"].sudo().search([
            ("channel_id", "=", self.mailing_id.line_channel_id.id),
            ("partner_id", "=", self.env.user.partner_id.id), ("linked", "=", True),
            ("follow_state", "=", "followed")], limit=1)

    @api.depends("mailing_id")
    def _compute_identity_name(self):
        for wizard in self:
            wizard.identity_name = wizard._line_identity().display_name or False

    def action_send_line(self):
        self.ensure_one()
        mailing = self.mailing_id
        mailing.check_access("write")
        identity = self._line_identity()
        if not identity:
            raise UserError(_("Link your own LINE account on the channel %(channel)s (and "
                              "follow it) to receive test messages.",
                              channel=mailing.line_channel_id.display_name))
        mailing._line_check_ready()
        if mailing.mailing_model_real == "res.partner":
            record = self.env.user.partner_id
        else:
            record = self.env[mailing.mailing_model_real].search(
                mailing._get_recipients_domain(), limit=1)
        if not record:
            raise UserError(_("The mailing has no recipient to render the test on."))
        messages = mailing._line_render_bodies([record.id])[record.id]
        if isinstance(messages, UserError):
            raise messages
        self.env["line.message"].sudo()._line_enqueue(
            mailing.line_channel_id, identity.line_user_id, messages, origin=mailing)
        mailing._message_log(body=Markup("<p>%s</p>") % _(
            "Test LINE message queued for %(identity)s (rendered on %(record)s).",
            identity=identity.display_name, record=record.display_name))
        return True
