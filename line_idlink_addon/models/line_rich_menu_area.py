from odoo import api, fields, models

from line_idlink import postbacks

SWITCH_DATA = "action=richmenu_switch&to=%s"  # postback data LINE sends after a tab switch


class LineRichMenuArea(models.Model):
    """One tappable rectangle of a rich menu (pixels of the menu's image) and its action.

    The area-editor widget edits ``x``, ``y``, ``width``, ``height`` by drawing on the image;
    every other field is a plain form field. The LINE action object is built by
    :meth:`_line_action`; the whole menu is validated by the core's ``RichMenuSpec`` (see
    ``line.rich.menu._line_check_design``), so LINE's rules live in one place.
    """

    _name = "line.rich.menu.area"
    _description = "LINE Rich Menu Area"
    _order = "menu_id, sequence, id"
    _check_company_auto = True

    menu_id = fields.Many2one("line.rich.menu", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="menu_id.company_id")
    sequence = fields.Integer(default=10, help="Where two areas overlap, the first one wins.")
    x = fields.Integer("X", default=0, help="Left edge, in pixels of the image.")
    y = fields.Integer("Y", default=0, help="Top edge, in pixels of the image.")
    width = fields.Integer(default=833)
    height = fields.Integer(default=843)
    action_type = fields.Selection(
        [("postback", "Postback"), ("uri", "Open URL"), ("message", "Send message"),
         ("richmenuswitch", "Switch menu")], required=True, default="postback")
    # what the addons answer (line.channel._line_handle_action); a bridge adds its actions with
    # selection_add + ondelete. The postback data of a preset is "action=<preset>".
    postback_preset = fields.Selection(
        [("link", "Link account"), ("unlink", "Unlink account"), ("custom", "Custom")],
        default="link")
    postback_data = fields.Char(compute="_compute_postback_data", store=True, readonly=False,
                                help="Sent back to the webhook when the area is tapped.")
    label = fields.Char(help="Read out by accessibility features (at most 20 characters).")
    uri = fields.Char("URL")
    text = fields.Char(help="The message the user sends by tapping the area.")
    switch_menu_id = fields.Many2one(
        "line.rich.menu", "Switch To", ondelete="restrict", check_company=True,
        domain="[('channel_id', '=', parent.channel_id), ('alias_id', '!=', False)]",
        help="A menu of the same channel with an alias ID (tabs).")
    display_text = fields.Char(help="Shown in the chat as the user's message when tapped.")

    @api.depends("postback_preset")
    def _compute_postback_data(self):
        for area in self:
            if area.postback_preset and area.postback_preset != "custom":
                area.postback_data = postbacks.postback_data(area.postback_preset)
            elif not area.postback_data:
                area.postback_data = False

    @api.constrains("x", "y", "width", "height", "action_type", "postback_data", "label", "uri",
                    "text", "switch_menu_id", "display_text")
    def _check_area(self):
        self.menu_id._line_check_design()

    def _line_action(self):
        """LINE's action object for this area."""
        self.ensure_one()
        action = {"type": self.action_type}
        if self.label:
            action["label"] = self.label
        if self.action_type == "postback":
            action["data"] = self.postback_data or None  # None: "must be specified"
            if self.display_text:
                action["displayText"] = self.display_text
        elif self.action_type == "uri":
            action["uri"] = self.uri or None
        elif self.action_type == "message":
            action["text"] = self.text or None
        elif self.action_type == "richmenuswitch":
            alias = self.switch_menu_id.alias_id or None
            action["richMenuAliasId"] = alias
            action["data"] = SWITCH_DATA % (alias or "")
        return action

    def _line_area(self):
        self.ensure_one()
        return {"bounds": {"x": self.x, "y": self.y, "width": self.width, "height": self.height},
                "action": self._line_action()}
