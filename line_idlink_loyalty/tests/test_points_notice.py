import json

from odoo.tests import TransactionCase, tagged

from .common import LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestPointsNotice(LoyaltyLineCommon, TransactionCase):
    """A change of a card's points queues one LINE message to the linked customer (through
    ``line.message``), once per change, never for an unlinked customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aiko_id = "U" + "a" * 32
        cls.identity_a = cls.link(cls.partner_a, cls.aiko_id)

    def notices(self, card):
        return self.env["line.message"].search([("res_model", "=", "loyalty.card"),
                                                ("res_id", "=", card.id)])

    def text_of(self, message):
        return json.loads(message.messages)[0]["text"]

    def test_staff_balance_update_sends_one_notice(self):
        wizard = self.env["loyalty.card.update.balance"].create({
            "card_id": self.card_a.id, "new_balance": 5200, "description": "Birthday gift"})
        wizard.action_update_card_point()
        [notice] = self.notices(self.card_a)
        self.assertEqual(notice.line_user_id, self.aiko_id)
        self.assertEqual(notice.channel_id, self.channel)
        self.assertEqual(notice.state, "outgoing")
        text = self.text_of(notice)
        self.assertIn("+3950 pt", text)
        self.assertIn("5200 pt", text)
        self.assertIn("Gold", text, "the new tier")
        self.assertIn("Birthday gift", text, "why the points changed")

    def test_once_per_change(self):
        self.card_a.points = 1300
        self.card_a.points = 1300  # no change: no message
        self.card_a.write({"code": "LINE-A-0001"})  # not the points
        self.assertEqual(len(self.notices(self.card_a)), 1)
        self.card_a.points = 1000
        notices = self.notices(self.card_a)
        self.assertEqual(len(notices), 2)
        self.assertIn("-300 pt", self.text_of(notices[0]))

    def test_not_for_unlinked_customers(self):
        self.card_b.points = 500
        self.assertFalse(self.notices(self.card_b), "Bunta has no LINE link")
        self.identity_a._line_link_protocol().write({"linked": False})
        self.card_a.points = 10
        self.assertFalse(self.notices(self.card_a), "Aiko unlinked")

    def test_switchable_per_program(self):
        self.program.line_points_notice = False
        self.card_a.points = 2000
        self.assertFalse(self.notices(self.card_a))

    def test_blocked_line_user_gets_nothing(self):
        self.identity_a.follow_state = "blocked"
        self.card_a.points = 2000
        self.assertFalse(self.notices(self.card_a))

    def test_japanese_notice(self):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_loyalty"], ["ja_JP"],
                                                        overwrite=True)
        self.partner_a.lang = "ja_JP"  # the customer's language (else their LINE language)
        self.card_a.points = 1500
        self.assertIn("残高", self.text_of(self.notices(self.card_a)))
