import datetime
import logging

from odoo import _, api, models

from odoo.addons.line_idlink_addon.lib.line_api import LineCallFailed
from line_idlink import message_builders
from line_idlink.postbacks import postback_data
from line_idlink.retry import RETRY_ALWAYS

_logger = logging.getLogger(__name__)

JST = datetime.timezone(datetime.timedelta(hours=9))
STATS_MAX_DAYS = 30  # LINE's window of getStatisticsPerUnit


class LineChannel(models.Model):
    """LINE Marketing on the channel: the monthly quota and LINE's statistics per aggregation
    unit (for mailings), and the customer's opt-out from the chat through the base addon's
    extension API: the keyword 配信停止 (or the rich-menu preset ``optout``) asks for a
    confirmation, its "yes" (``optout_confirm``) stops LINE mailings for this LINE account;
    配信再開 (``optin``) asks again and ``optin_confirm`` restarts them. Transactional messages
    (orders, shipping, replies) are not affected."""

    _inherit = "line.channel"

    # ---- CHAT OPT-OUT (extension API) ---------------------------------------------------------
    @api.model
    def _line_default_keywords(self):
        keywords = super()._line_default_keywords()
        keywords["optout"] = [_("配信停止")]
        keywords["optin"] = [_("配信再開")]
        return keywords

    def _line_handle_action(self, run, event, identity, action, params):
        if action in ("optout", "optin", "optout_confirm", "optin_confirm", "optout_cancel",
                      "optin_cancel"):
            channel = self.with_context(lang=self._line_chat_lang(identity))
            run.reply(event, channel._line_optout_answer(identity, action), identity)
            return action
        return super()._line_handle_action(run, event, identity, action, params)

    def _line_optout_answer(self, identity, action):
        """The chat's answer to an opt-out action (in ``self``'s language), after doing it."""
        stop = action.startswith("optout")
        if action in ("optout", "optin"):
            question = (_("Stop receiving news and offers from us on LINE? Order and delivery "
                          "messages will still arrive.") if stop else
                        _("Receive news and offers from us on LINE again?"))
            yes, no = _("Yes"), _("No")
            return [{"type": "template", "altText": question, "template": {
                "type": "confirm", "text": question, "actions": [
                    message_builders.postback_action(yes, postback_data(f"{action}_confirm"), yes),
                    message_builders.postback_action(no, postback_data(f"{action}_cancel"), no),
                ]}}]
        if action.endswith("_cancel"):
            return [message_builders.text(_("Nothing changed."))]
        identity._line_set_marketing_optout(stop, _("LINE chat"))
        if stop:
            again = _("配信再開")
            return [message_builders.text(
                _("Done: you will no longer receive news and offers on LINE. Send \"%(again)s\" "
                  "to receive them again.", again=again),
                message_builders.quick_reply(message_builders.postback_action(
                    again, postback_data("optin"), again)))]
        return [message_builders.text(_("Done: you will receive our news and offers on LINE "
                                        "again."))]

    def _line_linked_menu_buttons(self):
        return super()._line_linked_menu_buttons() + [{
            "preset": "optout", "label": _("配信停止"), "sequence": 80,
            "tile": "line_idlink_mass_mailing/static/img/richmenu_tile_optout.png"}]

    def _line_mailing_quota_remaining(self):
        """Messages this channel may still send this month: LINE's quota minus this month's
        consumption minus the recipients of requests still in the queue. None: no limit;
        False: LINE did not answer (unknown)."""
        self.ensure_one()
        try:
            with self._line_api() as api:
                quota = api.quota()
                used = api.quota_consumption()
        except LineCallFailed as exc:
            _logger.info("LINE quota of channel %s not read: %s", self.id, exc)
            return False
        if getattr(quota, "type", None) != "limited":
            return None
        self.env["line.message"].flush_model()
        self.env.cr.execute("""SELECT COALESCE(SUM(recipient_count), 0) FROM line_message
                                WHERE channel_id = %s AND state IN ('outgoing', 'sending')""",
                            [self.id])
        queued = self.env.cr.fetchone()[0]
        return max(0, int(quota.value or 0) - int(used.total_usage or 0) - int(queued))

    def _line_statistics_per_unit(self, unit, date_from, date_to):
        """LINE's statistics of one custom aggregation unit between two datetimes (UTC; LINE
        counts days in UTC+9, at most 30 days): {impressions, unique_impressions,
        unique_clicks}. LINE hides figures under its privacy threshold (then 0)."""
        self.ensure_one()
        from linebot.v3.insight import ApiClient, Configuration, Insight

        start = date_from.replace(tzinfo=datetime.timezone.utc).astimezone(JST).date()
        end = date_to.replace(tzinfo=datetime.timezone.utc).astimezone(JST).date()
        start = max(start, end - datetime.timedelta(days=STATS_MAX_DAYS))
        with self._line_api() as api:
            caller = api.caller
            config = Configuration(host=caller.configuration.host,
                                   access_token=caller.configuration.access_token)
            with ApiClient(config) as client:
                insight = Insight(client)
                outcome = caller.call(
                    "getStatisticsPerUnit",
                    lambda **kw: insight.get_statistics_per_unit(
                        unit, start.strftime("%Y%m%d"), end.strftime("%Y%m%d"), **kw),
                    retry_on=RETRY_ALWAYS)
        if outcome.failure is not None:
            raise LineCallFailed(f"getStatisticsPerUnit: {outcome.error()}")
        data = outcome.response
        overview = data.overview
        clicks = sum((c.unique_click or 0) for c in (data.clicks or []))
        return {
            "impressions": sum((m.impression or 0) for m in (data.messages or [])[:1]),
            "unique_impressions": overview.unique_impression or 0,
            "unique_clicks": overview.unique_click or clicks or 0,
        }
