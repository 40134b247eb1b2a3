from odoo.tests import HttpCase, tagged

from .common import ShippingLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestShippingNotice(ShippingLineCommon, HttpCase):
    """The "order shipped" notice when a delivery of a sales order is validated, and the
    delivery state in the chat's order list."""

    def test_shipped_notice_once_per_delivery_to_the_order_customer(self):
        self.switch_on("order_shipped")
        order = self.order(self.partner_a, qty=2)
        self.assertEqual(order.delivery_status, "pending")
        picking = self.ship(order)
        self.assertEqual(picking.state, "done")
        row = self.queued_for(picking)
        self.assertEqual(len(row), 1)
        self.assertEqual(row.line_user_id, self.aiko.user_id)
        self.assertIn("Sent on LINE", picking.message_ids[0].body)
        self.send_queue()
        message = self.aiko.inbox[-1]["message"]
        text = " ".join(self.flex_texts(message))
        self.assertIn(f"Your order {order.name} has shipped", text)
        [url] = self.uris(message)
        self.assertIn(f"/my/orders/{order.id}?access_token=", url,
                      "no carrier tracking: the button opens the order")
        picking._line_notify_shipped()
        self.assertEqual(len(self.queued_for(picking)), 1, "once per delivery")

        rows = dict(self.channel._line_order_rows(order, "en_US"))
        self.assertEqual(rows.get("Delivery"), "Fully Delivered")

    def test_no_shipped_notice_when_switched_off(self):
        picking = self.ship(self.order(self.partner_a))
        self.assertFalse(self.queued_for(picking))

    def test_a_stock_user_cannot_reset_the_shipped_flag_over_json_rpc(self):
        self.switch_on("order_shipped")
        self.staff_user("stan_stock", "stock.group_stock_user")  # warehouse staff, no sales
        order = self.order(self.partner_a)
        picking = order.picking_ids
        picking.move_ids.quantity = picking.move_ids.product_uom_qty
        picking.move_ids.picked = True
        self.authenticate("stan_stock", "stan_stock_pw1")
        self.rpc("stock.picking", "button_validate", [picking.id])
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self.queued_for(picking)), 1)
        names, values = self.open_form(picking)
        self.assertEqual(values["state"], "done")
        self.assertNotIn("line_shipped_notice_sent", names)
        self.assert_rpc_refused("stock.picking", "write", [picking.id],
                                {"line_shipped_notice_sent": False})
        self.assertTrue(picking.line_shipped_notice_sent)
        picking._line_notify_shipped()
        self.assertEqual(len(self.queued_for(picking)), 1, "once per delivery")
