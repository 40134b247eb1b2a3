import datetime
import json

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from line_idlink import message_builders

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestMessageQueue(LineCommon, TransactionCase):
    """The outgoing LINE queue against the emulator: one request per row, its stored retry key
    on every attempt, failures classified, nothing delivered twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.Queue = cls.env["line.message"]

    def setUp(self):
        super().setUp()
        # rate-limit slots are committed on their own cursor: start each test with none
        self.forget_rate_limit_slots()
        self.addCleanup(self.forget_rate_limit_slots)
        self.emu = self.start_line_emulator()
        self.aiko = self.emu.add_user("Aiko LINE")
        self.aiko.follow()  # webhook left queued: the queue does not need the identity
        self.partner = self.user_a.partner_id

    # helpers ------------------------------------------------------------------------------
    def forget_rate_limit_slots(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM line_rate_limit WHERE channel_key = %s",
                       [str(self.channel.id)])

    def enqueue(self, text="Hello from Odoo", user=None, **kwargs):
        return self.Queue._line_enqueue(self.channel, (user or self.aiko).user_id,
                                        [message_builders.text(text)], **kwargs)

    def process(self):
        done = self.Queue._process_queue()
        self.Queue.invalidate_model()
        return done

    def texts(self, user=None):
        return [e["message"].get("text") for e in (user or self.aiko).inbox]

    def pushes(self):
        return self.emu.requests_for("pushMessage")

    def fault(self, **rule):
        self.emu.faults.add(dict({"endpoint": "pushMessage"}, **rule))

    def make_due(self, row):
        """Time passes (data, not the clock): the row's planned retry is now due."""
        row.sudo().write({"next_try": fields.Datetime.now() - datetime.timedelta(seconds=1)})

    # tests --------------------------------------------------------------------------------
    def test_enqueue_then_cron_delivers_exactly_once(self):
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        row = self.enqueue(origin=self.partner)
        self.assertEqual(row.state, "outgoing")
        self.assertEqual(row.company_id, self.channel.company_id)
        self.assertEqual((row.res_model, row.res_id), ("res.partner", self.partner.id))
        self.assertEqual(row.preview, "Hello from Odoo")
        self.assertFalse(self.pushes(), "nothing reaches LINE at enqueue time")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                         before + 1, "the queue cron is woken with _trigger()")

        cron.method_direct_trigger()  # the cron as configured in data/
        row.invalidate_recordset()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.texts(), ["Hello from Odoo"])
        self.assertEqual([p["retryKey"] for p in self.pushes()], [row.retry_key])
        self.assertEqual(row.attempts, 1)
        self.assertTrue(row.sent_date and row.request_id and row.sent_message_ids)

        self.assertEqual(self.process(), 0, "a sent row is never sent again")
        self.assertEqual(len(self.pushes()), 1)

    def test_batch_enqueue_one_trigger_each_row_its_key_each_delivered_once(self):
        users = [self.aiko]
        for name in ("Bunta LINE", "Chika LINE"):
            users.append(self.emu.add_user(name))
            users[-1].follow()
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        rows = self.Queue._line_enqueue_batch(self.channel, [
            (users[0].user_id, [message_builders.text("Cart 1")], self.partner),
            {"line_user_id": users[1].user_id, "messages": [message_builders.text("Cart 2")],
             "origin": self.partner},
            (users[2].user_id, [message_builders.text("Cart 3")]),
        ])
        self.assertEqual(rows.mapped("preview"), ["Cart 1", "Cart 2", "Cart 3"],
                         "one row per item, in order")
        self.assertEqual(set(rows.mapped("state")), {"outgoing"})
        self.assertEqual(len(set(rows.mapped("retry_key"))), 3, "each row its own retry key")
        self.assertEqual(rows.mapped("res_id"), [self.partner.id, self.partner.id, 0])
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                         triggers + 1, "the queue cron is woken once for the batch")
        self.assertFalse(self.pushes(), "nothing reaches LINE at enqueue time")

        self.fault(action="status", status=500, when="after", times=1)  # delivered, then 500
        self.assertEqual(self.process(), 3)
        self.assertEqual(rows.mapped("state"), ["sent"] * 3)
        self.assertEqual([self.texts(user) for user in users],
                         [["Cart 1"], ["Cart 2"], ["Cart 3"]], "each delivered once")
        self.assertEqual([(p["status"], p["retryKey"]) for p in self.pushes()],
                         [(500, rows[0].retry_key), (409, rows[0].retry_key),
                          (200, rows[1].retry_key), (200, rows[2].retry_key)])
        self.assertEqual(self.process(), 0, "a sent row is never sent again")
        self.assertFalse(self.Queue._line_enqueue_batch(self.channel, []), "nothing to queue")

    def test_batch_with_a_bad_item_queues_nothing(self):
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        count = self.Queue.search_count([])
        good = (self.aiko.user_id, [message_builders.text("fine")], self.partner)
        cases = [
            ([good, (self.aiko.user_id, [{"type": "text", "text": "x" * 5001}]), good],
             "LINE message 2 of 3 cannot be queued: .*at most 5000"),
            ([good, good, ("not-a-user", [message_builders.text("x")])],
             "LINE message 3 of 3 .*is not a LINE user"),
            ([good, "hello"], "LINE message 2 of 2 .*\\(LINE user id, messages, origin\\)"),
        ]
        for items, reason in cases:
            with self.subTest(reason=reason), self.assertRaisesRegex(UserError, reason):
                self.Queue._line_enqueue_batch(self.channel, items)
        self.assertEqual(self.Queue.search_count([]), count, "nothing of the batch stored")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                         triggers)
        self.process()
        self.assertFalse(self.pushes())

    def test_cron_sends_one_batch_and_reports_progress(self):
        self.env["ir.config_parameter"].sudo().set_param("line_idlink_addon.queue_batch", "2")
        rows = self.Queue.browse([self.enqueue(f"m{i}").id for i in range(3)])
        cron = self.env.ref("line_idlink_addon.ir_cron_line_message_queue")
        cron.method_direct_trigger()
        progress = self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)],
                                                      order="id desc", limit=1)
        self.assertEqual((progress.done, progress.remaining), (2, 1),
                         "one batch per call; ir.cron calls again while rows remain")
        self.Queue.invalidate_model()
        self.assertEqual(rows.mapped("state"), ["sent", "sent", "outgoing"])
        self.assertEqual(self.texts(), ["m0", "m1"])

    def test_500_after_delivery_is_retried_with_the_same_key(self):
        # LINE delivered the message but answered 500: the retry carries the same key, LINE
        # answers 409 (accepted before) and the row is sent, still exactly one message
        self.fault(action="status", status=500, when="after", times=1)
        row = self.enqueue()
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.texts(), ["Hello from Odoo"])
        self.assertEqual([(p["status"], p["retryKey"]) for p in self.pushes()],
                         [(500, row.retry_key), (409, row.retry_key)])
        self.assertEqual(row.attempts, 2)
        self.assertTrue(row.sent_message_ids, "409 gives back the accepted message ids")

    def test_dropped_connection_after_delivery(self):
        self.fault(action="drop", when="after", times=1)
        row = self.enqueue()
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.texts(), ["Hello from Odoo"])
        self.assertEqual({p["retryKey"] for p in self.pushes()}, {row.retry_key})

    def test_outage_across_cron_runs_keeps_the_key(self):
        # every attempt of the first run fails (the first one after delivering): the row waits
        # for its next try, then the next run gets 409 and marks it sent
        self.fault(action="status", status=500, when="after", times=1)
        # every matching rule counts a call, even when an earlier rule fired: calls 2 and 3
        self.fault(action="status", status=503, times=3)
        row = self.enqueue()
        self.process()
        self.assertEqual(row.state, "outgoing")
        self.assertEqual(row.failure_type, "unreachable")
        self.assertIn("503", row.failure_reason)
        self.assertEqual(row.retry_count, 1)
        self.assertGreater(row.next_try, fields.Datetime.now())
        self.assertEqual(self.process(), 0, "not retried before its next try")
        self.assertEqual(len(self.pushes()), 3)

        self.make_due(row)
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertFalse(row.failure_type)
        self.assertEqual(self.texts(), ["Hello from Odoo"], "still exactly one message")
        self.assertEqual([p["status"] for p in self.pushes()], [500, 503, 503, 409])
        self.assertEqual({p["retryKey"] for p in self.pushes()}, {row.retry_key})

    def test_throttled_429_waits_and_retries(self):
        self.fault(action="rate_limit", times=1)
        row = self.enqueue()
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual([p["status"] for p in self.pushes()], [429, 200])
        self.assertEqual(self.texts(), ["Hello from Odoo"])

    def test_persistent_429_puts_the_row_back_for_later(self):
        self.fault(action="rate_limit", times=3)
        row = self.enqueue()
        self.process()
        self.assertEqual(row.state, "outgoing")
        self.assertEqual(row.failure_type, "throttled")
        self.assertGreater(row.next_try, fields.Datetime.now())
        self.assertEqual(self.texts(), [])
        self.make_due(row)
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.texts(), ["Hello from Odoo"])

    def test_4xx_is_an_error_with_reason_and_not_retried(self):
        self.fault(action="status", status=400, times=1,
                   body={"message": "The request body has 1 error(s)",
                         "details": [{"property": "to", "message": "invalid"}]})
        row = self.enqueue(origin=self.partner)
        self.process()
        self.assertEqual(row.state, "error")
        self.assertEqual(row.failure_type, "rejected")
        self.assertIn("The request body has 1 error(s)", row.failure_reason)
        self.assertFalse(row.next_try)
        self.assertEqual(self.process(), 0)
        self.assertEqual(len(self.pushes()), 1, "a rejected request is not retried")
        notes = " ".join(str(b) for b in self.partner.message_ids.mapped("body"))
        self.assertIn("LINE message to", notes, "the failure is noted on the origin's chatter")
        self.assertIn("The request body has 1 error(s)", notes)

        # Retry (the fault fired once): same key, delivered once
        key = row.retry_key
        row.action_retry()
        self.assertEqual((row.state, row.retry_key), ("outgoing", key))
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual(self.texts(), ["Hello from Odoo"])
        self.assertEqual({p["retryKey"] for p in self.pushes()}, {key})

    def test_bad_token_and_quota_are_errors(self):
        self.emu.config.quota = 0
        row = self.enqueue()
        self.process()
        self.assertEqual((row.state, row.failure_type), ("error", "quota"))
        self.assertIn("monthly limit", row.failure_reason)

        self.emu.config.quota = None
        self.channel.access_token = "not-the-token"
        row2 = self.enqueue("second")
        self.process()
        self.assertEqual((row2.state, row2.failure_type), ("error", "token"))
        self.assertEqual(self.texts(), [])

    def test_bad_messages_are_refused_and_nothing_is_stored(self):
        count = self.Queue.search_count([])
        uid = self.aiko.user_id
        cases = [
            (uid, [], "1 to 5 messages"),
            (uid, [message_builders.text("x")] * 6, "1 to 5 messages"),
            (uid, [{"type": "text"}], "text"),
            (uid, [{"type": "text", "text": "x" * 5001}], "at most 5000"),
            (uid, [{"type": "no-such-type", "text": "x"}], "messages\\[0\\]"),
            (uid, "hello", "list of message objects"),
            ("not-a-user", [message_builders.text("x")], "is not a LINE user"),
        ]
        for to, payload, reason in cases:
            with self.subTest(reason=reason), self.assertRaisesRegex(UserError, reason):
                self.Queue._line_enqueue(self.channel, to, payload)
        with self.assertRaisesRegex(UserError, "LINE channel"):
            self.Queue._line_enqueue(self.env["line.channel"], uid, [message_builders.text("x")])
        self.assertEqual(self.Queue.search_count([]), count, "nothing stored")

    def test_cancel(self):
        row = self.enqueue()
        row.action_cancel()
        self.assertEqual(row.state, "canceled")
        self.process()
        self.assertFalse(self.pushes())
        with self.assertRaisesRegex(UserError, "waiting in the queue"):
            row.action_cancel()
        with self.assertRaisesRegex(UserError, "Only failed"):
            row.action_retry()

    def test_worker_died_after_claim_is_resumed_with_the_same_key(self):
        # worker 1 claimed both rows (claim committed), sent the first one, and died before
        # recording anything: both rows stay "sending" until their lease expires
        first, second = self.enqueue("one"), self.enqueue("two")
        token, ids = self.Queue._line_claim(10, auto_commit=False)
        self.assertEqual(sorted(ids), sorted((first | second).ids))
        self.Queue.invalidate_model()
        self.assertEqual((first.state, second.state), ("sending", "sending"))
        with self.channel._line_api() as api:
            api.push(self.aiko.user_id, json.loads(first.messages), retry_key=first.retry_key)
        self.assertEqual(self.texts(), ["one"])
        self.assertEqual(self.process(), 0, "a leased row is not taken by another worker")

        # the lease expires (data, not the clock): worker 2 resumes both with their keys
        (first | second).sudo().write(
            {"lease_until": fields.Datetime.now() - datetime.timedelta(seconds=1)})
        self.assertEqual(self.process(), 2)
        self.assertEqual((first.state, second.state), ("sent", "sent"))
        self.assertEqual(self.texts(), ["one", "two"], "each message delivered once")
        statuses = [(p["retryKey"], p["status"]) for p in self.pushes()]
        self.assertEqual(statuses, [(first.retry_key, 200), (first.retry_key, 409),
                                    (second.retry_key, 200)])

    def test_multicast_row(self):
        bunta = self.emu.add_user("Bunta LINE")
        bunta.follow()
        row = self.Queue._line_enqueue_multicast(
            self.channel, [self.aiko.user_id, bunta.user_id], [message_builders.text("Sale!")])
        self.assertEqual((row.kind, row.recipient_count), ("multicast", 2))
        self.fault(endpoint="multicast", action="status", status=500, when="after", times=1)
        self.process()
        self.assertEqual(row.state, "sent")
        self.assertEqual((self.texts(), self.texts(bunta)), (["Sale!"], ["Sale!"]))
        with self.assertRaisesRegex(UserError, "each user once"):
            self.Queue._line_enqueue_multicast(self.channel, [bunta.user_id] * 2,
                                               [message_builders.text("x")])
        with self.assertRaisesRegex(UserError, "1 to 500"):
            self.Queue._line_enqueue_multicast(self.channel, [], [message_builders.text("x")])

    def test_rate_limit_window_full_defers_instead_of_429(self):
        # LINE allows 3 pushes per hour here (the emulator enforces it; the system parameter
        # tells Odoo): the 4th and 5th rows wait for the window instead of getting a 429
        self.emu.limiter.set_limit("pushMessage", 3, 3600)
        self.env["ir.config_parameter"].sudo().set_param(
            "line_idlink_addon.rate_limits", json.dumps({"pushMessage": [3, 3600]}))
        rows = self.Queue.browse([self.enqueue(f"m{i}").id for i in range(5)])
        self.process()
        self.assertEqual(rows.mapped("state"), ["sent"] * 3 + ["outgoing"] * 2)
        self.assertEqual([p["status"] for p in self.pushes()], [200, 200, 200])
        later = fields.Datetime.now() + datetime.timedelta(minutes=50)
        self.assertTrue(all(r.next_try > later for r in rows[3:]), rows[3:].mapped("next_try"))
        self.assertEqual(rows[3:].mapped("failure_type"), [False, False], "waiting is not a failure")

    def test_rate_limit_is_shared_through_postgresql(self):
        # two limiters built separately (as two Odoo workers do) share one window
        self.env["ir.config_parameter"].sudo().set_param(
            "line_idlink_addon.rate_limits", json.dumps({"getBotInfo": [2, 3600]}))
        worker_1 = self.channel._line_api_timing()["limiter"]
        worker_2 = self.channel._line_api_timing()["limiter"]
        self.assertIsNot(worker_1, worker_2)
        worker_1.acquire("getBotInfo")
        worker_2.acquire("getBotInfo")
        self.assertGreater(worker_1.delay_for("getBotInfo"), 3000)
        self.assertGreater(worker_2.delay_for("getBotInfo"), 3000)
        self.assertEqual(worker_2.delay_for("pushMessage"), 0)


