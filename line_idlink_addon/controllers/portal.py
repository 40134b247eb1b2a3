from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class LinePortal(CustomerPortal):

    def _line_identities(self):
        # sudo with an explicit filter on the visitor's own partner (the record rule's domain)
        return request.env["line.identity"].sudo().search(
            [("partner_id", "=", request.env.user.partner_id.id)])

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "line_count" in counters:
            values["line_count"] = len(self._line_identities().filtered("linked"))
        return values

    @http.route("/my/line", type="http", auth="user", website=True, methods=["GET"])
    def portal_my_line(self, **kwargs):
        values = self._prepare_portal_layout_values()
        identities = self._line_identities()
        values.update({"page_name": "line", "identities": identities.filtered("linked"),
                       "former": identities.filtered(lambda i: not i.linked),
                       "unlinked": kwargs.get("unlinked"), "linked": kwargs.get("linked"),
                       "login_channels": request.env["line.channel"]._line_login_channel()})
        return request.render("line_idlink_addon.portal_my_line", values)

    @http.route("/my/line/unlink/<int:identity_id>", type="http", auth="user", methods=["POST"], website=True)
    def portal_my_line_unlink(self, identity_id, **kwargs):
        # runs as the visitor: the record rule refuses someone else's identity (AccessError)
        identity = request.env["line.identity"].browse(identity_id)
        identity.action_unlink_line()
        return request.redirect("/my/line?unlinked=1")
