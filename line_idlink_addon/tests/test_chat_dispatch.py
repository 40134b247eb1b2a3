"""The extension API of the base addon as a LINE user meets it: webhook events from the emulator
(signed, through Odoo's webhook route) dispatched to ``line.channel`` methods per event type, per
postback action and per chat keyword, with the channel's default answer for the rest."""

import time

from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from line_idlink import message_builders, postbacks

from .common import LineCommon

# a postback action that no addon answers (the installed bridges answer theirs: points, orders...)
NOBODY_ANSWERS = "action=no_such_action_xyz"


@tagged("post_install", "-at_install", "line_idlink")
class TestChatDispatch(LineCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()
        self.aiko = self.emu.add_user("Aiko")
        self.aiko.follow()
        self.deliver()
        self.aiko.inbox.clear()  # the invitation to link of the follow

    # ---- helpers -------------------------------------------------------------------------------
    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def link(self, user, portal):
        self.identity(user).sudo()._line_link_protocol().write({
            "partner_id": portal.partner_id.id, "linked": True, "link_method": "messaging_api"})
        self.env.flush_all()

    def answers(self, user):
        """The messages the bot sent ``user`` since the last call, then forgets them."""
        sent = [entry["message"] for entry in user.inbox]
        user.inbox.clear()
        return sent

    def default_answer(self, identity):
        text = self.channel.with_context(
            lang=self.channel._line_chat_lang(identity)).unhandled_reply
        return [message_builders.text(text)]

    def events(self):
        return self.env["line.webhook.event"].search([("channel_id", "=", self.channel.id)])

    # ---- actions of the base -----------------------------------------------------------------------
    def test_link_keyword_in_a_text_message(self):
        for said in ("連携", " 連携する ", "連携"):
            self.aiko.say(said)
            self.deliver()
            [answer] = self.answers(self.aiko)
            self.assertTrue(self.link_token_from([{"message": answer}]),
                            f"{said!r}: the link button, with a fresh link token")
        self.assertEqual(set(self.events().mapped("state")), {"done"})

    def test_linked_customer_unlinks_by_keyword_or_keeps_the_link(self):
        self.link(self.aiko, self.user_a)
        identity = self.identity(self.aiko)
        self.aiko.say("連携解除")
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [message_builders.unlink_question("ja")])
        # "やめる" on the question
        self.aiko.postback(postbacks.POSTBACK_UNLINK_CANCEL)
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [message_builders.unlink_kept("ja")])
        self.assertTrue(identity.linked, "still linked")
        # "解除する"
        self.aiko.postback(postbacks.POSTBACK_UNLINK)
        self.deliver()
        self.answers(self.aiko)
        self.aiko.postback(postbacks.POSTBACK_UNLINK_CONFIRM)
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [message_builders.unlink_done("ja")])
        self.assertFalse(identity.linked)
        # the same buttons pressed again, from the old messages
        for data in (postbacks.POSTBACK_UNLINK_CANCEL, postbacks.POSTBACK_UNLINK):
            self.aiko.postback(data)
            self.deliver()
            self.assertEqual(self.answers(self.aiko), [message_builders.link_first("ja")],
                             f"{data}: not linked any more, invited to link")

    def test_linked_customer_asking_to_link_is_told_so(self):
        self.link(self.aiko, self.user_a)
        self.aiko.say("連携")
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [message_builders.link_done("ja")])

    def test_tab_switch_postback_is_silent(self):
        self.aiko.postback("action=richmenu_switch&to=tab-b",
                           params={"newRichMenuAliasId": "tab-b", "status": "SUCCESS"})
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [])
        self.assertEqual(set(self.events().mapped("state")), {"done"})

    # ---- keywords configured on the channel ------------------------------------------------------
    def test_channel_keywords_replace_the_defaults(self):
        self.env["line.chat.keyword"].create([
            {"channel_id": self.channel.id, "action": "link", "keywords": "つなぐ、Link me"},
            {"channel_id": self.channel.id, "action": "unlink", "keywords": False}])
        for said in ("つなぐ", "link ME", "ＬＩＮＫ ＭＥ"):
            self.aiko.say(said)
            self.deliver()
            [answer] = self.answers(self.aiko)
            self.assertTrue(self.link_token_from([{"message": answer}]), said)
        identity = self.identity(self.aiko)
        for said in ("連携", "連携解除"):  # the defaults of link, the switched-off unlink
            self.aiko.say(said)
            self.deliver()
            self.assertEqual(self.answers(self.aiko), self.default_answer(identity), said)

    # ---- what nobody handles ------------------------------------------------------------------------
    def test_unhandled_text_and_postback_get_the_default_answer(self):
        identity = self.identity(self.aiko)
        answer = self.default_answer(identity)
        self.assertIn("「連携」", answer[0]["text"], "it lists the keywords")
        self.assertIn("「連携解除」", answer[0]["text"])
        for send in (lambda: self.aiko.say("こんにちは"),
                     lambda: self.aiko.postback(NOBODY_ANSWERS),
                     lambda: self.aiko.postback("no action at all")):
            send()
            self.deliver()
            self.assertEqual(self.answers(self.aiko), answer)
        self.assertEqual(set(self.events().mapped("state")), {"done"})

    def test_default_answer_is_written_in_every_installed_language(self):
        self.use_japanese(self.user_a)
        channel = self.env["line.channel"].create({
            "name": "Second OA", "line_channel_id": "1650000001", "channel_secret": "s" * 32})
        # the help lists the first keyword of every action: the base's first, then the
        # installed bridges' (ポイント, 注文履歴, 配信停止...)
        expected = {
            "ja_JP": "申し訳ありません。このメッセージにはお答えできません。%sと送信するか、"
                     "下のメニューをご利用ください。",
            "en_US": "Sorry, I cannot answer this message. Send %s, or use the menu below.",
        }
        for lang, text in expected.items():
            keywords = channel.with_context(lang=lang)._line_default_keywords()
            self.assertEqual(list(keywords)[:2], ["link", "unlink"], "the base's actions first")
            self.assertEqual(keywords["link"][0], "連携")
            self.assertEqual(keywords["unlink"][0], "連携解除")
            listed = "、".join(f"「{words[0]}」" for words in keywords.values() if words)
            self.assertTrue(listed.startswith("「連携」、「連携解除」"), lang)
            help_text = channel.with_context(lang=lang).unhandled_reply
            self.assertEqual(help_text, text % listed, lang)
            for action, words in keywords.items():
                if words:
                    self.assertIn(f"「{words[0]}」", help_text, f"{lang}: {action}")
        # a linked customer who reads Japanese gets it in Japanese
        self.channel.update_field_translations("unhandled_reply", {
            "ja_JP": "メニューをご利用ください。", "en_US": "Please use the menu."})
        self.link(self.aiko, self.user_a)
        self.aiko.say("hello")
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [message_builders.text("メニューをご利用ください。")])

    def test_empty_default_answer_says_nothing(self):
        self.channel.unhandled_reply = False
        self.aiko.say("こんにちは")
        self.aiko.postback(NOBODY_ANSWERS)
        self.deliver()
        self.assertEqual(self.answers(self.aiko), [])
        self.assertEqual(set(self.events().mapped("state")), {"done"})

    def test_group_messages_are_not_answered(self):
        body = {"destination": self.emu.config.bot_user_id, "events": [{
            "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
            "webhookEventId": "01HGROUPMESSAGE0000000001", "replyToken": "r" * 32,
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "group", "groupId": "C" + "0" * 32, "userId": self.aiko.user_id},
            "message": {"id": "1", "type": "text", "text": "こんにちは", "quoteToken": "q"}}]}
        replies = len(self.emu.requests_for("replyMessage"))
        self.env.flush_all()
        response = self.signed_post(body, secret=self.emu.config.channel_secret)
        self.assertEqual(response.status_code, 200)
        self.process_events()
        [event] = self.events().filtered(lambda e: e.event_type == "message")
        self.assertEqual(event.state, "done")
        self.env["line.message"]._process_queue()
        self.assertEqual(self.answers(self.aiko), [])
        self.assertEqual(len(self.emu.requests_for("replyMessage")), replies,
                         "nothing said in the group")

    def test_default_answer_is_pushed_when_the_reply_token_expired(self):
        self.aiko.say("こんにちは")
        self.emu.advance(61)
        self.deliver()
        self.env["line.message"]._process_queue()
        sent = [(entry["api"], entry["message"]) for entry in self.aiko.inbox]
        self.assertEqual(sent, [("push", self.default_answer(self.identity(self.aiko))[0])])

    def test_default_answer_longer_than_line_allows_is_refused(self):
        before = self.channel.unhandled_reply
        with self.assertRaisesRegex(ValidationError, "5000"):
            with self.env.cr.savepoint():
                self.channel.unhandled_reply = "あ" * 5001
                self.channel.flush_recordset()
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.unhandled_reply, before, "nothing changed")
