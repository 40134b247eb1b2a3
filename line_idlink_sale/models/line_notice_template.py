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
        urls, partners, extra_lines = urls or {}, partners or {}, extra_lines or {}
        if isinstance(records, self.env.registry["portal.mixin"]):  # pages with access tokens
            records.filtered(lambda r: r.id not in urls)._line_ensure_access_tokens()
        by_company = {}
        for record in records:
            company = record.company_id if "company_id" in record._fields else self.env.company
            by_company.setdefault(company or self.env.company, []).append(record)
        batches = {}  # template -> [(record, identity)]
        for company, company_records in by_company.items():
            if check_enabled and not self._line_notice_enabled(notice_type, company):
                continue
            template = self._line_template(notice_type, company)
            if not template or template.model != records._name:
                continue
            customers = {record.id: partners.get(record.id, record.partner_id)
                         for record in company_records}
            identities = self.env["res.partner"].union(
                *customers.values())._line_notice_identities(company)
            batches.setdefault(template, []).extend(
                (record, identities[customers[record.id].id]) for record in company_records
                if customers[record.id].id in identities)
        queued = self.env["line.message"].sudo()
        for template, pairs in batches.items():
            queued |= template._line_send_isolated(notice_type, pairs, urls, extra_lines)
        return queued

    def _line_send_isolated(self, notice_type, pairs, urls, extra_lines):
        """:meth:`_line_send` of all ``pairs`` at once; when that fails, one by one, so a
        notice that cannot be sent (a broken template, a too long text) only misses its own
        record, noted on its chatter, and never blocks the business flow."""
        if len(pairs) > 1:
            try:
                with self.env.cr.savepoint():
                    return self._line_send(pairs, urls, extra_lines)
            except Exception:  # noqa: BLE001 - retried one by one below
                _logger.info("LINE notices %s: the batch failed, sending one by one",
                             notice_type)
        queued = self.env["line.message"].sudo()
        for record, identity in pairs:
            try:
                with self.env.cr.savepoint():
                    queued |= self._line_send([(record, identity)], urls, extra_lines)
            except Exception as exc:  # noqa: BLE001 - a notice never blocks the business flow
                _logger.warning("LINE notice %s about %s failed: %s", notice_type, record, exc)
                if hasattr(record, "_message_log"):
                    record.sudo()._message_log(body=_(
                        "LINE notice not sent (template %(name)s): %(error)s",
                        name=self.name, error=str(exc)))
        return queued

    def _line_send(self, pairs, urls=None, extra_lines=None):
        """Queue this template's notice for each ``(record, identity)`` of ``pairs``: the body
        rendered for all records at once (``_render_field`` on their ids, in each customer's
        language), one batched enqueue per channel (``line.message._line_enqueue_batch``: a row
        and its retry key per record, one create) and one batch of chatter notes. Raises on the
        first problem, and then nothing is queued (the caller's savepoint)."""
        self.ensure_one()
        template = self.sudo()
        urls, extra_lines = urls or {}, extra_lines or {}
        records = pairs[0][0].browse([record.id for record, _identity in pairs])
        bodies = template._render_field("body", records.ids, compute_lang=True)
        langs = template._render_lang(records.ids) if template.lang else {}
        labels = {}
        items, notes = {}, {}
        for record, identity in pairs:
            body = bodies[record.id].strip()
            if extra_lines.get(record.id):
                body = "\n".join([body, *extra_lines[record.id]])
            if not body:
                raise UserError(_("The LINE notice template %(name)s renders an empty message.",
                                  name=template.name))
            lang = langs.get(record.id)
            if lang not in labels:
                labels[lang] = (template.with_context(lang=lang) if lang else template).button_label
            url = urls.get(record.id)
            if url is None and hasattr(record, "get_portal_url"):
                url = record.get_base_url() + record.sudo().get_portal_url()
            items.setdefault(identity.channel_id, []).append(
                (identity.line_user_id, [flex.notice(body, labels[lang], url)], record))
            notes[record.id] = Markup("%s<br/>%s") % (
                _("Sent on LINE to %(name)s.", name=identity.display_name), body)
        queued = self.env["line.message"].sudo()
        for channel, channel_items in items.items():
            queued |= queued._line_enqueue_batch(channel, channel_items)
        if hasattr(records, "_message_log_batch"):
            records.sudo()._message_log_batch(notes)
        return queued
