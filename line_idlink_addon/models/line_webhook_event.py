import datetime
import functools
import json
import logging
import threading
import time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import config

from line_idlink.webhook import is_transient

from ..lib.event_run import EventRun
from ..lib.odoo_storage import lost_race, to_dt

_logger = logging.getLogger(__name__)

RETENTION_PARAM = "line_idlink.event_retention_days"
DEFAULT_RETENTION_DAYS = 30
CRON_CHUNK = 20  # events read per query by the cron
CRON_BUDGET = 10.0  # seconds one cron call works at most (see _line_cron_budget)


def transient(exc):
    """The core's retry policy, plus a lost database race (a new transaction succeeds)."""
    return is_transient(exc) or lost_race(exc)


class LineWebhookEvent(models.Model):
    """A webhook event as LINE sent it: the queue row the cron processes.

    States: ``pending`` (stored by the webhook route, or waiting for ``next_try`` after a
    transient failure) -> ``processing`` (claimed by one worker) -> ``done`` | ``error``.
    Processing is the core's ``WebhookReceiver.process_pending`` and its retry policy: transient
    failures (LINE unreachable or 5xx, a lost database race) are tried again after 1, 2, 4, 8
    minutes, 5 attempts in all; any other error stops at ``error`` and stays visible to
    administrators. Each event goes to the ``line.channel`` method of its type
    (``_line_event_methods``, ``models/line_channel_events.py``); those methods only change the
    database, their calls to LINE (rich menu, reply) run after the event is committed
    (``lib/event_run.py``), so nothing is answered twice.
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

    @api.model
    def _line_retention_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM)
        try:
            days = int(value) if value not in (None, False, "") else DEFAULT_RETENTION_DAYS
        except ValueError:
            _logger.warning("%s=%r is not a number of days: %s days are kept", RETENTION_PARAM,
                            value, DEFAULT_RETENTION_DAYS)
            return DEFAULT_RETENTION_DAYS
        return max(days, 1)

    @api.autovacuum
    def _gc_line_processed_events(self):
        """Delete processed events (done or error) finished more than the retention period ago
        (system parameter ``line_idlink.event_retention_days``, default 30). Pending and
        processing events are never deleted."""
        limit = fields.Datetime.now() - datetime.timedelta(days=self._line_retention_days())
        self.flush_model()
        self.env.cr.execute("""DELETE FROM line_webhook_event
                                WHERE state IN ('done', 'error') AND finished_at < %s""",
                            (limit,))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count

    def action_retry(self):
        """LINE Administrators put failed events back in the queue by hand. Events are read-only
        to them otherwise: an event's payload, channel and id are what LINE signed, and a
        rewritten payload would act for any LINE user (e.g. unlink a customer)."""
        if not self.env.user.has_group("line_idlink_addon.group_line_admin"):
            raise AccessError(_("Only LINE Administrators can retry LINE events."))
        self.check_access("read")
        self.sudo().filtered(lambda e: e.state == "error").write(
            {"state": "pending", "next_try": False, "error": False})
        self.env.ref("line_idlink_addon.ir_cron_line_webhook_events").sudo()._trigger()

    @api.model
    def _line_cron_needs_trigger(self, cr):
        """False when the event cron is already sure to see the event just committed, so the
        webhook route need not add a trigger (a row, and a new connection to the ``postgres``
        database for its NOTIFY, per request: the most expensive part of the route).

        ``cr`` must be in a transaction that began after the event's commit. Sure: a due trigger
        created after the latest run of the cron began (its newest ``ir.cron.progress`` row,
        committed before the run counts the events left). Such a trigger is not seen by the runs
        already going on, so their end (``fully done`` deletes the past triggers they see) cannot
        delete it, and any later run sees the event. Each trigger wakes the cron when it is
        committed (NOTIFY); only a trigger of the last second counts, so a wake-up the cron
        could not act on (registry still loading, job held by another cron worker) is sent
        again within a second, never left to the cron's 60-second poll."""
        cron = self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")
        cr.execute("""
            SELECT 1 FROM ir_cron_trigger
             WHERE cron_id = %s AND call_at <= now() at time zone 'UTC'
               AND create_date > now() at time zone 'UTC' - interval '1 second'
               AND create_date > coalesce((SELECT create_date FROM ir_cron_progress
                                            WHERE cron_id = %s ORDER BY id DESC LIMIT 1),
                                          '-infinity'::timestamp)
             LIMIT 1""", (cron.id, cron.id))
        return cr.fetchone() is None

    @api.model
    def _cron_process(self, limit=200):
        """Process the pending events whose time has come, channel by channel, oldest first.

        Each event is committed on its own (its work, its state, then the calls to LINE it asked
        for): a later failure never rolls back an earlier event, nor a reply already sent.

        One call works for at most :meth:`_line_cron_budget` seconds (or ``limit`` events), in
        chunks of :data:`CRON_CHUNK` events, then reports to ``ir.cron`` how many events are
        ready *now* (counted again at the end: events stored while it ran are included). While
        some remain, ``ir.cron`` calls it again at once, and a trigger is added so that the
        cron worker is woken even when no new webhook arrives. Reporting 0 remaining lets
        ``ir.cron`` delete the past triggers: that is only said when nothing is ready.
        """
        channels = self.env["line.channel"].sudo().search([]).filtered("channel_secret")
        deadline = time.monotonic() + self._line_cron_budget()
        done = 0
        for channel in channels:
            while done < limit:
                count = self._process_channel(channel, min(CRON_CHUNK, limit - done))
                done += count
                if count:  # committed: a crash after this still counts as progress
                    self.env["ir.cron"]._notify_progress(done=done, remaining=1)
                    self.env.cr.commit()
                if count and time.monotonic() < deadline:
                    continue
                break
            if time.monotonic() >= deadline:
                break
        # what is left is counted on these channels only: an event of an archived channel must
        # not make ir.cron run again at once, forever
        remaining = self._line_ready_count(channels.ids)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if remaining:
            # ir.cron runs a job at most 10 times in a row and then waits for a wake-up
            self.env.ref("line_idlink_addon.ir_cron_line_webhook_events").sudo()._trigger()
        self.env.cr.commit()
        return done

    @api.model
    def _line_cron_budget(self):
        """Seconds one cron call may work: well below the cron's real-time limit, which covers
        up to 10 calls in a row (``ir.cron``) and the other jobs of the same run; a worker over
        it is killed (prefork) or the whole server is restarted (threaded)."""
        limit = config.get("limit_time_real_cron") or 0
        if limit < 0:
            limit = config.get("limit_time_real") or 0
        budget = CRON_BUDGET
        if limit > 0:
            budget = min(budget, limit / 20)
            started = getattr(threading.current_thread(), "start_time", None)
            if started:  # threaded server: the run's clock started before the first job
                budget = min(budget, limit / 2 - (time.time() - started))
        return max(budget, 0)

    @api.model
    def _line_ready_count(self, channel_ids):
        self.flush_model()
        self.env.cr.execute("""SELECT count(*) FROM line_webhook_event
                                WHERE state = 'pending' AND channel_id = ANY(%s)
                                  AND (next_try IS NULL OR next_try <= %s)""",
                            (channel_ids, fields.Datetime.now()))
        return self.env.cr.fetchone()[0]

    @api.model
    def _process_channel(self, channel, limit):
        """Process up to ``limit`` ready events of ``channel``; returns how many."""
        run = EventRun(channel)
        handlers = {event_type: functools.partial(method, run)
                    for event_type, method in run.channel._line_event_methods().items()}
        receiver = channel._line_receiver(handlers, clock=time.time)
        receiver.transient = transient
        cron = self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")
        commit = self.env.cr.commit
        done = 0

        def checkpoint(outcome):
            nonlocal done
            if outcome.error and outcome.error != "unhandled":
                run.discard()
                if outcome.retry_at is not None:
                    cron._trigger(to_dt(outcome.retry_at))
                else:
                    self._line_post_failure(channel, outcome)
            commit()  # the event's work and its state, together
            run.run_after_commit(commit)
            done += 1

        try:
            receiver.process_pending(limit, atomic=self.env.cr.savepoint, checkpoint=checkpoint)
        finally:
            run.close()
        return done

    def _line_post_failure(self, channel, outcome):
        event = self.sudo().search([("event_id", "=", outcome.event_id)], limit=1)
        channel.message_post(body=_(
            "LINE event %(event)s (%(type)s) failed: %(error)s",
            event=outcome.event_id, type=event.event_type or outcome.type, error=outcome.error))
