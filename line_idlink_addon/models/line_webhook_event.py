import json
import logging
import time

from odoo import _, api, fields, models

from ..lib.event_handlers import ChannelEventHandlers
from ..lib.line_api import LineCallFailed
from ..lib.odoo_storage import to_dt

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 60  # 1, 2, 4, 8 minutes between attempts


class LineWebhookEvent(models.Model):
    """A webhook event as LINE sent it: the queue row the cron processes.

    States: ``pending`` (stored by the webhook route, or waiting for ``next_try`` after a
    transient failure) -> ``processing`` (claimed by one worker) -> ``done`` | ``error``.
    Only transient failures (LINE unreachable or 5xx on a call with no side effect yet) are
    retried, with exponential backoff; any other error stops at ``error`` so nothing is answered
    twice (the core's rule), and stays visible to administrators.
    """

    _name = "line.webhook.event"
    _description = "LINE Webhook Event"
    _order = "received_at desc, id desc"
    _rec_name = "event_id"

    event_id = fields.Char("Webhook Event ID", required=True, readonly=True)
    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    # the channel's company, not stored: rows inserted with SQL carry it too
    company_id = fields.Many2one(related="channel_id.company_id")
    event_type = fields.Char(compute="_compute_event_type")
    payload = fields.Text(required=True, readonly=True)
    state = fields.Selection([("pending", "Pending"), ("processing", "Processing"),
                              ("done", "Done"), ("error", "Error")],
                             default="pending", required=True, index=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_try = fields.Datetime("Next Try", readonly=True)
    received_at = fields.Datetime(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    _sql_constraints = [("event_id_uniq", "unique(event_id)",
                         "A webhook event is stored once (LINE redelivers with the same id).")]

    @api.depends("payload")
    def _compute_event_type(self):
        for event in self:
            try:
                event.event_type = json.loads(event.payload or "{}").get("type")
            except ValueError:
                event.event_type = False

    def action_retry(self):
        """Administrators put failed events back in the queue by hand."""
        self.filtered(lambda e: e.state == "error").write(
            {"state": "pending", "next_try": False, "error": False})
        self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")._trigger()

    @api.model
    def _cron_process(self, limit=200, clock=time.time):
        channels = self.env["line.channel"].sudo().search([])
        done = 0
        for channel in channels:
            done += self._process_channel(channel, limit, clock)
        return done

    @api.model
    def _process_channel(self, channel, limit=200, clock=time.time):
        storage = channel._line_storage()
        records = storage.pending_events(limit=limit, now=clock())
        if not records:
            return 0
        handlers = ChannelEventHandlers(channel)
        receiver = channel._line_receiver(handlers.mapping(), clock=clock)
        count = 0
        try:
            for record in records:
                if not storage.claim_event(record.event_id, clock()):
                    continue
                count += 1
                try:
                    with self.env.cr.savepoint():
                        outcome = receiver.process(record)
                except LineCallFailed as exc:
                    self._failed(storage, record, exc, exc.transient, clock)
                    continue
                except Exception as exc:  # noqa: BLE001 - recorded on the event for the admins
                    _logger.exception("LINE event %s failed", record.event_id)
                    self._failed(storage, record, exc, False, clock)
                    continue
                storage.finish_event(record.event_id, clock(),
                                     None if outcome.handled else "unhandled")
        finally:
            handlers.close()
        return count

    def _failed(self, storage, record, exc, transient, clock):
        event = self.sudo().search([("event_id", "=", record.event_id)])
        error = f"{type(exc).__name__}: {exc}"
        if transient and event.attempts < MAX_ATTEMPTS:
            next_try = clock() + BACKOFF_SECONDS * 2 ** (event.attempts - 1)
            storage.retry_event(record.event_id, next_try, error)
            self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")._trigger(
                to_dt(next_try))
        else:
            storage.finish_event(record.event_id, clock(), error)
            event.channel_id.message_post(body=_(
                "LINE event %(event)s (%(type)s) failed: %(error)s",
                event=record.event_id, type=event.event_type, error=error))
