"""The shop's LINE routes.

- ``/shop/line/stock_notification`` (+ ``/cancel``): "Notify me on LINE" on a sold-out product
  page, for the logged-in customer only (JSON, CSRF-free like Odoo's own e-mail variant, but
  ``auth='user'``: nobody can subscribe someone else).
- ``/shop/confirmation/line``: the "Link your LINE account" button of the order confirmation
  page. A logged-in customer links with LINE Login (``mode=link``); a guest's LINE Login links
  the LINE account to the customer of the order this browser just placed (the session's
  ``sale_last_order_id``), unless that LINE account is already linked (then it is a "log in
  with LINE"). Either way LINE Login comes back to ``/shop/confirmation``.
"""

import time
from urllib.parse import urlencode

from odoo import _, http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.line_idlink_addon.controllers.login import LineLoginController

CONFIRMATION = "/shop/confirmation"
SESSION_ORDER_LINK = "line_shop_order_link"
ORDER_LINK_TTL = 600


class LineWebsiteSale(http.Controller):

    def _line_product(self, product_id):
        """A product of this website the visitor may see, else a clear error."""
        try:
            product = request.env["product.product"].sudo().browse(int(product_id)).exists()
        except (TypeError, ValueError):
            product = None
        template = product and product.product_tmpl_id
        if not template or not template.is_published or \
                not template.can_access_from_current_website():
            raise UserError(_("This product is not available in this shop."))
        return product

    @http.route("/shop/line/stock_notification", type="json", auth="user", website=True)
    def line_stock_notification(self, product_id):
        product = self._line_product(product_id)
        request.env["line.stock.notification"]._line_subscribe(
            product, request.env.user.partner_id, request.website)
        return {"subscribed": True}

    @http.route("/shop/line/stock_notification/cancel", type="json", auth="user", website=True)
    def line_stock_notification_cancel(self, product_id):
        # as the customer: record rules let portal users delete only their own requests
        requests = request.env["line.stock.notification"].search([
            ("product_id", "=", int(product_id)), ("website_id", "=", request.website.id),
            ("partner_id", "=", request.env.user.partner_id.id)])
        requests.unlink()
        return {"subscribed": False}

    @http.route("/shop/confirmation/line", type="http", auth="public", website=True,
                sitemap=False)
    def line_confirmation_link(self, **kwargs):
        order_id = request.session.get("sale_last_order_id")
        channel = request.env["line.channel"]._line_login_channel()
        if not order_id or not channel:
            return request.redirect(CONFIRMATION)
        if request.env.user._is_public():
            request.session[SESSION_ORDER_LINK] = {"order_id": order_id,
                                                   "expires": time.time() + ORDER_LINK_TTL}
            mode = "login"
        else:
            mode = "link"
        query = urlencode({"channel": channel.id, "mode": mode, "redirect": CONFIRMATION})
        return request.redirect(f"/line/login/start?{query}")


class LineShopLoginController(LineLoginController):
    """A guest's LINE Login started from the order confirmation page links the LINE account to
    that order's customer and comes back to the confirmation page."""

    def _login(self, channel, result, redirect):
        order = _order_to_link()
        if order:
            taken = request.env["line.identity"].sudo().search_count([
                ("channel_id", "=", channel.id), ("line_user_id", "=", result.id_claims["sub"]),
                ("linked", "=", True)], limit=1)
            if not taken:
                return self._link(channel, order.partner_id, result, redirect=CONFIRMATION)
        return super()._login(channel, result, redirect)


def _order_to_link():
    """The order this browser just placed, when its confirmation page asked to link LINE (a
    marker in the session, 10 minutes, for this very order); else None. Used once."""
    marker = request.session.pop(SESSION_ORDER_LINK, None)
    order_id = request.session.get("sale_last_order_id")
    if not marker or marker.get("expires", 0) < time.time() or \
            marker.get("order_id") != order_id or not request.env.user._is_public():
        return None
    order = request.env["sale.order"].sudo().browse(order_id).exists()
    if not order or not order.partner_id or order.partner_id.user_ids or \
            order.partner_id == request.website.user_id.partner_id:
        return None  # a customer with an account logs in to link (never linked as a guest)
    return order
