import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import flex

_logger = logging.getLogger(__name__)


class LineNoticeTemplate(models.Model):
    """The text of a transactional LINE notice (order confirmed, invoice posted, ...), like
    ``sms.template`` for SMS: a translatable body rendered with ``{{ }}`` placeholders on the
    record it is about, in the customer's language, and a translatable button label.

    Notices are transactional: they ignore marketing opt-outs, go only to customers with an
    active LINE link who have not blocked the official account, through the outgoing queue
    (``line.message``: retry key, nothing sent twice), and are logged in the record's chatter.
    Bridges add notice types with ``selection_add`` and call :meth:`_line_notify`.
    """

    _name = "line.notice.template"
    _inherit = ["mail.render.mixin"]
    _description = "LINE Notice Template"
    _order = "notice_type, company_id, id"

    name = fields.Char(required=True, translate=True)
    notice_type = fields.Selection(
        [("order_confirmed", "Order confirmed"), ("invoice_posted", "Invoice posted"),
         ("invoice_due", "Invoice due soon"), ("invoice_overdue", "Invoice overdue")],
        required=True, index=True)
    model_id = fields.Many2one("ir.model", "Applies to", required=True, ondelete="cascade",
                               domain=[("transient", "=", False)])
    model = fields.Char(related="model_id.model", store=True, index=True)
    company_id = fields.Many2one("res.company", index=True,
                                 help="Empty: used by every company that has no template of its"
                                      " own for this notice.")
    body = fields.Text(required=True, translate=True,
                       help="The message. {{ object.name }} and similar placeholders are "
                            "replaced by the record's values.")
    button_label = fields.Char(translate=True,
                               help="The link button under the message (empty: no button).")
    active = fields.Boolean(default=True)

    @api.depends("model")
    def _compute_render_model(self):
        for template in self:
            template.render_model = template.model

    # ---- WHICH TEMPLATE, WHICH LINE ACCOUNT -------------------------------------------------
    @api.model
    def _line_template(self, notice_type, company):
        """The active template of ``notice_type`` for ``company`` (its own, else the shared one)."""
        templates = self.sudo().search([("notice_type", "=", notice_type),
                                        ("company_id", "in", [company.id, False])])
        own = templates.filtered(lambda t: t.company_id == company)
        return (own or templates)[:1]

    @api.model
    def _line_notice_enabled(self, notice_type, company):
        """The company's switch for this notice (``res.company.line_notice_<type>``); a type
        without a switch field is enabled (its caller decides, e.g. per website)."""
        field = f"line_notice_{notice_type}"
        return field not in company._fields or bool(company.sudo()[field])

    # ---- SENDING ------------------------------------------------------------------------------
    @api.model
    def _line_notify(self, notice_type, records, urls=None, partners=None, extra_lines=None,
                     check_enabled=True):
        """Queue the ``notice_type`` notice about each of ``records`` to its customer on LINE.

        ``partners`` {record id: res.partner} (default ``record.partner_id``), ``urls`` {record
        id: URL of the button} (default: the record's portal page with its access token),
        ``extra_lines`` {record id: [str]} appended to the rendered text. A record is skipped
        when the company's switch is off, there is no template, or the customer has no LINE link
        that can receive it (not linked, blocked, or only on another company's channel).
        Returns the queued ``line.message`` rows (sudo)."""
        queued = self.env["line.message"].sudo()
        urls, partners, extra_lines = urls or {}, partners or {}, extra_lines or {}
        self._line_ensure_access_tokens(records.filtered(lambda r: r.id not in urls))
        for record in records:
            company = record.company_id if "company_id" in record._fields else self.env.company
            company = company or self.env.company
            if check_enabled and not self._line_notice_enabled(notice_type, company):
                continue
            template = self._line_template(notice_type, company)
            if not template or template.model != record._name:
                continue
            partner = partners.get(record.id, record.partner_id)
            identity = partner._line_notice_identity(company)
            if not identity:
                continue
            try:
                with self.env.cr.savepoint():
                    queued |= template._line_send(record, identity, urls.get(record.id),
                                                  extra_lines.get(record.id))
            except Exception as exc:  # noqa: BLE001 - a notice never blocks the business flow
                _logger.warning("LINE notice %s about %s failed: %s", notice_type, record, exc)
                if hasattr(record, "_message_log"):
                    record.sudo()._message_log(body=_(
                        "LINE notice not sent (template %(name)s): %(error)s",
                        name=template.name, error=str(exc)))
        return queued

    @api.model
    def _line_ensure_access_tokens(self, records):
        """Give the portal records that have none an access token, in one UPDATE: what
        ``_portal_ensure_token`` does one ``write`` at a time, and a ``write`` on an invoice
        re-synchronises its lines (most of the time of a reminder cron otherwise)."""
        if "access_token" not in records._fields or not hasattr(records, "get_portal_url"):
            return
        records.flush_recordset(["access_token"])
        missing = records.filtered(lambda r: not r.sudo().access_token)
        if not missing:
            return
        self.env.cr.execute(
            f'UPDATE "{records._table}" SET access_token = gen_random_uuid()::text '
            "WHERE id IN %s AND access_token IS NULL", [tuple(missing.ids)])
        missing.invalidate_recordset(["access_token"])

    def _line_send(self, record, identity, url=None, extra_lines=None):
        self.ensure_one()
        template = self.sudo()
        body = template._render_field("body", record.ids, compute_lang=True)[record.id].strip()
        lang = template._render_lang(record.ids)[record.id] if template.lang else None
        label = (template.with_context(lang=lang) if lang else template).button_label
        if extra_lines:
            body = "\n".join([body, *extra_lines])
        if not body:
            raise UserError(_("The LINE notice template %(name)s renders an empty message.",
                              name=template.name))
        if url is None and hasattr(record, "get_portal_url"):
            url = record.get_base_url() + record.sudo().get_portal_url()
        message = flex.notice(body, label, url)
        queued = self.env["line.message"].sudo()._line_enqueue(
            identity.channel_id, identity.line_user_id, [message], origin=record)
        if hasattr(record, "_message_log"):
            record.sudo()._message_log(body=Markup("%s<br/>%s") % (
                _("Sent on LINE to %(name)s.", name=identity.display_name), body))
        return queued
