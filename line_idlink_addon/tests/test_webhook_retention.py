"""Retention (issue 8, point 13): Odoo's daily autovacuum purges what is no longer needed."""

import inspect
import json
from datetime import timedelta

from odoo import fields
from odoo.addons.base.models.ir_autovacuum import is_autovacuum
from odoo.tests import TransactionCase, tagged

from line_idlink.storage import digest

from .common import LineCommon

USER_1 = "U" + "1" * 32


@tagged("post_install", "-at_install", "line_idlink")
class TestRetention(LineCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def autovacuum(self):
        """Run every ``@api.autovacuum`` method of the models concerned, as ir.autovacuum does
        (it calls each one of every model); returns their names."""
        names = []
        for model in ("line.link.nonce", "line.link.token", "line.webhook.event", "res.users",
                      "line.message"):
            cls = self.registry[model]
            for name, method in inspect.getmembers(cls, is_autovacuum):
                if name.startswith("_gc_line"):
                    method(self.env[model])
                    names.append(f"{model}.{name}")
        self.env.invalidate_all()
        return names

    def ago(self, **delta):
        return fields.Datetime.now() - timedelta(**delta)

    def test_expired_nonces_tokens_and_tickets_are_purged(self):
        now = fields.Datetime.now()
        Nonce = self.env["line.link.nonce"]
        partner = self.user_a.partner_id

        def nonce(name, expires, used=None):
            return Nonce.create({
                "nonce_hash": digest(name), "channel_id": self.channel.id,
                "partner_id": partner.id, "line_user_id": USER_1,
                "link_token_hash": digest("token"), "issued_at": expires - timedelta(minutes=10),
                "expires_at": expires, "used_at": used})

        expired = nonce("expired", self.ago(seconds=1))
        expired_used = nonce("expired-used", self.ago(minutes=5), used=self.ago(minutes=9))
        live = nonce("live", now + timedelta(minutes=9))
        live_used = nonce("live-used", now + timedelta(minutes=9), used=now)
        Token = self.env["line.link.token"]

        def token(name, expires):
            return Token.create({"token_hash": digest(name), "channel_id": self.channel.id,
                                 "line_user_id": USER_1,
                                 "issued_at": expires - timedelta(minutes=10),
                                 "expires_at": expires})

        old_token, live_token = token("old", self.ago(seconds=1)), token("live", now + timedelta(
            minutes=5))
        # a "Log in with LINE" ticket issued and never used (the visitor left), and a fresh one
        self.user_a._line_issue_login_ticket()
        self.user_b._line_issue_login_ticket()
        self.env.cr.execute("UPDATE res_users SET line_login_ticket_expires = %s WHERE id = %s",
                            (self.ago(seconds=1), self.user_a.id))
        self.env.invalidate_all()
        names = self.autovacuum()
        self.assertEqual(sorted(names), [
            "line.link.nonce._gc_line_expired_nonces",
            "line.link.token._gc_line_expired_link_tokens",
            "line.message._gc_line_finished_messages",
            "line.webhook.event._gc_line_processed_events",
            "res.users._gc_line_login_tickets"])
        self.assertEqual((expired | expired_used | live | live_used).exists(), live | live_used,
                         "a used nonce stays until it expires (a replay is still 'used')")
        self.assertEqual((old_token | live_token).exists(), live_token)
        users = (self.user_a | self.user_b).sudo()
        self.assertEqual(users.mapped(lambda u: bool(u.line_login_ticket_hash)), [False, True])
        self.assertFalse(self.user_a.sudo().line_login_ticket_expires)

    def make_event(self, name, state, finished_days_ago=None, received_days_ago=0):
        finished = self.ago(days=finished_days_ago) if finished_days_ago is not None else False
        return self.env["line.webhook.event"].create({
            "event_id": name, "channel_id": self.channel.id, "payload": '{"type":"follow"}',
            "state": state, "received_at": self.ago(days=received_days_ago),
            "finished_at": finished})

    def test_processed_events_older_than_the_retention_period_are_purged(self):
        old_done = self.make_event("01OLDDONE", "done", 31, 31)
        old_error = self.make_event("01OLDERROR", "error", 31, 31)
        recent_done = self.make_event("01RECENT", "done", 29, 29)
        old_pending = self.make_event("01OLDPENDING", "pending", None, 90)
        old_processing = self.make_event("01OLDPROC", "processing", None, 90)
        everything = old_done | old_error | recent_done | old_pending | old_processing
        self.autovacuum()
        self.assertEqual(everything.exists(), recent_done | old_pending | old_processing,
                         "30 days by default; unprocessed events are never purged")
        # the period is a system parameter
        self.env["ir.config_parameter"].set_param("line_idlink.event_retention_days", "7")
        week_old = self.make_event("01WEEK", "done", 8, 8)
        days_old = self.make_event("01DAYS", "error", 6, 6)
        self.autovacuum()
        self.assertEqual((recent_done | week_old | days_old).exists(), days_old)
        self.env["ir.config_parameter"].set_param("line_idlink.event_retention_days", "many")
        with self.assertLogs("odoo.addons.line_idlink_addon.models.line_webhook_event",
                             "WARNING"):
            self.autovacuum()
        self.assertTrue(days_old.exists(), "a wrong value falls back to 30 days")

    def test_finished_messages_older_than_the_retention_period_are_purged(self):
        Message = self.env["line.message"]

        def message(text, state, days_ago):
            row = Message._line_enqueue(self.channel, USER_1, [{"type": "text", "text": text}])
            row.write({"state": state, "sent_date": self.ago(days=days_ago)
                       if state == "sent" else False})
            self.env.flush_all()  # the ORM's write_date first, then the row made old
            self.env.cr.execute("UPDATE line_message SET write_date = %s WHERE id = %s",
                                (self.ago(days=days_ago), row.id))
            return row

        rows = {name: message(name, state, days) for name, state, days in [
            ("old sent", "sent", 31), ("old canceled", "canceled", 31), ("recent sent", "sent", 29),
            ("old failed", "error", 90), ("old queued", "outgoing", 90)]}
        self.env.invalidate_all()
        self.autovacuum()
        kept = Message.browse([row.id for row in rows.values()]).exists()
        self.assertEqual(sorted(kept.mapped(lambda m: json.loads(m.messages)[0]["text"])),
                         ["old failed", "old queued", "recent sent"],
                         "30 days by default; failed and queued messages are never purged")
