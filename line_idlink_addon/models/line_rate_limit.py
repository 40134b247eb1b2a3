from odoo import api, fields, models


class LineRateLimit(models.Model):
    """One request admitted by the per-channel LINE rate limiter shared by every Odoo worker.

    Written and read only by :class:`..lib.pg_ratelimit.PgRateLimiter` with SQL (one short
    transaction per slot). ``channel_key`` is the ``line.channel`` id as text and has no foreign
    key on purpose: a slot is committed on its own cursor, possibly before the channel's own
    transaction. Technical: system administrators may read it, nobody writes it through the ORM.
    """

    _name = "line.rate.limit"
    _description = "LINE Rate Limit Slot"
    _log_access = False
    _order = "hit_at desc"

    channel_key = fields.Char(required=True, readonly=True)
    endpoint = fields.Char(required=True, readonly=True)
    hit_at = fields.Float("Taken At (epoch seconds)", required=True, readonly=True)

    def init(self):
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS line_rate_limit_window
                ON line_rate_limit (channel_key, endpoint, hit_at)""")

    @api.autovacuum
    def _gc_line_rate_limit(self):
        # LINE's longest window is an hour; older slots can never count again
        self.env.cr.execute("""DELETE FROM line_rate_limit
                                WHERE hit_at < extract(epoch FROM clock_timestamp()) - 7200""")
