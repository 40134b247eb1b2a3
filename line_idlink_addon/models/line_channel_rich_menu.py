import base64
import io
import logging

from PIL import Image, ImageDraw, ImageOps

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import file_open

from line_idlink.richmenu_spec import image_info
from line_idlink.richmenu_publisher import DEFAULT_BATCH_MIN_USERS

from ..lib.rich_menu_sync import RichMenuSync

_logger = logging.getLogger(__name__)

UNLINKED_IMAGE = "line_idlink_addon/static/img/richmenu_unlinked.png"
HALF, FULL = (2500, 843), (2500, 1686)
PAPER, RULE = (247, 248, 250), (206, 212, 218)  # the tiles' background, the lines between them
IMAGE_MAX = 1_000_000  # LINE's limit on a rich menu image, in bytes


def linked_menu_grid(count):
    """``(width, height, columns, rows)`` of a menu of ``count`` buttons: up to 3 in one row of
    the half size; 4 on 2x2, 5-6 on 3x2, then 3 or 4 columns of the full size (at most 20)."""
    if count <= 3:
        return (*HALF, count, 1)
    columns = 2 if count == 4 else 3 if count <= 9 else 4
    return (*FULL, columns, -(-count // columns))


def compose_menu_image(size, tiles, cells):
    """PNG bytes of a menu of ``size``: each tile (an addon path) scaled into its cell
    ``(x0, y0, x1, y1)``, keeping its proportions, on the tiles' background, with thin lines
    between the cells; JPEG when the PNG is over LINE's 1 MB."""
    image = Image.new("RGB", size, PAPER)
    draw = ImageDraw.Draw(image)
    for path, (x0, y0, x1, y1) in zip(tiles, cells):
        with file_open(path, "rb") as handle:
            tile = Image.open(io.BytesIO(handle.read())).convert("RGB")
        image.paste(ImageOps.pad(tile, (x1 - x0, y1 - y0), color=PAPER), (x0, y0))
        if x0:
            draw.line((x0, y0 + 60, x0, y1 - 60), fill=RULE, width=6)
        if y0:
            draw.line((x0 + 60, y0, x1 - 60, y0), fill=RULE, width=6)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    if out.tell() > IMAGE_MAX:
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
    return out.getvalue()


class LineChannel(models.Model):
    """Rich menus of a channel: rules, the ready-made pair, and applying them to LINE users."""

    _inherit = "line.channel"

    rich_menu_rule_ids = fields.One2many("line.rich.menu.rule", "channel_id",
                                         string="Rich Menu Rules")
    rich_menu_ids = fields.One2many("line.rich.menu", "channel_id", string="Rich Menus")
    rich_menu_count = fields.Integer(compute="_compute_rich_menu_count")
    rich_menu_default_line_id = fields.Char("LINE Default Rich Menu", readonly=True, copy=False,
                                            help="The menu last set as LINE's default menu.")
    # formerly typed-in ids; now read from the rules and their published menus
    richmenu_unlinked_id = fields.Char("Rich Menu (not linked)", compute="_compute_richmenu_ids",
                                       help="LINE id of the default rule's menu (everyone who "
                                            "has no per-user menu).")
    richmenu_linked_id = fields.Char("Rich Menu (linked)", compute="_compute_richmenu_ids",
                                     help="LINE id of the linked customers' rule's menu.")

    @api.depends("rich_menu_rule_ids.rich_menu_id.line_rich_menu_id", "rich_menu_rule_ids.role",
                 "rich_menu_rule_ids.active")
    def _compute_richmenu_ids(self):
        for channel in self:
            by_role = {}
            rules = channel.sudo().rich_menu_rule_ids.filtered(
                lambda r: r.rich_menu_id.state == "published")
            for rule in rules.sorted(lambda r: (r.sequence, r.id)):
                by_role.setdefault(rule.role, rule.rich_menu_id.line_rich_menu_id)
            channel.richmenu_unlinked_id = by_role.get("default", False)
            channel.richmenu_linked_id = by_role.get("linked", False)

    def _compute_rich_menu_count(self):
        groups = self.env["line.rich.menu"]._read_group(
            [("channel_id", "in", self.ids)], ["channel_id"], ["__count"])
        counts = {channel.id: count for channel, count in groups}
        for channel in self:
            channel.rich_menu_count = counts.get(channel.id, 0)

    # ---- APPLYING THE RULES -------------------------------------------------------------------
    def _line_reconcile_rich_menus(self, identities=None, batch_min_users=DEFAULT_BATCH_MIN_USERS,
                                   force=False):
        """Give ``identities`` (a ``line.identity`` recordset or a list of ids of this channel;
        None = every identity of the channel) the menu their rules choose, now.

        Calls: per-user link for one user, bulk link/unlink in chunks of 500, one batch
        ``A -> B`` when at least ``batch_min_users`` users of menu A all move to B (``None``: never
        batch); the batch is polled until done. Every call goes through the channel's rate
        limiter. Outcomes are stored on the identities (ok / error + retry with backoff).

        Returns ``{"identities", "switched", "unchanged", "failed", "waiting", "calls"}`` where
        ``calls`` is ``[(operationId, users, x-line-request-id)]``. ``force``: LINE's side is
        not trusted, every identity is linked/unlinked again (bulk) and the default menu set again.
        """
        self.ensure_one()
        ids = None
        if identities is not None:
            ids = identities.ids if isinstance(identities, models.BaseModel) else list(identities)
        return RichMenuSync(self).run(ids, batch_min_users=batch_min_users, force=force)

    def _line_rich_menu_recompute(self):
        """Rules or menus changed: every identity of these channels is pending again; the cron
        applies the changes (in bulk)."""
        if not self.ids:
            return
        self.env["line.identity"].flush_model()
        self.env.cr.execute("""
            UPDATE line_identity SET rich_menu_state = 'pending'
             WHERE channel_id = ANY(%s) AND rich_menu_state IS DISTINCT FROM 'pending'""",
                            [self.ids])
        self.env["line.identity"].invalidate_model(["rich_menu_state"])
        self.env.ref("line_idlink_addon.ir_cron_line_rich_menus")._trigger()

    def _line_run_and_commit(self, ids, force=False):
        """Apply the rules to ``ids`` (None: every identity) for the rich-menu crons of
        ``line.identity``; one channel's failure is posted on it and does not stop the others.
        Returns how many identities were handled."""
        try:
            with self.env.cr.savepoint():
                report = self._line_reconcile_rich_menus(ids, force=force)
        except Exception as exc:  # noqa: BLE001 - one channel must not stop the others
            _logger.exception("LINE rich menus of channel %s not applied", self.id)
            self.message_post(body=_("Rich menus not applied: %(error)s", error=str(exc)))
            return 0
        if not self.env.registry.in_test_mode():
            self.env.cr.commit()  # one channel's switches survive a later channel's crash
        return report["identities"]

    # ---- READY-MADE PAIR ----------------------------------------------------------------------
    def action_create_default_rich_menus(self):
        """Create the unlinked menu ("連携する", an image shipped in the addon) and the linked
        menu of the buttons the installed addons offer (:meth:`_line_linked_menu_buttons`; the
        base: 連携解除 and 連携設定, the portal page), their default and linked rules, and
        publish both when the channel can talk to LINE."""
        self.ensure_one()
        self.check_access("write")
        channel = self.sudo()
        if channel.rich_menu_rule_ids.filtered(lambda r: r.role in ("default", "linked")):
            raise UserError(_("This channel already has a default or linked rich menu rule."))
        menus = self.env["line.rich.menu"].sudo()
        unlinked = menus.create(channel._line_ready_made_values("unlinked"))
        linked = menus.create(channel._line_ready_made_values("linked"))
        self.env["line.rich.menu.rule"].sudo().create([
            {"channel_id": channel.id, "name": _("Not linked (everyone)"), "role": "default",
             "rich_menu_id": unlinked.id, "sequence": 100},
            {"channel_id": channel.id, "name": _("Linked customers"), "role": "linked",
             "rich_menu_id": linked.id, "sequence": 50},
        ])
        for menu in unlinked | linked:
            try:
                with self.env.cr.savepoint():
                    menu._line_publish()
            except UserError as exc:
                channel.message_post(body=_("The ready-made rich menu %(name)s stays a draft: "
                                            "%(error)s", name=menu.name, error=str(exc)))
        return self.action_view_rich_menus()

    def _line_ready_made_values(self, kind):
        if kind == "linked":
            return self._line_linked_menu_values()
        with file_open(UNLINKED_IMAGE, "rb") as handle:
            data = handle.read()
        _type, width, height = image_info(data)
        return {"channel_id": self.id, "size_preset": "half", "width": width, "height": height,
                "image": base64.b64encode(data), "image_filename": UNLINKED_IMAGE.rsplit("/", 1)[1],
                "name": _("Not linked"), "chat_bar_text": "メニュー", "area_ids": [(0, 0, {
                    "sequence": 1, "x": 0, "y": 0, "width": width, "height": height,
                    "action_type": "postback", "postback_preset": "link", "label": "連携する",
                    "display_text": "連携する"})]}

    def _line_linked_menu_values(self):
        """The linked menu of the buttons :meth:`_line_linked_menu_buttons` lists (the base's
        and the installed bridges'), its image composed from their tiles on a grid chosen by
        their number (see :func:`linked_menu_grid`)."""
        buttons = sorted(self._line_linked_menu_buttons(), key=lambda b: b.get("sequence", 10))
        if not buttons:
            raise UserError(_("No addon offers a button for the linked rich menu."))
        width, height, columns, rows = linked_menu_grid(len(buttons))
        cells = [(width * (i % columns) // columns, height * (i // columns) // rows,
                  width * (i % columns + 1) // columns, height * (i // columns + 1) // rows)
                 for i in range(len(buttons))]
        areas = []
        for index, (button, (x0, y0, x1, y1)) in enumerate(zip(buttons, cells)):
            area = {"sequence": index + 1, "x": x0, "y": y0, "width": x1 - x0,
                    "height": y1 - y0, "label": button["label"]}
            if button.get("uri"):
                area.update(action_type="uri", uri=button["uri"])
            else:
                area.update(action_type="postback", postback_preset=button["preset"],
                            display_text=button["label"])
            areas.append((0, 0, area))
        image = compose_menu_image((width, height), [b["tile"] for b in buttons], cells)
        return {"channel_id": self.id, "size_preset": "half" if height == HALF[1] else "full",
                "width": width, "height": height, "image": base64.b64encode(image),
                "image_filename": "richmenu_linked.png", "name": _("Linked customers"),
                "chat_bar_text": "メニュー", "area_ids": areas}

    def action_view_rich_menus(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("Rich Menus"),
                "res_model": "line.rich.menu", "view_mode": "list,form",
                "domain": [("channel_id", "=", self.id)],
                "context": {"default_channel_id": self.id}}
