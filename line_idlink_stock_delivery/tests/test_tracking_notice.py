from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_sale_stock.tests.common import ShippingLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestTrackingNotice(ShippingLineCommon, HttpCase):
    """The "order shipped" notice of a delivery sent with a carrier (``stock_delivery``): the
    carrier's tracking reference in the text and its tracking page behind the button."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        service = cls.env["product.product"].create({"name": "Yamato delivery", "type": "service"})
        cls.carrier = cls.env["delivery.carrier"].create({
            "name": "Yamato", "delivery_type": "fixed", "fixed_price": 800.0,
            "product_id": service.id,
            "tracking_url": "https://track.example.jp/?number=<shipmenttrackingnumber>",
        })

    def shipped_message(self, order, **picking_values):
        self.switch_on("order_shipped")
        order.picking_ids.write(dict(picking_values, carrier_id=self.carrier.id))
        picking = self.ship(order)
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self.queued_for(picking)), 1)
        self.send_queue()
        message = self.aiko.inbox[-1]["message"]
        return " ".join(self.flex_texts(message)), self.uris(message)

    def test_shipped_notice_carries_the_tracking_reference_and_link(self):
        order = self.order(self.partner_a, qty=2)
        text, [url] = self.shipped_message(order, carrier_tracking_ref="4410-2233-9876")
        self.assertIn(f"Your order {order.name} has shipped", text)
        self.assertIn("Tracking number: 4410-2233-9876", text)
        self.assertEqual(url, "https://track.example.jp/?number=4410-2233-9876",
                         "the button opens the carrier's tracking page")

    def test_without_tracking_reference_the_button_opens_the_order(self):
        order = self.order(self.partner_a)
        self.carrier.integration_level = "rate"  # nothing sent to the carrier: no reference
        text, [url] = self.shipped_message(order)
        self.assertIn(f"Your order {order.name} has shipped", text)
        self.assertNotIn("Tracking number", text)
        self.assertIn(f"/my/orders/{order.id}?access_token=", url)

    def test_a_carrier_without_tracking_page_gives_the_reference_and_the_order(self):
        order = self.order(self.partner_a)
        self.carrier.tracking_url = False
        text, [url] = self.shipped_message(order, carrier_tracking_ref="TRK-77")
        self.assertIn("Tracking number: TRK-77", text)
        self.assertIn(f"/my/orders/{order.id}?access_token=", url)
