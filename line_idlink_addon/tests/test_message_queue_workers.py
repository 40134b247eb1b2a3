import json
import sys
import threading
import time
import traceback

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from line_idlink import message_builders
from line_emulator import Clock, start_emulator

ROWS = 40
PUSH_LIMIT = (4, 1.0)  # LINE's push limit, lowered so that the pushes need about 10 windows


@tagged("post_install", "-at_install", "line_idlink")
class TestMessageQueueWorkers(TransactionCase):
    """Two workers (threads with their own database cursors and transactions, committing for
    real, as two Odoo cron workers or servers on one PostgreSQL) send one queue of 40 rows:
    every message is delivered exactly once and LINE never answers 429, because rows are
    claimed with FOR UPDATE SKIP LOCKED and the rate limit lives in PostgreSQL."""

    def setUp(self):
        super().setUp()
        # a ticking emulator clock: its rate-limit windows slide with real time, like LINE's
        self.server = start_emulator(seed=11, clock=Clock(start=time.time(), frozen=False))
        self.addCleanup(self.server.stop)
        self.emu = self.server.emulator
        self.emu.limiter.set_limit("pushMessage", *PUSH_LIMIT)
        self.users = [self.emu.add_user(f"User {i}") for i in range(ROWS)]
        for user in self.users:
            user.follow()
        config = self.emu.config
        # committed data: the workers' transactions must see it
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            channel = env["line.channel"].create({
                "name": "Workers OA", "line_channel_id": config.channel_id,
                "channel_secret": config.channel_secret, "access_token": config.access_token,
                "api_base": self.server.base_url, "auth_base": self.server.base_url})
            env["ir.config_parameter"].set_param(
                "line_idlink_addon.rate_limits", json.dumps({"pushMessage": list(PUSH_LIMIT)}))
            rows = env["line.message"]
            for i, user in enumerate(self.users):
                rows |= rows._line_enqueue(channel, user.user_id, [message_builders.text(f"msg {i}")])
            self.channel_id, self.row_ids = channel.id, rows.ids
        self.addCleanup(self.cleanup)

    def cleanup(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM line_message WHERE channel_id = %s", [self.channel_id])
            cr.execute("DELETE FROM line_channel WHERE id = %s", [self.channel_id])
            cr.execute("DELETE FROM line_rate_limit WHERE channel_key = %s",
                       [str(self.channel_id)])
            cr.execute("DELETE FROM ir_config_parameter WHERE key = %s",
                       ["line_idlink_addon.rate_limits"])

    def worker(self, name, processed, errors):
        try:
            with self.registry.cursor() as cr:
                # the registry is already loaded (its class lock is held by the test runner)
                cr.transaction = api.Transaction(self.registry)
                env = api.Environment(cr, SUPERUSER_ID, {})
                queue = env["line.message"]
                deadline = time.monotonic() + 100
                while time.monotonic() < deadline:
                    done = queue._process_queue(batch_size=5)
                    processed[name] += done
                    if not done:
                        cr.execute("""SELECT count(*) FROM line_message WHERE channel_id = %s
                                      AND state IN ('outgoing', 'sending')""", [self.channel_id])
                        if not cr.fetchone()[0]:
                            return
                        cr.commit()
                        time.sleep(0.2)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def test_two_workers_send_each_message_once_without_429(self):
        processed, errors = {"w1": 0, "w2": 0}, []
        threads = [threading.Thread(target=self.worker, args=(name, processed, errors))
                   for name in processed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            frames = sys._current_frames()
            self.fail("workers stuck:\n" + "\n".join(
                "".join(traceback.format_stack(frames[t.ident])) for t in stuck))
        self.assertEqual(errors, [])

        with self.registry.cursor() as cr:
            cr.execute("SELECT state, count(*) FROM line_message WHERE channel_id = %s "
                       "GROUP BY state", [self.channel_id])
            self.assertEqual(dict(cr.fetchall()), {"sent": ROWS})
            cr.execute("SELECT retry_key FROM line_message WHERE channel_id = %s",
                       [self.channel_id])
            keys = {row[0] for row in cr.fetchall()}
        for i, user in enumerate(self.users):
            self.assertEqual([e["message"]["text"] for e in user.inbox], [f"msg {i}"])
        pushes = self.emu.requests_for("pushMessage")
        self.assertEqual(sorted(p["status"] for p in pushes), [200] * ROWS,
                         "one request per row, and no 429 from LINE")
        self.assertEqual({p["retryKey"] for p in pushes}, keys)
        self.assertEqual(processed["w1"] + processed["w2"], ROWS)
        self.assertTrue(processed["w1"] and processed["w2"], f"both workers sent: {processed}")
