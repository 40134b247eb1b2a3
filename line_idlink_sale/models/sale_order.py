from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    line_confirmed_notice_sent = fields.Boolean(
        "Confirmation Sent on LINE", readonly=True, copy=False, groups="base.group_system",
        help="The order-confirmed notice was queued on LINE (sent at most once per order).")
    # groups: only the code writes the flag (sudo); a user who could reset it over JSON-RPC would
    # make the notice go twice

    def action_confirm(self):
        result = super().action_confirm()
        self.partner_id._line_update_purchase_stats()
        self._line_notify_confirmed()
        return result

    def _action_cancel(self):
        confirmed_partners = self.filtered(lambda o: o.state == "sale").partner_id
        result = super()._action_cancel()
        if confirmed_partners:
            confirmed_partners._line_update_purchase_stats()
        return result

    def _line_notify_confirmed(self):
        """The order-confirmed notice, once per order (a re-confirmed order says nothing)."""
        orders = self.filtered(
            lambda o: o.state == "sale" and not o.sudo().line_confirmed_notice_sent)
        if not orders:
            return self.env["line.message"]
        queued = self.env["line.notice.template"]._line_notify("order_confirmed", orders)
        sent = orders.filtered(lambda o: o.id in queued.mapped("res_id"))
        sent.sudo().write({"line_confirmed_notice_sent": True})
        return queued
