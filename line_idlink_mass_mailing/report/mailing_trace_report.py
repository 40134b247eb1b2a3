from odoo import fields, models


class MailingTraceReport(models.Model):
    _inherit = "mailing.trace.report"

    mailing_type = fields.Selection(selection_add=[("line", "LINE")],
                                    ondelete={"line": "set default"})
