import datetime
import logging

from odoo import models

from odoo.addons.line_idlink_addon.lib.line_api import LineCallFailed
from line_idlink.retry import RETRY_ALWAYS

_logger = logging.getLogger(__name__)

JST = datetime.timezone(datetime.timedelta(hours=9))
STATS_MAX_DAYS = 30  # LINE's window of getStatisticsPerUnit


class LineChannel(models.Model):
    _inherit = "line.channel"

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
