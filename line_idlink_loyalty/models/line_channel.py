import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import liff
from ..lib.loyalty_messages import points_answer

from line_idlink import flex_builders

LIFF_SDK_CDN = "https://static.line-scdn.net/liff/edge/2/sdk.js"
LIFF_ID = re.compile(r"^[0-9]{6,20}-[A-Za-z0-9]{4,20}$")


class LineChannel(models.Model):
    _inherit = "line.channel"

    liff_id = fields.Char(
        "LIFF ID",
        help="The LIFF app of the member card, added to this channel's LINE Login channel in the"
             " LINE Developers console (e.g. 1234567890-AbCdEfGh). Its endpoint URL is the"
             " 'LIFF Endpoint URL' below.")
    liff_sdk_url = fields.Char(
        "LIFF SDK URL", default=LIFF_SDK_CDN, groups="base.group_system",
        help="Where the member card page loads the LIFF SDK from: LINE's CDN by default. An"
             " offline test can point it at a stand-in (e.g. LINE's @line/liff-mock).")
    liff_endpoint_url = fields.Char(
        "LIFF Endpoint URL", compute="_compute_liff_endpoint_url",
        help="Enter this URL as the endpoint URL of the LIFF app (LINE Developers console).")
    liff_url = fields.Char("LIFF URL", compute="_compute_liff_endpoint_url",
                           help="The URL customers open: https://liff.line.me/<LIFF ID>.")

    @api.constrains("liff_id")
    def _check_liff_id(self):
        for channel in self:
            if channel.liff_id and not LIFF_ID.match(channel.liff_id):
                raise ValidationError(_(
                    "%(value)s is not a LIFF ID: it looks like 1234567890-AbCdEfGh (the LINE"
                    " Login channel ID, a hyphen, letters and digits).", value=channel.liff_id))

    @api.constrains("liff_sdk_url")
    def _check_liff_sdk_url(self):
        for channel in self.sudo():
            url = channel.liff_sdk_url or ""
            if url and not (url.startswith("https://") or url.startswith("/")):
                raise ValidationError(_("The LIFF SDK URL must be an https:// URL or a path on"
                                        " this server."))

    @api.depends("liff_id")
    def _compute_liff_endpoint_url(self):
        for channel in self:
            channel.liff_endpoint_url = channel._line_liff_endpoint() if channel.id else False
            channel.liff_url = channel._line_liff_url() or False

    def _line_liff_endpoint(self):
        self.ensure_one()
        return f"{self._line_base_url().rstrip('/')}/line/liff/card/{self.id}"

    def _line_liff_url(self):
        """``https://liff.line.me/<LIFF ID>`` (None without a LIFF ID)."""
        self.ensure_one()
        return f"https://liff.line.me/{self.liff_id}" if self.liff_id else None

    # ---- LIFF ID TOKENS -------------------------------------------------------------------------
    def _line_liff_ready(self):
        self.ensure_one()
        channel = self.sudo()
        return bool(channel.active and channel.liff_id and channel.login_channel_id
                    and channel.login_channel_secret)

    def _line_liff_client(self):
        """The cached LoginClient of this channel's LINE Login channel (warm JWKS)."""
        channel = self.sudo()
        return liff.liff_client(channel.login_channel_id, channel.login_channel_secret,
                                channel.api_base, channel.auth_base)

    def _line_liff_verify(self, id_token):
        """Verified claims of a LIFF ID token posted to this channel's member card, else
        :class:`line_idlink.login.IdTokenError` / ``LoginError``: ES256 only, audience = this
        channel's LINE Login channel, unexpired."""
        self.ensure_one()
        return liff.verify_liff_token(self._line_liff_client(), id_token)

    # ---- CHAT (the base addon's extension API) ---------------------------------------------------
    @api.model
    def _line_default_keywords(self):
        keywords = super()._line_default_keywords()
        keywords["points"] = [_("ポイント")]
        keywords["member_card"] = [_("会員証")]
        return keywords

    def _line_linked_menu_buttons(self):
        return super()._line_linked_menu_buttons() + [
            {"preset": "points", "label": _("ポイント"), "sequence": 30,
             "tile": "line_idlink_loyalty/static/img/richmenu_tile_points.png"},
            {"preset": "member_card", "label": _("会員証"), "sequence": 40,
             "tile": "line_idlink_loyalty/static/img/richmenu_tile_member_card.png"},
        ]

    def _line_handle_action(self, run, event, identity, action, params):
        if action in ("points", "member_card"):
            if not identity.linked:
                return self._line_invite_to_link(run, event, identity)
            channel = self.with_context(lang=self._line_chat_lang(identity))
            if action == "points":
                run.reply(event, [channel._line_points_message(identity.partner_id)], identity)
                return "points"
            run.reply(event, [channel._line_member_card_message(identity)], identity)
            return "member_card"
        return super()._line_handle_action(run, event, identity, action, params)

    def _line_points_message(self, partner):
        """The ポイント answer: the partner's own cards (the portal's domain, exact partner)."""
        self.ensure_one()
        cards = self.env["loyalty.card"]._line_customer_cards(partner, self.company_id)
        labels = {"tier": _("Tier"), "expires": _("Valid until"),
                  "no_expiry": _("No expiry"), "details": _("Member card")}
        values = cards.with_context(lang=self.env.lang)._line_card_values()
        message = points_answer(values, labels, _("Your points"), self._line_liff_url())
        return message or {"type": "text", "text": _("You have no loyalty points yet.")}

    def _line_member_card_message(self, identity):
        """The 会員証 answer / "Send member card": a Flex card with a button to the LIFF page."""
        self.ensure_one()
        partner = identity.partner_id
        cards = self.env["loyalty.card"]._line_customer_cards(partner, self.company_id)
        card = cards.filtered(lambda c: c.program_id.program_type == "loyalty")[:1] or cards[:1]
        url = self._line_liff_url()
        if not card:
            return {"type": "text", "text": _("You have no member card yet.")}
        values = card.with_context(lang=self.env.lang)._line_card_values()[0]
        return flex_builders.member_card(
            values["code"], tier=values["tier"] or None, points=card.points,
            lang=identity._line_lang(), name=partner.name, url=url)
