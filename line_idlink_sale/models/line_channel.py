from odoo import _, fields, models
from odoo.tools import format_amount, format_date

from ..lib import flex

ANSWER_LIMIT = 10  # orders / invoices in one carousel (LINE allows 12 bubbles)


class LineChannel(models.Model):
    """注文履歴 / 請求書 / 残高 in the chat, through the base addon's extension API.

    The webhook runs as superuser: every answer re-applies the portal's domains for the
    linked customer (``res.partner._line_portal_orders_domain`` / ``_line_portal_invoices_domain``)
    on this channel's company, and reads nothing from the postback but the action name."""

    _inherit = "line.channel"

    # ---- EXTENSION API ------------------------------------------------------------------------
    def _line_handle_action(self, run, event, identity, action, params):
        answer = self._line_sale_answers().get(action)
        if answer is None:
            return super()._line_handle_action(run, event, identity, action, params)
        if not identity.linked or not identity.partner_id:
            return self._line_invite_to_link(run, event, identity)
        run.reply(event, [answer(identity)], identity)
        return action

    def _line_default_keywords(self):
        keywords = super()._line_default_keywords()
        keywords["orders"] = [_("注文履歴")]
        keywords["invoices"] = [_("請求書")]
        keywords["balance"] = [_("残高")]
        return keywords

    def _line_linked_menu_buttons(self):
        return super()._line_linked_menu_buttons() + [
            {"preset": "orders", "label": _("注文履歴"), "sequence": 20,
             "tile": "line_idlink_sale/static/img/richmenu_tile_orders.png"},
            {"preset": "invoices", "label": _("請求書"), "sequence": 22,
             "tile": "line_idlink_sale/static/img/richmenu_tile_invoices.png"},
            {"preset": "balance", "label": _("残高"), "sequence": 24,
             "tile": "line_idlink_sale/static/img/richmenu_tile_balance.png"},
        ]

    def _line_sale_answers(self):
        """{action: method(identity) -> LINE message} of this bridge."""
        return {"orders": self._line_answer_orders, "invoices": self._line_answer_invoices,
                "balance": self._line_answer_balance}

    # ---- ANSWERS ------------------------------------------------------------------------------
    def _line_answer_orders(self, identity):
        """注文履歴: the customer's latest orders (the portal's "My Orders")."""
        self.ensure_one()
        lang = self._line_chat_lang(identity)
        return self.with_context(lang=lang).sudo()._line_build_orders(identity, lang)

    def _line_answer_invoices(self, identity):
        """請求書: the customer's open invoices, the oldest due first, overdue ones in red, each
        with its portal page (where it can be paid online when a payment provider is set up)."""
        self.ensure_one()
        lang = self._line_chat_lang(identity)
        return self.with_context(lang=lang).sudo()._line_build_invoices(identity, lang)

    def _line_answer_balance(self, identity):
        """残高: what the customer owes in total (open invoices less open credit notes) and what
        is overdue, in the company's currency."""
        self.ensure_one()
        lang = self._line_chat_lang(identity)
        return self.with_context(lang=lang).sudo()._line_build_balance(identity, lang)

    # built on the channel in the answer's language (``_()`` reads ``self.env.lang``)
    def _line_build_orders(self, identity, lang):
        orders = self.env["sale.order"].search(
            identity.partner_id._line_portal_orders_domain(self.company_id),
            order="date_order desc, id desc", limit=ANSWER_LIMIT)
        if not orders:
            return flex.text(_("You have no orders yet."))
        bubbles = []
        for order in orders:
            bubbles.append(flex.bubble(order.name, self._line_order_rows(order, lang),
                                       buttons=[flex.uri_button(_("Details"),
                                                                self._line_url(order))]))
        return flex.flex(_("Your latest orders"), bubbles)

    def _line_order_rows(self, order, lang):
        """(label, value) rows of an order's bubble; ``line_idlink_sale_stock`` adds the
        delivery state."""
        states = dict(order._fields["state"]._description_selection(self.env))
        return [(_("Date"), format_date(self.env, order.date_order, lang_code=lang)),
                (_("Total"), format_amount(self.env, order.amount_total, order.currency_id,
                                           lang_code=lang)),
                (_("Status"), states.get(order.state, order.state))]

    def _line_build_invoices(self, identity, lang):
        invoices = self.env["account.move"].search(
            identity.partner_id._line_open_invoices_domain(self.company_id),
            order="invoice_date_due asc, id asc", limit=ANSWER_LIMIT)
        if not invoices:
            return flex.text(_("You have no unpaid invoices."))
        today = fields.Date.context_today(self)
        bubbles = []
        for invoice in invoices:
            overdue = invoice.invoice_date_due and invoice.invoice_date_due < today
            rows = [(_("Due date"), format_date(self.env, invoice.invoice_date_due,
                                                 lang_code=lang)),
                    (_("Amount due"), format_amount(self.env, invoice.amount_residual,
                                                    invoice.currency_id, lang_code=lang))]
            if overdue:
                rows.append((_("Status"), _("Overdue")))
            bubbles.append(flex.bubble(
                invoice.name, rows, alert_rows=(2,) if overdue else (),
                buttons=[flex.uri_button(_("View and pay"), self._line_url(invoice))]))
        return flex.flex(_("Your unpaid invoices"), bubbles)

    def _line_build_balance(self, identity, lang):
        today = fields.Date.context_today(self)
        domain = identity.partner_id._line_portal_invoices_domain(self.company_id) + [
            ("state", "=", "posted"), ("move_type", "in", ("out_invoice", "out_refund")),
            ("payment_state", "in", ("not_paid", "partial"))]
        moves = self.env["account.move"].search(domain)
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        overdue_moves = invoices.filtered(lambda m: m.invoice_date_due
                                          and m.invoice_date_due < today)
        total = sum(moves.mapped("amount_residual_signed"))
        overdue = sum(overdue_moves.mapped("amount_residual_signed"))
        currency = self.company_id.currency_id
        shown = format_amount(self.env, total, currency, lang_code=lang)
        rows = [(_("Overdue"), format_amount(self.env, overdue, currency, lang_code=lang)),
                (_("Open invoices"), str(len(invoices)))]
        statement = flex.uri_button(_("Statement"), f"{self.get_base_url()}/my/invoices")
        as_of = _("As of %(date)s", date=format_date(self.env, today, lang_code=lang))
        return flex.flex(_("Your balance: %(amount)s", amount=shown), [flex.bubble(
            _("Balance"), rows, big=shown, alert_rows=(0,) if overdue > 0 else (), note=as_of,
            buttons=[statement])])

    def _line_url(self, record):
        """The record's portal page with its access token (opens without logging in)."""
        return record.get_base_url() + record.get_portal_url()
