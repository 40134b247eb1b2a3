from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.line_messages import link_bubble


class LineStockNotification(models.Model):
    """A customer's request "Notify me on LINE" for a sold-out product: one LINE message when
    the product is back in stock (Odoo's back-in-stock cron, ``_send_availability_email``),
    then the request is deleted. Portal users see and delete only their own requests; they are
    created by the shop's controller for the logged-in customer only."""

    _name = "line.stock.notification"
    _description = "LINE Back-in-Stock Request"
    _order = "id desc"
    _check_company_auto = True

    product_id = fields.Many2one("product.product", required=True, ondelete="cascade",
                                 index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", required=True, ondelete="cascade",
                                 index=True, readonly=True)
    website_id = fields.Many2one("website", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="website_id.company_id", store=True)

    _sql_constraints = [("product_partner_uniq", "unique(product_id, partner_id, website_id)",
                         "One back-in-stock request per product and customer.")]

    @api.model
    def _line_subscribe(self, product, partner, website):
        """The request of ``partner`` (sudo; created if missing). Refused unless the product
        is sold out on ``website`` and the partner is reachable on LINE there."""
        product = product.sudo()
        if not product.exists() or not product.with_context(
                website_id=website.id)._is_sold_out():
            raise UserError(_("This product is available: no need to wait for it."))
        if not partner._line_shop_identity(website.company_id):
            raise UserError(_("Link your account with LINE first."))
        request = self.sudo().search([("product_id", "=", product.id),
                                      ("partner_id", "=", partner.id),
                                      ("website_id", "=", website.id)])
        return request or self.sudo().create({"product_id": product.id,
                                              "partner_id": partner.id,
                                              "website_id": website.id})

    def _line_notify_available(self):
        """Queue one LINE message per request whose product is in stock again on its
        website, then delete those requests (the subscription ends). Returns how many."""
        done = self.browse()
        Message = self.env["line.message"].sudo()
        for request in self.sudo():
            website = request.website_id
            product = request.product_id.with_context(website_id=website.id)
            if product._is_sold_out():
                continue
            identity = request.partner_id._line_shop_identity(website.company_id)
            if identity:
                lang = request.partner_id.lang or identity._line_lang()
                messages = request.with_context(lang=lang)._line_messages()
                Message._line_enqueue(identity.channel_id, identity.line_user_id, messages,
                                      origin=request.product_id)
            # not reachable any more (unlinked, blocked): nothing to send, the request ends too
            done |= request
        count = len(done)
        done.unlink()
        return count

    def _line_messages(self):
        self.ensure_one()
        product = self.product_id.with_context(lang=self.env.context.get("lang"))
        website = self.website_id
        url = f"{website.get_base_url()}{product.website_url}"
        url = self.env["website"]._line_tracked_url(url, product.display_name)
        return [link_bubble(
            _("%(product)s is back in stock. Order it before it sells out again!",
              product=product.display_name),
            _("See the product"), url, title=_("Back in stock"))]
