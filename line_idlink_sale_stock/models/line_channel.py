from odoo import _, models


class LineChannel(models.Model):
    _inherit = "line.channel"

    def _line_order_rows(self, order, lang):
        """注文履歴 also says where the delivery is (pending, started, partial, full)."""
        rows = super()._line_order_rows(order, lang)
        if order.delivery_status:
            labels = dict(order._fields["delivery_status"]._description_selection(self.env))
            rows.append((_("Delivery"), labels.get(order.delivery_status, order.delivery_status)))
        return rows
