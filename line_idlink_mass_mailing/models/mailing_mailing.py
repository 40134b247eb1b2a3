import json
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.line_idlink_addon.lib.line_api import LineCallFailed

from ..lib.line_content import MULTICAST_MAX, ContentError, build_messages, canonical, u16len

_logger = logging.getLogger(__name__)

# the custom aggregation unit of a mailing: [a-zA-Z0-9_]{1,30} (LINE's rule)
AGGREGATION_UNIT = re.compile(r"^[a-zA-Z0-9_]{1,30}$")
# line.message failure types -> mailing.trace failure types
QUEUE_TO_TRACE_FAILURE = {
    "quota": "line_quota",
    "token": "line_auth",
    "config": "line_auth",
    "rejected": "line_rejected",
    "throttled": "line_server",
    "unreachable": "line_server",
    "key_expired": "line_unknown",
    "unknown": "line_unknown",
}


class Mailing(models.Model):
    """LINE mailings: ``mailing_type`` 'line', sent through the base addon's outgoing queue
    ``line.message`` like ``mass_mailing_sms`` sends through ``sms.sms``.

    Sending (:meth:`action_send_line`, reached through Odoo's mailing cron and
    ``_action_send_mail``): the remaining recipients are resolved to the LINE users of the
    mailing's channel (linked, following, not opted out, one per LINE user); every recipient
    gets a ``mailing.trace`` (the excluded ones canceled with their reason); the rendered
    bodies are grouped: identical bodies go out as multicasts of up to 500 users, distinct ones
    as pushes, each request one ``line.message`` row carrying the mailing's custom aggregation
    unit. The traces follow their row (``line.message._line_on_state_change``): ``outgoing``
    while queued, ``sent`` or ``error`` (with a reason) once LINE answered, ``cancel`` when the
    row was canceled. The mailing is done when no trace is left in the queue.
    """

    _inherit = "mailing.mailing"

    mailing_type = fields.Selection(selection_add=[("line", "LINE")],
                                    ondelete={"line": "set default"})
    line_channel_id = fields.Many2one(
        "line.channel", "LINE Channel", ondelete="restrict",
        default=lambda self: self._line_default_channel(),
        help="The LINE Official Account the mailing is sent from; only its linked friends "
             "receive it.")
    line_body = fields.Text(
        "LINE Text", help="Text of the LINE message; placeholders such as {{ object.name }} "
                          "are rendered per recipient.")
    line_image_url = fields.Char(
        "Image URL", help="Optional image sent after the text (https, JPEG or PNG).")
    line_flex_json = fields.Text(
        "Flex Message (JSON)", help="Optional Flex message: the JSON of a bubble or a "
                                    "carousel, as the Flex Message Simulator exports it.")
    line_alt_text = fields.Char(
        "Notification Text", help="Alternative text of the Flex message, shown in "
                                  "notifications and the chat list (default: the text).")
    line_button_label = fields.Char(
        "Button Label", help="Optional URL button sent after the message (at most 20 "
                             "characters), e.g. \"See the sale\".")
    line_button_url = fields.Char("Button URL", help="The page the button opens (tracked like "
                                                     "the links of the text).")
    line_button_prompt = fields.Char(
        "Button Text", help="The text above the button (at most 160 characters; default: the "
                            "label).")
    line_notification_disabled = fields.Boolean(
        "Silent", help="Deliver without a push notification on the phone.")
    line_link_tracking = fields.Selection(
        [("campaign", "Per campaign (fast: one body, multicast)"),
         ("recipient", "Per recipient (clicks on each trace, one push per person)"),
         ("none", "No tracking")], "Link Tracking", default="campaign", required=True,
        help="Per campaign: links are shortened once, every recipient gets the same body and "
             "LINE receives multicasts of 500 users; clicks are counted on the link tracker. "
             "Per recipient: each link carries the recipient's trace, so clicks show on each "
             "trace, but every body is different: one push request per person (slower).")
    line_aggregation_unit = fields.Char(
        "Aggregation Unit", copy=False,
        help="LINE's custom aggregation unit sent with each request of this mailing (1-30 "
             "letters, digits or _); LINE's statistics per unit are read back into the mailing. "
             "Default: odoo_mailing_<id>.")
    line_content_error = fields.Char(compute="_compute_line_content_info")
    line_text_length = fields.Integer("Text Length (UTF-16)",
                                      compute="_compute_line_content_info")
    line_preview = fields.Text(compute="_compute_line_content_info")
    line_preview_text = fields.Text("Preview Text", compute="_compute_line_content_info")
    # cost and quota (read from LINE when the form is displayed)
    line_cost = fields.Integer(
        "Messages Needed", compute="_compute_line_cost",
        help="LINE users who will receive this mailing: LINE bills one message per user and "
             "request (multicast and push alike).")
    line_quota_remaining = fields.Integer(
        "Quota Remaining", compute="_compute_line_cost",
        help="Messages left this month on the channel's plan (LINE's quota minus what was "
             "used and what is still queued); -1: no limit.")
    line_quota_info = fields.Char("Quota", compute="_compute_line_cost")
    # progress (from the traces)
    line_progress = fields.Float("Progress", compute="_compute_line_progress")
    line_progress_info = fields.Char("Processed", compute="_compute_line_progress")
    # LINE's own statistics per aggregation unit (cron)
    line_insight_date = fields.Datetime("LINE Statistics Read On", readonly=True, copy=False)
    line_insight_impressions = fields.Integer("Impressions (LINE)", readonly=True, copy=False)
    line_insight_unique_impressions = fields.Integer("Unique Impressions (LINE)",
                                                     readonly=True, copy=False)
    line_insight_unique_clicks = fields.Integer("Unique Clicks (LINE)", readonly=True,
                                                copy=False)
    # A/B testing
    ab_testing_line_winner_selection = fields.Selection(
        related="campaign_id.ab_testing_line_winner_selection",
        default="clicks_ratio", readonly=False, copy=True)
    ab_testing_mailings_line_count = fields.Integer(
        related="campaign_id.ab_testing_mailings_line_count")

    @api.model
    def _line_default_channel(self):
        return self.env["line.channel"].search([("company_id", "in", self.env.companies.ids)],
                                               limit=1)

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if fields_list is not None and "keep_archives" in fields_list \
                and res.get("mailing_type") == "line":
            res["keep_archives"] = True
        return res

    # ---- COMPUTES -----------------------------------------------------------------------------
    @api.depends("mailing_type")
    def _compute_medium_id(self):
        super()._compute_medium_id()
        medium_line = self.env.ref("line_idlink_mass_mailing.utm_medium_line",
                                   raise_if_not_found=False)
        medium_email = self.env["utm.medium"]._fetch_or_create_utm_medium("email")
        for mailing in self:
            if mailing.mailing_type == "line" and medium_line and \
                    (not mailing.medium_id or mailing.medium_id == medium_email):
                mailing.medium_id = medium_line
            elif mailing.mailing_type == "mail" and medium_line and \
                    mailing.medium_id == medium_line:
                mailing.medium_id = medium_email

    @api.depends("mailing_type", "line_body", "line_image_url", "line_flex_json",
                 "line_alt_text", "line_button_label", "line_button_url", "line_button_prompt")
    def _compute_line_content_info(self):
        for mailing in self:
            mailing.line_text_length = u16len(mailing.line_body or "")
            mailing.line_content_error = False
            mailing.line_preview = False
            mailing.line_preview_text = mailing.line_body or False
            if mailing.mailing_type != "line":
                continue
            try:
                messages = mailing._line_build_messages(mailing.line_body)
            except UserError as exc:
                mailing.line_content_error = exc.args[0]
                continue
            mailing.line_preview = json.dumps(messages, ensure_ascii=False)

    @api.depends("mailing_type", "mailing_domain", "mailing_model_id", "line_channel_id",
                 "contact_list_ids")
    def _compute_line_cost(self):
        for mailing in self:
            mailing.line_cost = 0
            mailing.line_quota_remaining = 0
            mailing.line_quota_info = False
        # one form: LINE is asked for the quota; a list or kanban view does not call LINE
        for mailing in self.filtered(lambda m: m.mailing_type == "line" and m.line_channel_id):
            try:
                mailing.line_cost = mailing._line_count_reachable()
            except (ValueError, SyntaxError, UserError):
                continue
            if len(self) > 1:
                continue
            if self.env.cr.readonly:
                # a read-only request (Odoo 18 reads forms in read-only transactions): LINE's
                # shared rate limiter writes its slots, so LINE is asked on edits and on Send
                mailing.line_quota_info = _("%(cost)s messages", cost=mailing.line_cost)
                continue
            remaining = mailing.line_channel_id._line_mailing_quota_remaining()
            mailing.line_quota_remaining = -1 if remaining is None else remaining
            if remaining is False:
                mailing.line_quota_info = _("LINE did not answer: quota unknown")
            elif remaining is None:
                mailing.line_quota_info = _("%(cost)s messages; no monthly limit",
                                            cost=mailing.line_cost)
            else:
                mailing.line_quota_info = _("%(cost)s messages of the %(remaining)s left this "
                                            "month", cost=mailing.line_cost, remaining=remaining)

    @api.depends("mailing_type", "state")
    def _compute_line_progress(self):
        lines = self.filtered(lambda m: m.mailing_type == "line" and m.id)
        (self - lines).line_progress = 0
        (self - lines).line_progress_info = False
        if not lines:
            return
        groups = self.env["mailing.trace"].sudo()._read_group(
            [("mass_mailing_id", "in", lines.ids), ("trace_type", "=", "line")],
            ["mass_mailing_id", "trace_status"], ["__count"])
        counts = {}
        for mailing, status, count in groups:
            counts.setdefault(mailing.id, {})[status] = count
        for mailing in lines:
            per_status = counts.get(mailing.id, {})
            total = sum(per_status.values())
            queued = per_status.get("outgoing", 0) + per_status.get("process", 0)
            final = total - queued
            mailing.line_progress = 100.0 * final / total if total else 0
            mailing.line_progress_info = _("%(final)s / %(total)s", final=final, total=total)

    # ---- CONTENT ------------------------------------------------------------------------------
    def _line_build_messages(self, text, button_url=None):
        """The messages of one recipient (``text`` rendered for them, ``button_url`` the
        button's tracked URL); a :class:`UserError` naming LINE's limit when they break one."""
        self.ensure_one()
        button = None
        if self.line_button_label or self.line_button_url:
            button = (self.line_button_label, button_url or self.line_button_url,
                      self.line_button_prompt)
        try:
            return build_messages(text=text, image_url=self.line_image_url or None,
                                  flex_json=self.line_flex_json or None,
                                  alt_text=self.line_alt_text or None, button=button)
        except ContentError as exc:
            raise UserError(self._line_content_error_text(exc)) from exc

    @api.model
    def _line_content_error_text(self, exc):
        texts = {
            "flex_json": _("The Flex message is not valid JSON (%(error)s)."),
            "flex_type": _('A Flex message is a JSON object of type "bubble" or "carousel".'),
            "text_size": _("The text is %(size)s characters long (counted in UTF-16, an emoji "
                           "counts 2); LINE allows at most %(max)s."),
            "image_url": _("The image URL must be an https URL of at most %(max)s characters."),
            "flex_size": _("The Flex message is %(size)s bytes; LINE allows at most %(max)s."),
            "alt_missing": _("A Flex message needs a notification text (or a text)."),
            "alt_size": _("The notification text is %(size)s characters; LINE allows at most "
                          "%(max)s."),
            "empty": _("The LINE message is empty: write a text, or add an image or a Flex "
                       "message."),
            "too_many": _("LINE sends at most %(max)s messages per request."),
            "button_label": _("A button label is 1 to %(max)s characters."),
            "button_url": _("The button URL must be an http(s) URL of at most %(max)s characters "
                            "without spaces (percent-encode them)."),
            "button_prompt": _("The text above the button is %(size)s characters; LINE allows "
                               "at most %(max)s."),
        }
        return texts[exc.key] % exc.params

    @api.constrains("mailing_type", "line_body", "line_image_url", "line_flex_json",
                    "line_alt_text", "line_aggregation_unit", "line_button_label",
                    "line_button_url", "line_button_prompt")
    def _check_line_content(self):
        for mailing in self.filtered(lambda m: m.mailing_type == "line"):
            if mailing.line_aggregation_unit and \
                    not AGGREGATION_UNIT.match(mailing.line_aggregation_unit):
                raise ValidationError(_("An aggregation unit is 1 to 30 letters, digits or "
                                        "underscores."))
            if not (mailing.line_body or mailing.line_image_url or mailing.line_flex_json):
                continue  # a draft without content yet
            if mailing.line_content_error:
                raise ValidationError(mailing.line_content_error)

    # ---- ORM OVERRIDES ------------------------------------------------------------------------
    def write(self, vals):
        # Odoo's mailing cron marks a mailing done once every recipient has a trace; a LINE
        # mailing whose traces are still in the queue stays "sending" until LINE answered
        # (then _line_update_done marks it done)
        if vals.get("state") == "done" and not self.env.context.get("line_mailing_done"):
            pending = self._line_with_pending_traces()
            if pending:
                rest_vals = {k: v for k, v in vals.items()
                             if k not in ("state", "sent_date", "kpi_mail_required")}
                if rest_vals:
                    super(Mailing, pending).write(rest_vals)
                others = self - pending
                return super(Mailing, others).write(vals) if others else True
        return super().write(vals)

    def _line_with_pending_traces(self):
        lines = self.filtered(lambda m: m.mailing_type == "line")
        if not lines:
            return lines
        # one indexed look-up per mailing (partial index mailing_trace_line_pending): this runs
        # after every LINE answer
        self.env["mailing.trace"].flush_model(["mass_mailing_id", "trace_status"])
        self.env.cr.execute("""
            SELECT m.id FROM unnest(%s::int[]) AS m(id)
             WHERE EXISTS (SELECT 1 FROM mailing_trace t
                            WHERE t.mass_mailing_id = m.id
                              AND t.trace_status IN ('outgoing', 'process'))""", [lines.ids])
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    # ---- BUSINESS / VIEWS ACTIONS -------------------------------------------------------------
    def action_put_in_queue(self):
        for mailing in self.filtered(lambda m: m.mailing_type == "line"):
            mailing._line_check_ready()
        return super().action_put_in_queue()

    def action_send_mail(self, res_ids=None):
        for mailing in self.filtered(lambda m: m.mailing_type == "line"):
            mailing._line_check_ready()
        return super().action_send_mail(res_ids=res_ids)

    def action_cancel(self):
        """Also cancels the LINE requests of a sending mailing still waiting in the queue (the
        ones being sent finish); their traces become canceled."""
        lines = self.filtered(lambda m: m.mailing_type == "line" and m.state == "sending")
        if lines:
            queued = self.env["line.message"].sudo().search([
                ("res_model", "=", "mailing.mailing"), ("res_id", "in", lines.ids),
                ("state", "=", "outgoing")])
            if queued:
                queued.action_cancel()
        result = super().action_cancel()
        return result

    def action_retry_failed(self):
        lines = self.filtered(lambda m: m.mailing_type == "line")
        if lines:
            lines.action_retry_failed_line()
        return super(Mailing, self - lines).action_retry_failed()

    def action_retry_failed_line(self):
        """Like SMS: the failed traces are deleted (with their failed queue rows when every one
        of their recipients failed), then the mailing is queued again: Odoo's recipient
        computation targets exactly the people without a trace."""
        failed = self.env["mailing.trace"].sudo().search([
            ("mass_mailing_id", "in", self.ids), ("trace_type", "=", "line"),
            ("trace_status", "=", "error")])
        row_ids = set(failed.mapped("line_message_id_int")) - {0}
        failed.unlink()
        rows = self.env["line.message"].sudo().browse(row_ids).exists().filtered(
            lambda r: r.state == "error")
        rows.write({"res_model": False, "res_id": False})  # forgotten by the mailing
        self.action_put_in_queue()
        return True

    def action_test(self):
        if self.mailing_type == "line":
            context = dict(self.env.context, default_mailing_id=self.id, dialog_size="medium")
            return {"name": _("Test LINE Mailing"), "type": "ir.actions.act_window",
                    "view_mode": "form", "res_model": "mailing.line.test", "target": "new",
                    "context": context}
        return super().action_test()

    def _action_view_traces_filtered(self, view_filter):
        action = super()._action_view_traces_filtered(view_filter)
        if self.mailing_type == "line":
            action["views"] = [
                (self.env.ref("line_idlink_mass_mailing.mailing_trace_view_tree_line").id,
                 "list"),
                (self.env.ref("line_idlink_mass_mailing.mailing_trace_view_form_line").id,
                 "form")]
        return action

    def action_line_refresh_insight(self):
        self._line_read_insight()
        return True

    # ---- CHECKS BEFORE SENDING ----------------------------------------------------------------
    def _line_check_ready(self):
        """Refuse (nothing queued, nothing sent) a LINE mailing LINE would refuse: no channel,
        content over LINE's limits, or more messages than the channel's quota has left."""
        self.ensure_one()
        if not self.line_channel_id:
            raise UserError(_("Choose the LINE channel of the mailing %(name)s.",
                              name=self.subject))
        if not (self.line_body or self.line_image_url or self.line_flex_json):
            raise UserError(_("The LINE mailing %(name)s has no content.", name=self.subject))
        if self.line_content_error:
            raise UserError(self.line_content_error)
        self._line_check_quota(self._line_count_reachable())

    def _line_check_quota(self, needed):
        """:class:`UserError` when ``needed`` messages exceed what the channel's monthly quota
        has left (LINE's quota minus this month's consumption minus what the queue still holds).
        An unreachable LINE does not block: the queue retries and a quota error then fails the
        rest with the reason "quota"."""
        self.ensure_one()
        remaining = self.line_channel_id._line_mailing_quota_remaining()
        if remaining in (None, False) or needed <= remaining:
            return True
        raise UserError(_(
            "Sending %(name)s needs %(needed)s LINE messages but the channel %(channel)s has "
            "only %(remaining)s left this month. Nothing was sent: narrow the recipients or "
            "raise the plan in LINE Official Account Manager.", name=self.subject,
            needed=needed, channel=self.line_channel_id.name, remaining=remaining))

    # ---- RECIPIENTS ---------------------------------------------------------------------------
    def _line_partner_map(self, res_ids):
        """{record id: partner id} of the records of the mailing's target model: the record
        itself for contacts, the first stored many2one to a partner (``_mail_get_partner_fields``)
        for other models, the partner with the same email for mailing-list contacts."""
        self.ensure_one()
        model = self.env[self.mailing_model_real]
        cr = self.env.cr
        ids = list(res_ids)
        if model._name == "res.partner":
            return {rid: rid for rid in ids}
        self.env.flush_all()
        if model._name == "mailing.contact":
            cr.execute("""
                SELECT DISTINCT ON (c.id) c.id, p.id
                  FROM mailing_contact c
                  JOIN res_partner p ON p.email_normalized = c.email_normalized
                  JOIN line_identity i ON i.partner_id = p.id AND i.linked
                                      AND i.channel_id = %s
                 WHERE c.id = ANY(%s) AND p.active
              ORDER BY c.id, p.id""", [self.line_channel_id.id, ids])
            return dict(cr.fetchall())
        partner_fields = [name for name in model._mail_get_partner_fields()
                          if model._fields[name].store and model._fields[name].type == "many2one"]
        if not partner_fields:
            return {}
        column = partner_fields[0]
        cr.execute(f'SELECT id, "{column}" FROM "{model._table}" '  # noqa: S608 - field names
                   f'WHERE id = ANY(%s) AND "{column}" IS NOT NULL', [ids])
        return dict(cr.fetchall())

    def _line_identity_map(self, partner_ids):
        """{partner id: (line user id, follow state, opted out)} on the mailing's channel, one
        linked LINE account per partner (a friend first, then the latest link)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT DISTINCT ON (partner_id) partner_id, line_user_id, follow_state,
                   COALESCE(line_marketing_optout, FALSE)
              FROM line_identity
             WHERE channel_id = %s AND linked AND partner_id = ANY(%s)
          ORDER BY partner_id, (follow_state = 'followed') DESC, linked_since DESC NULLS LAST,
                   id DESC""", [self.line_channel_id.id, list(partner_ids)])
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    def _get_opt_out_list_line(self):
        """Record ids of the target model that opted out of marketing on LINE through the
        model's own hook ``_mailing_get_opt_out_list_line(mailing)`` (mailing lists: opted out
        of the mailing's lists); the LINE-level opt-out is checked per LINE account."""
        self.ensure_one()
        model = self.env[self.mailing_model_name]
        if hasattr(model, "_mailing_get_opt_out_list_line"):
            return set(model._mailing_get_opt_out_list_line(self))
        return set()

    def _get_seen_list_line(self):
        """LINE userIds this mailing already targeted (dedup across reruns, like
        ``_get_seen_list_sms``)."""
        self.ensure_one()
        if not self._origin.id:  # a new mailing in the form (cost computed while typing)
            return set()
        self.env.flush_all()
        self.env.cr.execute("""SELECT DISTINCT line_user_uid FROM mailing_trace
                                WHERE mass_mailing_id = %s AND line_user_uid IS NOT NULL
                                  AND trace_status != 'cancel'""", [self._origin.id])
        return {row[0] for row in self.env.cr.fetchall()}

    def _line_resolve_recipients(self, res_ids):
        """[(record id, LINE userId or None, failure type or None)] in record order: who gets
        the message and why each excluded record is excluded."""
        self.ensure_one()
        partners = self._line_partner_map(res_ids)
        identities = self._line_identity_map(set(partners.values()))
        opt_out = self._get_opt_out_list_line()
        seen = self._get_seen_list_line()
        plan = []
        for res_id in sorted(res_ids):
            identity = identities.get(partners.get(res_id))
            if not identity:
                plan.append((res_id, None, "line_no_link"))
                continue
            line_user_id, follow_state, opted_out = identity
            if res_id in opt_out or opted_out:
                plan.append((res_id, line_user_id, "line_optout"))
            elif follow_state != "followed":
                plan.append((res_id, line_user_id, "line_unfollowed"))
            elif line_user_id in seen:
                plan.append((res_id, line_user_id, "line_duplicate"))
            else:
                seen.add(line_user_id)
                plan.append((res_id, line_user_id, None))
        return plan

    def _line_count_reachable(self):
        """How many LINE users the next send reaches (the messages it costs)."""
        self.ensure_one()
        if not self.mailing_model_real or not self.line_channel_id:
            return 0
        res_ids = self.env[self.mailing_model_real].search(self._get_recipients_domain()).ids
        if self.ab_testing_enabled and self.ab_testing_pc < 100 and res_ids:
            return max(int(len({u for __, u, f in self._line_resolve_recipients(res_ids)
                                if not f}) * self.ab_testing_pc / 100.0), 1)
        return len({u for __, u, f in self._line_resolve_recipients(res_ids) if not f})

    # ---- LINE SEND ----------------------------------------------------------------------------
    @api.model
    def _process_mass_mailing_queue(self):
        # a LINE mailing the quota refuses goes back to draft with a note instead of failing
        # the cron (see _line_send)
        return super(Mailing, self.with_context(line_mailing_cron=True)) \
            ._process_mass_mailing_queue()

    def _action_send_mail(self, res_ids=None):
        mass_line = self.filtered(lambda m: m.mailing_type == "line")
        if mass_line:
            mass_line.action_send_line(res_ids=res_ids)
        return super(Mailing, self - mass_line)._action_send_mail(res_ids=res_ids)

    def action_send_line(self, res_ids=None):
        for mailing in self:
            context_user = mailing.user_id or mailing.write_uid or self.env.user
            mailing = mailing.with_context(
                **self.env["res.users"].with_user(context_user).context_get())
            mailing_res_ids = res_ids or mailing._get_remaining_recipients()
            if mailing_res_ids:
                mailing._line_send(mailing_res_ids)
            mailing._line_update_done()
        return True

    def _line_send(self, res_ids):
        """Traces for every record and queue rows for the reachable ones (set-based)."""
        self.ensure_one()
        if not self.line_channel_id:
            raise UserError(_("Choose the LINE channel of the mailing %(name)s.",
                              name=self.subject))
        plan = self._line_resolve_recipients(res_ids)
        reachable = [(res_id, uid) for res_id, uid, failure in plan if not failure]
        try:
            self._line_check_quota(len(reachable))
        except UserError as exc:
            if not self.env.context.get("line_mailing_cron"):
                raise
            # from the mailing cron: back to draft, the reason on the chatter, nothing sent
            self.message_post(body=exc.args[0])
            self.with_context(line_mailing_done=True).write({"state": "draft"})
            return
        if not self.line_aggregation_unit:
            self.line_aggregation_unit = f"odoo_mailing_{self.id}"
        bodies = self._line_render_bodies([res_id for res_id, __ in reachable])
        rows = []  # (res_id, LINE userId, status, failure type, failure reason)
        for res_id, uid, failure in plan:
            if failure:
                rows.append((res_id, uid, "cancel", failure, None))
            elif isinstance(bodies.get(res_id), UserError):
                rows.append((res_id, uid, "error", "line_content", bodies[res_id].args[0]))
            else:
                rows.append((res_id, uid, "outgoing", None, None))
        outgoing = [(trace_id, res_id, uid) for trace_id, res_id, uid, status
                    in self._line_insert_traces(rows) if status == "outgoing"]
        if self.line_link_tracking == "recipient":
            # one body per person: each tracked link carries the recipient's trace
            for trace_id, res_id, __ in outgoing:
                bodies[res_id] = self._line_track_recipient(bodies[res_id], trace_id)
        self._line_enqueue_traces(outgoing, bodies)
        if outgoing and self.state != "sending":
            self.with_context(line_mailing_done=True).write({"state": "sending"})

    def _line_insert_traces(self, rows):
        """One INSERT for every trace of a send (100k recipients make 100k traces: no ORM
        create per record); returns [(trace id, res_id, LINE userId, status)]. Only columns of
        ``mailing.trace`` a LINE trace uses are written (``campaign_id`` is the stored related
        field of the mailing's campaign)."""
        self.ensure_one()
        if not rows:
            return []
        self.env.flush_all()
        columns = list(zip(*rows))
        self.env.cr.execute("""
            INSERT INTO mailing_trace (trace_type, model, res_id, mass_mailing_id, campaign_id,
                                       line_user_uid, trace_status, failure_type, failure_reason,
                                       create_uid, write_uid, create_date, write_date)
            SELECT 'line', %(model)s, t.res_id, %(mailing)s, %(campaign)s, t.uid, t.status,
                   t.failure, t.reason, %(uid)s, %(uid)s, %(now)s, %(now)s
              FROM unnest(%(res_ids)s::int[], %(uids)s::varchar[], %(statuses)s::varchar[],
                          %(failures)s::varchar[], %(reasons)s::text[])
                   WITH ORDINALITY AS t(res_id, uid, status, failure, reason, n)
          ORDER BY t.n
         RETURNING id, res_id, line_user_uid, trace_status""", {
            "model": self.mailing_model_real, "mailing": self.id,
            "campaign": self.campaign_id.id or None, "uid": self.env.uid,
            "now": fields.Datetime.now(), "res_ids": list(columns[0]),
            "uids": list(columns[1]), "statuses": list(columns[2]),
            "failures": list(columns[3]), "reasons": list(columns[4])})
        inserted = self.env.cr.fetchall()
        self.env["mailing.trace"].invalidate_model()
        self.invalidate_recordset(["mailing_trace_ids"])
        return inserted

    def _line_render_bodies(self, res_ids):
        """{record id: messages} (or the :class:`UserError` of a body over LINE's limits),
        placeholders rendered per record (Odoo's inline templates), campaign-level tracked
        links shortened once."""
        self.ensure_one()
        if not res_ids:
            return {}
        body = self.line_body or ""
        if self.line_link_tracking != "none" and body:
            body = self._shorten_links_text(body, self._get_link_tracker_values())
        button_url = self.line_button_url or None
        if self.line_link_tracking != "none" and button_url:
            button_url = self._shorten_links_text(button_url, self._get_link_tracker_values())
        if "{{" in body:
            texts = self._render_template(body, self.mailing_model_real, res_ids,
                                          engine="inline_template")
        else:
            texts = dict.fromkeys(res_ids, body)
        cache = {}
        result = {}
        for res_id in res_ids:
            text = texts.get(res_id, "")
            if text not in cache:
                try:
                    cache[text] = self._line_build_messages(text, button_url)
                except UserError as exc:
                    cache[text] = exc
            result[res_id] = cache[text]
        return result

    def _line_track_recipient(self, messages, trace_id):
        """Per-recipient click attribution: ``/r/<code>`` -> ``/r/<code>/l/<trace id>``."""
        base = re.escape(self.get_base_url().rstrip("/"))
        pattern = re.compile(base + r"/r/([a-zA-Z0-9]+)(?![a-zA-Z0-9/])")
        tracked = []
        for message in messages:
            if message.get("type") == "text":
                message = dict(message, text=pattern.sub(
                    lambda m: f"{m.group(0)}/l/{trace_id}", message["text"]))
            elif message.get("type") == "template":
                template = message["template"]
                message = dict(message, template=dict(template, actions=[
                    dict(action, uri=pattern.sub(lambda m: f"{m.group(0)}/l/{trace_id}",
                                                 action["uri"])) if action.get("uri") else action
                    for action in template["actions"]]))
            tracked.append(message)
        return tracked

    def _line_enqueue_traces(self, traces, bodies):
        """Queue rows for ``traces`` ([(trace id, res_id, LINE userId)]): identical bodies in
        multicasts of up to 500 users, the others as pushes; each trace remembers its row
        (``line_message_id_int``)."""
        self.ensure_one()
        if not traces:
            return
        Queue = self.env["line.message"].sudo()
        groups = {}
        keys = {}  # identical texts share one message list object: one canonical form each
        for trace in traces:
            messages = bodies[trace[1]]
            key = keys.get(id(messages))
            if key is None:
                key = keys[id(messages)] = canonical(messages)
            groups.setdefault(key, []).append(trace)
        options = {"origin": self, "notification_disabled": self.line_notification_disabled,
                   "aggregation_unit": self.line_aggregation_unit}
        links = []  # (trace id, row id)
        push_values, push_traces = [], []
        for group in groups.values():
            messages = bodies[group[0][1]]
            if len(group) == 1:
                values = Queue._line_values(self.line_channel_id, messages, **options)
                values.update(kind="push", line_user_id=group[0][2], recipient_count=1)
                push_values.append(values)
                push_traces.append(group[0][0])
                continue
            for start in range(0, len(group), MULTICAST_MAX):
                chunk = group[start:start + MULTICAST_MAX]
                row = Queue._line_enqueue_multicast(
                    self.line_channel_id, [uid for __, __, uid in chunk], messages, **options)
                links.extend((trace_id, row.id) for trace_id, __, __ in chunk)
        if push_values:
            # the row names its LINE user and customer (the queue's list), as _line_enqueue does
            self.env.cr.execute("""SELECT line_user_id, id, partner_id FROM line_identity
                                    WHERE channel_id = %s AND line_user_id = ANY(%s)""",
                                [self.line_channel_id.id, [v["line_user_id"] for v in push_values]])
            known = {uid: (identity_id, partner_id)
                     for uid, identity_id, partner_id in self.env.cr.fetchall()}
            for values in push_values:
                identity_id, partner_id = known.get(values["line_user_id"], (False, False))
                values.update(identity_id=identity_id, partner_id=partner_id)
            rows = Queue.create(push_values)
            self.env.ref("line_idlink_addon.ir_cron_line_message_queue").sudo()._trigger()
            links.extend(zip(push_traces, rows.ids))
        self.env.flush_all()
        self.env.cr.execute("""
            UPDATE mailing_trace t SET line_message_id_int = v.row_id
              FROM unnest(%s::int[], %s::int[]) AS v(trace_id, row_id)
             WHERE t.id = v.trace_id""", [[a for a, __ in links], [b for __, b in links]])
        self.env["mailing.trace"].invalidate_model(["line_message_id_int"])

    def _line_update_done(self):
        """Sending LINE mailings with no trace left in the queue are done (like SMS's
        ``_update_sms_mailings``)."""
        sending = self.filtered(lambda m: m.mailing_type == "line"
                                and m.state in ("sending", "in_queue"))
        done = sending - sending._line_with_pending_traces()
        for mailing in done:
            if mailing.state == "in_queue" and mailing._get_remaining_recipients():
                continue
            mailing.with_context(line_mailing_done=True).write({
                "state": "done", "sent_date": fields.Datetime.now(),
                "kpi_mail_required": not mailing.sent_date})

    # ---- LINE'S STATISTICS --------------------------------------------------------------------
    @api.model
    def _cron_line_read_insight(self):
        """Read LINE's statistics per aggregation unit of the LINE mailings sent in the last 14
        days (LINE has them from the next day on)."""
        since = fields.Datetime.subtract(fields.Datetime.now(), days=14)
        mailings = self.search([("mailing_type", "=", "line"), ("state", "in", ("sending", "done")),
                                ("line_aggregation_unit", "!=", False),
                                ("sent_date", ">=", since)])
        mailings._line_read_insight()
        return len(mailings)

    def _line_read_insight(self):
        for mailing in self.filtered(lambda m: m.mailing_type == "line"
                                     and m.line_aggregation_unit and m.line_channel_id):
            first = mailing.create_date
            try:
                stats = mailing.line_channel_id._line_statistics_per_unit(
                    mailing.line_aggregation_unit, first, fields.Datetime.now())
            except LineCallFailed as exc:
                _logger.info("LINE statistics of %s not read: %s", mailing, exc)
                continue
            mailing.write({
                "line_insight_date": fields.Datetime.now(),
                "line_insight_impressions": stats["impressions"],
                "line_insight_unique_impressions": stats["unique_impressions"],
                "line_insight_unique_clicks": stats["unique_clicks"]})

    # ---- STATISTICS E-MAIL --------------------------------------------------------------------
    def _prepare_statistics_email_values(self):
        values = super()._prepare_statistics_email_values()
        if self.mailing_type == "line":
            mailing_type = self._get_pretty_mailing_type()
            values["title"] = _('24H Stats of %(mailing_type)s "%(mailing_name)s"',
                                mailing_type=mailing_type, mailing_name=self.subject)
            values["kpi_data"][0] = {
                "kpi_fullname": _("Report for %(expected)i %(mailing_type)s Sent",
                                  expected=self.expected, mailing_type=mailing_type),
                "kpi_col1": {"value": f"{self.received_ratio}%",
                             "col_subtitle": _("RECEIVED (%i)", self.delivered)},
                "kpi_col2": {"value": f"{self.clicks_ratio}%",
                             "col_subtitle": _("CLICKED (%i)", self.clicked)},
                "kpi_col3": {"value": str(self.failed),
                             "col_subtitle": _("FAILED")},
                "kpi_action": None,
                "kpi_name": self.mailing_type,
            }
        return values

    def _get_pretty_mailing_type(self):
        if self.mailing_type == "line":
            return _("LINE Message")
        return super()._get_pretty_mailing_type()

    def convert_links(self):
        line_mailings = self.filtered(lambda m: m.mailing_type == "line")
        res = {}
        for mailing in line_mailings:
            res[mailing.id] = mailing._shorten_links_text(mailing.line_body or "",
                                                         mailing._get_link_tracker_values())
        res.update(super(Mailing, self - line_mailings).convert_links())
        return res

    # ---- A/B TEST OVERRIDE --------------------------------------------------------------------
    def _get_ab_testing_description_modifying_fields(self):
        return super()._get_ab_testing_description_modifying_fields() + \
            ["ab_testing_line_winner_selection"]

    def _get_ab_testing_description_values(self):
        values = super()._get_ab_testing_description_values()
        if self.mailing_type == "line":
            values.update({"ab_testing_count": self.ab_testing_mailings_line_count,
                           "ab_testing_winner_selection": self.ab_testing_line_winner_selection})
        return values

    def _get_ab_testing_winner_selection(self):
        result = super()._get_ab_testing_winner_selection()
        if self.mailing_type == "line":
            description = dict(self._fields["ab_testing_line_winner_selection"]
                               ._description_selection(self.env)).get(
                                   self.ab_testing_line_winner_selection)
            result.update({"value": self.campaign_id.ab_testing_line_winner_selection,
                           "description": description})
        return result

    def _get_ab_testing_siblings_mailings(self):
        mailings = super()._get_ab_testing_siblings_mailings()
        if self.mailing_type == "line":
            mailings = self.campaign_id.mailing_line_ids.filtered("ab_testing_enabled")
        return mailings

    def _get_default_ab_testing_campaign_values(self, values=None):
        campaign_values = super()._get_default_ab_testing_campaign_values(values)
        values = values or {}
        if self.mailing_type == "line":
            subject = values.get("subject") or self.subject
            if subject:
                campaign_values["name"] = _("A/B Test: %s", subject)
            campaign_values["ab_testing_line_winner_selection"] = \
                self.ab_testing_line_winner_selection
        return campaign_values
