"""The event cron as users meet it: late runs (expired reply tokens), LINE failures and retries,
progress, all against the emulator with the product's own clock and LINE client."""

import json
import time
from datetime import timezone
from unittest.mock import patch
from urllib.parse import quote

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .rich_menu_common import RichMenuCommon

LINKED_TEXT = "アカウント連携が完了しました"


@tagged("post_install", "-at_install", "line_idlink")
class TestWebhookProcessing(RichMenuCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        # RichMenuCommon's helpers, but NOT its setUp: the channel keeps its real LINE client
        # timing (no injected clock or sleep)
        super(RichMenuCommon, self).setUp()
        self.emu = self.start_line_emulator()

    # ---- helpers -------------------------------------------------------------------------------
    def publish_menus(self):
        self.unlinked = self.make_menu("Not linked")
        self.linked = self.make_menu("Linked")
        (self.unlinked | self.linked).action_publish()
        self.rule("default", self.unlinked, sequence=100)
        self.rule("linked", self.linked, sequence=50)
        self.run_rich_menu_cron()

    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def events(self):
        return self.env["line.webhook.event"].search([("channel_id", "=", self.channel.id)],
                                                     order="id")

    def texts(self, user, api_name=None):
        return [json.dumps(entry["message"], ensure_ascii=False) for entry in user.inbox
                if api_name in (None, entry["api"])]


    def nonce_for(self, token, login):
        self.authenticate(login, login)
        page = self.url_open(f"/line/link?linkToken={quote(token, safe='')}")
        response = self.url_open("/line/link/confirm", data={
            "csrf_token": self.csrf_from(page.text), "linkToken": token}, allow_redirects=False)
        return self.nonce_from(response.headers["Location"])

    def send_queue(self):
        self.env["line.message"]._process_queue()

    def flush_webhooks(self):
        """Deliver the emulator's queued webhooks (without running the event cron)."""
        self.env.flush_all()
        for record in self.emu.flush():
            self.assertEqual(record.get("status"), 200, record)

    def event_times(self, event):
        """(attempts, next_try as epoch seconds, state, error), read exactly from the row."""
        self.env.flush_all()
        self.env.cr.execute("""SELECT attempts, extract(epoch FROM next_try), state, error
                                 FROM line_webhook_event WHERE id = %s""", (event.id,))
        attempts, next_try, state, error = self.env.cr.fetchone()
        return attempts, next_try and float(next_try), state, error

    # ---- point 9: the link never depends on the reply -------------------------------------------
    def test_late_account_link_is_kept_and_confirmed_by_push(self):
        self.publish_menus()
        aiko, token = self.befriend_and_ask("Aiko")
        aiko.account_link(token, self.nonce_for(token, "line_portal_a"))
        # the event cron runs more than 60 s after the event: its reply token has expired
        self.emu.advance(61)
        self.deliver()
        [event] = self.events().filtered(lambda e: e.event_type == "accountLink")
        self.assertEqual((event.state, event.error), ("done", False))
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_a.partner_id)
        self.assertEqual(self.shown(aiko), (self.linked.line_rich_menu_id, "user"),
                         "LINE shows the linked menu, as Odoo says")
        self.assertEqual(identity.rich_menu_state, "ok")
        [refused] = [entry for entry in self.emu.requests_for("replyMessage")
                     if entry.get("status") != 200]
        self.assertEqual(refused["status"], 400, "LINE refused the expired reply token")
        self.assertFalse([t for t in self.texts(aiko) if LINKED_TEXT in t],
                         "nothing sent before the queue runs")
        self.send_queue()
        self.send_queue()
        self.process_events()
        confirmations = [entry for entry in aiko.inbox
                         if LINKED_TEXT in json.dumps(entry["message"], ensure_ascii=False)]
        self.assertEqual([entry["api"] for entry in confirmations], ["push"],
                         "the confirmation arrives once, by push")
        message = self.env["line.message"].search([("line_user_id", "=", aiko.user_id)])
        self.assertEqual((len(message), message.state), (1, "sent"))

    def test_follow_answered_by_push_when_processed_late(self):
        bunta = self.emu.add_user("Bunta")
        bunta.follow()
        self.emu.advance(120)
        self.deliver()
        self.assertEqual(self.events().state, "done")
        self.assertEqual(self.identity(bunta).follow_state, "followed")
        self.send_queue()
        self.assertEqual([entry["api"] for entry in bunta.inbox], ["push"])
        self.assertIn("action=link", self.texts(bunta)[0], "the invitation to link")

    def test_reply_that_may_have_arrived_is_not_pushed_again(self):
        # LINE applies the reply, then the connection fails with a 500: the customer has the
        # answer, Odoo cannot know it; a push would say it twice
        self.emu.faults.add({"endpoint": "replyMessage", "action": "status", "status": 500,
                             "when": "after", "times": 1})
        eri = self.emu.add_user("Eri")
        eri.follow()
        self.deliver()
        self.assertEqual(self.events().state, "done")
        self.send_queue()
        self.assertEqual([entry["api"] for entry in eri.inbox], ["reply"], "said once")
        self.assertFalse(self.env["line.message"].search([("line_user_id", "=", eri.user_id)]))

    def test_standby_event_is_not_answered(self):
        fumi = self.emu.add_user("Fumi")
        fumi.follow()  # a friend on LINE; the webhook below is the standby copy Odoo receives
        body = {"destination": self.emu.config.bot_user_id, "events": [{
            "type": "follow", "mode": "standby", "timestamp": int(time.time() * 1000),
            "webhookEventId": "01HSTANDBY000000000000001",
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": fumi.user_id},
            "follow": {"isUnblocked": False}}]}
        self.env.flush_all()
        response = self.signed_post(body, secret=self.emu.config.channel_secret)
        self.assertEqual(response.status_code, 200)
        self.process_events()
        self.send_queue()
        self.assertEqual(self.events().state, "done")
        self.assertEqual(self.identity(fumi).follow_state, "followed")
        self.assertEqual(fumi.inbox, [], "another module has the chat: no reply, no push")

    # ---- issue 13, mutation 3: a temporary LINE failure is retried with backoff ------------------
    def test_event_retried_after_1_then_2_minutes_when_line_fails(self):
        fault = self.emu.faults.add({"endpoint": "getProfile", "action": "status",
                                     "status": 500})
        chika = self.emu.add_user("Chika")
        chika.follow()
        self.flush_webhooks()
        [event] = self.events()
        waits = []
        for attempt in (1, 2):
            before = time.time()
            self.process_events()
            after = time.time()
            attempts, next_try, state, error = self.event_times(event)
            self.assertEqual((attempts, state), (attempt, "pending"), "kept for another attempt")
            self.assertIn("getProfile", error)
            # next attempt = the failed attempt's time (real clock) + 1 min, then + 2 min
            delay = 60 * 2 ** (attempt - 1)
            self.assertGreaterEqual(next_try, before + delay)
            self.assertLessEqual(next_try, after + delay)
            waits.append(delay)
            trigger = self.env["ir.cron.trigger"].search(
                [("cron_id", "=", self.env.ref(
                    "line_idlink_addon.ir_cron_line_webhook_events").id)], order="id desc",
                limit=1)
            self.assertEqual(int(trigger.call_at.replace(tzinfo=timezone.utc).timestamp()),
                             int(next_try),
                             "the cron is woken for that time")
            self.process_events()
            self.assertEqual(self.event_times(event)[0], attempt, "not tried before its time")
            # the time comes (the row's retry time is moved, the product's clock is not)
            self.env.cr.execute("UPDATE line_webhook_event SET next_try = next_try - %s * "
                                "interval '1 second' WHERE id = %s", (delay, event.id))
        self.assertEqual(waits, [60, 120])
        self.assertFalse(self.identity(chika), "nothing of the failed attempts was kept")
        self.assertEqual(chika.inbox, [], "and nothing was sent")
        fault.times = fault.fired  # LINE works again
        self.process_events()
        attempts, next_try, state, error = self.event_times(event)
        self.assertEqual((attempts, state, error, next_try), (3, "done", None, None))
        identity = self.identity(chika)
        self.assertEqual((identity.follow_state, identity.name), ("followed", "Chika"))
        self.assertEqual(len(chika.inbox), 1, "the invitation, sent once")

    def test_a_refused_call_is_not_retried(self):
        self.emu.faults.add({"endpoint": "getProfile", "action": "status", "status": 403})
        dai = self.emu.add_user("Dai")
        dai.follow()
        self.deliver()
        [event] = self.events()
        attempts, next_try, state, error = self.event_times(event)
        self.assertEqual((attempts, state, next_try), (1, "error", None))
        self.assertIn("getProfile", error)
        self.assertTrue(self.channel.message_ids.filtered(
            lambda m: event.event_id in (m.body or "")), "the failure is shown on the channel")

    # ---- the cron commits each event and reports its progress -----------------------------------
    def test_run_manually_reports_progress_per_event(self):
        users = [self.emu.add_user(name) for name in ("Eri", "Fumi", "Goro")]
        for user in users:
            user.follow()
        self.flush_webhooks()
        cron = self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")
        self.env.flush_all()
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["ir.cron"].browse(
                cron.id).method_direct_trigger()
        self.env.invalidate_all()
        progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)],
                                                       order="id desc", limit=1)
        self.assertEqual((progress.done, progress.remaining), (3, 0))
        self.assertEqual(set(self.events().mapped("state")), {"done"})
        self.assertEqual([len(user.inbox) for user in users], [1, 1, 1])

    # ---- the cron keeps to its time budget and leaves the rest ready --------------------------
    def test_a_run_over_its_time_budget_leaves_the_rest_ready_at_once(self):
        """A run stops at its budget (a small part of the cron's real-time limit: Odoo kills or
        restarts a cron over the limit) and reports what is ready as remaining, so ir.cron runs
        it again at once (and a due trigger wakes the cron worker); the next run ends it."""
        users = [self.emu.add_user(f"Talker {n}") for n in range(25)]
        for user in users:
            user.say("hello")
        self.flush_webhooks()
        cron = self.env.ref("line_idlink_addon.ir_cron_line_webhook_events")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()

        def run():
            self.env.flush_all()
            with self.registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["ir.cron"].browse(
                    cron.id).method_direct_trigger()
            self.env.invalidate_all()
            return self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)],
                                                       order="id desc", limit=1)

        # a cron time limit of 0.02 s: the budget ends within the first batch of events
        with patch.dict(config.options, {"limit_time_real_cron": 0.02}):
            progress = run()
        self.assertEqual((progress.done, progress.remaining), (20, 5))
        self.assertEqual(self.events().mapped("state").count("pending"), 5)
        self.assertTrue(self.env["ir.cron.trigger"].search_count([
            ("cron_id", "=", cron.id), ("call_at", "<=", fields.Datetime.now())]),
            "the job stays ready: a due trigger wakes the cron worker")
        progress = run()
        self.assertEqual((progress.done, progress.remaining), (5, 0))
        self.assertEqual(set(self.events().mapped("state")), {"done"})
