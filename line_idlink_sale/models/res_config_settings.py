from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    line_notice_order_confirmed = fields.Boolean(
        related="company_id.line_notice_order_confirmed", readonly=False)
    line_notice_invoice_posted = fields.Boolean(
        related="company_id.line_notice_invoice_posted", readonly=False)
    line_notice_invoice_due = fields.Boolean(
        related="company_id.line_notice_invoice_due", readonly=False)
    line_notice_due_days = fields.Integer(related="company_id.line_notice_due_days",
                                          readonly=False)
    line_notice_invoice_overdue = fields.Boolean(
        related="company_id.line_notice_invoice_overdue", readonly=False)
    line_segment_new_orders = fields.Integer(
        "New: at most (orders ever)", default=1,
        config_parameter="line_idlink_sale.segment_new_orders")
    line_segment_loyal_orders = fields.Integer(
        "Loyal: at least (orders in 12 months)", default=5,
        config_parameter="line_idlink_sale.segment_loyal_orders")
    line_segment_loyal_amount = fields.Float(
        "Loyal: or at least (amount in 12 months)", default=0.0,
        config_parameter="line_idlink_sale.segment_loyal_amount",
        help="0: the number of orders alone decides.")
    line_segment_dormant_days = fields.Integer(
        "Dormant: no order for (days)", default=180,
        config_parameter="line_idlink_sale.segment_dormant_days")

    def set_values(self):
        params = self.env["ir.config_parameter"].sudo()
        keys = ("new_orders", "loyal_orders", "loyal_amount", "dormant_days")
        before = [params.get_param(f"line_idlink_sale.segment_{key}") for key in keys]
        super().set_values()
        if before != [params.get_param(f"line_idlink_sale.segment_{key}") for key in keys]:
            # new thresholds: the segments are recomputed by the cron, now rather than tonight
            self.env.ref("line_idlink_sale.ir_cron_line_purchase_segments")._trigger()
