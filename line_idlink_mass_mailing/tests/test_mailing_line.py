import json

from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged

from ..lib.line_content import ContentError
from .common import LineMailingCommon


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLine(LineMailingCommon, HttpCase):
    """Stories 1-3 of issue 10: create, recipients with a trace for everyone, send through the
    queue (multicast / push), test send, schedule, send now, cancel, retry."""

    def setUp(self):
        super().setUp()
        self.aiko, self.aiko_line = self.line_friend("Aiko")
        self.bunta, self.bunta_line = self.line_friend("Bunta")
        self.chika, self.chika_line = self.line_friend("Chika")
        self.blocked, self.blocked_line = self.line_friend("Daichi", follow=False)
        self.optout, self.optout_line = self.line_friend("Emi")
        self.optout.sudo().line_identity_ids._line_set_marketing_optout(True, "test")
        self.nolink = self.env["res.partner"].create({"name": "Fumi", "email": "f@example.com"})
        self.all = self.aiko | self.bunta | self.chika | self.blocked | self.optout | self.nolink

    # 1. create + LINE limits ------------------------------------------------------------------
    def test_content_limits_checked_while_typing(self):
        mailing = self.line_mailing(self.all)
        self.assertEqual(mailing.medium_id, self.env.ref("line_idlink_mass_mailing.utm_medium_line"))
        self.assertFalse(mailing.line_content_error)
        # 2,500 emoji are 2,500 characters but 5,000 UTF-16 units: exactly LINE's limit
        mailing.line_body = "😀" * 2500
        self.assertEqual(mailing.line_text_length, 5000)
        self.assertFalse(mailing.line_content_error)
        with self.assertRaises(ValidationError) as error:
            mailing.line_body = "😀" * 2500 + "!"
        self.assertIn("5001", str(error.exception))
        self.assertIn("5000", str(error.exception))
        with self.assertRaises(ValidationError):
            mailing.line_flex_json = '{"type": "bubble", '  # not JSON
        with self.assertRaises(ValidationError):
            mailing.line_image_url = "http://example.com/a.png"  # LINE wants https

    def test_limit_error_in_japanese(self):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_mass_mailing"], ["ja_JP"],
                                                        overwrite=True)
        mailing = self.line_mailing(self.all).with_context(lang="ja_JP")
        mailing.line_image_url = False
        self.assertIn("絵文字は2文字", mailing._line_content_error_text(
            ContentError("text_size", size=5001, max=5000)))
        self.assertEqual(mailing._get_pretty_mailing_type(), "LINEメッセージ")

    def test_send_refused_on_bad_content_nothing_queued(self):
        mailing = self.line_mailing(self.all, body=False)
        with self.assertRaises(UserError):
            mailing.action_put_in_queue()
        self.assertEqual(mailing.state, "draft")
        self.assertFalse(self.traces(mailing))
        self.assertFalse(self.env["line.message"].sudo().search([("res_id", "=", mailing.id),
                                                                  ("res_model", "=", "mailing.mailing")]))

    # 2 + 3. recipients, traces, identical body -> multicast ------------------------------------
    def test_send_now_identical_body_multicast_traces_final(self):
        mailing = self.line_mailing(self.all)
        self.assertEqual(mailing.line_cost, 3, "3 linked friends who did not opt out")
        mailing.with_user(self.user_marketing).action_send_mail()
        self.assertEqual(mailing.state, "sending")
        traces = self.assertLineTraces(mailing, {
            self.aiko: ("outgoing", None), self.bunta: ("outgoing", None),
            self.chika: ("outgoing", None), self.blocked: ("cancel", "line_unfollowed"),
            self.optout: ("cancel", "line_optout"), self.nolink: ("cancel", "line_no_link")})
        rows = self.env["line.message"].sudo().search([("res_model", "=", "mailing.mailing"),
                                                        ("res_id", "=", mailing.id)])
        self.assertEqual(rows.mapped("kind"), ["multicast"], "one identical body, one request")
        self.assertEqual(rows.recipient_count, 3)
        self.assertEqual(rows.aggregation_unit, f"odoo_mailing_{mailing.id}")
        self.assertFalse(self.texts(self.aiko_line), "nothing reaches LINE before the queue runs")

        self.process_queue()
        for user in (self.aiko_line, self.bunta_line, self.chika_line):
            self.assertEqual(self.texts(user), ["Hello from Odoo"])
        for user in (self.blocked_line, self.optout_line):
            self.assertEqual(self.texts(user), [])
        self.assertLineTraces(mailing, {
            self.aiko: ("sent", None), self.bunta: ("sent", None), self.chika: ("sent", None),
            self.blocked: ("cancel", "line_unfollowed"), self.optout: ("cancel", "line_optout"),
            self.nolink: ("cancel", "line_no_link")})
        self.assertEqual(mailing.state, "done")
        self.assertEqual((mailing.expected, mailing.sent, mailing.canceled, mailing.delivered),
                         (6, 3, 3, 3))
        self.assertEqual(mailing.line_progress_info, "6 / 6")
        request = self.emu.requests_for("multicast")
        self.assertEqual(len(request), 1)
        self.assertEqual(request[0]["body"]["customAggregationUnits"],
                         [f"odoo_mailing_{mailing.id}"])
        self.assertTrue(all(t.line_message_id_int == rows.id for t in traces
                            if t.trace_status != "cancel"))

    def test_placeholders_rendered_per_recipient_push(self):
        mailing = self.line_mailing(self.aiko | self.bunta, body="Hello {{ object.name }}!")
        mailing.action_send_mail()
        rows = self.env["line.message"].sudo().search([("res_model", "=", "mailing.mailing"),
                                                        ("res_id", "=", mailing.id)])
        self.assertEqual(sorted(rows.mapped("kind")), ["push", "push"],
                         "a personalised body per person: pushes")
        self.process_queue()
        self.assertEqual(self.texts(self.aiko_line), ["Hello Aiko!"])
        self.assertEqual(self.texts(self.bunta_line), ["Hello Bunta!"])
        self.assertEqual(mailing.state, "done")

    def test_one_message_per_line_user_on_mailing_lists(self):
        # two list contacts with Aiko's e-mail: one LINE message, the second is a duplicate
        contacts = self.env["mailing.contact"].create([
            {"name": "Aiko (list 1)", "email": self.aiko.email},
            {"name": "Aiko again", "email": self.aiko.email},
            {"name": "Bunta", "email": self.bunta.email}])
        mailing_list = self.env["mailing.list"].create({"name": "LINE fans",
                                                        "contact_ids": contacts.ids})
        mailing = self.line_mailing(contact_list_ids=[(6, 0, mailing_list.ids)],
                                    mailing_model_id=self.env["ir.model"]._get("mailing.list").id)
        self.assertEqual(mailing.mailing_model_real, "mailing.contact")
        mailing.action_send_mail()
        self.process_queue()
        self.assertLineTraces(mailing, {contacts[0]: ("sent", None),
                                        contacts[1]: ("cancel", "line_duplicate"),
                                        contacts[2]: ("sent", None)})
        self.assertEqual(self.texts(self.aiko_line), ["Hello from Odoo"])

    def test_segments_on_partner_fields(self):
        # the seed case: light buyers get "how to use it", loyal buyers limited editions
        light = self.env.ref("base.res_partner_category_0", raise_if_not_found=False) or \
            self.env["res.partner.category"].create({"name": "Light buyer"})
        self.aiko.category_id = light
        first = self.line_mailing(body="How to use it", mailing_domain=repr(
            [("id", "in", self.all.ids), ("category_id", "in", light.ids)]))
        second = self.line_mailing(body="Limited edition", mailing_domain=repr(
            [("id", "in", self.all.ids), ("category_id", "not in", light.ids)]))
        (first | second).action_send_mail()
        self.process_queue()
        self.assertEqual(self.texts(self.aiko_line), ["How to use it"])
        self.assertEqual(self.texts(self.bunta_line), ["Limited edition"])
        self.assertEqual(self.texts(self.chika_line), ["Limited edition"])

    # 3. schedule, Odoo's cron, cancel, retry, test --------------------------------------------
    def test_schedule_then_odoo_mailing_cron_sends(self):
        mailing = self.line_mailing(self.aiko | self.bunta, schedule_type="scheduled",
                                    schedule_date="2099-01-01 00:00:00")
        mailing.action_schedule()
        self.assertEqual(mailing.state, "in_queue")
        self.run_mailing_cron()
        self.assertFalse(self.traces(mailing), "not before its date")
        mailing.schedule_date = "2020-01-01 00:00:00"
        self.run_mailing_cron()
        self.assertEqual(mailing.state, "sending")
        self.run_mailing_cron()  # Odoo's cron finds no remaining recipient: still sending
        self.assertEqual(mailing.state, "sending", "done only when LINE answered")
        self.process_queue()
        self.assertEqual(mailing.state, "done")
        self.assertEqual(self.texts(self.aiko_line), ["Hello from Odoo"])

    def test_cancel_while_queued(self):
        mailing = self.line_mailing(self.aiko | self.bunta)
        mailing.action_send_mail()
        mailing.with_user(self.user_marketing).action_cancel()
        self.process_queue()
        self.assertEqual(self.texts(self.aiko_line), [])
        self.assertLineTraces(mailing, {self.aiko: ("cancel", None),
                                        self.bunta: ("cancel", None)})
        self.assertEqual(mailing.state, "draft")
        self.assertFalse(self.emu.requests_for("multicast"))

    def test_retry_failed(self):
        self.emu.faults.add({"endpoint": "multicast", "action": "status", "status": 400,
                             "body": {"message": "The request body has 1 error(s)"}, "times": 1})
        mailing = self.line_mailing(self.aiko | self.bunta)
        mailing.action_send_mail()
        self.process_queue()
        traces = self.assertLineTraces(mailing, {self.aiko: ("error", "line_rejected"),
                                                 self.bunta: ("error", "line_rejected")})
        self.assertIn("400", traces[0].failure_reason)
        self.assertEqual(mailing.state, "done")
        self.assertEqual(mailing.failed, 2)
        mailing.with_user(self.user_marketing).action_retry_failed()
        self.run_mailing_cron()
        self.process_queue()
        self.assertLineTraces(mailing, {self.aiko: ("sent", None), self.bunta: ("sent", None)})
        self.assertEqual(self.texts(self.aiko_line), ["Hello from Odoo"])

    def test_test_send_to_own_linked_account(self):
        self.line_friend("Mika", partner=self.user_marketing.partner_id)
        mailing = self.line_mailing(self.all, body="Hi {{ object.name }}")
        wizard = self.env["mailing.line.test"].with_user(self.user_marketing).create(
            {"mailing_id": mailing.id})
        self.assertEqual(wizard.identity_name, "Mika LINE")
        wizard.action_send_line()
        self.process_queue()
        self.assertFalse(self.traces(mailing), "a test leaves no trace")
        self.assertEqual(mailing.state, "draft")
        sent = [r for r in self.emu.requests_for("pushMessage")]
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["body"]["messages"][0]["text"], "Hi Mika Marketer")
