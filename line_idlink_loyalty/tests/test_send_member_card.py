import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestSendMemberCard(LoyaltyLineCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.liff_id = "1650000001-CardApp1"
        cls.aiko_id = "U" + "a" * 32
        cls.link(cls.partner_a, cls.aiko_id)
        cls.agent = new_test_user(cls.env, login="line_agent_card", name="Agent",
                                  groups="base.group_user,base.group_partner_manager,"
                                         "line_idlink_addon.group_line_user")

    def test_send_member_card_queues_a_flex_card_with_the_liff_button(self):
        self.partner_a.with_user(self.agent).action_line_send_member_card()
        [message] = self.env["line.message"].search([("res_model", "=", "res.partner"),
                                                     ("res_id", "=", self.partner_a.id)])
        self.assertEqual(message.line_user_id, self.aiko_id)
        body = json.dumps(json.loads(message.messages), ensure_ascii=False)
        self.assertIn('"type": "flex"', body)
        self.assertIn("https://liff.line.me/1650000001-CardApp1", body)
        self.assertIn("LINE-A-0001", body)
        self.assertIn("Silver", body)

    def test_unlinked_customer_is_refused_and_nothing_queued(self):
        with self.assertRaises(UserError):
            self.partner_b.with_user(self.agent).action_line_send_member_card()
        self.assertFalse(self.env["line.message"].search([("res_id", "=", self.partner_b.id),
                                                          ("res_model", "=", "res.partner")]))

    def test_only_line_users_may_send(self):
        clerk = new_test_user(self.env, login="clerk_no_line", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.partner_a.with_user(clerk).action_line_send_member_card()
