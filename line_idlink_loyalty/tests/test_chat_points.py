"""ポイント and 会員証 in the chat, as LINE users meet them: webhook events from the emulator (signed,
through Odoo's webhook route), answered through the base addon's extension API."""

import json

from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests import test_message_queue as queue_tests

from line_idlink import message_builders

from .common import LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestChatPoints(LoyaltyLineCommon, HttpCase):

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()
        self.channel.liff_id = self.emu.config.liff_id
        self.aiko, self.bunta = self.emu.add_user("Aiko"), self.emu.add_user("Bunta")
        for user in (self.aiko, self.bunta):
            user.follow()
        self.deliver()
        self.link_user(self.aiko, self.partner_a)
        self.link_user(self.bunta, self.partner_b)
        for user in (self.aiko, self.bunta):
            user.inbox.clear()

    def link_user(self, user, partner):
        identity = self.env["line.identity"].search([("line_user_id", "=", user.user_id)])
        identity.sudo()._line_link_protocol().write({
            "partner_id": partner.id, "linked": True, "link_method": "messaging_api"})
        self.env.flush_all()

    def answer(self, user):
        [entry] = user.inbox
        user.inbox.clear()
        return json.dumps(entry["message"], ensure_ascii=False)

    def test_points_answer_shows_each_customer_only_their_own_cards(self):
        self.aiko.postback("action=points")
        self.bunta.say("ポイント")
        self.deliver()
        aiko, bunta = self.answer(self.aiko), self.answer(self.bunta)
        self.assertIn('"type": "carousel"', aiko)
        self.assertIn("1250 pt", aiko)
        self.assertIn("Silver", aiko)
        self.assertIn("Member Points", aiko)
        self.assertNotIn("80 pt", aiko)
        self.assertIn("80 pt", bunta)
        self.assertIn("Regular", bunta)
        self.assertNotIn("1250", bunta)
        self.assertIn(f"https://liff.line.me/{self.emu.config.liff_id}", aiko,
                      "a button to the member card")

    def test_points_answer_uses_the_portal_domain(self):
        """Expired cards, archived programs and another partner of the same company are left
        out (the portal's exact-partner domain)."""
        self.card_a.expiration_date = "2020-01-01"
        colleague = self.env["res.partner"].create({"name": "Colleague",
                                                    "parent_id": self.partner_a.id})
        self.env["loyalty.card"].create({"program_id": self.program.id, "points": 999,
                                         "partner_id": colleague.id, "code": "LINE-C-0003"})
        self.env["loyalty.card"].create({"program_id": self.ewallet.id, "points": 3000,
                                         "partner_id": self.partner_a.id, "code": "LINE-W-0004"})
        self.aiko.postback("action=points")
        self.deliver()
        aiko = self.answer(self.aiko)
        self.assertIn("Shop Wallet", aiko)
        self.assertNotIn("1250", aiko, "expired")
        self.assertNotIn("999", aiko, "the colleague's card")

    def test_not_linked_gets_the_invitation(self):
        stranger = self.emu.add_user("Chika")
        stranger.follow()
        self.deliver()
        stranger.inbox.clear()
        stranger.postback("action=points")
        stranger.say("会員証")
        self.deliver()
        invitation = message_builders.link_first("ja")
        self.assertEqual([e["message"] for e in stranger.inbox], [invitation, invitation])

    def test_member_card_answer(self):
        self.aiko.postback("action=member_card")
        self.deliver()
        aiko = self.answer(self.aiko)
        self.assertIn("LINE-A-0001", aiko)
        self.assertIn(f"https://liff.line.me/{self.emu.config.liff_id}", aiko)
        self.assertNotIn("LINE-B", aiko)

    def test_presets_and_default_menu_buttons(self):
        presets = dict(self.env["line.rich.menu.area"]._fields["postback_preset"].selection)
        self.assertIn("points", presets)
        self.assertIn("member_card", presets)
        buttons = [b.get("preset") for b in self.channel._line_linked_menu_buttons()]
        self.assertLess(buttons.index("points"), buttons.index("member_card"))

    def test_points_notice_reaches_line_once(self):
        """Staff change Aiko's points: LINE receives one push (the queue's cron), never two;
        Bunta, whose points did not change, receives nothing."""
        forget = queue_tests.TestMessageQueue.forget_rate_limit_slots
        forget(self)
        self.addCleanup(forget, self)
        self.env["loyalty.card.update.balance"].create({
            "card_id": self.card_a.id, "new_balance": 1400,
            "description": "Store visit"}).action_update_card_point()
        self.assertFalse(self.aiko.inbox, "nothing reaches LINE before the queue runs")
        for _run in range(2):
            self.env.ref("line_idlink_addon.ir_cron_line_message_queue").method_direct_trigger()
        [notice] = [entry["message"]["text"] for entry in self.aiko.inbox]
        self.assertIn("+150 pt", notice)
        self.assertIn("1400 pt", notice)
        self.assertIn("Store visit", notice)
        self.assertEqual(len(self.emu.requests_for("pushMessage")), 1)
        self.assertFalse(self.bunta.inbox)
