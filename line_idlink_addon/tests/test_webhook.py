import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from line_idlink.webhook import compute_signature

from .common import SECRET, LineCommon

USER_1 = "U" + "b" * 32


def follow_body(event_id, user=USER_1, redelivery=False):
    return {"destination": "Ubot", "events": [{
        "type": "unfollow", "mode": "active", "timestamp": 1_800_000_000_000,
        "webhookEventId": event_id, "deliveryContext": {"isRedelivery": redelivery},
        "source": {"type": "user", "userId": user}}]}


def text_body(event_id, text="こんにちは、注文の状況を教えてください", redelivery=False):
    """A text message event with Japanese text (LINE sends it as UTF-8, not \\u escapes)."""
    return {"destination": "Ubot", "events": [{
        "type": "message", "mode": "active", "timestamp": 1_800_000_000_000,
        "webhookEventId": event_id, "deliveryContext": {"isRedelivery": redelivery},
        "source": {"type": "user", "userId": USER_1}, "replyToken": "a" * 32,
        "message": {"type": "text", "id": "500000000000000001", "quoteToken": "q" * 20,
                    "text": text}}]}


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
        # LINE redelivers an event it got no 200 for: same webhookEventId, isRedelivery true
        again = self.signed_post(follow_body("01HWEBHOOK1", redelivery=True))
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

    def test_line_json_with_japanese_is_verified_on_its_raw_bytes(self):
        raw = self.line_json(text_body("01HJAPANESE"))
        self.assertIn("こんにちは".encode(), raw, "signed as LINE sends it: UTF-8, compact")
        self.assertEqual(self.signed_post(raw).status_code, 200)
        [event] = self.events()
        self.assertIn("こんにちは、注文の状況を教えてください", event.payload)

    @mute_logger("odoo.addons.line_idlink_addon.controllers.main")
    def test_reserialized_body_with_the_original_signature_refused(self):
        raw = self.line_json(text_body("01HRESERIAL"))
        signature = compute_signature(SECRET, raw)
        # the same JSON, parsed and dumped again (ASCII escapes, spaces, another key order):
        # the signature is over LINE's exact bytes, so this is not what LINE signed
        for other in (json.dumps(json.loads(raw)).encode(),
                      json.dumps(json.loads(raw), ensure_ascii=False, sort_keys=True).encode()):
            self.assertNotEqual(other, raw)
            response = self.url_open(f"/line/webhook/{self.channel.id}", data=other, headers={
                "Content-Type": "application/json", "X-Line-Signature": signature})
            self.assertEqual(response.status_code, 403)
        self.assertFalse(self.events(), "nothing stored")

    def test_redelivery_keeps_the_first_delivery(self):
        self.assertEqual(self.signed_post(text_body("01HREDELIVER")).status_code, 200)
        self.process_events()
        redelivered = text_body("01HREDELIVER", redelivery=True)
        self.assertEqual(self.signed_post(redelivered).status_code, 200)
        [event] = self.events()
        self.assertEqual(event.state, "done", "processed once, not queued again")
        self.assertIn('"isRedelivery":false', event.payload)
