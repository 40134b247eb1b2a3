import logging
from urllib.parse import quote

from odoo import _, http
from odoo.http import request

from line_idlink.linking import LinkStartError, LinkStatus
from line_idlink.storage import digest
from line_idlink.webhook import (
    MAX_WEBHOOK_BODY, BodyTooLarge, InvalidSignature, WebhookError, request_body,
    signature_from_headers,
)

_logger = logging.getLogger(__name__)


class LineController(http.Controller):

    # ---- Webhook ------------------------------------------------------------------------------
    # No route-level max_content_length: with werkzeug 2.2 it makes Odoo read (and discard)
    # a too-large body to its end before answering 413. Odoo itself parses only form bodies
    # before this method runs (up to its 10 MB max_form_memory_size); LINE sends JSON.
    @http.route("/line/webhook/<int:channel_id>", type="http", auth="public", csrf=False,
                methods=["POST"], save_session=False)
    def line_webhook(self, channel_id, **kwargs):
        """Verify the raw body, store each new event once, answer at once; the cron processes.
        Unknown channel and bad signature answer the same 403 and store nothing. A body over
        MAX_WEBHOOK_BODY (1 MiB) is refused with 413 before it is read (its Content-Length; a
        chunked body is read up to one byte over the limit), and nothing is stored."""
        try:
            raw = request_body(_werkzeug_request(request.httprequest), MAX_WEBHOOK_BODY)
        except BodyTooLarge:
            return request.make_response("Request Entity Too Large", status=413, headers=[
                ("Content-Type", "text/plain"), ("Connection", "close")])
        channel = request.env["line.channel"].sudo().browse(channel_id).exists()
        if not channel or not channel.active or not channel.channel_secret:
            return request.make_response("Forbidden", status=403)
        signature = signature_from_headers(request.httprequest.headers)
        Event = request.env["line.webhook.event"].sudo()
        wake = []  # the cron needs a trigger (see _line_cron_needs_trigger)

        def stored(cr):
            if wake:
                return
            try:
                needed = Event._line_cron_needs_trigger(cr)
            except Exception:  # noqa: BLE001 - the event is stored: make sure it gets processed
                _logger.warning("LINE webhook for channel %s: trigger check failed", channel.id,
                                exc_info=True)
                cr.rollback()
                needed = True
            if needed:
                wake.append(True)

        try:
            receipt = channel._line_receiver(on_stored=stored).receive(raw, signature)
        except InvalidSignature:
            _logger.warning("LINE webhook for channel %s: bad signature", channel.id)
            return request.make_response("Forbidden", status=403)
        except WebhookError as exc:
            return request.make_response(str(exc), status=400)
        if wake:
            request.env.ref("line_idlink_addon.ir_cron_line_webhook_events").sudo()._trigger()
        return request.make_response("OK", headers=[("Content-Type", "text/plain")])

    # ---- Account link (Messaging API flow) ---------------------------------------------------
    def _link_context(self, link_token, to_show=False):
        """(channel, LINE userId, identity) for a remembered, unexpired, unused link token, or
        None. A used token (its account link went through: the core expires it, and a nonce
        issued for it was consumed) is None like an unknown one. ``to_show``: for the page that
        names the LINE account, also None when that account is linked to someone else, so a
        link URL opened by another customer shows nobody's name."""
        if not link_token or not isinstance(link_token, str):
            return None
        token_hash = digest(link_token)
        token = request.env["line.link.token"].sudo().search(
            [("token_hash", "=", token_hash)], limit=1)
        if not token or not token.channel_id.active:
            return None
        channel = token.channel_id
        line_user_id = channel._line_linker().line_user_for_link_token(link_token)
        if not line_user_id:
            return None
        if request.env["line.link.nonce"].sudo().search_count(
                [("link_token_hash", "=", token_hash), ("used_at", "!=", False)], limit=1):
            return None
        identity = request.env["line.identity"].sudo().search(
            [("channel_id", "=", channel.id), ("line_user_id", "=", line_user_id)], limit=1)
        if to_show and identity.linked and identity.partner_id != request.env.user.partner_id:
            return None
        return channel, line_user_id, identity

    def _link_error(self, message, status=400):
        return request.render("line_idlink_addon.link_error", {"error": message},
                              status=status)

    @http.route("/line/link", type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def line_link(self, linkToken=None, **kwargs):
        if request.env.user._is_public():
            target = f"/line/link?linkToken={quote(linkToken or '', safe='')}"
            return request.redirect(f"/web/login?redirect={quote(target, safe='')}")
        # not named `context`: Odoo's _() reads a local `context` as a dict to find the language
        found = self._link_context(linkToken, to_show=True)
        if found is None:
            return self._link_error(_("This link has expired or is unknown. Ask for a new link"
                                      " in the LINE chat."))
        channel, line_user_id, identity = found
        return request.render("line_idlink_addon.link_confirm", {
            "link_token": linkToken,
            "line_name": identity.name or _("your LINE account"),
            "picture_url": identity.picture_url,
            "channel_name": channel.name,
            "partner": request.env.user.partner_id,
        })

    @http.route("/line/link/confirm", type="http", auth="user", methods=["POST"], website=True,
                sitemap=False)
    def line_link_confirm(self, linkToken=None, **kwargs):
        # not named `context`: Odoo's _() reads a local `context` as a dict to find the language
        found = self._link_context(linkToken)
        if found is None:
            return self._link_error(_("This link has expired or is unknown. Ask for a new link"
                                      " in the LINE chat."))
        channel, line_user_id, _identity = found
        try:
            start = channel._line_linker().start_link(request.env.user.partner_id.id,
                                                      line_user_id, linkToken)
        except LinkStartError as exc:
            # the core's reason is English text for logs: the customer reads a translated one
            _logger.info("LINE account link refused for channel %s: %s", channel.id, exc)
            if exc.status == LinkStatus.LINE_USER_TAKEN:
                return self._link_error(_("This LINE account is already linked to another"
                                          " customer."), status=409)
            if exc.status == LinkStatus.USER_MISMATCH:
                return self._link_error(_("This link was made for another LINE account. Ask"
                                          " for a new link in the LINE chat."))
            return self._link_error(_("This link has expired or is unknown. Ask for a new link"
                                      " in the LINE chat."))
        return request.redirect(start.dialog_url, local=False)


def _werkzeug_request(httprequest):
    """The werkzeug request under Odoo's HTTPRequest wrapper, which exposes no ``stream``
    (reading the body in bounded pieces needs it; ``get_data()`` would read it all)."""
    return getattr(httprequest, "_HTTPRequest__wrapped", httprequest)
