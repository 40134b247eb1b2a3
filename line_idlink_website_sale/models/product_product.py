from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _send_availability_email(self):
        """Odoo's back-in-stock cron (``website_sale_stock.ir_cron_send_availability_email``):
        its e-mails, then the LINE messages of the "Notify me on LINE" requests."""
        result = super()._send_availability_email()
        self.env["line.stock.notification"].sudo().search([])._line_notify_available()
        return result

    def _line_has_stock_notification(self, partner, website):
        self.ensure_one()
        return bool(self.env["line.stock.notification"].sudo().search_count([
            ("product_id", "=", self.id), ("partner_id", "=", partner.id),
            ("website_id", "=", website.id)], limit=1))
