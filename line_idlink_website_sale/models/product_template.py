from odoo import models
from odoo.http import request


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def _get_additionnal_combination_info(self, product_or_template, quantity, date, website):
        """On the product page of a sold-out product: whether the logged-in customer can ask
        "Notify me on LINE" (linked with LINE, a friend of the website company's official
        account), already asked, or could link first."""
        res = super()._get_additionnal_combination_info(product_or_template, quantity, date,
                                                        website)
        res.update(line_stock_notification=False, has_line_stock_notification=False,
                   line_stock_notification_link=False)
        user = request and request.env.user
        if not product_or_template.is_product_variant or not user or user._is_public():
            return res
        partner = user.partner_id
        if partner._line_shop_identity(website.company_id):
            res["line_stock_notification"] = True
            res["has_line_stock_notification"] = \
                product_or_template._line_has_stock_notification(partner, website)
        elif self.env["line.channel"].sudo().search_count(
                [("company_id", "=", website.company_id.id)], limit=1):
            res["line_stock_notification_link"] = True
        return res
