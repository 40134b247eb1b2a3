"""The LIFF member card.

``GET /line/liff/card/<channel>`` (the LIFF app's endpoint URL) renders a page that loads the
LIFF SDK (the channel's ``liff_sdk_url``: LINE's CDN by default), calls ``liff.init`` with the
channel's LIFF ID, takes the ID token with ``liff.getIDToken()`` (after ``liff.login()`` in an
external browser) and posts it to ``/line/liff/card/<channel>/data`` (JSON-RPC). Only that POST
tells anything about a customer, and only after the token verified: ES256 with LINE's JWKS,
audience = the channel's LINE Login channel, unexpired (``line.channel._line_liff_verify``). The
answer is the linked customer's cards (the portal's domain, exact partner); a LINE user who is
not linked gets the link button; a refused token gets one fixed sentence, the same for every
reason (the reason is logged).

The link button (``/line/liff/card/<channel>/link``) goes through the base addon's LINE Login
(``/line/login/start``) and comes back to the card: the card's path is kept in the session and
the login's last redirect (``/my/line?linked=1``) is replaced by it.
"""

import logging
from urllib.parse import quote, urlencode

from odoo import _, fields, http
from odoo.http import request

from odoo.addons.line_idlink_addon.controllers.login import LineLoginController

from line_idlink.login import IdTokenError, LoginError

_logger = logging.getLogger(__name__)

SESSION_RETURN = "line_liff_return"
OPENED_RESOLUTION = 60  # seconds: a card opened again within a minute is not written again


class LineLiffCard(http.Controller):

    def _liff_channel(self, channel_id):
        channel = request.env["line.channel"].sudo().browse(channel_id).exists()
        channel = channel if channel and channel._line_liff_ready() else None
        if channel:
            self._liff_lang()
        return channel

    @staticmethod
    def _liff_lang():
        """A visitor in LINE is not logged in to Odoo: the page speaks the language of the phone
        (the browser's Accept-Language, as LINE's in-app browser sends it) when Odoo has it
        installed, else Odoo's default for the visitor."""
        if not request.env.user._is_public():
            return
        # the site's languages (with `website`: the current website's own languages)
        installed = list(request.env["res.lang"]._get_frontend())
        by_tag = {code.replace("_", "-"): code for code in installed}
        by_tag.update({code.split("_")[0]: code for code in installed
                       if code.split("_")[0] not in by_tag})
        best = request.httprequest.accept_languages.best_match(list(by_tag))
        if best and by_tag[best] != request.env.lang:
            request.update_context(lang=by_tag[best])
            request.lang = request.env["res.lang"]._get_data(code=by_tag[best])

    # website=True: the page is a frontend page (web.frontend_layout needs the website's values
    # when `website` is installed); multilang=False: no /<lang>/ redirect, the page stays at the
    # LIFF endpoint URL (liff.init runs under it) and speaks the phone's language (_liff_lang)
    @http.route("/line/liff/card/<int:channel_id>", type="http", auth="public", methods=["GET"],
                website=True, multilang=False, sitemap=False)
    def line_liff_card(self, channel_id, **kwargs):
        channel = self._liff_channel(channel_id)
        if not channel:
            return request.not_found(_("This member card is not available."))
        return request.render("line_idlink_loyalty.liff_card_page", {
            "channel": channel,
            "liff_id": channel.liff_id,
            "sdk_url": channel.liff_sdk_url or "https://static.line-scdn.net/liff/edge/2/sdk.js",
            "data_url": f"/line/liff/card/{channel.id}/data",
            "link_url": f"/line/liff/card/{channel.id}/link",
        })

    @http.route("/line/liff/card/<int:channel_id>/data", type="json", auth="public",
                methods=["POST"], website=True, sitemap=False)
    def line_liff_card_data(self, channel_id, id_token=None, **kwargs):
        channel = self._liff_channel(channel_id)
        refused = {"status": "refused",
                   "message": _("Your LINE account could not be verified. Please open the"
                                " member card from LINE again.")}
        if not channel:
            return refused
        try:
            claims = channel._line_liff_verify(id_token)
        except IdTokenError as exc:
            _logger.info("LIFF member card of channel %s: ID token refused: %s", channel.id,
                         exc.description)
            return refused
        except LoginError as exc:  # LINE's JWKS could not be fetched
            _logger.warning("LIFF member card of channel %s: %s", channel.id, exc)
            return refused
        identity = request.env["line.identity"].sudo().search(
            [("channel_id", "=", channel.id), ("line_user_id", "=", claims["sub"]),
             ("linked", "=", True)], limit=1)
        if not identity or not identity.partner_id:
            return {"status": "not_linked", "link_url": f"/line/liff/card/{channel.id}/link"}
        partner = identity.partner_id
        self._line_card_opened(partner)
        cards = request.env["loyalty.card"]._line_customer_cards(partner, channel.company_id)
        # the cards are the customer's own (sudo, re-scoped above); shown in the page's language
        values = cards.with_context(lang=request.env.lang)._line_card_values()
        for value in values:
            code = value.pop("code") or ""
            value.pop("id")
            value["code"] = code
            value["barcode_url"] = "/report/barcode?" + urlencode({
                "barcode_type": "Code128", "value": code, "width": 600, "height": 120,
                "quiet": 1})
            value["qr_url"] = "/report/barcode?" + urlencode({
                "barcode_type": "QR", "value": code, "width": 240, "height": 240})
        return {"status": "card", "name": partner.name, "cards": values}

    @staticmethod
    def _line_card_opened(partner):
        now = fields.Datetime.now()
        partner = partner.sudo()
        last = partner.line_card_opened_at
        if not last or (now - last).total_seconds() >= OPENED_RESOLUTION:
            partner.write({"line_card_opened_at": now})

    @http.route("/line/liff/card/<int:channel_id>/link", type="http", auth="public",
                methods=["GET"], website=True, multilang=False, sitemap=False)
    def line_liff_card_link(self, channel_id, **kwargs):
        """Link with LINE Login, then back to the card (LIFF deep links survive the login)."""
        channel = self._liff_channel(channel_id)
        if not channel:
            return request.redirect("/my")
        card = f"/line/liff/card/{channel.id}"
        request.session[SESSION_RETURN] = card
        mode = "login" if request.env.user._is_public() else "link"
        return request.redirect(f"/line/login/start?channel={channel.id}&mode={mode}"
                                f"&redirect={quote(card, safe='')}")


class LineLiffLoginController(LineLoginController):
    """The base addon's LINE Login, which ends on ``/my/line?linked=1`` after a link: when the
    link started from the member card, it ends on the card instead."""

    @staticmethod
    def _liff_return(response):
        target = request.session.get(SESSION_RETURN)
        location = getattr(response, "location", None) or ""
        if target and getattr(response, "status_code", 200) in (301, 302, 303) \
                and location.split("?")[0].endswith("/my/line"):
            request.session.pop(SESSION_RETURN, None)
            return request.redirect(target)
        return response

    @http.route()
    def line_login_callback(self, **params):
        return self._liff_return(super().line_login_callback(**params))

    @http.route()
    def line_login_pending_confirm(self, **kwargs):
        return self._liff_return(super().line_login_pending_confirm(**kwargs))
