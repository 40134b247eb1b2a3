from odoo import _, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    send_abandoned_cart_line = fields.Boolean(
        related="website_id.send_abandoned_cart_line", readonly=False)
    cart_recovery_line_template_id = fields.Many2one(
        related="website_id.cart_recovery_line_template_id", readonly=False)

    def action_open_abandoned_cart_line_template(self):
        return {
            "name": _("Cart Recovery LINE Message"),
            "type": "ir.actions.act_window",
            "res_model": "mail.template",
            "view_mode": "form",
            "res_id": self.website_id.cart_recovery_line_template_id.id
            or self.env.ref("line_idlink_website_sale.mail_template_sale_cart_recovery_line").id,
        }
