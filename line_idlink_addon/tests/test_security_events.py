import json

from odoo.tests import HttpCase, new_test_user, tagged

from .security_common import SecurityCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestWebhookEventsReadOnly(SecurityCommon, HttpCase):
    """A stored webhook event is what LINE signed: a LINE Administrator who could rewrite its
    payload and press Retry would act for any LINE user (e.g. unlink any customer). Events are
    read-only to them over JSON-RPC; Retry still puts a failed event back in the queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.line_admin = new_test_user(cls.env, login="sec_event_admin",
                                       groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.line_user = new_test_user(cls.env, login="sec_event_user",
                                      groups="base.group_user,line_idlink_addon.group_line_user")
        payload = json.dumps({"type": "follow", "webhookEventId": "01HSECEVENT0000000000000000",
                              "source": {"type": "user", "userId": "U" + "1" * 32}})
        cls.event = cls.env["line.webhook.event"].create({
            "event_id": "01HSECEVENT0000000000000000", "channel_id": cls.channel.id,
            "payload": payload, "state": "error", "error": "LineCallFailed: boom", "attempts": 5})

    def test_line_admin_cannot_rewrite_or_delete_an_event(self):
        before = self.event.read(["payload", "event_id", "channel_id", "state"])[0]
        self.authenticate("sec_event_admin", "sec_event_admin")
        forged = json.dumps({"type": "postback", "postback": {"data": "action=unlink_confirm"},
                             "source": {"type": "user", "userId": "U" + "2" * 32}})
        for values in ({"payload": forged}, {"event_id": "forged"}, {"state": "pending"}):
            message = self.rpc_refused("line.webhook.event", "write", [[self.event.id], values])
            self.assertIn("not allowed to modify", message)
        self.rpc_refused("line.webhook.event", "unlink", [[self.event.id]])
        self.rpc_refused("line.webhook.event", "create", [{
            "event_id": "forged2", "channel_id": self.channel.id, "payload": forged}])
        self.env.invalidate_all()
        self.assertEqual(self.event.read(["payload", "event_id", "channel_id", "state"])[0],
                         before, "nothing changed")
        self.assertFalse(self.env["line.webhook.event"].search([("event_id", "=", "forged2")]))

    def test_line_admin_retries_a_failed_event(self):
        payload = self.event.payload
        self.authenticate("sec_event_admin", "sec_event_admin")
        body = self.call_button("line.webhook.event", "action_retry", self.event.id)
        self.assertNotIn("error", body, body.get("error"))
        self.env.invalidate_all()
        self.assertEqual((self.event.state, self.event.error, self.event.payload),
                         ("pending", False, payload), "back in the queue, as LINE sent it")

    def test_line_user_cannot_retry(self):
        self.authenticate("sec_event_user", "sec_event_user")
        body = self.call_button("line.webhook.event", "action_retry", self.event.id)
        self.assertEqual(body["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.env.invalidate_all()
        self.assertEqual(self.event.state, "error")