@tagged("post_install", "-at_install", "line_idlink")
class TestMessageQueueAccess(LineCommon, TransactionCase):
    """Who sees and manages queued LINE messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.agent = new_test_user(cls.env, login="line_q_agent", name="Agent",
                                  groups="base.group_user,line_idlink_addon.group_line_user")
        cls.agent_2 = new_test_user(cls.env, login="line_q_agent2", name="Agent 2",
                                    groups="base.group_user,line_idlink_addon.group_line_user")
        cls.admin = new_test_user(cls.env, login="line_q_admin", name="LINE Admin",
                                  groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.row = cls.env["line.message"].with_user(cls.agent)._line_enqueue(
            cls.channel, "U" + "a" * 32, [message_builders.text("hi")])

    def test_users_read_but_do_not_write(self):
        row = self.row.with_user(self.agent_2)
        self.assertEqual(row.preview, "hi")
        with self.assertRaises(AccessError):
            row.write({"state": "sent"})
        with self.assertRaises(AccessError):
            self.env["line.message"].with_user(self.agent).create(
                {"channel_id": self.channel.id, "messages": "[]", "retry_key": "x"})
        with self.assertRaises(AccessError):
            row.action_cancel()  # queued by someone else
        self.row.with_user(self.agent).action_cancel()  # their own
        self.assertEqual(self.row.state, "canceled")

    def test_admin_manages_all(self):
        self.row.with_user(self.admin).action_cancel()
        self.assertEqual(self.row.state, "canceled")

    def test_portal_users_see_nothing(self):
        with self.assertRaises(AccessError):
            self.row.with_user(self.user_a).read(["state"])

    def test_other_company_does_not_see_the_row(self):
        other = self.env["res.company"].create({"name": "Other LINE Co"})
        outsider = new_test_user(self.env, login="line_q_other", company_id=other.id,
                                 company_ids=[(6, 0, other.ids)],
                                 groups="base.group_user,line_idlink_addon.group_line_admin")
        self.assertFalse(self.env["line.message"].with_user(outsider).search(
            [("id", "=", self.row.id)]))
