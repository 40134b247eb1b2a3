from datetime import datetime

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero, html2plaintext

from ..lib.line_messages import link_bubble


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # At most one LINE reminder per cart: only the code writes the flag (sudo), so that no user
    # can reset it over JSON-RPC and have the cart reminded twice.
    cart_recovery_line_sent = fields.Boolean("Cart reminder sent on LINE", copy=False,
                                             readonly=True, groups="base.group_system",
                                             help="At most one LINE reminder per cart.")
    line_cart_recovery_available = fields.Boolean(
        "Can be reminded on LINE", compute="_compute_line_cart_recovery_available",
        help="The customer is linked with LINE and still a friend of the official account of "
             "this order's company, and the cart was not reminded on LINE yet.")

    def _compute_line_cart_recovery_available(self):
        identities = self._line_cart_identities()
        for order in self:
            order.line_cart_recovery_available = (order.id in identities
                                                  and not order.sudo().cart_recovery_line_sent)

    # ---- WHO CAN BE REMINDED ------------------------------------------------------------------
    @api.model
    def _line_reachable_partner_ids(self, company):
        """Partners linked with LINE and friends of an active channel of ``company`` (one SQL
        query: the cron selects its carts with it, whatever their number)."""
        self.env["line.identity"].flush_model(["linked", "follow_state", "partner_id",
                                               "channel_id"])
        self.env["line.channel"].flush_model(["active", "company_id"])
        self.env.cr.execute("""
            SELECT DISTINCT i.partner_id
              FROM line_identity i JOIN line_channel c ON c.id = i.channel_id
             WHERE i.linked AND i.follow_state = 'followed' AND i.partner_id IS NOT NULL
               AND c.active AND c.company_id = %s""", (company.id,))
        return [row[0] for row in self.env.cr.fetchall()]

    def _line_cart_identities(self):
        """{order id: the customer's reachable ``line.identity`` (sudo) in a channel of the
        order's company} for the orders whose customer can be reached on LINE."""
        orders = self.filtered("partner_id")
        if not orders:
            return {}
        identities = self.env["line.identity"].sudo().search([
            ("partner_id", "in", orders.partner_id.ids), ("linked", "=", True),
            ("follow_state", "=", "followed"),
            ("channel_id.company_id", "in", orders.company_id.ids)], order="id")
        by_key = {}
        for identity in identities:
            by_key.setdefault((identity.partner_id.id, identity.channel_id.company_id.id),
                              identity)
        result = {}
        for order in orders:
            identity = by_key.get((order.partner_id.id, order.company_id.id))
            if identity:
                result[order.id] = identity
        return result

    def _line_filter_can_send_abandoned_cart(self):
        """The conditions of Odoo's abandoned-cart e-mail (``_filter_can_send_abandoned_cart_mail``
        of website_sale and website_sale_stock) except the e-mail address, set-based: no
        transaction in error, a line with a price, no order confirmed by the same customer on
        the website since the cart was left, every product still available."""
        result = self.browse()
        for website, carts in self.grouped("website_id").items():
            if not website:
                continue
            abandoned_since = datetime.utcnow() - relativedelta(
                hours=website.cart_abandoned_delay)
            latest_cart = {}
            for cart in carts:
                latest_cart[cart.partner_id.id] = max(
                    latest_cart.get(cart.partner_id.id, cart.create_date), cart.create_date)
            ordered_since = {
                partner.id: last_order for partner, last_order in self.sudo()._read_group([
                    ("state", "=", "sale"), ("partner_id", "in", carts.partner_id.ids),
                    ("create_date", ">=", abandoned_since), ("website_id", "=", website.id),
                ], ["partner_id"], ["date_order:max"])}
            failed = self.env["payment.transaction"].sudo().search([
                ("sale_order_ids", "in", carts.ids), ("state", "=", "error")]).sale_order_ids
            prices = {order.id: (low, high) for order, low, high in
                      self.env["sale.order.line"].sudo()._read_group(
                          [("order_id", "in", carts.ids)], ["order_id"],
                          ["price_unit:min", "price_unit:max"])}
            sold_out = carts._line_sold_out_products(website)
            for cart in carts - failed:
                rounding = cart.currency_id.rounding
                if all(float_is_zero(price or 0.0, precision_rounding=rounding)
                       for price in prices.get(cart.id, (0.0, 0.0))):
                    continue
                last_order = ordered_since.get(cart.partner_id.id)
                if last_order and latest_cart[cart.partner_id.id] <= last_order:
                    continue
                if sold_out and set(cart.order_line.product_id.ids) & sold_out:
                    continue
                result |= cart
        return result

    def _line_sold_out_products(self, website):
        """website_sale_stock's ``_all_product_available`` for many carts at once: the ids of
        the storable products of these carts that cannot be sold out of stock and have no free
        quantity left on ``website`` (each product looked up once, not once per cart)."""
        products = self.with_context(website_sale_stock_get_quantity=True).order_line.product_id
        products = products.filtered(lambda p: p.is_storable and not p.allow_out_of_stock_order)
        return {product.id for product in products
                if website._get_product_available_qty(product) == 0}

    # ---- SENDING ------------------------------------------------------------------------------
    def _line_cart_recovery_url(self):
        """The link of the reminder: the cart restored from its access token (Odoo's
        ``/shop/cart?access_token=``), tracked when link_tracker is installed."""
        self.ensure_one()
        self._portal_ensure_token()
        url = f"{self.get_base_url()}/shop/cart?access_token={self.access_token}"
        return self.env["website"]._line_tracked_url(url, self.name)

    def _line_cart_recovery_send(self):
        """Queue one LINE reminder per cart whose customer is reachable on LINE (through the
        outgoing queue ``line.message``, the cart as origin), flag them and note it in their
        chatter; returns the carts reminded. Set-based for a cron's thousands of carts: the
        template compiled once per language, one batched enqueue per channel (a row and its
        retry key per cart, one create), one batch of chatter notes. The flag is written in the
        same transaction as the queued messages: a cart is reminded at most once."""
        identities = self._line_cart_identities()
        carts = self.filtered(lambda order: order.id in identities)
        carts._line_ensure_access_tokens()
        items = {}  # channel -> [(LINE user id, messages, cart)]
        for website, orders in carts.grouped("website_id").items():
            template = website.cart_recovery_line_template_id or self.env.ref(
                "line_idlink_website_sale.mail_template_sale_cart_recovery_line")
            bodies = template.sudo().with_context(line_qweb_compile_once=True)._render_field(
                "body_html", orders.ids, compute_lang=True)
            for order in orders:
                identity = identities[order.id]
                lang = order.partner_id.lang or identity._line_lang()
                text = html2plaintext(bodies[order.id] or "").strip() or order.name
                messages = order.with_context(lang=lang)._line_cart_recovery_messages(text)
                items.setdefault(identity.channel_id, []).append(
                    (identity.line_user_id, messages, order))
        for channel, channel_items in items.items():
            self.env["line.message"].sudo()._line_enqueue_batch(channel, channel_items)
        if carts:
            carts.sudo().cart_recovery_line_sent = True
            notes = {}
            for order in carts:
                notes[order.id] = Markup("<p>%s</p>") % _(
                    "Abandoned-cart reminder sent on LINE to %(name)s.",
                    name=identities[order.id].display_name)
            carts._message_log_batch(notes)
        return carts

    def _line_cart_recovery_messages(self, text):
        """The reminder (in the language of the context): the template's text and a button
        back to the cart."""
        self.ensure_one()
        return [link_bubble(text, _("Resume my order"), self._line_cart_recovery_url(),
                            title=_("Your cart is waiting"))]

    def action_recovery_line_send(self):
        """"Send on LINE" beside Odoo's recovery e-mail button: remind these carts now."""
        self.check_access("write")
        carts = self.filtered("line_cart_recovery_available")
        if not carts:
            raise UserError(_("The customer of this cart is not linked with LINE, or no longer"
                              " a friend of the official account, or the cart was already"
                              " reminded on LINE."))
        sent = carts._line_cart_recovery_send()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "next": {"type": "ir.actions.act_window_close"},
            "message": _("Reminder queued on LINE for %(count)s cart(s).", count=len(sent))}}
