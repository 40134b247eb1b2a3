import time

from psycopg2 import IntegrityError

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from line_idlink.linking import AccountLinker, LinkStatus
from line_idlink.storage import LinkConflict, LinkRecord, NonceRecord, Storage, digest

from .common import LineCommon

USER_1 = "U" + "1" * 32
USER_2 = "U" + "2" * 32


@tagged("line_idlink")
class TestStorage(LineCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.storage = self.channel._line_storage()
        self.key = str(self.channel.id)
        self.now = time.time()

    def test_implements_core_protocol(self):
        self.assertIsInstance(self.storage, Storage)

    def test_identity_unique_per_channel(self):
        identities = self.env["line.identity"]._line_link_protocol()
        identities.create({"channel_id": self.channel.id, "line_user_id": USER_1})
        other = self.channel.copy({"line_channel_id": "1650000001"})
        identities.create({"channel_id": other.id, "line_user_id": USER_1})
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            identities.create({"channel_id": self.channel.id, "line_user_id": USER_1})

    def _nonce(self, value, partner, user=USER_1, ttl=600):
        record = NonceRecord(digest(value), self.key, str(partner.id), user, digest("tok"),
                             self.now, self.now + ttl)
        self.storage.add_nonce(record)
        return record

    def test_nonce_single_use_and_expiry(self):
        self._nonce("nonce-one-xxxxxxxx", self.user_a.partner_id)
        first = self.storage.consume_nonce(digest("nonce-one-xxxxxxxx"), self.now + 1)
        self.assertEqual(first.customer_id, str(self.user_a.partner_id.id))
        self.assertIsNotNone(first.used_at)
        self.assertIsNone(self.storage.consume_nonce(digest("nonce-one-xxxxxxxx"), self.now + 2))
        self._nonce("nonce-two-xxxxxxxx", self.user_a.partner_id, ttl=10)
        self.assertIsNone(self.storage.consume_nonce(digest("nonce-two-xxxxxxxx"), self.now + 11),
                          "an expired nonce is never consumed")
        self.assertIsNone(self.storage.consume_nonce(digest("unknown"), self.now))
        stored = self.env["line.link.nonce"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(len(stored), 2)
        self.assertNotIn("nonce-one", "".join(stored.mapped("nonce_hash")),
                         "only the digest is stored")

    def test_one_active_link_per_line_user(self):
        pa, pb = self.user_a.partner_id, self.user_b.partner_id
        self.storage.add_link(LinkRecord(self.key, USER_1, str(pa.id), "messaging_api", self.now))
        with self.assertRaises(LinkConflict) as caught:
            self.storage.add_link(LinkRecord(self.key, USER_1, str(pb.id), "messaging_api",
                                             self.now))
        self.assertEqual(caught.exception.existing.customer_id, str(pa.id))
        identity = self.env["line.identity"].search([("line_user_id", "=", USER_1)])
        self.assertEqual(identity.partner_id, pa)
        self.assertTrue(identity.linked)
        # a customer may link a second LINE account
        self.storage.add_link(LinkRecord(self.key, USER_2, str(pa.id), "line_login", self.now))
        self.assertEqual(len(self.storage.links_for_customer(self.key, str(pa.id))), 2)
        ended = self.storage.end_links(self.key, self.now + 5, line_user_id=USER_1)
        self.assertEqual([link.line_user_id for link in ended], [USER_1])
        self.assertFalse(identity.linked)
        self.assertIsNone(self.storage.get_link(self.key, USER_1))
        self.storage.add_link(LinkRecord(self.key, USER_1, str(pb.id), "messaging_api", self.now))
        self.assertEqual(identity.partner_id, pb, "after unlinking, another customer may link")

    def test_event_dedup(self):
        self.assertTrue(self.storage.remember_event("01EVENT", self.key, '{"type":"follow"}',
                                                    self.now))
        self.assertFalse(self.storage.remember_event("01EVENT", self.key, '{"type":"x"}',
                                                     self.now))
        events = self.env["line.webhook.event"].search([("event_id", "=", "01EVENT")])
        self.assertEqual(len(events), 1)
        self.assertEqual(events.payload, '{"type":"follow"}')
        self.assertEqual([e.event_id for e in self.storage.pending_events()], ["01EVENT"])
        self.assertTrue(self.storage.claim_event("01EVENT", self.now))
        self.assertFalse(self.storage.claim_event("01EVENT", self.now), "claimed once")
        self.storage.finish_event("01EVENT", self.now)
        self.assertEqual(events.state, "done")

    def test_linker_over_odoo_storage(self):
        linker = AccountLinker(self.storage, self.key, clock=lambda: self.now)
        linker.remember_link_token(USER_1, "link-token-1")
        start = linker.start_link(self.user_a.partner_id.id, USER_1, "link-token-1")

        def event(user, nonce, result="ok"):
            return {"type": "accountLink", "mode": "active", "timestamp": 1,
                    "webhookEventId": "01X", "replyToken": "r" * 32,
                    "source": {"type": "user", "userId": user},
                    "link": {"result": result, "nonce": nonce}}

        stranger = linker.complete_link(event(USER_2, start.nonce))
        self.assertEqual(stranger.status, LinkStatus.USER_MISMATCH)
        replay = linker.complete_link(event(USER_1, start.nonce))
        self.assertEqual(replay.status, LinkStatus.USED_NONCE,
                         "a nonce that reached the wrong LINE user is burnt")
        start = linker.start_link(self.user_a.partner_id.id, USER_1, "link-token-1")
        self.assertEqual(linker.complete_link(event(USER_1, start.nonce)).status,
                         LinkStatus.LINKED)
        self.assertEqual(linker.complete_link(event(USER_1, start.nonce)).status,
                         LinkStatus.USED_NONCE)
        self.assertEqual(linker.customer_for(USER_1), str(self.user_a.partner_id.id))

    def test_get_or_create_is_one_upsert_with_the_model_defaults(self):
        Identity = self.env["line.identity"]
        first = Identity._line_get_or_create(self.channel, USER_1)
        self.assertEqual((first.follow_state, first.linked, first.rich_menu_state,
                          first.company_id), ("unknown", False, "pending",
                                              self.channel.company_id))
        self.assertEqual(Identity._line_get_or_create(self.channel, USER_1), first)
        self.assertEqual(Identity.search_count([("line_user_id", "=", USER_1)]), 1)
        # a LINE Login link of a user never seen creates the identity linked, in one statement
        self.storage.add_link(LinkRecord(self.key, USER_2, str(self.user_a.partner_id.id),
                                         "line_login", self.now))
        second = Identity.search([("line_user_id", "=", USER_2)])
        self.assertEqual((second.linked, second.partner_id, second.link_method,
                          second.follow_state), (True, self.user_a.partner_id, "line_login",
                                                 "unknown"))
        self.assertEqual(Identity._line_get_or_create(self.channel, USER_2), second)

    def test_event_retry_bookkeeping(self):
        self.assertTrue(self.storage.remember_event("01RETRY", self.key, '{"type":"follow"}',
                                                    self.now))
        self.assertTrue(self.storage.claim_event("01RETRY", self.now))
        self.storage.retry_event("01RETRY", self.now + 60, "LineCallFailed: 500")
        event = self.env["line.webhook.event"].search([("event_id", "=", "01RETRY")])
        self.assertEqual((event.state, event.attempts, event.error),
                         ("pending", 1, "LineCallFailed: 500"))
        self.assertEqual(self.storage.pending_events(now=self.now + 59), [])
        [record] = self.storage.pending_events(now=self.now + 60)
        self.assertEqual((record.attempts, round(record.next_try)), (1, round(self.now + 60)))
