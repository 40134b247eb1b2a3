import logging

from odoo import api, fields, models

_logger = logging.getLogger(__name__)
CART_BATCH = 1000  # carts per cron call


class Website(models.Model):
    _inherit = "website"

    def _default_line_cart_recovery_template(self):
        return self.env.ref("line_idlink_website_sale.mail_template_sale_cart_recovery_line",
                            raise_if_not_found=False)

    send_abandoned_cart_line = fields.Boolean(
        "Remind abandoned carts on LINE",
        help="Customers linked with LINE (and still friends of the official account) get a "
             "reminder on LINE when their cart is abandoned, also without an e-mail address.")
    cart_recovery_line_template_id = fields.Many2one(
        "mail.template", "Cart Recovery LINE Message", domain=[("model", "=", "sale.order")],
        default=_default_line_cart_recovery_template,
        help="The text of the LINE reminder (its body, as plain text); the message adds a "
             "button to the cart.")

    @api.model
    def _send_abandoned_cart_line(self):
        """The cron "eCommerce: remind abandoned carts on LINE" (hourly, like Odoo's e-mail):
        for each website with the switch on, the abandoned carts (Odoo's ``is_abandoned_cart``:
        the website's delay) of customers reachable on LINE that were not reminded yet and pass
        the same checks as the e-mail (:meth:`sale.order._line_filter_can_send_abandoned_cart`);
        carts failing the checks are flagged like Odoo does, so they are not checked again.

        One batch of carts per call (system parameter ``line_idlink_website_sale.cart_batch``,
        default 1000); ``_notify_progress`` makes ir.cron call again, committing in between, while
        carts remain."""
        orders = self.env["sale.order"]
        batch = int(self.env["ir.config_parameter"].sudo().get_param(
            "line_idlink_website_sale.cart_batch", CART_BATCH))
        done = remaining = 0
        for website in self.search([("send_abandoned_cart_line", "=", True)]):
            partner_ids = orders._line_reachable_partner_ids(website.company_id)
            if not partner_ids:
                continue
            domain = [("is_abandoned_cart", "=", True), ("cart_recovery_line_sent", "=", False),
                      ("website_id", "=", website.id), ("partner_id", "in", partner_ids)]
            if done < batch:
                carts = orders.search(domain, order="id", limit=batch - done)
                valid = carts._line_filter_can_send_abandoned_cart()
                (carts - valid).sudo().cart_recovery_line_sent = True
                sent = valid._line_cart_recovery_send()
                done += len(carts)
                _logger.info("abandoned carts on LINE, website %s: %s reminded, %s skipped",
                             website.id, len(sent), len(carts) - len(sent))
            remaining += orders.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _line_tracked_url(self, url, title):
        """``url`` shortened and tracked (clicks counted) when link_tracker is installed, as
        Odoo's mailings do; else ``url`` itself."""
        if "link.tracker" not in self.env:
            return url
        tracker = self.env["link.tracker"].sudo().search_or_create([{
            "url": url, "title": title}])
        return tracker.short_url
