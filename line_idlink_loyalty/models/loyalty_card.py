import logging

from odoo import _, api, fields, models
from odoo.tools import float_compare, format_date

_logger = logging.getLogger(__name__)

NO_NOTICE = "line_loyalty_no_notice"  # context key: change points without a LINE notice


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    # ---- WHAT A CUSTOMER SEES -----------------------------------------------------------------
    @api.model
    def _line_portal_domain(self, partner, company=None):
        """The portal's own domain for a customer's loyalty cards (``loyalty/controllers/
        portal.py``): the exact partner (not the commercial partner), active loyalty and eWallet
        programs, not expired; plus the channel's company (the webhook and the LIFF page run
        as superuser, so Odoo's company rules do not apply)."""
        domain = [
            ("partner_id", "=", partner.id),
            ("program_id.active", "=", True),
            ("program_id.program_type", "in", ["loyalty", "ewallet"]),
            "|", ("expiration_date", ">=", fields.Date.context_today(self)),
            ("expiration_date", "=", False),
        ]
        if company:
            domain += [("company_id", "in", [company.id, False])]
        return domain

    @api.model
    def _line_customer_cards(self, partner, company=None):
        """The customer's cards as the portal shows them (sudo, re-scoped to ``partner``)."""
        if not partner:
            return self.browse()
        return self.sudo().search(self._line_portal_domain(partner, company),
                                  order="program_id, id")

    def _line_card_values(self):
        """What the chat and the LIFF page show of each card (display strings, in the
        environment's language)."""
        return [{
            "id": card.id,
            "program": card.program_id.name,
            "program_type": card.program_id.program_type,
            "code": card.code,
            "points": card.points,
            "points_display": card.points_display,
            "tier": card.program_id._line_tier(card.points),
            "expiration_date": card.expiration_date and format_date(self.env,
                                                                    card.expiration_date),
        } for card in self]

    # ---- POINTS NOTICES ------------------------------------------------------------------------
    def write(self, vals):
        watch = "points" in vals and not self.env.context.get(NO_NOTICE)
        before = {card.id: card.points for card in self} if watch else {}
        result = super().write(vals)
        if watch:
            changed = self.filtered(lambda c: float_compare(
                before[c.id], c.points, precision_digits=2) != 0)
            for card in changed:
                card._line_points_notice(before[card.id])
        return result

    def _line_notice_identities(self):
        """The LINE users to tell about this card: the partner's active links on active channels
        of the card's company (or of any company when the program has none), not blocked."""
        self.ensure_one()
        if not self.partner_id or not self.program_id.line_points_notice \
                or self.program_id.program_type not in ("loyalty", "ewallet"):
            return self.env["line.identity"]
        domain = [("partner_id", "=", self.partner_id.id), ("linked", "=", True),
                  ("follow_state", "!=", "blocked"), ("channel_id.active", "=", True)]
        if self.company_id:
            domain.append(("channel_id.company_id", "=", self.company_id.id))
        return self.env["line.identity"].sudo().search(domain)

    def _line_points_notice(self, old_points):
        """Queue one message per linked LINE user: what changed, why, the new balance. Goes
        through the outgoing queue in this transaction (nothing is sent if it rolls back)."""
        self.ensure_one()
        identities = self._line_notice_identities()
        if not identities:
            return
        history = self.sudo().history_ids.filtered(
            lambda h: h.create_date and h.create_date >= self.env.cr.now())[:1]
        for identity in identities:
            lang = identity.channel_id._line_chat_lang(identity)
            card = self.sudo().with_context(lang=lang)
            text = card._line_points_notice_text(old_points, history.description)
            self.env["line.message"].sudo()._line_enqueue(
                identity.channel_id, identity.line_user_id, [{"type": "text", "text": text}],
                origin=self.sudo())

    def _line_points_notice_text(self, old_points, reason=None):
        self.ensure_one()
        delta = self.points - old_points
        change = ("+" if delta > 0 else "-") + self._format_points(abs(delta)).strip()
        lines = [_("%(program)s: your points changed (%(change)s).",
                   program=self.program_id.name, change=change),
                 _("New balance: %(balance)s", balance=self.points_display.strip())]
        tier = self.program_id._line_tier(self.points)
        if tier:
            lines.append(_("Tier: %(tier)s", tier=tier))
        if reason:
            lines.append(_("Reason: %(reason)s", reason=reason[:200]))
        if self.expiration_date:
            lines.append(_("Valid until %(date)s", date=format_date(self.env,
                                                                    self.expiration_date)))
        return "\n".join(lines)
