from odoo.addons.line_idlink_sale.tests.common import SaleLineCommon


class ShippingLineCommon(SaleLineCommon):
    """A stored product in stock and Aiko, a LINE friend linked to customer A; `ship(order)`
    validates the order's delivery."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product.write({"is_storable": True})
        warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)],
                                                      limit=1)
        cls.env["stock.quant"]._update_available_quantity(cls.product, warehouse.lot_stock_id, 50)

    def setUp(self):
        super().setUp()
        self.aiko, self.ident_a = self.friend_linked_to("Aiko", self.partner_a)

    def ship(self, order):
        picking = order.picking_ids
        picking.move_ids.quantity = picking.move_ids.product_uom_qty
        picking.move_ids.picked = True
        picking.button_validate()
        return picking
