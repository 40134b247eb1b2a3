from odoo.tests import TransactionCase, new_test_user, tagged

from ..lib.line_api import LineApi
from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestSendMessageWizard(LineCommon, TransactionCase):
    """"Send LINE message" from the partner form, against the emulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.agent = new_test_user(cls.env, login="line_agent", name="Line Agent",
                                  groups="base.group_user,line_idlink_addon.group_line_user")

    def test_send_message_once_with_stored_retry_key(self):
        emu = self.start_line_emulator()
        aiko = emu.add_user("Aiko LINE")
        aiko.follow()  # its webhook stays queued: the identity below stands for its result
        partner = self.user_a.partner_id
        self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": aiko.user_id, "name": "Aiko LINE",
            "partner_id": partner.id, "linked": True, "follow_state": "followed",
            "link_method": "messaging_api"})
        wizard = self.env["line.send.message"].with_user(self.agent).create(
            {"partner_id": partner.id, "body": "Your order has shipped"})
        self.assertEqual(len(wizard.identity_ids), 1)

        stored_before_push = []
        original_push = LineApi.push

        def push(api, to, messages, retry_key=None, key_store=None):
            # what a crash right now would leave in the database
            self.env.cr.execute("SELECT retry_keys FROM line_send_message WHERE id = %s",
                                (wizard.id,))
            stored_before_push.append((retry_key, self.env.cr.fetchone()[0] or ""))
            return original_push(api, to, messages, retry_key=retry_key, key_store=key_store)

        self.patch(LineApi, "push", push)
        wizard.action_send()

        self.assertEqual(len(stored_before_push), 1)
        key, stored = stored_before_push[0]
        self.assertTrue(key)
        self.assertIn(f"{aiko.user_id}: {key}", stored, "retry key persisted before the push")
        texts = [entry["message"].get("text") for entry in aiko.inbox]
        self.assertEqual(texts.count("Your order has shipped"), 1, "delivered exactly once")
        self.assertIn(key, emu.retry_keys, "LINE saw the stored key")
        self.assertEqual(partner.message_ids[0].body,
                         "<p>LINE message sent to Aiko LINE: Your order has shipped</p>")
