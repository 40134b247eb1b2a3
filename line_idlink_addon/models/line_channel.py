import logging
import time

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

from line_idlink.linking import DEFAULT_AUTH_BASE, AccountLinker
from line_idlink.login import LoginClient
from line_idlink.webhook import WebhookReceiver

from ..lib.line_api import LineApi, LineCallFailed
from ..lib.odoo_storage import OdooStorage
from ..lib.pg_ratelimit import PgRateLimiter, configured_limits

_logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.line.me"


class LineChannel(models.Model):
    """A LINE Official Account (Messaging API channel) and its LINE Login channel.

    Secrets are readable by system administrators only (``groups``), never copied, and blanked by
    ``data/neutralize.sql``. ``api_base``/``auth_base`` point at LINE (tests point them at the
    emulator); they decide where the access token, the channel secret and the LINE Login secret
    are sent, so they are read and written by system administrators only too (a LINE
    Administrator pointing them at their own host would receive the secrets): ``groups`` on the
    fields, and :meth:`create` refuses them (Odoo checks field groups on write, not on create).
    """

    _name = "line.channel"
    _description = "LINE Channel"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True,
                                 default=lambda self: self.env.company)
    line_channel_id = fields.Char("Channel ID", required=True, tracking=True,
                                  help="The Messaging API channel ID (LINE Developers console).")
    channel_secret = fields.Char("Channel Secret", groups="base.group_system", copy=False)
    access_token = fields.Char("Channel Access Token", groups="base.group_system", copy=False)
    login_channel_id = fields.Char("LINE Login Channel ID", groups="base.group_system")
    login_channel_secret = fields.Char("LINE Login Channel Secret", groups="base.group_system",
                                       copy=False)
    api_base = fields.Char("API Base URL", required=True, default=DEFAULT_API_BASE,
                           groups="base.group_system")
    auth_base = fields.Char("Auth Base URL", required=True, default=DEFAULT_AUTH_BASE,
                            groups="base.group_system",
                            help="Where LINE's account-link dialog and LINE Login live.")
    webhook_url = fields.Char(compute="_compute_webhook_url",
                              help="Enter this URL as the webhook URL in the LINE Developers console.")
    login_callback_url = fields.Char(
        "LINE Login Callback URL", compute="_compute_login_callback_url",
        help="Register this URL in the LINE Developers console as the Callback URL of the LINE"
             " Login channel (LINE Login tab), or LINE refuses to return customers to Odoo.")
    identity_ids = fields.One2many("line.identity", "channel_id", string="LINE Users")
    identity_count = fields.Integer(compute="_compute_identity_count")

    _sql_constraints = [
        ("line_channel_id_company_uniq", "unique(line_channel_id, company_id)",
         "This LINE channel is already configured for this company."),
    ]

    # ---- COMPUTES -----------------------------------------------------------------------------
    @api.depends("line_channel_id")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for channel in self:
            channel.webhook_url = (f"{base.rstrip('/')}/line/webhook/{channel.id}"
                                   if channel.id else False)

    def _compute_login_callback_url(self):
        for channel in self:
            channel.login_callback_url = channel._line_login_redirect_uri()

    def _compute_identity_count(self):
        groups = self.env["line.identity"]._read_group(
            [("channel_id", "in", self.ids), ("linked", "=", True)], ["channel_id"], ["__count"])
        counts = {channel.id: count for channel, count in groups}
        for channel in self:
            channel.identity_count = counts.get(channel.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # Odoo checks field groups on write only: a LINE Administrator must not create a
            # channel whose URLs or secrets they chose (also through default_* context keys)
            names = {key[len("default_"):] for key in self.env.context
                     if key.startswith("default_")}
            names = names.union(*(vals.keys() for vals in vals_list))
            self.check_field_access_rights("write", [n for n in names if n in self._fields])
        return super().create(vals_list)

    # ---- CORE OBJECTS (always built on sudo: they read secrets and technical tables) -------
    def _line_api(self):
        self.ensure_one()
        channel = self.sudo()
        return LineApi(channel.api_base, channel.access_token, **self._line_api_timing())

    def _line_api_timing(self):
        """Extra Sender arguments: the clock and sleep of :meth:`_line_time` and the channel's
        rate limiter kept in PostgreSQL (``lib/pg_ratelimit.py``), so every call of every worker
        and server on this database (queue cron, buttons, rich menus) counts against the same
        LINE limits. In production the limiter reads PostgreSQL's clock (servers whose clocks
        differ share one window); an injected clock (tests: the emulator's) drives it instead."""
        timing = self._line_time()
        clock = None if timing["clock"] is time.time else timing["clock"]
        return dict(timing, limiter=PgRateLimiter(
            self.env.registry, self.id, limits=configured_limits(self.env),
            sleep=timing["sleep"], clock=clock))

    def _line_time(self):
        """The clock and sleep of LINE calls (rate limiter, backoff, batch polling). Tests return
        the emulator's clock and ``advance``: the real limiter then waits on the emulator's time."""
        return {"clock": time.time, "sleep": time.sleep}

    def _line_storage(self):
        self.ensure_one()
        return OdooStorage(self.env(su=True), self.sudo())

    def _line_linker(self, clock=time.time):
        self.ensure_one()
        return AccountLinker(self._line_storage(), str(self.id), clock=clock,
                             auth_base=self.sudo().auth_base)

    def _line_receiver(self, handlers=None, clock=time.time, on_stored=None):
        self.ensure_one()
        secret = self.sudo().channel_secret
        if not secret:
            raise UserError(_("The LINE channel %(name)s has no channel secret.", name=self.name))
        # events_apart: the webhook route stores each event in a short transaction of its own
        storage = OdooStorage(self.env(su=True), self.sudo(), events_apart=True,
                              on_stored=on_stored)
        return WebhookReceiver(secret, storage, str(self.id), handlers=handlers, clock=clock)

    def _line_base_url(self):
        return self.get_base_url()

    # ---- LINE LOGIN ---------------------------------------------------------------------------
    def _line_login_ready(self):
        self.ensure_one()
        channel = self.sudo()
        return bool(channel.active and channel.login_channel_id and channel.login_channel_secret)

    def _line_login_redirect_uri(self):
        # register this URL as the callback URL of the LINE Login channel
        return f"{self._line_base_url().rstrip('/')}/line/login/callback"

    def _line_login_client(self):
        self.ensure_one()
        channel = self.sudo()
        if not channel._line_login_ready():
            raise UserError(_("LINE Login is not configured on the channel %(name)s.",
                              name=channel.name))
        return LoginClient(channel.login_channel_id, channel.login_channel_secret,
                           channel._line_login_redirect_uri(), api_base=channel.api_base,
                           auth_base=channel.auth_base, clock=time.time,
                           timeout=10)  # a scalar: Odoo's test request hook rejects tuples

    # ---- ACTIONS ------------------------------------------------------------------------------
    def action_test_connection(self):
        self.ensure_one()
        try:
            with self._line_api() as api:
                bot = api.bot_info()
                quota = api.quota()
                used = api.quota_consumption()
        except LineCallFailed as exc:
            self.message_post(body=_("Connection test failed: %(error)s", error=str(exc)))
            return self._notify(_("Connection failed"), str(exc), "danger")
        limit = quota.value if getattr(quota, "type", None) == "limited" else _("unlimited")
        message = _("Bot %(name)s (%(basic_id)s) answers. Messages this month: %(used)s of"
                    " %(limit)s.", name=bot.display_name, basic_id=bot.basic_id,
                    used=used.total_usage, limit=limit)
        self.message_post(body=message)
        return self._notify(_("Connection OK"), message, "success")

    @staticmethod
    def _notify(title, message, kind):
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": title, "message": message, "type": kind, "sticky": False}}

    def action_view_identities(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("LINE Users"),
                "res_model": "line.identity", "view_mode": "list,form",
                "domain": [("channel_id", "=", self.id)],
                "context": {"default_channel_id": self.id}}

    def _log_link_failure(self, line_user_id, reason):
        """Failed account links are recorded on the channel (never the nonce)."""
        self.ensure_one()
        self.message_post(body=Markup("%s<br/>%s") % (
            _("Account link refused for LINE user %(user)s.", user=line_user_id or "?"), reason))

    @api.model
    def _line_login_channel(self):
        """The LINE Login channel "Log in with LINE" uses for the current request: the first
        ready channel of the request's company (the website's company when the website module
        serves the page, else the environment's company). Empty when it has none."""
        company = self.env.company
        website = getattr(request, "website", None) if request else None
        if website:
            company = website.company_id
        channels = self.sudo().search([("company_id", "=", company.id)])
        return channels.filtered(lambda c: c._line_login_ready())[:1]
