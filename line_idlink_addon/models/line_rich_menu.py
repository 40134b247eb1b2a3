import base64
import datetime
import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_datetime

from line_idlink.richmenu_spec import (
    ALIAS_ID, RichMenuInvalid, RichMenuSpec, check_image, image_info,
)
from line_idlink.retry import LineApiError

from ..lib.line_api import LineCallFailed
from ..lib.rich_menu_sync import RichMenuSync

_logger = logging.getLogger(__name__)

SIZE_PRESETS = {"full": (2500, 1686), "half": (2500, 843)}
# LINE limits these to 100 an hour: a republish needs one of each (create the new menu, delete
# the old one); the move itself falls back to bulk calls when no batch slot is left
REPUBLISH_ENDPOINTS = ("createRichMenu", "deleteRichMenu")


class LineRichMenu(models.Model):
    """A rich menu designed in Odoo (image + areas) and its life on LINE.

    States: ``draft`` (only in Odoo) -> ``published`` (created on LINE, image uploaded, alias set)
    -> ``archived`` (deleted on LINE). LINE cannot replace the image of an existing menu, so
    Republish creates a new LINE menu, moves every user to it and deletes the old one. Which
    users see which menu is decided by ``line.rich.menu.rule`` and applied by
    ``line.channel._line_reconcile_rich_menus``.
    """

    _name = "line.rich.menu"
    _description = "LINE Rich Menu"
    _inherit = ["mail.thread"]
    _order = "channel_id, id"

    name = fields.Char(required=True, tracking=True, help="Internal name (not shown to users).")
    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True,
                                 tracking=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    chat_bar_text = fields.Char("Chat Bar Text", required=True, default=lambda self: _("Menu"),
                                help="Shown on the chat bar under the menu (at most 14 characters).")
    size_preset = fields.Selection(
        [("full", "2500×1686"), ("half", "2500×843"), ("custom", "Custom")], "Size",
        required=True, default="full")
    width = fields.Integer(compute="_compute_size", store=True, readonly=False, required=True,
                           precompute=True, help="800 to 2500 pixels.")
    height = fields.Integer(compute="_compute_size", store=True, readonly=False, required=True,
                            precompute=True,
                            help="At least 250 pixels; width / height at least 1.45.")
    # attachment=False: ir.attachment shrinks images wider than 1920 px (base.image_autoresize_max_px)
    # and LINE needs the exact menu size (2500 px wide)
    image = fields.Binary(attachment=False, help="PNG or JPEG of exactly the menu's size, 1 MB at most.")
    image_filename = fields.Char()
    selected = fields.Boolean("Open by Default",
                              help="The menu is open when the user opens the chat.")
    area_ids = fields.One2many("line.rich.menu.area", "menu_id", string="Areas", copy=True)
    state = fields.Selection(
        [("draft", "Draft"), ("published", "Published"), ("archived", "Archived")],
        default="draft", required=True, readonly=True, copy=False, tracking=True)
    line_rich_menu_id = fields.Char("LINE Rich Menu ID", readonly=True, copy=False,
                                    tracking=True)
    alias_id = fields.Char("Alias ID", copy=False, tracking=True,
                           help="Lets other menus switch to this one (tabs): lowercase letters, "
                                "digits, _ and -, at most 32.")
    published_at = fields.Datetime(readonly=True, copy=False)
    republish_pending = fields.Boolean("Republish Pending", readonly=True, copy=False,
                                       help="Republish was pressed while LINE's rate limit "
                                            "allowed no new menu: the rich-menu cron does it at "
                                            "the planned time.")
    republish_at = fields.Datetime("Republish Planned", readonly=True, copy=False)
    active = fields.Boolean(default=True)
    identity_count = fields.Integer("Users", compute="_compute_identity_count",
                                    help="LINE users this menu was last applied to.")
    rule_ids = fields.One2many("line.rich.menu.rule", "rich_menu_id", string="Rules")

    @api.model
    def _line_format_errors(self, errors, areas=None):
        """The core's ``[(property, message)]`` as lines a designer understands ("Area 3: ...")."""
        lines = []
        for prop, message in errors:
            found = re.match(r"areas\[(\d+)\]\.?(.*)", prop)
            if found:
                index = int(found.group(1))
                where = _("Area %(number)s", number=index + 1)
                if areas is not None and index < len(areas) and areas[index].label:
                    where = f"{where} ({areas[index].label})"
                prop = f"{where} {found.group(2)}".strip()
            lines.append(f"{prop}: {message}")
        return "\n".join(lines)

    # ---- COMPUTES AND CONSTRAINTS -------------------------------------------------------------
    @api.depends("size_preset")
    def _compute_size(self):
        for menu in self:
            if menu.size_preset in SIZE_PRESETS:
                menu.width, menu.height = SIZE_PRESETS[menu.size_preset]
            elif not menu.width:
                menu.width, menu.height = SIZE_PRESETS["full"]

    def _compute_identity_count(self):
        groups = self.env["line.identity"].sudo()._read_group(
            [("rich_menu_id", "in", self.ids)], ["rich_menu_id"], ["__count"])
        counts = {menu.id: count for menu, count in groups}
        for menu in self:
            menu.identity_count = counts.get(menu.id, 0)

    def _line_spec(self):
        self.ensure_one()
        return RichMenuSpec(size=(self.width, self.height), name=self.name,
                            chat_bar_text=self.chat_bar_text,
                            areas=[area._line_area() for area in self.area_ids],
                            selected=bool(self.selected))

    def _line_image_bytes(self):
        self.ensure_one()
        data = self.with_context(bin_size=False).image
        return base64.b64decode(data) if data else None

    @api.constrains("name", "chat_bar_text", "width", "height", "selected", "area_ids")
    def _line_check_design(self):
        """Size, texts and areas against LINE's rules (the core's RichMenuSpec): areas inside the
        image, at most 20, valid actions. Raises a ValidationError listing every problem."""
        for menu in self.exists():
            errors = menu._line_spec().validate()
            for area in menu.area_ids:
                if area.action_type == "richmenuswitch" and area.switch_menu_id and \
                        area.switch_menu_id.channel_id != menu.channel_id:
                    errors.append((f"areas[{list(menu.area_ids).index(area)}].action",
                                   _("the menu to switch to belongs to another channel")))
            if errors:
                raise ValidationError(_("The rich menu %(name)s cannot be used on LINE:\n%(errors)s",
                                        name=menu.name,
                                        errors=self._line_format_errors(errors, menu.area_ids)))

    @api.constrains("image", "width", "height")
    def _check_image(self):
        for menu in self:
            data = menu._line_image_bytes()
            if not data:
                continue
            try:
                check_image(data, (menu.width, menu.height))
            except RichMenuInvalid as exc:
                raise ValidationError(_("The image of the rich menu %(name)s is refused:\n"
                                        "%(errors)s", name=menu.name,
                                        errors=self._line_format_errors(exc.errors))) from exc

    @api.constrains("alias_id", "channel_id", "state")
    def _check_alias(self):
        for menu in self.filtered("alias_id"):
            if not ALIAS_ID.match(menu.alias_id):
                raise ValidationError(_("The alias ID %(alias)s must be 1 to 32 lowercase letters,"
                                        " digits, _ or -.", alias=menu.alias_id))
            if menu.state == "archived":
                continue
            other = self.with_context(active_test=False).search_count([
                ("id", "!=", menu.id), ("channel_id", "=", menu.channel_id.id),
                ("alias_id", "=", menu.alias_id), ("state", "!=", "archived")])
            if other:
                raise ValidationError(_("Another rich menu of this channel already uses the alias"
                                        " ID %(alias)s.", alias=menu.alias_id))

    @api.onchange("image")
    def _onchange_image_size(self):
        """Uploading an image of a preset size selects that preset (custom otherwise)."""
        data = self._line_image_bytes() if self.image else None
        info = image_info(data) if data else None
        if not info:
            return
        size = info[1:]
        preset = next((key for key, value in SIZE_PRESETS.items() if value == size), "custom")
        self.size_preset = preset
        if preset == "custom":
            self.width, self.height = size

    @api.model_create_multi
    def create(self, vals_list):
        # ir.attachment shrinks images wider than 1920 px unless told not to: LINE needs the
        # exact pixel size
        return super(LineRichMenu, self.with_context(image_no_postprocess=True)).create(vals_list)

    def write(self, vals):
        if "image" in vals:
            self = self.with_context(image_no_postprocess=True)  # noqa: PLW0642 - see create
        locked = set(vals) & {"width", "height", "size_preset", "image", "area_ids", "selected",
                              "chat_bar_text", "name"}
        if locked and any(menu.state == "archived" for menu in self):
            raise UserError(_("An archived rich menu cannot be changed; duplicate it instead."))
        if "alias_id" in vals and any(menu.state == "published" and menu.alias_id != vals["alias_id"]
                                      for menu in self):
            raise UserError(_("The alias ID of a published menu is changed by republishing: set it"
                              " on a draft copy."))
        if "channel_id" in vals and any(menu.state != "draft" for menu in self):
            raise UserError(_("A published rich menu cannot move to another channel."))
        return super(LineRichMenu, self).write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_unpublished(self):
        if any(menu.state == "published" for menu in self):
            raise UserError(_("Archive a published rich menu first (it is deleted on LINE then)."))

    # ---- PUBLISHING ---------------------------------------------------------------------------
    def _line_check_publishable(self):
        self.ensure_one()
        data = self._line_image_bytes()
        if not data:
            raise UserError(_("Upload the image of the rich menu %(name)s before publishing it.",
                              name=self.name))
        spec = self._line_spec()
        errors = spec.validate()
        try:
            check_image(data, (self.width, self.height))
        except RichMenuInvalid as exc:
            errors += exc.errors
        for area in self.area_ids.filtered(lambda a: a.action_type == "richmenuswitch"):
            target = area.switch_menu_id
            if target and target.state == "archived":
                errors.append(("areas", _("the menu %(name)s to switch to is archived",
                                          name=target.name)))
        if errors:
            raise UserError(_("The rich menu %(name)s cannot be published:\n%(errors)s",
                              name=self.name,
                              errors=self._line_format_errors(errors, self.area_ids)))
        return spec, data

    def action_publish(self):
        """Create the menu on LINE, upload its image and point its alias at it."""
        self.check_access("write")
        for menu in self.sudo():
            if menu.state != "draft":
                raise UserError(_("Only a draft rich menu can be published; use Republish."))
            menu._line_publish()
        return True

    def action_republish(self):
        """LINE cannot replace a menu's image: create a new LINE menu, move its users, delete the
        old one. A button never waits for LINE's rate limit: when the channel's limiter has no
        slot for a new menu, the republish is queued for the rich-menu cron and the user is told
        when it will happen."""
        self.check_access("write")
        queued = self.browse()
        for menu in self.sudo():
            if menu.state != "published":
                raise UserError(_("Only a published rich menu can be republished."))
            menu._line_check_publishable()
            wait = menu._line_republish_wait()
            if wait:
                menu._line_queue_republish(wait)
                queued |= menu
                continue
            menu._line_publish()
            if menu.republish_pending:
                menu.write({"republish_pending": False, "republish_at": False})
        if not queued:
            return True
        planned = max(queued.mapped("republish_at"))
        return self.env["line.channel"]._notify(_("Republish queued"), _(
            "LINE allows no new rich menu right now (at most 100 an hour). %(names)s will be "
            "republished at %(time)s (%(tz)s).", names=", ".join(queued.mapped("name")),
            time=self._line_format_time(planned), tz=self._line_user_tz()), "warning")

    def _line_user_tz(self):
        return self.env.context.get("tz") or self.env.user.tz or "UTC"

    def _line_format_time(self, value):
        return format_datetime(self.env, value, tz=self._line_user_tz(),
                               dt_format="yyyy-MM-dd HH:mm")

    def _line_republish_wait(self):
        """Seconds before the channel's rate limiter lets this menu be republished (0: now)."""
        self.ensure_one()
        limiter = self.channel_id._line_api_timing()["limiter"]
        return max(limiter.delay_for(endpoint) for endpoint in REPUBLISH_ENDPOINTS)

    def _line_queue_republish(self, wait):
        """Mark the menu pending and wake the rich-menu cron when the limiter allows it (rounded
        up to the minute)."""
        self.ensure_one()
        at = fields.Datetime.now() + datetime.timedelta(seconds=max(0, wait))
        if at.second or at.microsecond:
            at = at.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        first = not self.republish_pending
        self.write({"republish_pending": True, "republish_at": at})
        if first:
            self.message_post(body=_("Republish queued until LINE's rate limit allows a new rich"
                                     " menu (%(time)s UTC).", time=fields.Datetime.to_string(at)))
        self.env.ref("line_idlink_addon.ir_cron_line_rich_menus").sudo()._trigger(at)
        return at

    @api.model
    def _cron_republish_pending(self):
        """Republish the queued menus whose channel's rate limiter has a slot again; the others
        wait for their (re-armed) time. Returns the menus republished."""
        done = self.browse()
        for menu in self.sudo().search([("republish_pending", "=", True)]):
            if menu.state != "published":
                menu.write({"republish_pending": False, "republish_at": False})
                continue
            wait = menu._line_republish_wait()
            if wait:
                menu._line_queue_republish(wait)
                continue
            try:
                with self.env.cr.savepoint():
                    menu._line_publish()
            except UserError as exc:
                _logger.info("queued republish of rich menu %s failed: %s", menu.id, exc)
                menu.message_post(body=_("The queued republish failed: %(error)s",
                                         error=str(exc)))
            else:
                done |= menu
            menu.write({"republish_pending": False, "republish_at": False})
            if not self.env.registry.in_test_mode():
                self.env.cr.commit()  # a republished menu is never republished twice
        return done

    def _line_publish(self):
        self.ensure_one()
        spec, data = self._line_check_publishable()
        channel = self.channel_id
        old_id = self.line_rich_menu_id if self.state == "published" else None
        try:
            with channel._line_api() as api:
                new_id = api.richmenus.publish(spec, data, alias_id=self.alias_id or None)
        except (LineApiError, LineCallFailed, RichMenuInvalid) as exc:
            self.message_post(body=_("Publishing on LINE failed: %(error)s", error=str(exc)))
            raise UserError(_("LINE refused the rich menu %(name)s: %(error)s", name=self.name,
                              error=str(exc))) from exc
        self.write({"state": "published", "line_rich_menu_id": new_id,
                    "published_at": fields.Datetime.now()})
        self.message_post(body=_("Published on LINE as %(id)s.", id=new_id))
        if old_id:
            self._line_move_users_and_delete(old_id)
        elif self.rule_ids.filtered("active"):
            channel._line_rich_menu_recompute()
        if self.rule_ids.filtered(lambda r: r.active and r.role == "default"):
            RichMenuSync(channel).sync_default()  # a new channel shows it at once
        return new_id

    def _line_move_users_and_delete(self, old_id):
        """Users shown ``old_id`` go to the republished menu (one batch when they are many),
        then the old LINE menu is deleted (LINE would drop any user still on it to the default)."""
        channel = self.channel_id
        identities = self.env["line.identity"].sudo().search(
            [("channel_id", "=", channel.id), ("rich_menu_id", "=", self.id)])
        report = channel._line_reconcile_rich_menus(identities)
        try:
            with channel._line_api() as api:
                api.richmenus.delete(old_id)
        except LineApiError as exc:
            self.message_post(body=_("The old LINE menu %(id)s was not deleted: %(error)s",
                                     id=old_id, error=str(exc)))
            return report
        self.message_post(body=_("Republished: %(users)s user(s) moved, old LINE menu %(id)s "
                                 "deleted.", users=report["switched"], id=old_id))
        return report

    def action_archive_menu(self):
        """Delete the menu on LINE (its users go back to their rules' menus first)."""
        self.check_access("write")
        for menu in self.sudo():
            if menu.state == "archived":
                continue
            rules = menu.rule_ids.filtered("active")
            if rules:
                raise UserError(_("The rich menu %(name)s is used by the rule(s) %(rules)s: change"
                                  " them first.", name=menu.name,
                                  rules=", ".join(rules.mapped("name"))))
            tabs = self.search([("area_ids.switch_menu_id", "=", menu.id),
                                ("state", "!=", "archived"), ("id", "!=", menu.id)])
            if tabs:
                raise UserError(_("The rich menu %(name)s is a tab of %(menus)s: change those "
                                  "menus first.", name=menu.name,
                                  menus=", ".join(tabs.mapped("name"))))
            menu._line_archive()
        return True

    def _line_archive(self):
        self.ensure_one()
        channel = self.channel_id
        if self.state == "published":
            identities = self.env["line.identity"].sudo().search(
                [("channel_id", "=", channel.id), ("rich_menu_id", "=", self.id)])
            if identities:
                channel._line_reconcile_rich_menus(identities)
            try:
                with channel._line_api() as api:
                    if self.alias_id:
                        api.delete_rich_menu_alias(self.alias_id)
                    api.richmenus.delete(self.line_rich_menu_id)
            except (LineApiError, LineCallFailed) as exc:
                raise UserError(_("LINE did not delete the rich menu: %(error)s",
                                  error=str(exc))) from exc
        self.write({"state": "archived"})
        self.message_post(body=_("Archived (deleted on LINE)."))

    def action_reset_draft(self):
        """An archived menu becomes a draft again (it is published as a new LINE menu)."""
        for menu in self:
            if menu.state != "archived":
                raise UserError(_("Only an archived rich menu can be set back to draft."))
        self.write({"state": "draft", "line_rich_menu_id": False, "published_at": False})
        return True

    def action_preview(self):
        """Show the menu on the current user's own linked LINE account (until the next
        reconcile puts their rule's menu back)."""
        self.ensure_one()
        self.check_access("read")
        menu = self.sudo()
        if menu.state != "published":
            raise UserError(_("Publish the rich menu before previewing it."))
        identity = self.env["line.identity"].sudo().search(
            [("channel_id", "=", menu.channel_id.id), ("linked", "=", True),
             ("partner_id", "=", self.env.user.partner_id.id)], limit=1)
        if not identity:
            raise UserError(_("Your user has no LINE account linked on %(channel)s: link one "
                              "from your portal page first.", channel=menu.channel_id.name))
        try:
            with menu.channel_id._line_api() as api:
                api.link_rich_menu(identity.line_user_id, menu.line_rich_menu_id)
        except LineCallFailed as exc:
            raise UserError(_("LINE did not switch the menu: %(error)s", error=str(exc))) from exc
        identity._line_rich_menu_record(menu, False, menu.line_rich_menu_id)
        identity.message_post(body=_("Previewing the rich menu %(name)s.", name=menu.name))
        return menu.channel_id._notify(_("Preview sent"), _(
            "Open the chat with your LINE account %(name)s to see %(menu)s.",
            name=identity.display_name, menu=menu.name), "success")

    def action_view_identities(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "name": _("LINE Users"),
                "res_model": "line.identity", "view_mode": "list,form",
                "domain": [("rich_menu_id", "=", self.id)]}
