from odoo import api, fields, models

from .mailing_mailing import QUEUE_TO_TRACE_FAILURE

# line.message state -> trace status; a trace moves only forward (a late answer never turns a
# delivered or clicked trace back), except "Retry" (failed -> queued)
ROW_STATE_TO_TRACE_STATUS = {
    "outgoing": "outgoing",
    "sending": "process",
    "sent": "sent",
    "error": "error",
    "canceled": "cancel",
}
# the trace statuses each new status may replace
TRACE_STATUS_FROM = {
    "outgoing": ("outgoing", "process", "error"),
    "process": ("outgoing",),
    "sent": ("outgoing", "process", "error"),
    "error": ("outgoing", "process"),
    "cancel": ("outgoing", "process"),
}


class MailingTrace(models.Model):
    """LINE traces: one per targeted record of a LINE mailing.

    ``line_user_uid`` is the LINE userId it was sent to (empty when the record has no linked
    LINE account); ``line_message_id_int`` the ``line.message`` row that carries it (an Integer
    like SMS's ``sms_id_int``: sent queue rows are purged after the retention period, the traces
    stay). A multicast row carries up to 500 traces.

    Status: ``outgoing`` (in the queue) -> ``sent`` (LINE accepted it: LINE reports no delivery
    receipts, so this is "Delivered") | ``error`` (``failure_type`` line_*, LINE's reason in
    ``failure_reason``) | ``cancel`` (canceled while queued); excluded records are ``cancel``
    from the start with the reason (not linked, blocked, opted out, duplicate). A click on a
    per-recipient tracked link sets ``open`` and the click date, as for SMS.
    """

    _inherit = "mailing.trace"

    trace_type = fields.Selection(selection_add=[("line", "LINE")],
                                  ondelete={"line": "set default"})
    line_message_id_int = fields.Integer("LINE Request ID", index="btree_not_null",
                                         readonly=True)
    line_user_uid = fields.Char("LINE User ID", index="btree_not_null", readonly=True)
    failure_type = fields.Selection(selection_add=[
        ("line_no_link", "No linked LINE account"),
        ("line_unfollowed", "Blocked the LINE account"),
        ("line_optout", "Opted out of LINE marketing"),
        ("line_duplicate", "Duplicate LINE user"),
        ("line_content", "Content refused (LINE limits)"),
        ("line_quota", "LINE monthly quota reached"),
        ("line_auth", "LINE channel token refused"),
        ("line_rejected", "Refused by LINE"),
        ("line_server", "LINE unreachable"),
        ("line_unknown", "LINE: unknown outcome"),
    ], ondelete={key: "set null" for key in (
        "line_no_link", "line_unfollowed", "line_optout", "line_duplicate", "line_content",
        "line_quota", "line_auth", "line_rejected", "line_server", "line_unknown")})

    def init(self):
        super().init()
        # "is any trace of this mailing still in the queue?" after every LINE answer
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS mailing_trace_line_pending
                ON mailing_trace (mass_mailing_id)
             WHERE trace_status IN ('outgoing', 'process')""")

    @api.model
    def _line_follow_rows(self, rows):
        """Set-based: the traces of these ``line.message`` rows take the rows' state."""
        if not rows:
            return self.env["mailing.mailing"]
        self.env.flush_all()
        cr = self.env.cr
        now = fields.Datetime.now()
        mailing_ids = set()
        for row in rows:
            status = ROW_STATE_TO_TRACE_STATUS.get(row.state)
            if not status:
                continue
            failure = QUEUE_TO_TRACE_FAILURE.get(row.failure_type) if status == "error" else None
            cr.execute("""
                UPDATE mailing_trace
                   SET trace_status = %(status)s,
                       failure_type = %(failure)s,
                       failure_reason = %(reason)s,
                       sent_datetime = CASE WHEN %(status)s = 'sent'
                                            THEN COALESCE(sent_datetime, %(now)s)
                                            ELSE sent_datetime END,
                       write_date = %(now)s
                 WHERE line_message_id_int = %(row)s AND trace_type = 'line'
                   AND trace_status IN %(from)s
             RETURNING mass_mailing_id""", {
                "status": status, "failure": failure,
                "reason": row.failure_reason if status == "error" else None,
                "now": now, "row": row.id, "from": TRACE_STATUS_FROM[status]})
            mailing_ids.update(r[0] for r in cr.fetchall())
        self.invalidate_model(["trace_status", "failure_type", "failure_reason",
                               "sent_datetime"])
        return self.env["mailing.mailing"].sudo().browse(mailing_ids)
