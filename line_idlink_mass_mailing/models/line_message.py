from odoo import models


class LineMessage(models.Model):
    _inherit = "line.message"

    def _line_on_state_change(self):
        """The traces of LINE mailings follow their queue rows; a mailing whose traces all left
        the queue is done."""
        result = super()._line_on_state_change()
        rows = self.filtered(lambda r: r.res_model == "mailing.mailing" and r.res_id)
        if rows:
            mailings = self.env["mailing.trace"].sudo()._line_follow_rows(rows)
            mailings._line_update_done()
        return result

    def _line_note_failure(self):
        # a failed request of a mailing is shown on its traces, not once per request on the
        # mailing's chatter (a personalised campaign makes one request per person)
        if self.res_model == "mailing.mailing":
            return None
        return super()._line_note_failure()
