from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import datetime, safe_eval, time


class LineRichMenuRule(models.Model):
    """Which rich menu a LINE user of a channel sees.

    Resolution for one identity (``lib/rich_menu_sync.py``): the ``segment`` and ``linked`` rules
    in ``sequence`` order (lower first), the first that applies wins (a segment applies when the
    identity is linked and its partner matches the domain; ``linked`` when it is linked); when
    none applies, the ``default`` rule's menu, which is LINE's default menu (no per-user link).
    Only rules whose menu is published count.
    """

    _name = "line.rich.menu.rule"
    _description = "LINE Rich Menu Rule"
    _order = "channel_id, sequence, id"
    _check_company_auto = True

    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True)
    # the channel's company (not stored, like line.identity's)
    company_id = fields.Many2one(related="channel_id.company_id")
    sequence = fields.Integer("Priority", default=10, help="Lower numbers win.")
    name = fields.Char(required=True)
    role = fields.Selection(
        [("default", "Default (everyone)"), ("linked", "Linked customers"), ("segment", "Segment")],
        required=True, default="segment")
    rich_menu_id = fields.Many2one(
        "line.rich.menu", required=True, ondelete="restrict", check_company=True,
        domain="[('channel_id', '=', channel_id), ('state', '!=', 'archived')]")
    domain = fields.Char(default="[]", help="Linked customers matching this filter get the menu.")
    active = fields.Boolean(default=True)

    @api.constrains("role", "channel_id", "active")
    def _check_one_default_and_linked(self):
        for rule in self.filtered(lambda r: r.active and r.role in ("default", "linked")):
            if self.search_count([("channel_id", "=", rule.channel_id.id),
                                  ("role", "=", rule.role), ("id", "!=", rule.id)]):
                raise ValidationError(_("A channel has at most one active %(role)s rule.",
                                        role=dict(self._fields["role"].selection)[rule.role]))

    @api.constrains("rich_menu_id", "channel_id")
    def _check_menu_channel(self):
        for rule in self:
            if rule.rich_menu_id.channel_id != rule.channel_id:
                raise ValidationError(_("The rule %(rule)s uses a rich menu of another channel.",
                                        rule=rule.name))

    @api.constrains("domain", "role")
    def _check_domain(self):
        for rule in self.filtered(lambda r: r.role == "segment"):
            try:
                domain = rule._line_domain()
                self.env["res.partner"].sudo().search_count(domain, limit=1)
            except Exception as exc:  # noqa: BLE001 - any error means the filter is unusable
                raise ValidationError(_("The filter of the rule %(rule)s is invalid: %(error)s",
                                        rule=rule.name, error=exc)) from exc

    def _line_domain(self):
        """The segment's res.partner domain (evaluated like a filter: uid, context_today)."""
        self.ensure_one()
        context = {"uid": self.env.uid, "user": self.env.user, "time": time,
                   "datetime": datetime,
                   "context_today": lambda: fields.Date.context_today(self)}
        return list(safe_eval(self.domain or "[]", context))

    # ---- CHANGES RECOMPUTE THE CHANNEL ----------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._line_changed()
        return rules

    def write(self, vals):
        channels = self.channel_id
        result = super().write(vals)
        (channels | self.channel_id)._line_rich_menu_recompute()
        self.env.registry.clear_cache()  # _line_segment_fields
        return result

    def unlink(self):
        channels = self.channel_id
        result = super().unlink()
        channels._line_rich_menu_recompute()
        self.env.registry.clear_cache()
        return result

    def _line_changed(self):
        self.channel_id._line_rich_menu_recompute()
        self.env.registry.clear_cache()

    @api.model
    @tools.ormcache()
    def _line_segment_fields(self):
        """res.partner fields read by the active segment rules (first name of each path): a
        partner write touching one of them recomputes that partner's LINE menus."""
        names = set()
        for rule in self.sudo().search([("role", "=", "segment")]):
            try:
                domain = rule._line_domain()
            except Exception:  # noqa: BLE001 - an invalid rule is refused by its constraint
                continue
            for leaf in domain:
                if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str):
                    names.add(leaf[0].split(".")[0])
        return frozenset(names)
