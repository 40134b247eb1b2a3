import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import SECRET, LineCommon

USER_1 = "U" + "b" * 32


def follow_body(event_id, user=USER_1):
    return {"destination": "Ubot", "events": [{
        "type": "unfollow", "mode": "active", "timestamp": 1_800_000_000_000,
        "webhookEventId": event_id, "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user}}]}


@tagged("post_install", "-at_install", "line_idlink")
class TestWebhook(LineCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def events(self):
        return self.env["line.webhook.event"].search([("channel_id", "=", self.channel.id)])

    def test_signed_event_stored_once_and_processed(self):
        response = self.signed_post(follow_body("01HWEBHOOK1"))
        self.assertEqual(response.status_code, 200)
        again = self.signed_post(follow_body("01HWEBHOOK1"))  # LINE redelivery: same id
        self.assertEqual(again.status_code, 200)
        self.assertEqual(self.events().mapped("event_id"), ["01HWEBHOOK1"])
        self.assertEqual(self.events().state, "pending")
        self.process_events()
        self.assertEqual(self.events().state, "done")
        identity = self.env["line.identity"].search([("line_user_id", "=", USER_1)])
        self.assertEqual(identity.follow_state, "blocked")

    @mute_logger("odoo.addons.line_idlink_addon.controllers.main")
    def test_forged_signature_refused(self):
        response = self.signed_post(follow_body("01HFORGED"), secret="not-the-secret-at-all")
        self.assertEqual(response.status_code, 403)
        raw = json.dumps(follow_body("01HNOSIG")).encode()
        response = self.url_open(f"/line/webhook/{self.channel.id}", data=raw,
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events())

    def test_unknown_or_inactive_channel_refused(self):
        response = self.url_open("/line/webhook/999999", data=b'{"events":[]}',
                                 headers={"X-Line-Signature": "x"})
        self.assertEqual(response.status_code, 403)
        self.channel.active = False
        self.assertEqual(self.signed_post(follow_body("01HOFF")).status_code, 403)
        self.assertFalse(self.events().with_context(active_test=False))

    def test_invalid_body_refused(self):
        response = self.signed_post(b'{"events": [{"type": "follow"}]}')
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.events())
        self.assertEqual(self.signed_post({"destination": "U", "events": []}).status_code, 200,
                         "LINE's verify request (no events) is answered 200")
        self.assertEqual(SECRET, self.channel.sudo().channel_secret)
