import datetime

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

# stored purchase-history fields: written by the set-based SQL of _line_update_purchase_stats only
SEGMENT_FIELDS = ("line_order_count_12m", "line_order_amount_12m", "line_last_order_date",
                  "line_purchase_segment")
SEGMENTS = [("new", "New"), ("light", "Light"), ("loyal", "Loyal"), ("dormant", "Dormant")]
PARAM = "line_idlink_sale.segment_%s"
# partner merge: the merge wizard copies every stored field; ours are recomputed after it instead.
# An object, not a value: no JSON-RPC context can hold it.
_MERGING_KEY = "line_idlink_sale_merging"
_MERGING = object()
SEGMENT_DEFAULTS = {"new_orders": 1, "loyal_orders": 5, "loyal_amount": 0.0, "dormant_days": 180}


class ResPartner(models.Model):
    _inherit = "res.partner"

    # internal users only: a customer reading their own contact over the portal's JSON-RPC does
    # not see how the shop ranks them
    line_order_count_12m = fields.Integer(
        "Orders (12 months)", readonly=True, copy=False, groups="base.group_user",
        help="Confirmed sales orders of this customer in the last 12 months (updated when an "
             "order is confirmed and every night).")
    line_order_amount_12m = fields.Float(
        "Order Amount (12 months)", readonly=True, copy=False, digits=(16, 2),
        groups="base.group_user",
        help="Total of those orders (taxes included), in the company's currency.")
    line_last_order_date = fields.Date("Last Order", readonly=True, copy=False,
                                       groups="base.group_user")
    line_purchase_segment = fields.Selection(
        SEGMENTS, "Purchase Segment", readonly=True, copy=False, index=True,
        groups="base.group_user",
        help="New: first orders. Light: orders now and then. Loyal: many orders (thresholds in "
             "the Sales settings). Dormant: no order for a long time.")

    # ---- THE STORED FIELDS: SQL ONLY --------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            for vals in vals_list:
                self._line_check_segment_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        if self.env.context.get(_MERGING_KEY) is _MERGING:
            vals = {key: value for key, value in vals.items() if key not in SEGMENT_FIELDS}
        elif not self.env.su:
            self._line_check_segment_fields(vals)
        return super().write(vals)

    @api.model
    def _line_check_segment_fields(self, vals):
        if set(vals).intersection(SEGMENT_FIELDS):
            raise AccessError(_("The purchase history of a contact is computed from its "
                                "confirmed orders; it cannot be written by hand."))

    # ---- WHO RECEIVES TRANSACTIONAL NOTICES ---------------------------------------------------
    def _line_notice_identity(self, company):
        """The LINE account (``line.identity``, sudo) a transactional notice for this customer
        goes to: an active link on an active channel of ``company`` whose user has not blocked
        the official account; the contact's own link first, else its company's. Empty when
        there is none."""
        self.ensure_one()
        return self._line_notice_identities(company).get(
            self.id, self.env["line.identity"].sudo())

    def _line_notice_identities(self, company):
        """{partner id: :meth:`_line_notice_identity`} for the partners of ``self`` that have
        one, with one search for all of them (a reminder cron's customers)."""
        partners = self.filtered("id")
        candidates = partners | partners.commercial_partner_id
        if not candidates:
            return {}
        found = {}
        for identity in self.env["line.identity"].sudo().search([
                ("partner_id", "in", candidates.ids), ("linked", "=", True),
                ("follow_state", "!=", "blocked"), ("channel_id.active", "=", True),
                ("channel_id.company_id", "=", company.id)],
                order="last_event_at desc, id desc"):
            found.setdefault(identity.partner_id.id, identity)  # the most recent one
        result = {}
        for partner in partners:
            identity = found.get(partner.id) or found.get(partner.commercial_partner_id.id)
            if identity:
                result[partner.id] = identity
        return result

    # ---- WHAT A CUSTOMER MAY SEE (the portal's domains, re-applied) -------------------------
    def _line_portal_orders_domain(self, company=None):
        """The sales orders the portal's "My Orders" page shows this customer
        (``sale.controllers.portal._prepare_orders_domain`` and the record rule
        ``sale.sale_order_rule_portal``), on ``company``'s records only."""
        self.ensure_one()
        domain = [("message_partner_ids", "child_of", [self.commercial_partner_id.id]),
                  ("state", "=", "sale")]
        if company:
            domain.append(("company_id", "=", company.id))
        return domain

    def _line_portal_invoices_domain(self, company=None):
        """The customer invoices and credit notes the portal's "My Invoices" page shows this
        customer (``account.controllers.portal._get_invoices_domain('out')`` and the record rule
        ``account.account_invoice_rule_portal``), on ``company``'s records only."""
        self.ensure_one()
        domain = [("state", "not in", ("cancel", "draft")),
                  ("move_type", "in", ("out_invoice", "out_refund", "out_receipt")),
                  ("message_partner_ids", "child_of", [self.commercial_partner_id.id])]
        if company:
            domain.append(("company_id", "=", company.id))
        return domain

    def _line_open_invoices_domain(self, company=None):
        """Of those, what is still to be paid (customer invoices, posted, not or partly paid)."""
        return self._line_portal_invoices_domain(company) + [
            ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial"))]

    # ---- PURCHASE-HISTORY SEGMENTS ----------------------------------------------------------
    @api.model
    def _line_segment_thresholds(self):
        get = self.env["ir.config_parameter"].sudo().get_param
        values = {}
        for key, default in SEGMENT_DEFAULTS.items():
            try:
                values[key] = type(default)(get(PARAM % key, default))
            except (TypeError, ValueError):
                values[key] = default
        return values

    def _line_update_purchase_stats(self):
        """Recompute the purchase-history fields with one set-based UPDATE ... FROM (aggregate):
        for these partners, or (empty recordset) for every partner who has or had confirmed
        orders (the nightly cron). Partners whose values change are written only when they
        differ; linked customers whose segment changed get their rich menu recomputed. Returns
        the ids of the partners changed."""
        self.env["sale.order"].flush_model(["partner_id", "state", "date_order", "amount_total",
                                            "currency_rate"])
        self.flush_model(SEGMENT_FIELDS)
        limits = self._line_segment_thresholds()
        today = fields.Date.context_today(self)
        params = {
            "since": fields.Datetime.to_datetime(today) - datetime.timedelta(days=365),
            "dormant_before": today - datetime.timedelta(days=limits["dormant_days"]),
            "new_orders": limits["new_orders"], "loyal_orders": limits["loyal_orders"],
            "loyal_amount": limits["loyal_amount"], "ids": list(self.ids),
            "scoped": bool(self.ids),
        }
        self.env.cr.execute("""
            WITH stats AS (
                SELECT so.partner_id,
                       COUNT(*) AS total,
                       COUNT(*) FILTER (WHERE so.date_order >= %(since)s) AS cnt,
                       COALESCE(SUM(so.amount_total / COALESCE(NULLIF(so.currency_rate, 0), 1))
                                FILTER (WHERE so.date_order >= %(since)s), 0) AS amount,
                       MAX(so.date_order)::date AS last
                  FROM sale_order so
                 WHERE so.state = 'sale'
                   AND (NOT %(scoped)s OR so.partner_id = ANY(%(ids)s))
              GROUP BY so.partner_id
            ), target AS (
                SELECT COALESCE(s.partner_id, old.id) AS id,
                       COALESCE(s.cnt, 0) AS cnt,
                       ROUND(COALESCE(s.amount, 0)::numeric, 2) AS amount,
                       s.last,
                       CASE WHEN s.last IS NULL THEN NULL
                            WHEN s.last < %(dormant_before)s THEN 'dormant'
                            WHEN s.cnt >= %(loyal_orders)s
                                 OR (%(loyal_amount)s > 0 AND s.amount >= %(loyal_amount)s)
                                 THEN 'loyal'
                            WHEN s.total <= %(new_orders)s THEN 'new'
                            ELSE 'light' END AS segment
                  FROM stats s
             FULL JOIN (SELECT id FROM res_partner
                         WHERE line_last_order_date IS NOT NULL
                           AND (NOT %(scoped)s OR id = ANY(%(ids)s))) old
                        ON old.id = s.partner_id
            )
            UPDATE res_partner p
               SET line_order_count_12m = t.cnt,
                   line_order_amount_12m = t.amount,
                   line_last_order_date = t.last,
                   line_purchase_segment = t.segment
              FROM target t
             WHERE p.id = t.id
               AND (p.line_order_count_12m IS DISTINCT FROM t.cnt
                    OR p.line_order_amount_12m IS DISTINCT FROM t.amount
                    OR p.line_last_order_date IS DISTINCT FROM t.last
                    OR p.line_purchase_segment IS DISTINCT FROM t.segment)
         RETURNING p.id""", params)
        changed = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model(SEGMENT_FIELDS)
        if changed and set(SEGMENT_FIELDS) & self.env["line.rich.menu.rule"]._line_segment_fields():
            self.browse(changed)._line_rich_menu_partners_changed()
        return changed

    @api.model
    def _cron_line_purchase_segments(self):
        """Nightly: the 12-month window moves and customers become dormant without any order."""
        return len(self.browse()._line_update_purchase_stats())
