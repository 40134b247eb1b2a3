import base64
import io

from PIL import Image

from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged

from line_emulator.images import solid_png
from line_idlink.message_builders import unlink_question
from line_idlink.richmenu_spec import image_info

from ..models.line_channel_rich_menu import linked_menu_grid

from .rich_menu_common import RichMenuCommon

SWITCH_TO_B = {"x": 1250, "y": 0, "width": 1250, "height": 843, "action_type": "richmenuswitch",
               "label": "Tab B"}


@tagged("post_install", "-at_install", "line_idlink")
class TestRichMenuDesign(RichMenuCommon, HttpCase):
    """Menus designed in Odoo: refused when LINE would refuse them, published, archived."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def assertNothingSent(self):
        self.assertEqual(self.rich_menu_calls(), [], "nothing was sent to LINE")

    # ---- validation -----------------------------------------------------------------------------
    def test_bad_images_are_refused(self):
        menu = self.make_menu("Shop")
        cases = [
            (base64.b64encode(b"GIF89a" + b"\0" * 64), "PNG or JPEG"),
            (self.png(2500, 1686), "is 2500x1686 px but the rich menu is 2500x843"),
            (base64.b64encode(solid_png(2500, 843) + b"\0" * (1024 * 1024)), "at most 1 MB"),
        ]
        for image, message in cases:
            with self.subTest(message=message), self.assertRaises(ValidationError) as caught:
                with self.env.cr.savepoint():
                    menu.write({"image": image})
            self.assertIn(message, str(caught.exception))
        menu.invalidate_recordset()
        self.assertEqual(base64.b64decode(menu.image), solid_png(2500, 843), "image unchanged")
        no_image = self.make_menu("No image", image=False)
        with self.assertRaisesRegex(UserError, "Upload the image"):
            no_image.action_publish()
        self.assertNothingSent()

    def test_bad_areas_are_refused(self):
        menu = self.make_menu("Shop")
        cases = [
            ({"x": 2000, "width": 600}, "runs outside the image"),
            ({"y": 800, "height": 100}, "runs outside the image"),
            ({"action_type": "uri", "uri": "ftp://example.com"}, "scheme must be http"),
            ({"postback_preset": "custom", "postback_data": False}, "data: must be specified"),
            ({"label": "x" * 21}, "label: must be 0 to 20 characters"),
            ({"action_type": "richmenuswitch", "switch_menu_id": self.make_menu("No alias").id},
             "richMenuAliasId: must be specified"),
        ]
        for values, message in cases:
            with self.subTest(message=message), self.assertRaises(ValidationError) as caught:
                with self.env.cr.savepoint():
                    menu.area_ids[0].write(values)
            self.assertIn(message, str(caught.exception))
            self.assertIn("Area 1", str(caught.exception), "the area is named")
        many = [{"x": 100 * i, "y": 0, "width": 100, "height": 100, "action_type": "postback",
                 "postback_preset": "unlink"} for i in range(21)]
        with self.assertRaisesRegex(ValidationError, "at most 20 areas"):
            with self.env.cr.savepoint():
                self.make_menu("Too many", areas=many)
        with self.assertRaises(ValidationError) as caught:
            with self.env.cr.savepoint():
                menu.write({"size_preset": "custom", "width": 2500, "height": 100})
        self.assertEqual(str(caught.exception), "The image of the rich menu Shop is refused:\n"
                         "image: is 2500x843 px but the rich menu is 2500x100")
        with self.assertRaisesRegex(ValidationError, "alias ID"):
            with self.env.cr.savepoint():
                menu.write({"alias_id": "Not Valid!"})
        self.assertNothingSent()

    def test_postback_presets(self):
        # the base offers what it answers; bridges add theirs with selection_add
        presets = self.env["line.rich.menu.area"]._fields["postback_preset"].get_values(self.env)
        self.assertEqual(presets[:2], ["link", "unlink"], "the base's first")
        self.assertEqual([p for p in presets if p in ("link", "unlink", "custom")],
                         ["link", "unlink", "custom"], "then custom; bridges anywhere")
        menu = self.make_menu("Presets", areas=[
            {"x": 625 * i, "y": 0, "width": 625, "height": 843, "action_type": "postback",
             "postback_preset": preset} for i, preset in enumerate(("link", "unlink"))] + [
            {"x": 1250, "y": 0, "width": 625, "height": 843, "action_type": "postback",
             "postback_preset": "custom", "postback_data": "action=balance&page=2"}])
        self.assertEqual(menu.area_ids.mapped("postback_data"),
                         ["action=link", "action=unlink", "action=balance&page=2"])

    # ---- lifecycle ------------------------------------------------------------------------------
    def test_publish_archive(self):
        menu = self.make_menu("Shop", alias="shop-main")
        menu.action_publish()
        self.assertEqual(menu.state, "published")
        line_id = menu.line_rich_menu_id
        self.assertEqual(self.emu.richmenus.menu(line_id)["chatBarText"], "メニュー")
        self.assertTrue(self.emu.richmenus.has_image(line_id), "image uploaded")
        self.assertEqual(self.emu.richmenus.aliases["shop-main"], line_id)
        self.assertEqual(self.emu.richmenus.menu(line_id)["areas"][0]["action"],
                         {"type": "postback", "data": "action=orders", "label": "Shop"})
        with self.assertRaisesRegex(UserError, "Only a draft"):
            menu.action_publish()
        # a rule using it blocks the archive
        rule = self.rule("linked", menu)
        with self.assertRaisesRegex(UserError, "used by the rule"):
            menu.action_archive_menu()
        rule.active = False
        menu.action_archive_menu()
        self.assertEqual(menu.state, "archived")
        self.assertIsNone(self.emu.richmenus.menu(line_id), "deleted on LINE")
        self.assertNotIn("shop-main", self.emu.richmenus.aliases)
        with self.assertRaisesRegex(UserError, "archived rich menu cannot be changed"):
            menu.write({"chat_bar_text": "new"})

    def test_republish_moves_users(self):
        menu, users = self.published_members_menu()
        self.channel._line_reconcile_rich_menus()
        self.emu.advance(0)  # bulk links are applied asynchronously by LINE
        old_id = menu.line_rich_menu_id
        self.assertEqual([self.shown(u) for u in users], [(old_id, "user")] * 2)
        menu.write({"image": self.png(rgb=(200, 0, 0))})
        menu.action_republish()
        self.emu.advance(0)
        self.assertNotEqual(menu.line_rich_menu_id, old_id, "a new LINE menu")
        self.assertIsNone(self.emu.richmenus.menu(old_id), "the old one is deleted")
        self.assertEqual([self.shown(u) for u in users], [(menu.line_rich_menu_id, "user")] * 2)
        self.assertEqual(menu.identity_count, 2)

    def test_ready_made_pair_works_out_of_the_box(self):
        self.channel.action_create_default_rich_menus()
        menus = self.env["line.rich.menu"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(menus.mapped("state"), ["published", "published"])
        unlinked, linked = menus
        self.assertEqual(unlinked.area_ids.postback_data, "action=link")
        labels = linked.area_ids.mapped("label")
        self.assertEqual([label for label in labels if label in ("連携解除", "連携設定")],
                         ["連携解除", "連携設定"], "the base's buttons, in order")
        self.assertEqual(labels, [button["label"] for button in self.linked_menu_buttons()],
                         "and one area per button of the installed bridges")
        self.assertEqual(self.emu.richmenus.default_id, unlinked.line_rich_menu_id,
                         "the unlinked menu is LINE's default menu")
        self.assertEqual(self.channel.richmenu_unlinked_id, unlinked.line_rich_menu_id)
        self.assertEqual(self.channel.richmenu_linked_id, linked.line_rich_menu_id)
        aiko = self.friend()
        self.assertEqual(self.shown(aiko), (unlinked.line_rich_menu_id, "default"))
        with self.assertRaisesRegex(UserError, "already has"):
            self.channel.action_create_default_rich_menus()

    def linked_menu_buttons(self):
        """The buttons the installed addons offer for the linked menu, in their order."""
        return sorted(self.channel._line_linked_menu_buttons(), key=lambda b: b.get("sequence", 10))

    def test_ready_made_linked_menu_has_the_base_buttons(self):
        """The linked menu offers what the base answers: unlink, and the portal page of the
        customer's LINE accounts, plus the buttons of the installed bridges (orders, points...)
        between them; its image is composed from their tiles on a grid chosen by their count."""
        self.channel.action_create_default_rich_menus()
        linked = self.env["line.rich.menu"].search([("channel_id", "=", self.channel.id),
                                                   ("rule_ids.role", "=", "linked")])
        areas = linked.area_ids
        base = areas.filtered(lambda a: a.label in ("連携解除", "連携設定"))
        self.assertEqual([area._line_action() for area in base], [
            {"type": "postback", "label": "連携解除", "data": "action=unlink",
             "displayText": "連携解除"},
            {"type": "uri", "label": "連携設定",
             "uri": self.channel._line_base_url().rstrip("/") + "/my/line"}])
        buttons = self.linked_menu_buttons()
        self.assertEqual([area._line_action() for area in areas], [
            {"type": "uri", "label": b["label"], "uri": b["uri"]} if b.get("uri") else
            {"type": "postback", "label": b["label"], "data": f"action={b['preset']}",
             "displayText": b["label"]} for b in buttons],
            "exactly the buttons the installed addons offer, in their order")
        # the cells of the grid, left to right then top to bottom
        width, height, columns, rows = linked_menu_grid(len(buttons))
        self.assertEqual((width, height), (2500, 843 if len(buttons) <= 3 else 1686))
        cells = [(width * col // columns, height * row // rows,
                  width * (col + 1) // columns - width * col // columns,
                  height * (row + 1) // rows - height * row // rows)
                 for row in range(rows) for col in range(columns)][:len(buttons)]
        self.assertEqual([(a.x, a.y, a.width, a.height) for a in areas], cells)
        if len(buttons) == 2:  # the base alone
            self.assertEqual(cells, [(0, 0, 1250, 843), (1250, 0, 1250, 843)],
                             "one row of two halves")
        image = base64.b64decode(linked.image)
        self.assertEqual(image_info(image)[1:], (width, height))
        with Image.open(io.BytesIO(image)) as decoded:
            decoded.verify()  # a whole, valid PNG
            self.assertEqual((decoded.format, decoded.size), ("PNG", (width, height)))
        self.assertEqual((linked.size_preset, linked.width, linked.height),
                         ("half" if height == 843 else "full", width, height))
        on_line = self.emu.richmenus.menu(linked.line_rich_menu_id)
        self.assertEqual(on_line["size"], {"width": width, "height": height})
        self.assertEqual(len(on_line["areas"]), len(buttons))
        self.assertTrue(self.emu.richmenus.has_image(linked.line_rich_menu_id))
        # a linked customer taps 連携解除 and is asked
        aiko = self.friend()
        self.linked_identity(aiko, self.user_a.partner_id)
        self.run_rich_menu_cron()
        self.assertEqual(self.shown(aiko), (linked.line_rich_menu_id, "user"))
        self.deliver()  # the follow (answered: already linked)
        aiko.inbox.clear()
        unlink = base[0]
        aiko.tap(unlink.x + unlink.width // 2, unlink.y + unlink.height // 2)
        self.deliver()
        self.assertEqual([e["message"] for e in aiko.inbox], [unlink_question("ja")])

    def test_linked_menu_grid_follows_the_number_of_buttons(self):
        self.assertEqual([linked_menu_grid(n) for n in (1, 2, 3, 4, 5, 6, 7, 10, 20)], [
            (2500, 843, 1, 1), (2500, 843, 2, 1), (2500, 843, 3, 1), (2500, 1686, 2, 2),
            (2500, 1686, 3, 2), (2500, 1686, 3, 2), (2500, 1686, 3, 3), (2500, 1686, 4, 3),
            (2500, 1686, 4, 5)])

    def test_tabs_via_aliases(self):
        tab_b = self.make_menu("Tab B", alias="tab-b", areas=[
            {"x": 0, "y": 0, "width": 1250, "height": 843, "action_type": "postback",
             "postback_preset": "link"}])
        tab_a = self.make_menu("Tab A", alias="tab-a", areas=[
            {"x": 0, "y": 0, "width": 1250, "height": 843, "action_type": "postback",
             "postback_preset": "unlink"}, dict(SWITCH_TO_B, switch_menu_id=tab_b.id)])
        tab_b.write({"area_ids": [(0, 0, dict(SWITCH_TO_B, label="Tab A",
                                               switch_menu_id=tab_a.id))]})
        tab_b.action_publish()
        tab_a.action_publish()
        self.rule("default", tab_a)
        self.run_rich_menu_cron()
        aiko = self.friend()
        self.assertEqual(self.shown(aiko), (tab_a.line_rich_menu_id, "default"))
        result = aiko.tap(1500, 400)
        self.assertEqual(result.action["richMenuAliasId"], "tab-b")
        self.assertEqual(self.shown(aiko), (tab_b.line_rich_menu_id, "alias"))
        aiko.tap(2000, 100)
        self.assertEqual(self.shown(aiko), (tab_a.line_rich_menu_id, "alias"))
        with self.assertRaisesRegex(UserError, "is a tab of"):
            tab_b.action_archive_menu()

    def test_preview_on_my_line(self):
        menu = self.make_menu("Draft preview")
        with self.assertRaisesRegex(UserError, "Publish the rich menu"):
            menu.action_preview()
        menu.action_publish()
        with self.assertRaisesRegex(UserError, "no LINE account linked"):
            menu.action_preview()
        me = self.friend("Admin on LINE")
        identity = self.linked_identity(me, self.env.user.partner_id)
        menu.action_preview()
        self.assertEqual(self.shown(me), (menu.line_rich_menu_id, "user"))
        self.assertEqual(identity.rich_menu_id, menu)
        self.assertFalse(identity.rich_menu_rule_id, "not chosen by a rule")
        # the next reconcile puts the rules' menu back (no rule: no per-user menu)
        self.channel._line_reconcile_rich_menus(identity)
        self.assertEqual(self.shown(me), (None, None))
