from odoo import api, fields, models

from line_idlink.postbacks import postback_data

REPLY_ACTION = "mailing_reply"  # the postback action of a mailing's postback button


class LineMailingButton(models.Model):
    """A button of a LINE mailing's buttons template (at most 4, LINE's limit): a URL (tracked
    like the links of the text) or a postback. A recipient's tap on a postback button marks
    their ``mailing.trace`` replied (``line.channel._line_mailing_reply``) and the chat answers
    with ``answer`` (if any)."""

    _name = "line.mailing.button"
    _description = "LINE Mailing Button"
    _order = "mailing_id, sequence, id"
    _rec_name = "label"

    mailing_id = fields.Many2one("mailing.mailing", "Mailing", required=True, index=True,
                                 ondelete="cascade")
    sequence = fields.Integer(default=10)
    kind = fields.Selection([("url", "Open a URL"), ("postback", "Reply (postback)")], "Type",
                            required=True, default="url")
    label = fields.Char("Label", required=True, help="The button's text (at most 20 characters).")
    url = fields.Char("URL", help="The page the button opens (https; tracked like the links of "
                                  "the text).")
    display_text = fields.Char(
        "Display Text", help="Postback: the text shown in the chat as the customer's message "
                             "when they tap (at most 300 characters).")
    answer = fields.Text("Answer", help="Postback: the chat's answer to the tap (optional).")

    def _line_spec(self, index):
        """The dict :func:`..lib.line_content.button_action` builds the action from."""
        self.ensure_one()
        if self.kind == "postback":
            data = postback_data(REPLY_ACTION, m=self.mailing_id.id, b=index) \
                if self.mailing_id.id else f"action={REPLY_ACTION}"
            return {"kind": "postback", "label": self.label, "data": data,
                    "display_text": self.display_text, "answer": self.answer}
        return {"kind": "url", "label": self.label, "url": self.url}

    @api.constrains("kind", "label", "url", "display_text", "answer", "mailing_id")
    def _check_line_button(self):
        self.mailing_id._check_line_content()
