from odoo.tests import HttpCase, new_test_user, tagged

from . import test_screenshots
from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestRichMenuTour(LineCommon, HttpCase):
    """The rich-menu area editor in Chromium: design -> publish -> rule -> the LINE user's menu."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.line_admin = new_test_user(cls.env, login="line_rm_admin", name="Rich Menu Admin",
                                       groups="base.group_user,line_idlink_addon.group_line_admin")

    def _linked_line_user(self, emu):
        """A LINE user who follows the bot and is linked to customer A in Odoo."""
        sim = emu.add_user("Aiko", "ja")
        sim.follow()  # its webhook stays queued: this test never flushes the emulator
        self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": sim.user_id, "name": "Aiko LINE",
            "partner_id": self.user_a.partner_id.id, "linked": True, "follow_state": "followed",
            "link_method": "messaging_api", "linked_since": "2026-11-01 09:00:00"})
        return sim

    def test_design_publish_and_assign(self):
        emu = self.start_line_emulator()
        sim = self._linked_line_user(emu)
        self.assertIsNone(sim.rich_menu["richMenuId"], "no menu before the administrator's work")

        self.start_tour("/odoo", "line_idlink_rich_menu_design", login="line_rm_admin")

        menu = self.env["line.rich.menu"].search([("name", "=", "Members menu")])
        self.assertEqual(menu.state, "published")
        self.assertEqual((menu.width, menu.height), (2500, 843), "size taken from the image")
        area = menu.area_ids
        self.assertEqual(len(area), 1)
        self.assertEqual((area.x, area.y, area.width, area.height), (0, 0, 1250, 843),
                         "the drawn rectangle, in image pixels")
        self.assertEqual((area.label, area.postback_preset), ("連携解除", "unlink"))
        on_line = emu.richmenus.menu(menu.line_rich_menu_id)
        self.assertEqual(on_line["areas"][0]["bounds"],
                         {"x": 0, "y": 0, "width": 1250, "height": 843})
        self.assertTrue(emu.richmenus.has_image(menu.line_rich_menu_id))

        # the rule made every identity of the channel pending; the cron applies it
        self.env.flush_all()
        self.env["line.identity"]._cron_apply_rich_menus()
        self.assertEqual(sim.rich_menu, {"richMenuId": menu.line_rich_menu_id, "source": "user"})

    def test_editor_screenshot(self):
        """The ready-made linked menu in the area editor (docs/screenshots when asked)."""
        self.start_line_emulator()
        self.channel.action_create_default_rich_menus()
        linked = self.env["line.rich.menu"].search([("channel_id", "=", self.channel.id),
                                                   ("rule_ids.role", "=", "linked")])
        # the base's two buttons, first and last, and those of the installed bridges between
        labels = linked.area_ids.mapped("label")
        self.assertEqual(len(labels), len(self.channel._line_linked_menu_buttons()))
        self.assertEqual((labels[0], labels[-1]), ("連携解除", "連携設定"))
        test_screenshots.TestScreens.capture(
            self, "line_rm_admin", f"/odoo/action-line_idlink_addon.line_rich_menu_action/{linked.id}",
            "line_idlink_rich_menu_screen", "odoo-rich-menu-editor.png")
