import werkzeug

from odoo import _, http
from odoo.http import request

from odoo.addons.line_idlink_addon.controllers.portal import LinePortal


class LineMailingController(http.Controller):

    @http.route("/r/<string:code>/l/<int:trace_id>", type="http", auth="public")
    def line_short_link_redirect(self, code, trace_id, **post):
        """A per-recipient tracked link of a LINE mailing (like SMS's ``/r/<code>/s/<id>``):
        the click is recorded on the trace (opened + clicked), then the visitor goes on."""
        trace = request.env["mailing.trace"].sudo().search(
            [("id", "=", trace_id), ("trace_type", "=", "line")], limit=1)
        if trace:
            request.env["link.tracker.click"].sudo().add_click(
                code, ip=request.httprequest.remote_addr,
                country_code=request.geoip.country_code, mailing_trace_id=trace.id)
        url = request.env["link.tracker"].get_url_from_code(code)
        if not url:
            raise werkzeug.exceptions.NotFound()
        return request.redirect(url, code=301, local=False)


class LineMailingPortal(LinePortal):

    @http.route("/my/line/marketing/<int:identity_id>", type="http", auth="user",
                methods=["POST"], website=True)
    def portal_my_line_marketing(self, identity_id, optout=None, **kwargs):
        """The switch of /my/line: stop (or restart) LINE marketing messages."""
        # as the visitor: the record rule refuses someone else's identity (AccessError)
        identity = request.env["line.identity"].browse(identity_id)
        identity.check_access("read")
        identity._line_set_marketing_optout(optout == "1", _("customer portal"))
        return request.redirect("/my/line?marketing=1")
