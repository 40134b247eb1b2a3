import json

from odoo.tests import HttpCase, new_test_user, tagged

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestSendMessageWizard(LineCommon, HttpCase):
    """"Send LINE message" from the partner form, over JSON-RPC as a LINE agent: the message
    goes through the outgoing queue (stored with its retry key, sent by the queue cron)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.agent = new_test_user(cls.env, login="line_agent", password="line_agent_pw1",
                                  name="Line Agent",
                                  groups="base.group_user,line_idlink_addon.group_line_user")

    def _call(self, model, method, args, kwargs=None):
        """call_kw over JSON-RPC; an error is raised as AssertionError with Odoo's message."""
        response = self.url_open("/web/dataset/call_kw", data=json.dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "model": model, "method": method, "args": args, "kwargs": kwargs or {}}}),
            headers={"Content-Type": "application/json"}).json()
        if "error" in response:
            raise AssertionError(response["error"]["data"]["message"])
        return response["result"]

    def test_send_message_goes_through_the_queue(self):
        self.emu = emu = self.start_line_emulator()
        aiko = emu.add_user("Aiko LINE")
        aiko.follow()  # its webhook stays queued: the identity below stands for its result
        partner = self.user_a.partner_id
        identity = self.env["line.identity"].sudo().create({
            "channel_id": self.channel.id, "line_user_id": aiko.user_id, "name": "Aiko LINE",
            "partner_id": partner.id, "linked": True, "follow_state": "followed",
            "link_method": "messaging_api"})
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

        self.authenticate("line_agent", "line_agent_pw1")
        wizard_id = self._call("line.send.message", "create",
                               [{"partner_id": partner.id, "body": "Your order has shipped"}])
        self._call("line.send.message", "action_send", [[wizard_id]])

        queued = self.env["line.message"].search([("partner_id", "=", partner.id)])
        self.assertEqual(len(queued), 1, "one queue row per LINE account")
        self.assertEqual(queued.state, "outgoing")
        self.assertEqual(queued.identity_id, identity)
        self.assertEqual((queued.res_model, queued.res_id), ("res.partner", partner.id))
        self.assertTrue(queued.retry_key, "retry key stored with the row before any request")
        self.assertFalse(emu.requests_for("pushMessage"), "nothing sent before the cron runs")
        self.assertFalse(aiko.inbox)
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers_before, "the queue cron is woken")
        notes = " ".join(str(b) for b in partner.message_ids.mapped("body"))
        self.assertIn("LINE message queued for", notes)
        self.assertIn("Aiko LINE", notes)

        # the agent sees the row and its state (smart button / list)
        rows = self._call("line.message", "search_read",
                          [[("partner_id", "=", partner.id)], ["state", "preview"]])
        self.assertEqual(rows, [{"id": queued.id, "state": "outgoing",
                                 "preview": "Your order has shipped"}])

        cron.method_direct_trigger()
        queued.invalidate_recordset()
        self.assertEqual(queued.state, "sent")
        texts = [entry["message"].get("text") for entry in aiko.inbox]
        self.assertEqual(texts, ["Your order has shipped"], "delivered exactly once")
        self.assertEqual([e["retryKey"] for e in emu.requests_for("pushMessage")],
                         [queued.retry_key], "LINE saw the stored key")
        self.assertTrue(queued.sent_message_ids)

    def test_send_message_refuses_another_customers_account(self):
        emu = self.start_line_emulator()
        bunta = emu.add_user("Bunta LINE")
        other = self.env["line.identity"].sudo().create({
            "channel_id": self.channel.id, "line_user_id": bunta.user_id, "name": "Bunta LINE",
            "partner_id": self.user_b.partner_id.id, "linked": True,
            "follow_state": "followed", "link_method": "messaging_api"})
        self.authenticate("line_agent", "line_agent_pw1")
        wizard_id = self._call("line.send.message", "create", [{
            "partner_id": self.user_a.partner_id.id, "body": "Hello",
            "identity_ids": [(6, 0, [other.id])]}])
        with self.assertRaisesRegex(AssertionError, "is not a linked LINE account of"):
            self._call("line.send.message", "action_send", [[wizard_id]])
        self.assertFalse(self.env["line.message"].search([("identity_id", "=", other.id)]))
