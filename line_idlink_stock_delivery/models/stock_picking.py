from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _line_tracking_reference(self):
        """The carrier's tracking reference (``stock_delivery``'s ``carrier_tracking_ref``)."""
        return super()._line_tracking_reference() or self.carrier_tracking_ref or False

    def _line_tracking_url(self):
        """The carrier's tracking page (one URL; a carrier answering several gives a JSON list,
        then the order page is linked instead)."""
        url = super()._line_tracking_url() or self.carrier_tracking_url
        return url if url and url.startswith(("https://", "http://")) else False
