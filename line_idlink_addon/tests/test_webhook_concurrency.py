"""Races between real, concurrent transactions (issue 8, points 10 and 11).

HttpCase's test mode runs every request in the test's one transaction, one request at a time, so
no race can happen there. This class leaves test mode (``registry_test_mode = False``): the
server handles each request in a transaction of its own, and the cursors opened below are real
connections. The data it needs is committed by ``setUpClass`` and removed by its cleanup.
"""

import threading
import time

import psycopg2
import requests

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from line_emulator import start_emulator

from .common import LineCommon

USER_C = "U" + "c" * 32
WAIT_LIMIT = 60  # seconds to wait for another transaction to reach a lock (never reached)


@tagged("post_install", "-at_install", "line_idlink")
class TestWebhookConcurrency(LineCommon, HttpCase):
    registry_test_mode = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the post_install tests run while the registry's lock is held; requests wait for it
        # unless it is swapped out as Registry.enter_test_mode does (without the shared cursor)
        Registry._saved_lock, Registry._lock = Registry._lock, DummyRLock()

        def restore():
            Registry._lock, Registry._saved_lock = Registry._saved_lock, None

        cls.addClassCleanup(restore)
        url = f"http://127.0.0.1:{config['http_port']}/line/webhook/"
        cls.server = start_emulator(seed=11, delivery="queued")
        cls.addClassCleanup(cls.server.stop)
        cls.emu = cls.server.emulator
        emu = cls.emu
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_trigger")
            cls.first_trigger = cr.fetchone()[0]
            channel = env["line.channel"].create({
                "name": "Concurrency OA", "line_channel_id": emu.config.channel_id,
                "channel_secret": emu.config.channel_secret,
                "access_token": emu.config.access_token,
                "api_base": cls.server.base_url, "auth_base": cls.server.base_url})
            cls.channel_id = channel.id
            cls.partner_id = env.ref("base.partner_admin").id
        emu.config.webhook_url = url + str(cls.channel_id)
        cls.addClassCleanup(cls._drop_committed)

    @classmethod
    def _drop_committed(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["line.webhook.event"].search([("channel_id", "=", cls.channel_id)]).unlink()
            env["line.identity"].search([("channel_id", "=", cls.channel_id)]).unlink()
            env["line.link.token"].search([("channel_id", "=", cls.channel_id)]).unlink()
            env["line.channel"].browse(cls.channel_id).unlink()
            cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", (cls.first_trigger,))

    def tearDown(self):
        with self.registry.cursor() as cr:  # each test starts without events nor identities
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["line.webhook.event"].search([("channel_id", "=", self.channel_id)]).unlink()
            env["line.identity"].search([("channel_id", "=", self.channel_id)]).unlink()
        super().tearDown()

    # ---- helpers -------------------------------------------------------------------------------
    def real_env(self):
        """A real transaction of its own (closed by the test's cleanup)."""
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.cr.execute("SELECT 1")  # its REPEATABLE READ snapshot starts now
        return env

    def committed(self, query, params=()):
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def wait_until_blocked(self, env):
        """Wait until the transaction of ``env`` waits for a row lock held by another one."""
        pid = env.cr.connection.get_backend_pid()
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            if self.committed("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)):
                return
            time.sleep(0.02)
        self.fail("the second transaction never waited for the first one")

    def in_thread(self, fn):
        result = {}

        def run():
            try:
                result["value"] = fn()
            except Exception as exc:  # noqa: BLE001 - handed to the test thread
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    # ---- point 11: concurrent duplicate deliveries ----------------------------------------------
    def test_duplicate_deliveries_at_once_store_one_event_without_error(self):
        body = {"destination": self.emu.config.bot_user_id, "events": [{
            "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
            "webhookEventId": "01HCONCURRENT0000000000001",
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": USER_C}, "replyToken": "r" * 32,
            "message": {"type": "text", "id": "1", "quoteToken": "q", "text": "こんにちは"}}]}
        raw = self.line_json(body)
        secret = self.emu.config.channel_secret
        url = f"{self.base_url()}/line/webhook/{self.channel_id}"
        count = 8
        barrier = threading.Barrier(count)
        statuses = []

        def post():
            barrier.wait()
            response = requests.post(url, data=raw, timeout=60, headers={
                "Content-Type": "application/json",
                "X-Line-Signature": self.sign(secret, raw)})
            statuses.append(response.status_code)

        with self.assertNoLogs("odoo", "ERROR"):
            threads = [threading.Thread(target=post) for _ in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(statuses, [200] * count)
        self.assertEqual(self.committed(
            "SELECT count(*) FROM line_webhook_event WHERE event_id = %s",
            ("01HCONCURRENT0000000000001",)), [(1,)])

    # ---- point 10: one identity whoever creates it ----------------------------------------------
    def test_two_transactions_create_one_identity(self):
        env1, env2 = self.real_env(), self.real_env()
        channel1 = env1["line.channel"].browse(self.channel_id)
        channel2 = env2["line.channel"].browse(self.channel_id)
        first = env1["line.identity"]._line_get_or_create(channel1, USER_C)
        with self.assertNoLogs("odoo", "ERROR"):
            thread, result = self.in_thread(
                lambda: env2["line.identity"]._line_get_or_create(channel2, USER_C).id)
            self.wait_until_blocked(env2)
            env1.cr.commit()
            thread.join()
        # the loser of the race gets the error Odoo retries a request on (and the event queue
        # retries an event on), never a duplicate nor a unique violation
        self.assertIsInstance(result.get("error"), psycopg2.errors.SerializationFailure,
                              result)
        env2.cr.rollback()
        again = env2["line.identity"]._line_get_or_create(channel2, USER_C)
        self.assertEqual(again.id, first.id, "the new transaction finds the same identity")
        self.assertEqual(self.committed(
            "SELECT count(*) FROM line_identity WHERE channel_id = %s AND line_user_id = %s",
            (self.channel_id, USER_C)), [(1,)])

    def test_follow_that_loses_to_the_login_callback_is_retried(self):
        aiko = self.emu.add_user("Aiko")
        aiko.follow()
        [delivery] = self.emu.flush()
        self.assertEqual(delivery["status"], 200)
        # the LINE Login callback links Aiko (its transaction is not committed yet) while the
        # event cron processes her follow event in another transaction
        login = self.real_env()
        outcome = login["line.channel"].browse(self.channel_id)._line_linker().link_from_login(
            self.partner_id, {"sub": aiko.user_id})
        self.assertEqual(outcome.status.value, "linked")
        cron = self.real_env()
        before = time.time()
        with self.assertNoLogs("odoo", "ERROR"):
            thread, result = self.in_thread(
                lambda: cron["line.webhook.event"]._cron_process())
            self.wait_until_blocked(cron)
            login.cr.commit()
            thread.join()
        after = time.time()
        self.assertNotIn("error", result)
        [(state, attempts, next_try, error)] = self.committed(
            "SELECT state, attempts, extract(epoch FROM next_try), error FROM line_webhook_event"
            " WHERE channel_id = %s", (self.channel_id,))
        self.assertEqual((state, attempts), ("pending", 1), "retried, not dropped")
        self.assertIn("SerializationFailure", error)
        self.assertGreaterEqual(float(next_try), int(before) + 60)
        self.assertLessEqual(float(next_try), after + 60)
        # a minute later the cron runs again: Aiko is a linked friend, told she is linked
        self.committed("UPDATE line_webhook_event SET next_try = next_try - interval '60 s'"
                       " WHERE channel_id = %s RETURNING id", (self.channel_id,))
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["line.webhook.event"]._cron_process()
        self.assertEqual(self.committed(
            "SELECT state, attempts FROM line_webhook_event WHERE channel_id = %s",
            (self.channel_id,)), [("done", 2)])
        self.assertEqual(self.committed(
            "SELECT follow_state, linked, partner_id FROM line_identity WHERE channel_id = %s",
            (self.channel_id,)), [("followed", True, self.partner_id)])
        self.assertEqual(len(aiko.inbox), 1, "one answer to the follow")
        self.assertIn("連携が完了", str(aiko.inbox[-1]["message"]))

    @staticmethod
    def sign(secret, raw):
        from line_idlink.webhook import compute_signature

        return compute_signature(secret, raw)
