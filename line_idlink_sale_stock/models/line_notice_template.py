from odoo import fields, models


class LineNoticeTemplate(models.Model):
    _inherit = "line.notice.template"

    notice_type = fields.Selection(selection_add=[("order_shipped", "Order shipped")],
                                   ondelete={"order_shipped": "cascade"})
