import datetime
import json
import logging
import re
import threading
import uuid

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from line_idlink import message_builders
from line_idlink.sender import (MULTICAST_MAX, InvalidMessages, check_aggregation_unit,
                                to_messages)
from line_idlink.retry import QuotaExceeded, RetriesExhausted

from ..lib.line_api import LineCallFailed
from ..lib.pg_ratelimit import PgRateLimiter, RateLimitWait

_logger = logging.getLogger(__name__)

QUEUE_CRON = "line_idlink_addon.ir_cron_line_message_queue"
# LINE user, group and room ids: U/C/R + 32 lowercase hex digits
RECIPIENT_ID = re.compile(r"^[UCR][0-9a-f]{32}$")
BATCH_SIZE = 50           # rows claimed per batch (system parameter line_idlink_addon.queue_batch)
LEASE_SECONDS = 300       # a claimed row not finished by then is resumed by another worker
SEND_ATTEMPTS = 3         # HTTP attempts per processing of a row (backoff 0-0.5 s, 0-1 s)
RETRY_DELAYS = (60, 120, 300, 900, 1800, 3600)  # seconds before each automatic retry
RATE_LIMIT_MAX_WAIT = 5.0  # longer rate-limit waits put the row back instead of sleeping
KEY_TTL_SAFE = 23 * 3600  # LINE forgets retry keys after 24 hours


def _now():
    return fields.Datetime.now()


def _check_message_limits(index, message):
    """The size limits of ``line_idlink.message_builders`` on messages built elsewhere."""
    where = f"messages[{index}]"
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidMessages(f"{where}: a text message needs a non-empty text")
        if message_builders.u16len(text) > message_builders.TEXT_MAX:
            raise InvalidMessages(f"{where}: the text is {message_builders.u16len(text)} characters;"
                                  f" LINE allows at most {message_builders.TEXT_MAX}")
    if "altText" in message:
        alt = message.get("altText")
        if not isinstance(alt, str) or not alt or \
                message_builders.u16len(alt) > message_builders.ALT_TEXT_MAX:
            raise InvalidMessages(f"{where}: altText is 1 to {message_builders.ALT_TEXT_MAX} "
                                  "characters")
    if kind == "flex":
        contents = message.get("contents") or {}
        limit = (message_builders.FLEX_CAROUSEL_BYTES if contents.get("type") == "carousel"
                 else message_builders.FLEX_BUBBLE_BYTES)
        if message_builders.json_size(contents) > limit:
            raise InvalidMessages(f"{where}: the Flex contents are "
                                  f"{message_builders.json_size(contents)} bytes; LINE allows "
                                  f"at most {limit}")
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") if isinstance(quick, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= message_builders.QUICK_REPLY_MAX:
            raise InvalidMessages(f"{where}: a quick reply has 1 to "
                                  f"{message_builders.QUICK_REPLY_MAX} items")


