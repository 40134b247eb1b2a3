from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestLoyaltySecurity(LoyaltyLineCommon, TransactionCase):
    """Who may write the bridge's fields (as over JSON-RPC: ``with_user``, no sudo)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.line_admin = new_test_user(cls.env, login="line_admin_loyalty", name="LINE Admin",
                                       groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.clerk = new_test_user(cls.env, login="clerk_loyalty", groups="base.group_user")
        cls.tier = cls.program.line_tier_ids[:1]

    def test_sdk_url_is_for_system_administrators_only(self):
        """The SDK URL decides which script runs on every customer's card."""
        channel = self.channel.with_user(self.line_admin)
        channel.write({"liff_id": "1650000001-CardApp1"})  # a LINE admin sets the LIFF ID
        with self.assertRaises(AccessError):
            channel.write({"liff_sdk_url": "https://evil.example/sdk.js"})
        with self.assertRaises(AccessError):
            self.env["line.channel"].with_user(self.line_admin).create({
                "name": "X", "line_channel_id": "1650000777",
                "liff_sdk_url": "https://evil.example/sdk.js"})
        self.assertEqual(self.channel.liff_sdk_url,
                         "https://static.line-scdn.net/liff/edge/2/sdk.js")

    def test_tiers_read_by_staff_written_by_line_admins(self):
        self.assertEqual(self.tier.with_user(self.clerk).name, "Regular")
        with self.assertRaises(AccessError):
            self.tier.with_user(self.clerk).write({"threshold": 1})
        with self.assertRaises(AccessError):
            self.tier.with_user(self.user_a).read(["name"])  # portal
        self.tier.with_user(self.line_admin).write({"name": "Bronze"})
        self.assertEqual(self.tier.name, "Bronze")

    def test_last_card_opening_is_hidden_from_portal_users(self):
        with self.assertRaises(AccessError):
            self.partner_a.with_user(self.user_a).read(["line_card_opened_at"])
