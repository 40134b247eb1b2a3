import datetime

from odoo import api, fields, models

REMINDER_BATCH = 200
OVERDUE_WINDOW_DAYS = 30  # the overdue notice is for invoices that fell due in the last 30 days


class AccountMove(models.Model):
    _inherit = "account.move"

    # At most once per invoice and stage: only the code writes these flags (sudo), so that no
    # user can reset one over JSON-RPC and make a notice go twice.
    line_posted_notice_sent = fields.Boolean("Invoice Sent on LINE", readonly=True, copy=False,
                                             groups="base.group_system")
    line_due_notice_sent = fields.Boolean("Due Reminder Sent on LINE", readonly=True, copy=False,
                                          groups="base.group_system")
    line_overdue_notice_sent = fields.Boolean("Overdue Notice Sent on LINE", readonly=True,
                                              copy=False, groups="base.group_system")

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        invoices = posted.filtered(lambda m: m.move_type == "out_invoice"
                                   and m.state == "posted" and not m.sudo().line_posted_notice_sent)
        if invoices:
            queued = self.env["line.notice.template"]._line_notify("invoice_posted", invoices)
            invoices.filtered(lambda m: m.id in queued.mapped("res_id")).sudo().write(
                {"line_posted_notice_sent": True})
        return posted

    # ---- DUE / OVERDUE REMINDERS (daily cron) -------------------------------------------------
    @api.model
    def _line_reminder_domain(self, stage, company):
        """Invoices of ``company`` that get the ``stage`` ("due" or "overdue") reminder today:
        posted customer invoices not (fully) paid, whose customer has a reachable LINE link,
        not reminded of this stage yet."""
        today = fields.Date.context_today(self)
        reachable = self._line_reachable_domain(company)
        if stage == "due":
            days = company.line_notice_due_days
            dates = [("invoice_date_due", ">=", today),
                     ("invoice_date_due", "<=", today + datetime.timedelta(days=days))]
        else:
            dates = [("invoice_date_due", "<", today),
                     ("invoice_date_due", ">=",
                      today - datetime.timedelta(days=OVERDUE_WINDOW_DAYS))]
        return [("company_id", "=", company.id), ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"), ("payment_state", "in", ("not_paid", "partial")),
                (f"line_{stage}_notice_sent", "=", False), *dates,
                "|", ("partner_id.line_identity_ids", "any", reachable),
                ("commercial_partner_id.line_identity_ids", "any", reachable)]

    @api.model
    def _line_reachable_domain(self, company):
        return [("linked", "=", True), ("follow_state", "!=", "blocked"),
                ("channel_id.company_id", "=", company.id)]

    @api.model
    def _cron_line_invoice_reminders(self):
        """Daily: the "due in N days" and "overdue" notices, at most once per invoice and stage.
        Candidates are selected by one search per company and stage (SQL); each call handles a
        batch and ir.cron calls again while some remain (``_notify_progress``)."""
        Move = self.sudo()
        done = remaining = 0
        for company in self.env["res.company"].sudo().search([]):
            for stage in ("due", "overdue"):
                if not company[f"line_notice_invoice_{stage}"]:
                    continue
                domain = Move._line_reminder_domain(stage, company)
                batch = Move.search(domain, limit=REMINDER_BATCH - done, order="id") \
                    if done < REMINDER_BATCH else Move
                if batch:
                    batch._line_send_reminders(stage)
                    done += len(batch)
                remaining += Move.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    def _line_send_reminders(self, stage):
        """Queue the reminder of ``stage`` for these invoices and flag them all (an invoice whose
        customer turned out unreachable is not tried again for this stage)."""
        self.env["line.notice.template"]._line_notify(f"invoice_{stage}", self)
        self.sudo().write({f"line_{stage}_notice_sent": True})
