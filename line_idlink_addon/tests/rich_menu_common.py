import base64

from line_emulator.images import solid_png

from .common import LineCommon

RICH_MENU_ENDPOINTS = ("createRichMenu", "setRichMenuImage", "createRichMenuAlias",
                       "linkRichMenuIdToUser", "linkRichMenuIdToUsers", "richMenuBatch")


class RichMenuCommon(LineCommon):
    """An emulator whose clock drives the LINE client: only the clock and the sleep are injected
    (``line.channel._line_time``), so the channel's real rate limiter counts on the emulator's
    time, and its waits, batch polling and backoff advance that time instead of sleeping."""

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()
        emu = self.emu
        self.patch(type(self.env["line.channel"]), "_line_time",
                   lambda channel: {"clock": emu.clock.now, "sleep": emu.advance})

    def limiter(self):
        """The channel's own rate limiter (the one every LINE call of this process goes through)."""
        return self.channel._line_api_timing()["limiter"]

    @staticmethod
    def png(width=2500, height=843, rgb=(6, 199, 85)):
        return base64.b64encode(solid_png(width, height, rgb))

    def make_menu(self, name, areas=None, alias=None, preset="half", **values):
        size = (2500, 1686) if preset == "full" else (2500, 843)
        vals = {"name": name, "channel_id": self.channel.id, "size_preset": preset,
                "chat_bar_text": "メニュー", "alias_id": alias, "image": self.png(*size),
                "area_ids": [(0, 0, area) for area in (areas or [
                    {"x": 0, "y": 0, "width": size[0], "height": size[1],
                     "action_type": "postback", "postback_preset": "custom",
                     "postback_data": "action=orders", "label": name[:20]}])]}
        vals.update(values)
        return self.env["line.rich.menu"].create(vals)

    def rule(self, role, menu, sequence=10, domain="[]", name=None):
        return self.env["line.rich.menu.rule"].create({
            "channel_id": self.channel.id, "role": role, "rich_menu_id": menu.id,
            "sequence": sequence, "domain": domain, "name": name or role})

    def friend(self, name="Aiko"):
        user = self.emu.add_user(name)
        user.follow()
        return user

    def linked_identity(self, sim_user, partner):
        return self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": sim_user.user_id,
            "name": sim_user.display_name, "partner_id": partner.id, "linked": True,
            "follow_state": "followed", "link_method": "messaging_api"})

    def published_members_menu(self):
        """A published "Members" menu for linked customers, and the LINE friends Aiko and Bunta
        linked to the two portal customers: returns (menu, [Aiko, Bunta])."""
        menu = self.make_menu("Members")
        self.rule("linked", menu)
        menu.action_publish()
        users = [self.friend(name) for name in ("Aiko", "Bunta")]
        for user, portal in zip(users, (self.user_a, self.user_b)):
            self.linked_identity(user, portal.partner_id)
        return menu, users

    def run_rich_menu_cron(self):
        self.env.flush_all()
        return self.env["line.identity"]._cron_apply_rich_menus()

    def rich_menu_calls(self):
        return [e for e in self.emu.request_log if e["endpoint"] in RICH_MENU_ENDPOINTS]

    def shown(self, sim_user):
        """(richMenuId, source) the emulator shows this user."""
        menu = sim_user.rich_menu
        return menu["richMenuId"], menu["source"]
