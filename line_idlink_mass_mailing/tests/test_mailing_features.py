import datetime
import re

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from .common import LineMailingCommon


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLineFeatures(LineMailingCommon, HttpCase):
    """Stories 4, 6, 7, 9 and 10 of issue 10: quota, tracked links, A/B test, opt-out,
    progress."""

    def setUp(self):
        super().setUp()
        self.aiko, self.aiko_line = self.line_friend("Aiko")
        self.bunta, self.bunta_line = self.line_friend("Bunta")
        self.chika, self.chika_line = self.line_friend("Chika")
        self.friends = self.aiko | self.bunta | self.chika

    def rows(self, mailing):
        return self.env["line.message"].sudo().search([("res_model", "=", "mailing.mailing"),
                                                        ("res_id", "=", mailing.id)])

    # 4. quota ---------------------------------------------------------------------------------
    def test_quota_shown_and_sending_beyond_refused(self):
        self.emu.config.quota = 2
        mailing = self.line_mailing(self.friends)
        self.assertEqual(mailing.line_cost, 3)
        self.assertEqual(mailing.line_quota_remaining, 2)
        self.assertIn("3 messages of the 2 left", mailing.line_quota_info)
        with self.assertRaisesRegex(UserError, "needs 3 LINE messages .* only 2 left"):
            mailing.action_put_in_queue()
        with self.assertRaises(UserError):
            mailing.action_send_mail()
        self.assertEqual(mailing.state, "draft")
        self.assertFalse(self.traces(mailing))
        self.assertFalse(self.rows(mailing))

    def test_queued_messages_count_against_the_quota(self):
        self.emu.config.quota = 4
        first = self.line_mailing(self.friends)
        first.action_send_mail()  # 3 queued, not sent yet
        second = self.line_mailing(self.aiko | self.bunta)
        self.assertEqual(second.line_quota_remaining, 1, "4 - 0 used - 3 queued")
        with self.assertRaises(UserError):
            second.action_send_mail()

    def test_quota_exhausted_at_cron_time_back_to_draft(self):
        mailing = self.line_mailing(self.friends)
        mailing.action_put_in_queue()
        self.emu.config.quota = 1
        self.run_mailing_cron()
        self.assertEqual(mailing.state, "draft")
        self.assertFalse(self.traces(mailing))
        self.assertIn("only 1 left", mailing.message_ids[0].body)

    def test_quota_runs_out_midway_rest_fail_with_reason(self):
        mailing = self.line_mailing(self.friends, body="Hi {{ object.name }}")
        mailing.action_send_mail()
        self.emu.config.quota = 1  # another tool used the quota meanwhile
        self.process_queue()
        statuses = sorted(self.traces(mailing).mapped(
            lambda t: (t.trace_status, t.failure_type or "")))
        self.assertEqual(statuses, [("error", "line_quota"), ("error", "line_quota"),
                                    ("sent", "")])
        self.assertEqual(mailing.state, "done", "nothing retried forever")
        self.assertEqual(sorted(self.rows(mailing).mapped("state")), ["error", "error", "sent"])

    # 6. tracked links ---------------------------------------------------------------------------
    def test_campaign_level_tracked_link_keeps_multicast(self):
        mailing = self.line_mailing(self.friends, body="Sale: https://shop.example.com/sale")
        self.assertEqual(mailing.line_link_tracking, "campaign", "the fast default")
        mailing.action_send_mail()
        self.assertEqual(self.rows(mailing).mapped("kind"), ["multicast"])
        self.process_queue()
        text = self.texts(self.aiko_line)[0]
        self.assertNotIn("shop.example.com", text)
        code = re.search(r"/r/(\w+)$", text).group(1)
        link = self.env["link.tracker.code"].search([("code", "=", code)]).link_id
        self.assertEqual(link.url, "https://shop.example.com/sale")
        self.assertEqual(link.mass_mailing_id, mailing)
        self.assertEqual(link.medium_id, self.env.ref("line_idlink_mass_mailing.utm_medium_line"))
        self.assertEqual(self.texts(self.bunta_line), [text], "the same body for everyone")

    def test_per_recipient_tracked_link_click_on_trace(self):
        mailing = self.line_mailing(self.aiko | self.bunta, line_link_tracking="recipient",
                                    body="Sale: https://shop.example.com/sale")
        mailing.action_send_mail()
        self.assertEqual(sorted(self.rows(mailing).mapped("kind")), ["push", "push"])
        self.process_queue()
        text = self.texts(self.aiko_line)[0]
        found = re.search(r"(/r/\w+/l/(\d+))$", text)
        self.assertTrue(found, text)
        trace = self.env["mailing.trace"].browse(int(found.group(2)))
        self.assertEqual(trace.res_id, self.aiko.id)
        response = self.url_open(found.group(1), allow_redirects=False)
        self.assertEqual(response.status_code, 301)
        location = response.headers["Location"]
        self.assertTrue(location.startswith("https://shop.example.com/sale?"), location)
        self.assertIn("utm_medium=LINE", location, "LINE is the UTM medium")
        self.env.invalidate_all()
        self.assertEqual(trace.trace_status, "open")
        self.assertTrue(trace.links_click_datetime)
        self.assertEqual((mailing.clicked, mailing.clicks_ratio), (1, 50))

    def test_url_button_tracked_and_checked(self):
        with self.assertRaises(ValidationError):
            self.line_mailing(self.friends, line_button_label="x" * 21,
                              line_button_url="https://shop.example.com/")
        mailing = self.line_mailing(self.aiko | self.bunta, line_link_tracking="recipient",
                                    line_button_label="See the sale",
                                    line_button_url="https://shop.example.com/sale",
                                    line_button_prompt="Summer sale")
        mailing.action_send_mail()
        self.process_queue()
        button = self.aiko_line.inbox[-1]["message"]
        self.assertEqual(button["type"], "template")
        self.assertEqual(button["template"]["text"], "Summer sale")
        action = button["template"]["actions"][0]
        self.assertEqual(action["label"], "See the sale")
        path = re.search(r"(/r/\w+/l/(\d+))$", action["uri"])
        self.assertTrue(path, action["uri"])
        self.url_open(path.group(1), allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(mailing.clicked, 1)

    # 7. A/B testing ---------------------------------------------------------------------------
    def test_ab_testing_winner_by_clicks_sent_by_odoo_cron(self):
        everyone = self.friends
        for name in ("Daichi", "Emi", "Fumi", "Goro", "Hana", "Isamu", "Jun"):
            everyone |= self.line_friend(name)[0]
        common = {"ab_testing_enabled": True, "ab_testing_pc": 20,
                  "line_link_tracking": "recipient",
                  "ab_testing_schedule_datetime": fields.Datetime.now() + datetime.timedelta(days=1)}
        version_a = self.line_mailing(everyone, body="A: https://shop.example.com/a", **common)
        self.assertTrue(version_a.campaign_id, "Odoo made the A/B campaign")
        version_b = self.line_mailing(everyone, body="B: https://shop.example.com/b",
                                      campaign_id=version_a.campaign_id.id, **common)
        self.assertEqual(version_a.ab_testing_mailings_line_count, 2)
        (version_a | version_b).action_send_mail()
        self.process_queue()
        self.assertEqual(len(self.traces(version_a)), 2, "20% of 10")
        self.assertEqual(len(self.traces(version_b)), 2)
        self.assertFalse(set(self.traces(version_a).mapped("res_id")) &
                         set(self.traces(version_b).mapped("res_id")))
        # one click on B
        receiver = self.env["res.partner"].browse(self.traces(version_b)[0].res_id)
        body = self.env["line.message"].sudo().search([
            ("res_id", "=", version_b.id), ("partner_id", "=", receiver.id)]).messages
        path = re.search(r"(/r/\w+/l/\d+)", body).group(1)
        self.url_open(path, allow_redirects=False)
        self.env.invalidate_all()
        self.assertGreater(version_b.clicks_ratio, version_a.clicks_ratio)

        version_a.campaign_id.ab_testing_schedule_datetime = \
            fields.Datetime.now() - datetime.timedelta(minutes=1)
        self.env.ref("mass_mailing.ir_cron_mass_mailing_ab_testing").method_direct_trigger()
        winner = version_a.campaign_id.ab_testing_winner_mailing_id
        self.assertTrue(winner, "Odoo's A/B cron chose a winner")
        self.assertEqual(winner.line_body, version_b.line_body)
        self.assertEqual(winner.mailing_type, "line")
        self.run_mailing_cron()
        self.process_queue()
        self.assertEqual(len(self.traces(winner)), 6, "the rest: 10 - 2 - 2")
        self.assertEqual(set(self.traces(winner).mapped("trace_status")), {"sent"})

    # 9. opt-out ------------------------------------------------------------------------------
    def test_portal_switch_opts_out_and_back_in(self):
        partner = self.user_a.partner_id
        __, line_user = self.line_friend("Aiko portal", partner=partner)
        identity = partner.sudo().line_identity_ids
        self.authenticate("line_portal_a", "line_portal_a")
        page = self.url_open("/my/line").text
        self.assertIn("o_line_marketing_switch", page)
        response = self.url_open(f"/my/line/marketing/{identity.id}", data={
            "csrf_token": self.csrf_from(page), "optout": "1"})
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(identity.line_marketing_optout)
        self.assertIn("Opted out of LINE marketing", partner.message_ids[0].body)

        mailing = self.line_mailing(partner | self.aiko)
        mailing.action_send_mail()
        self.process_queue()
        self.assertLineTraces(mailing, {partner: ("cancel", "line_optout"),
                                        self.aiko: ("sent", None)})
        self.assertEqual(self.texts(line_user), [])
        # transactional messages still reach the customer
        self.env["line.message"]._line_enqueue(self.channel, line_user.user_id,
                                               [{"type": "text", "text": "Your order shipped"}])
        self.process_queue()
        self.assertEqual(self.texts(line_user), ["Your order shipped"])

        page = self.url_open("/my/line").text
        self.url_open(f"/my/line/marketing/{identity.id}", data={
            "csrf_token": self.csrf_from(page), "optout": "0"})
        self.env.invalidate_all()
        self.assertFalse(identity.line_marketing_optout)

    def test_portal_switch_refuses_someone_else(self):
        identity = self.aiko.sudo().line_identity_ids
        self.line_friend("Bunta portal", partner=self.user_b.partner_id)  # a form: a CSRF token
        self.authenticate("line_portal_b", "line_portal_b")
        page = self.url_open("/my/line").text
        self.url_open(f"/my/line/marketing/{identity.id}", data={
            "csrf_token": self.csrf_from(page), "optout": "1"})
        self.env.invalidate_all()
        self.assertFalse(identity.line_marketing_optout)

    def test_back_office_opt_out_with_chatter_note(self):
        partner = self.aiko.with_user(self.user_marketing)
        partner.line_marketing_optout = True
        self.env.invalidate_all()
        self.assertTrue(self.aiko.sudo().line_identity_ids.line_marketing_optout)
        self.assertIn("back office, Mika Marketer", self.aiko.message_ids[0].body)
        self.assertEqual(self.env["res.partner"].with_user(self.user_marketing).search(
            [("line_marketing_optout", "=", True)]), self.aiko)
        with self.assertRaises(AccessError):
            self.bunta.with_user(self.user_a).line_marketing_optout = True
        self.aiko.with_user(self.user_marketing).line_marketing_optout = False
        self.env.invalidate_all()
        self.assertFalse(self.aiko.sudo().line_identity_ids.line_marketing_optout)

    # 10. progress ------------------------------------------------------------------------------
    def test_progress_while_sending(self):
        self.env["ir.config_parameter"].sudo().set_param("line_idlink_addon.queue_batch", "1")
        mailing = self.line_mailing(self.friends, body="Hi {{ object.name }}")
        mailing.action_send_mail()
        self.assertEqual(mailing.line_progress_info, "0 / 3")
        self.process_queue()
        self.assertEqual(mailing.line_progress_info, "1 / 3")
        self.assertEqual(mailing.state, "sending")
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)],
                                                      order="id desc", limit=1)
        self.assertEqual((progress.done, progress.remaining), (1, 2))
        self.process_queue()
        self.process_queue()
        self.assertEqual(mailing.line_progress_info, "3 / 3")
        self.assertEqual(mailing.state, "done")


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLineInsight(LineMailingCommon, HttpCase):
    """Story 8: LINE's statistics per custom aggregation unit read back by the cron (LINE
    hides figures under 20 users: 20 friends)."""

    emulator_options = {"real_clock": True}

    def test_insight_cron_reads_unit_statistics(self):
        partners = self.env["res.partner"]
        for index in range(20):
            partners |= self.line_friend(f"Friend {index}")[0]
        mailing = self.line_mailing(partners)
        mailing.action_send_mail()
        self.process_queue()
        self.assertEqual(mailing.state, "done")
        self.env.ref("line_idlink_mass_mailing.ir_cron_line_mailing_insight") \
            .method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(mailing.line_insight_unique_impressions, 20)
        self.assertEqual(mailing.line_insight_impressions, 20)
        self.assertTrue(mailing.line_insight_date)
        calls = self.emu.requests_for("getStatisticsPerUnit")
        self.assertEqual(len(calls), 1)


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLineChatOptOut(LineMailingCommon, HttpCase):
    """Story 9 from the chat (the base addon's extension API): the keyword 配信停止 asks for a
    confirmation, "yes" opts out, 配信再開 opts back in; a mailing then skips / reaches them."""

    def test_keyword_confirm_then_opt_back_in(self):
        partner, user = self.line_friend("Aiko")
        identity = partner.sudo().line_identity_ids
        self.deliver()  # the follow event
        user.say("配信停止")
        self.deliver()
        question = user.inbox[-1]["message"]
        self.assertEqual(question["type"], "template")
        self.assertEqual(question["template"]["type"], "confirm")
        self.assertFalse(identity.line_marketing_optout, "nothing changes before the yes")
        yes = question["template"]["actions"][0]
        self.assertEqual(yes["data"], "action=optout_confirm")
        user.postback(yes["data"])
        self.deliver()
        identity.invalidate_recordset()
        self.assertTrue(identity.line_marketing_optout)
        self.assertIn("LINE chat", partner.message_ids[0].body)
        self.assertIn("配信再開", user.inbox[-1]["message"]["text"])

        mailing = self.line_mailing(partner)
        mailing.action_send_mail()
        self.assertLineTraces(mailing, {partner: ("cancel", "line_optout")})

        user.say("配信再開")
        self.deliver()
        user.postback(user.inbox[-1]["message"]["template"]["actions"][0]["data"])
        self.deliver()
        identity.invalidate_recordset()
        self.assertFalse(identity.line_marketing_optout)

    def test_no_keeps_the_subscription(self):
        partner, user = self.line_friend("Bunta")
        self.deliver()
        user.postback("action=optout")  # the rich-menu button
        self.deliver()
        user.postback(user.inbox[-1]["message"]["template"]["actions"][1]["data"])
        self.deliver()
        self.assertFalse(partner.sudo().line_identity_ids.line_marketing_optout)
        self.assertEqual(self.env["line.rich.menu.area"]._fields["postback_preset"]
                         .convert_to_export("optout", self.env["line.rich.menu.area"]),
                         "Stop LINE marketing (asks first)")
