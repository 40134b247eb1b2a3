from odoo.tests import HttpCase, new_test_user, tagged

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestLineTours(LineCommon, HttpCase):
    """Chromium tours: the portal page and the partner form's LINE tab."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.agent = new_test_user(cls.env, login="line_agent", name="Line Agent",
                                  groups="base.group_user,base.group_partner_manager,"
                                         "line_idlink_addon.group_line_user")
        cls.identity = cls.env["line.identity"]._line_link_protocol().create({
            "channel_id": cls.channel.id, "line_user_id": "U" + "a" * 32, "name": "Aiko LINE",
            "partner_id": cls.user_a.partner_id.id, "linked": True, "follow_state": "followed",
            "link_method": "messaging_api", "linked_since": "2026-11-01 09:00:00"})

    def test_portal_unlink_tour(self):
        self.start_tour("/my/line", "line_idlink_portal_unlink", login="line_portal_a")
        self.identity.invalidate_recordset()
        self.assertFalse(self.identity.linked)
        self.assertEqual(self.identity.partner_id, self.user_a.partner_id, "kept as history")

    def test_partner_form_unlink_tour(self):
        url = f"/odoo/res.partner/{self.user_a.partner_id.id}"
        self.start_tour(url, "line_idlink_partner_unlink", login="line_agent")
        self.identity.invalidate_recordset()
        self.assertFalse(self.identity.linked)
        self.assertIn("Line Agent", self.identity.message_ids[0].body)