class LineMessage(models.Model):
    """The durable outgoing LINE queue: one row per request to LINE (a push, or a multicast to
    up to 500 users), like ``sms.sms`` for SMS.

    The retry key (``X-Line-Retry-Key``) is generated and committed with the row, before any
    request: every attempt, automatic retry, resumption after a crash or manual "Retry" sends
    the same key, and LINE answers 409 (counted as sent) to a request it already accepted.

    States: ``outgoing`` (in queue, maybe waiting for ``next_try``) -> ``sending`` (claimed by
    one worker with ``FOR UPDATE SKIP LOCKED``, committed, leased until ``lease_until``) ->
    ``sent`` | ``error`` (with ``failure_type`` and LINE's reason) ; ``outgoing`` ->
    ``canceled`` by a user. Throttling (429), 5xx, timeouts and dropped connections go back to
    ``outgoing`` with a later ``next_try``; other 4xx and the monthly quota stop at ``error``.
    """

    _name = "line.message"
    _description = "LINE Message"
    _order = "id desc"
    _rec_name = "preview"

    channel_id = fields.Many2one("line.channel", "Channel", required=True, readonly=True,
                                 ondelete="cascade", index=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    kind = fields.Selection([("push", "Push"), ("multicast", "Multicast")], required=True,
                            default="push", readonly=True)
    line_user_id = fields.Char("Recipient", readonly=True,
                               help="The LINE userId (or group/room id) of a push.")
    recipients = fields.Text("Recipients (JSON)", readonly=True,
                             help="The userIds of a multicast, a JSON list of up to 500.")
    recipient_count = fields.Integer("Recipients Count", readonly=True)
    identity_id = fields.Many2one("line.identity", "LINE User", readonly=True,
                                  ondelete="set null", index="btree_not_null")
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True, ondelete="set null",
                                 index="btree_not_null")
    messages = fields.Text("Messages (JSON)", required=True, readonly=True)
    preview = fields.Char("Message", readonly=True)
    notification_disabled = fields.Boolean("Silent", readonly=True)
    aggregation_unit = fields.Char(readonly=True)
    retry_key = fields.Char("Retry Key", required=True, readonly=True, copy=False,
                            help="X-Line-Retry-Key: stored before the first attempt and sent "
                                 "with every attempt, so LINE delivers the request once.")
    state = fields.Selection([("outgoing", "In Queue"), ("sending", "Sending"),
                              ("sent", "Sent"), ("error", "Failed"), ("canceled", "Canceled")],
                             default="outgoing", required=True, readonly=True, index=True,
                             copy=False)
    failure_type = fields.Selection([
        ("throttled", "LINE asked to slow down"),
        ("unreachable", "LINE unreachable or failing"),
        ("quota", "Monthly message quota reached"),
        ("rejected", "Refused by LINE"),
        ("token", "Channel access token refused"),
        ("config", "Channel not configured"),
        ("key_expired", "Maybe delivered: retry key expired"),
        ("unknown", "Unexpected error"),
    ], readonly=True, copy=False)
    failure_reason = fields.Text("Reason", readonly=True, copy=False)
    attempts = fields.Integer(readonly=True, copy=False,
                              help="Requests made to LINE for this message.")
    retry_count = fields.Integer("Automatic Retries", readonly=True, copy=False)
    next_try = fields.Datetime("Next Try", readonly=True, copy=False)
    first_try = fields.Datetime("First Attempt", readonly=True, copy=False)
    lease_until = fields.Datetime(readonly=True, copy=False)
    claim_token = fields.Char(readonly=True, copy=False)
    request_id = fields.Char("LINE Request ID", readonly=True, copy=False)
    sent_message_ids = fields.Char("LINE Message IDs", readonly=True, copy=False)
    sent_date = fields.Datetime("Sent On", readonly=True, copy=False)
    res_model = fields.Char("Origin Model", readonly=True)
    res_id = fields.Many2oneReference("Origin ID", model_field="res_model", readonly=True)
    origin_name = fields.Char("Origin", compute="_compute_origin_name")

    _sql_constraints = [("retry_key_uniq", "unique(retry_key)",
                         "A retry key identifies one request to LINE.")]

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS line_message_queue_due
                ON line_message (next_try, id) WHERE state IN ('outgoing', 'sending')""")

    @api.depends("res_model", "res_id")
    def _compute_origin_name(self):
        for message in self:
            name = False
            if message.res_model in self.env and message.res_id:
                record = self.env[message.res_model].sudo().browse(message.res_id).exists()
                name = record.display_name if record else False
            message.origin_name = name

    # ---- ENQUEUE API --------------------------------------------------------------------------
    @api.autovacuum
    def _gc_line_finished_messages(self):
        """Delete sent and canceled messages older than the retention period (the system
        parameter ``line_idlink.event_retention_days`` of the webhook events, default 30).
        Failed rows stay until somebody retries or cancels them; queued ones are never purged."""
        days = self.env["line.webhook.event"]._line_retention_days()
        limit = fields.Datetime.now() - datetime.timedelta(days=days)
        self.flush_model()
        self.env.cr.execute("""DELETE FROM line_message WHERE state IN ('sent', 'canceled')
                                  AND COALESCE(sent_date, write_date) < %s""", (limit,))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count

    @api.model
    def _line_enqueue(self, channel, line_user_id, messages, origin=None,
                      notification_disabled=False, aggregation_unit=None):
        """Queue a push of ``messages`` (1 to 5 LINE message dicts, as ``line_idlink.message_builders``
        builds them) to ``line_user_id`` through ``channel``; returns the ``line.message`` row.

        Bad input (no such channel, a malformed userId, messages LINE would refuse) raises a
        :class:`UserError` and stores nothing. The row and its retry key are written in the
        caller's transaction: nothing reaches LINE before it commits; the queue cron is woken
        with ``_trigger()`` (it runs after the commit). ``origin``: the record the message is
        about (kept as ``res_model``/``res_id``; failures are noted on its chatter).
        A batch of one: see :meth:`_line_enqueue_batch` to queue many pushes at once.
        """
        return self._line_enqueue_batch(channel, [(line_user_id, messages, origin)],
                                        notification_disabled=notification_disabled,
                                        aggregation_unit=aggregation_unit)

    @api.model
    def _line_enqueue_batch(self, channel, items, notification_disabled=False,
                            aggregation_unit=None):
        """Queue many pushes through ``channel`` at once (a cron's reminders): ``items`` are
        ``(line_user_id, messages, origin)`` tuples or dicts with these keys; returns the
        ``line.message`` rows in the order of ``items``.

        Each row is what :meth:`_line_enqueue` makes of its item (its own retry key, written in
        the caller's transaction, nothing sent before the commit), but the rows are created
        with one ``create`` and the queue cron is woken once. Every item is checked before
        anything is stored: one bad item raises a :class:`UserError` naming it, and nothing of
        the batch is queued."""
        channel = self._line_check_channel(channel)
        items = list(items or [])
        vals_list = []
        for index, item in enumerate(items):
            try:
                vals_list.append(self._line_push_values(channel, item, notification_disabled,
                                                        aggregation_unit))
            except UserError as exc:
                if len(items) == 1:
                    raise
                raise UserError(_("LINE message %(index)s of %(count)s cannot be queued: "
                                  "%(error)s", index=index + 1, count=len(items),
                                  error=exc.args[0])) from exc
        if not vals_list:
            return self.browse()
        identities = {identity.line_user_id: identity
                      for identity in self.env["line.identity"].sudo().search([
                          ("channel_id", "=", channel.id),
                          ("line_user_id", "in", list({v["line_user_id"] for v in vals_list}))])}
        for values in vals_list:
            identity = identities.get(values["line_user_id"])
            values.update(identity_id=identity.id if identity else False,
                          partner_id=identity.partner_id.id if identity else False)
        return self._line_create(vals_list)

    @api.model
    def _line_push_values(self, channel, item, notification_disabled, aggregation_unit):
        """The values of one push row of :meth:`_line_enqueue_batch` (identity aside)."""
        if isinstance(item, dict):
            line_user_id, messages, origin = (item.get("line_user_id"), item.get("messages"),
                                              item.get("origin"))
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3):
            line_user_id, messages, origin = (*item, None)[:3]
        else:
            raise UserError(_("A LINE message to queue is (LINE user id, messages, origin), "
                              "not %(value)r.", value=item))
        if not isinstance(line_user_id, str) or not RECIPIENT_ID.match(line_user_id):
            raise UserError(_("%(value)r is not a LINE user, group or room id.",
                              value=line_user_id))
        values = self._line_values(channel, messages, origin, notification_disabled,
                                   aggregation_unit)
        values.update(kind="push", line_user_id=line_user_id, recipient_count=1)
        return values

    @api.model
    def _line_enqueue_multicast(self, channel, line_user_ids, messages, origin=None,
                                notification_disabled=False, aggregation_unit=None):
        """Queue ONE multicast request to 1..500 distinct LINE userIds (split larger audiences
        into several calls); same contract as :meth:`_line_enqueue`."""
        channel = self._line_check_channel(channel)
        ids = list(line_user_ids or [])
        if not 1 <= len(ids) <= MULTICAST_MAX:
            raise UserError(_("A LINE multicast goes to 1 to %(max)s users, not %(count)s.",
                              max=MULTICAST_MAX, count=len(ids)))
        bad = [i for i in ids if not isinstance(i, str) or not i.startswith("U")
               or not RECIPIENT_ID.match(i)]
        if bad:
            raise UserError(_("%(value)r is not a LINE user id.", value=bad[0]))
        if len(set(ids)) != len(ids):
            raise UserError(_("A LINE multicast lists each user once."))
        values = self._line_values(channel, messages, origin, notification_disabled,
                                   aggregation_unit)
        values.update(kind="multicast", recipients=json.dumps(ids), recipient_count=len(ids))
        return self._line_create(values)

    @api.model
    def _line_check_channel(self, channel):
        if isinstance(channel, int):
            channel = self.env["line.channel"].browse(channel)
        if not isinstance(channel, models.BaseModel) or channel._name != "line.channel" \
                or len(channel) != 1 or not channel.sudo().exists():
            raise UserError(_("Choose one LINE channel to send this message through."))
        return channel.sudo()

    @api.model
    def _line_check_messages(self, messages):
        """LINE message dicts (as the core's builders in ``line_idlink.message_builders`` make them) ->
        the list to store; :class:`UserError` naming the problem when LINE would refuse them."""
        if isinstance(messages, dict):
            messages = [messages]
        if not isinstance(messages, (list, tuple)):
            raise UserError(_("LINE messages must be a list of message objects."))
        messages = [m.to_dict() if hasattr(m, "to_dict") and not isinstance(m, dict) else m
                    for m in messages]
        try:
            to_messages(messages)  # 1 to 5 messages of types the LINE SDK knows, required fields
            for index, message in enumerate(messages):
                _check_message_limits(index, message)
            json.dumps(messages)
        except (InvalidMessages, message_builders.MessageTooLarge, ValueError, TypeError) as exc:
            raise UserError(_("This LINE message cannot be sent: %(error)s",
                              error=str(exc))) from exc
        return list(messages)

    @api.model
    def _line_values(self, channel, messages, origin, notification_disabled, aggregation_unit):
        stored = self._line_check_messages(messages)
        try:
            check_aggregation_unit(aggregation_unit)
        except InvalidMessages as exc:
            raise UserError(_("This LINE message cannot be sent: %(error)s",
                              error=str(exc))) from exc
        res_model, res_id = False, False
        if isinstance(origin, models.BaseModel) and origin:
            origin.ensure_one()
            res_model, res_id = origin._name, origin.id
        elif isinstance(origin, (tuple, list)) and len(origin) == 2:
            res_model, res_id = origin
        return {"channel_id": channel.id, "messages": json.dumps(stored, ensure_ascii=False),
                "preview": self._line_preview(stored),
                "notification_disabled": bool(notification_disabled),
                "aggregation_unit": aggregation_unit or False,
                "retry_key": str(uuid.uuid4()), "state": "outgoing",
                "res_model": res_model, "res_id": res_id}

    @api.model
    def _line_create(self, values):
        """Create the row(s) of ``values`` (a dict or a list of dicts) and wake the queue cron
        once."""
        message = self.sudo().create(values)
        self.env.ref(QUEUE_CRON).sudo()._trigger()
        return message.with_env(self.env)

    @staticmethod
    def _line_preview(stored):
        first = stored[0]
        text = first.get("text") or first.get("altText") or f"[{first.get('type')}]"
        text = " ".join(str(text).split())
        if len(stored) > 1:
            text = f"{text} (+{len(stored) - 1})"
        return text if len(text) <= 80 else text[:79] + "…"

    # ---- USER ACTIONS -------------------------------------------------------------------------
    def _line_check_manage(self):
        """LINE administrators manage every row; LINE users the rows they queued."""
        self.check_access("read")
        if self.env.user.has_group("line_idlink_addon.group_line_admin") or self.env.su:
            return
        if any(message.create_uid != self.env.user for message in self):
            raise AccessError(_("Only a LINE administrator may retry or cancel LINE messages "
                                "queued by someone else."))

    def _line_lock(self):
        """Lock the rows and read their current state from the database."""
        self.flush_recordset()
        self.env.cr.execute("SELECT id FROM line_message WHERE id IN %s FOR UPDATE",
                            [tuple(self.ids)])
        self.invalidate_recordset()

    def action_retry(self):
        """Put failed messages back in the queue; they keep their retry key."""
        self._line_check_manage()
        self._line_lock()
        wrong = self.filtered(lambda m: m.state != "error")
        if wrong:
            raise UserError(_("Only failed LINE messages can be retried (%(names)s is not).",
                              names=", ".join(wrong.mapped("display_name"))))
        for message in self.sudo():
            values = {"state": "outgoing", "next_try": False, "retry_count": 0,
                      "failure_type": False, "failure_reason": False}
            if message.failure_type == "key_expired":
                values["first_try"] = False  # the user checked it was not delivered
            message.write(values)
        self.sudo()._line_on_state_change()
        self.env.ref(QUEUE_CRON).sudo()._trigger()
        return True

    def action_cancel(self):
        """Cancel messages still waiting in the queue (not those being sent)."""
        self._line_check_manage()
        self._line_lock()
        wrong = self.filtered(lambda m: m.state != "outgoing")
        if wrong:
            raise UserError(_("Only LINE messages waiting in the queue can be canceled "
                              "(%(names)s is not).",
                              names=", ".join(wrong.mapped("display_name"))))
        self.sudo().write({"state": "canceled", "next_try": False})
        self.sudo()._line_on_state_change()
        return True

    # ---- QUEUE PROCESSING ---------------------------------------------------------------------
    @api.model
    def _cron_process_queue(self):
        """The cron: one batch per call; ir.cron calls again (up to 10 times) while
        ``_notify_progress`` reports due rows remaining."""
        batch = int(self.env["ir.config_parameter"].sudo().get_param(
            "line_idlink_addon.queue_batch", BATCH_SIZE))
        done = self._process_queue(batch_size=batch)
        remaining = self.sudo().search_count(self._line_due_domain())
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _line_due_domain(self):
        now = _now()
        return ["|", "&", ("state", "=", "outgoing"), "|", ("next_try", "=", False),
                ("next_try", "<=", now),
                "&", ("state", "=", "sending"), ("lease_until", "<", now)]

    @api.model
    def _process_queue(self, batch_size=BATCH_SIZE):
        """Claim up to ``batch_size`` due rows and send them; returns how many were processed.

        Safe to run from several workers or servers at once: rows are claimed with
        ``FOR UPDATE SKIP LOCKED`` and the claim is committed before anything is sent; each
        result is committed right after its request (never a transaction across many LINE
        calls). Commits are skipped in test threads (Odoo's own rule, as in ``sms.sms``).
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        token, ids = self._line_claim(batch_size, auto_commit)
        done = 0
        apis = {}
        try:
            for message in self.sudo().browse(ids):
                if message._line_send_claimed(token, apis, auto_commit):
                    done += 1
        finally:
            for api_ in apis.values():
                api_.close()
        return done

    @api.model
    def _line_claim(self, batch_size, auto_commit):
        cr = self.env.cr
        token = uuid.uuid4().hex
        now = _now()
        self.env.flush_all()
        if auto_commit:
            cr.commit()
            # FOR UPDATE must re-check rows another worker changed since our snapshot (READ
            # COMMITTED re-evaluates them; REPEATABLE READ, Odoo's default, would fail)
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cr.execute("""
            WITH due AS (
                SELECT id FROM line_message
                 WHERE (state = 'outgoing' AND (next_try IS NULL OR next_try <= %(now)s))
                    OR (state = 'sending' AND lease_until < %(now)s)
              ORDER BY id
                 LIMIT %(limit)s
                   FOR UPDATE SKIP LOCKED)
            UPDATE line_message m
               SET state = 'sending', claim_token = %(token)s, lease_until = %(lease)s
              FROM due WHERE m.id = due.id
         RETURNING m.id""", {"now": now, "limit": batch_size, "token": token,
                             "lease": now + datetime.timedelta(seconds=LEASE_SECONDS)})
        ids = sorted(row[0] for row in cr.fetchall())
        if auto_commit:
            cr.commit()
        self.invalidate_model()
        return token, ids

    def _line_owned(self, token, auto_commit):
        """Lock this claimed row; False when another worker took it over (lease expired).
        In a transaction of its own, READ COMMITTED: a row changed by another worker since our
        snapshot is then re-read instead of raising a serialization error."""
        if auto_commit:
            self.env.cr.commit()
            self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        self.env.cr.execute("""SELECT id FROM line_message
                                WHERE id = %s AND state = 'sending' AND claim_token = %s
                                  FOR UPDATE""", (self.id, token))
        owned = bool(self.env.cr.fetchone())
        self.invalidate_recordset()
        return owned

    def _line_send_claimed(self, token, apis, auto_commit):
        """Send one claimed row and record the outcome (committed)."""
        self.ensure_one()
        now = _now()
        if not self._line_owned(token, auto_commit):
            return False
        # durable before the request: the attempt (a crash now leaves a row that says so) and
        # a fresh lease for this row
        self.write({"first_try": self.first_try or now,
                    "lease_until": now + datetime.timedelta(seconds=LEASE_SECONDS)})
        if auto_commit:
            self.env.cr.commit()
        if self.first_try < now - datetime.timedelta(seconds=KEY_TTL_SAFE):
            return self._line_finish(token, auto_commit, state="error", failure_type="key_expired",
                                     failure_reason=_(
                "The first attempt was more than 23 hours ago and LINE forgets retry keys after "
                "24 hours: sending again could deliver this message twice. Check the chat; if "
                "it was not delivered, press Retry."))
        try:
            api = apis.get(self.channel_id.id)
            if api is None:
                api = apis[self.channel_id.id] = self.channel_id._line_api()
                limiter = api.caller.limiter
                if isinstance(limiter, PgRateLimiter):
                    limiter.max_wait = RATE_LIMIT_MAX_WAIT
                api.caller.max_attempts = SEND_ATTEMPTS
            payload = json.loads(self.messages)
            options = {"retry_key": self.retry_key,
                       "notification_disabled": self.notification_disabled,
                       "aggregation_unit": self.aggregation_unit or None}
            if self.kind == "multicast":
                result = api.sender.multicast(json.loads(self.recipients), payload, **options)
            else:
                result = api.sender.push(self.line_user_id, payload, **options)
        except RateLimitWait as exc:
            # nothing was sent by this attempt: back in the queue when the window has room
            return self._line_finish(token, auto_commit, state="outgoing",
                                     next_try=now + datetime.timedelta(seconds=exc.delay))
        except LineCallFailed as exc:
            return self._line_finish(token, auto_commit, state="error", failure_type="config",
                                     failure_reason=str(exc))
        except (InvalidMessages, ValueError) as exc:
            return self._line_finish(token, auto_commit, state="error", failure_type="rejected",
                                     failure_reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - recorded on the row; Retry keeps its key
            _logger.exception("LINE message %s failed", self.id)
            return self._line_finish(token, auto_commit, state="error", failure_type="unknown",
                                     failure_reason=f"{type(exc).__name__}: {exc}")
        return self._line_record(token, auto_commit, result, now)

    def _line_record(self, token, auto_commit, result, now):
        attempts = self.attempts + result.attempts
        if result.ok:
            ids = [str(m.get("id")) for m in result.sent_messages if m.get("id")]
            return self._line_finish(token, auto_commit, state="sent", attempts=attempts,
                                     sent_date=_now(), request_id=result.request_id or False,
                                     sent_message_ids=",".join(ids) or False,
                                     failure_type=False, failure_reason=False, next_try=False)
        error = result.error
        reason = str(error)
        if isinstance(error, RetriesExhausted):
            kind = "throttled" if getattr(error, "kind", None) == "throttled" else "unreachable"
            if self.retry_count < len(RETRY_DELAYS):
                delay = RETRY_DELAYS[self.retry_count]
                return self._line_finish(token, auto_commit, state="outgoing", attempts=attempts,
                                         retry_count=self.retry_count + 1, failure_type=kind,
                                         failure_reason=reason, request_id=result.request_id,
                                         next_try=now + datetime.timedelta(seconds=delay))
            return self._line_finish(token, auto_commit, state="error", attempts=attempts,
                                     failure_type=kind, failure_reason=reason,
                                     request_id=result.request_id)
        if isinstance(error, QuotaExceeded):
            kind = "quota"
        elif getattr(error, "status", None) in (401, 403):
            kind = "token"
        else:
            kind = "rejected"
        return self._line_finish(token, auto_commit, state="error", attempts=attempts,
                                 failure_type=kind, failure_reason=reason,
                                 request_id=result.request_id)

    def _line_finish(self, token, auto_commit, **values):
        """Write the outcome if this worker still owns the row, then commit."""
        if self._line_owned(token, auto_commit):
            values = dict(values, claim_token=False, lease_until=False)
            for key in ("request_id", "next_try"):
                if key in values and values[key] is None:
                    values[key] = False
            self.write(values)
            if values.get("state") == "error":
                self._line_note_failure()
            self._line_on_state_change()
            if values.get("next_try"):
                self.env.ref(QUEUE_CRON)._trigger(values["next_try"])
        if auto_commit:
            self.env.cr.commit()
        return True

    def _line_on_state_change(self):
        """Hook for the modules whose records these rows carry (``res_model``/``res_id``): the
        rows' state was just written (sent, failed, back in the queue for a later try, canceled
        or retried by a user), in the transaction that wrote it, before its commit: whatever an
        override writes is committed together with the outcome. Runs as superuser. Overrides
        filter the rows they own (e.g. on ``res_model``) and call ``super()``."""
        return None

    def _line_note_failure(self):
        """A failed message is noted on the chatter of what it was about."""
        origin = self.res_model in self.env and self.res_id and \
            self.env[self.res_model].sudo().browse(self.res_id).exists()
        if not origin or not hasattr(origin, "message_post"):
            return
        recipient = self.identity_id.display_name or self.line_user_id or \
            _("%(count)s LINE users", count=self.recipient_count)
        origin.message_post(body=Markup("%s<br/>%s") % (
            _("LINE message to %(name)s failed: %(type)s.", name=recipient,
              type=dict(self._fields["failure_type"]._description_selection(self.env)).get(
                  self.failure_type, self.failure_type)),
            self.failure_reason or ""))
