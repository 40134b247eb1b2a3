from odoo import _, fields, models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # only the code writes it (sudo): no user can reset it and make the notice go twice
    line_shipped_notice_sent = fields.Boolean("Shipping Notice Sent on LINE", readonly=True,
                                              copy=False, groups="base.group_system")

    def _action_done(self):
        result = super()._action_done()
        self._line_notify_shipped()
        return result

    def _line_notify_shipped(self):
        """The "order shipped" notice for validated deliveries of sales orders, once per
        delivery, to the order's customer: with the carrier's tracking reference and a button
        to its tracking page when the delivery has one (``_line_tracking_reference`` /
        ``_line_tracking_url``, given by ``line_idlink_stock_delivery``), else to the order's
        portal page."""
        pickings = self.filtered(lambda p: p.state == "done" and p.sale_id
                                 and p.picking_type_code == "outgoing"
                                 and not p.sudo().line_shipped_notice_sent)
        if not pickings:
            return self.env["line.message"]
        urls, extra = {}, {}
        for picking in pickings:
            order = picking.sale_id
            urls[picking.id] = order.get_base_url() + order.sudo().get_portal_url()
            reference = picking._line_tracking_reference()
            if reference:
                extra[picking.id] = [_("Tracking number: %(reference)s", reference=reference)]
                tracking_url = picking._line_tracking_url()
                if tracking_url:
                    urls[picking.id] = tracking_url
        queued = self.env["line.notice.template"]._line_notify(
            "order_shipped", pickings, urls=urls, extra_lines=extra,
            partners={p.id: p.sale_id.partner_id for p in pickings})
        pickings.filtered(lambda p: p.id in queued.mapped("res_id")).sudo().write(
            {"line_shipped_notice_sent": True})
        return queued

    def _line_tracking_reference(self):
        """The carrier's tracking reference of the delivery; none here (the
        ``line_idlink_stock_delivery`` bridge gives ``stock_delivery``'s)."""
        self.ensure_one()
        return False

    def _line_tracking_url(self):
        """The carrier's tracking page of the delivery (an http(s) URL); none here (the
        ``line_idlink_stock_delivery`` bridge gives ``stock_delivery``'s)."""
        self.ensure_one()
        return False
