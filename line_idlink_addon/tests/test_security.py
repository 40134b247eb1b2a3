from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import LineCommon

USER_1 = "U" + "a" * 32


@tagged("line_idlink")
class TestSecurity(LineCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.identity = cls.env["line.identity"]._line_link_protocol().create({
            "channel_id": cls.channel.id, "line_user_id": USER_1, "name": "Aiko"}).with_env(cls.env)
        cls.channel._line_storage().add_link(__import__(
            "line_idlink.storage", fromlist=["LinkRecord"]).LinkRecord(
                str(cls.channel.id), USER_1, str(cls.user_a.partner_id.id), "messaging_api",
                1_800_000_000.0))

    def test_portal_user_reads_only_own_identity(self):
        mine = self.identity.with_user(self.user_a)
        self.assertEqual(mine.name, "Aiko")
        self.assertEqual(self.env["line.identity"].with_user(self.user_b).search([]).ids, [])
        with self.assertRaises(AccessError):
            self.identity.with_user(self.user_b).read(["name"])

    def test_portal_user_cannot_unlink_someone_else(self):
        with self.assertRaises(AccessError):
            self.identity.with_user(self.user_b).action_unlink_line()
        self.assertTrue(self.identity.linked)
        with self.assertRaises(AccessError):
            self.identity.with_user(self.user_b).write({"partner_id": self.user_b.partner_id.id})
        self.identity.with_user(self.user_a).action_unlink_line()
        self.assertFalse(self.identity.linked)
        self.assertEqual(self.identity.partner_id, self.user_a.partner_id, "kept as history")

    def test_secrets_for_system_admins_only(self):
        line_admin = new_test_user(self.env, login="line_admin_x",
                                   groups="line_idlink_addon.group_line_admin")
        channel = self.channel.with_user(line_admin)
        self.assertEqual(channel.name, "Test OA")
        with self.assertRaises(AccessError):
            channel.read(["access_token"])
        with self.assertRaises(AccessError):
            self.channel.with_user(self.user_a).read(["name"])
        with self.assertRaises(AccessError):
            self.env["line.link.nonce"].with_user(line_admin).search([])

    def test_partner_filters(self):
        partners = self.env["res.partner"]
        self.assertIn(self.user_a.partner_id, partners.search([("line_linked", "=", True)]))
        self.assertNotIn(self.user_b.partner_id, partners.search([("line_linked", "=", True)]))
        self.assertNotIn(self.user_a.partner_id, partners.search([("line_reachable", "=", True)]),
                         "not a friend (follow state unknown): not reachable")
        self.identity.follow_state = "followed"
        self.assertIn(self.user_a.partner_id, partners.search([("line_reachable", "=", True)]))

    def test_merge_keeps_link(self):
        wizard = self.env["base.partner.merge.automatic.wizard"]
        target = self.env["res.partner"].create({"name": "Aiko (duplicate)"})
        wizard._merge([self.user_a.partner_id.id, target.id], target, extra_checks=False)
        self.assertEqual(self.identity.partner_id, target)
        self.assertTrue(self.identity.linked)

    def test_link_fields_refused_even_to_superuser_code(self):
        """Only the link protocol writes the link: neither sudo() nor a context key a client could
        send (JSON values) opens it."""
        identity = self.identity.sudo()
        for context in ({}, {"line_idlink_link_protocol": True},
                        {"line_idlink_link_protocol": "object"}):
            with self.subTest(context=context), self.assertRaises(AccessError):
                identity.with_context(context).write({"partner_id": self.user_b.partner_id.id})
            with self.subTest(context=context), self.assertRaises(AccessError):
                identity.with_context(context).write({"linked": False})
        self.assertEqual(self.identity.partner_id, self.user_a.partner_id)
        self.assertTrue(self.identity.linked)
