import datetime

from odoo import fields
from odoo.tests import HttpCase, tagged

from line_idlink.postbacks import POSTBACK_LINK, POSTBACK_UNLINK_CONFIRM

from .rich_menu_common import RichMenuCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestRichMenuSwitching(RichMenuCommon, HttpCase):
    """Who sees which menu: rules, priorities, link/unlink/follow, partner changes, bulk."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.unlinked = self.make_menu("Not linked")
        self.linked = self.make_menu("Linked")
        (self.unlinked | self.linked).action_publish()
        self.rule("default", self.unlinked, sequence=100)
        self.linked_rule = self.rule("linked", self.linked, sequence=50)
        self.run_rich_menu_cron()

    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def test_link_and_unlink_switch_in_the_same_cron_run(self):
        aiko = self.friend()
        self.deliver()
        identity = self.identity(aiko)
        self.assertEqual(self.shown(aiko), (self.unlinked.line_rich_menu_id, "default"))
        self.assertEqual((identity.rich_menu_id, identity.rich_menu_rule_id.role),
                         (self.unlinked, "default"))
        aiko.postback(POSTBACK_LINK)
        self.deliver()
        token = self.link_token_from(aiko.inbox)
        self.authenticate("line_portal_a", "line_portal_a")
        page = self.url_open(f"/line/link?linkToken={token}")
        response = self.url_open("/line/link/confirm", data={
            "csrf_token": self.csrf_from(page.text), "linkToken": token}, allow_redirects=False)
        aiko.account_link(token, self.nonce_from(response.headers["Location"]))
        self.deliver()  # ONE run of the event cron: link stored and menu switched
        self.assertEqual(self.shown(aiko), (self.linked.line_rich_menu_id, "user"))
        self.assertEqual(len(self.emu.requests_for("linkRichMenuIdToUser")), 1, "a per-user link")
        identity.invalidate_recordset()
        self.assertEqual((identity.rich_menu_id, identity.rich_menu_rule_id, identity.rich_menu_state),
                         (self.linked, self.linked_rule, "ok"))
        aiko.postback(POSTBACK_UNLINK_CONFIRM)
        self.deliver()
        self.assertEqual(self.shown(aiko), (self.unlinked.line_rich_menu_id, "default"),
                         "unlinked: no per-user menu, LINE's default shows")
        self.assertEqual(len(self.emu.requests_for("unlinkRichMenuIdFromUser")), 1)
        identity.invalidate_recordset()
        self.assertEqual(identity.rich_menu_id, self.unlinked)

    def test_segment_rule_beats_linked_by_priority_and_follows_partner_changes(self):
        vip_menu = self.make_menu("VIP")
        vip_menu.action_publish()
        segment = self.rule("segment", vip_menu, sequence=10, domain="[('ref', '=', 'VIP')]",
                            name="VIP customers")
        aiko, bunta = self.friend("Aiko"), self.friend("Bunta")
        ident_a = self.linked_identity(aiko, self.user_a.partner_id)
        ident_b = self.linked_identity(bunta, self.user_b.partner_id)
        self.user_a.partner_id.ref = "VIP"
        self.run_rich_menu_cron()
        self.assertEqual(self.shown(aiko), (vip_menu.line_rich_menu_id, "user"))
        self.assertEqual(self.shown(bunta), (self.linked.line_rich_menu_id, "user"))
        self.assertEqual(ident_a.rich_menu_rule_id, segment, "the form says why")
        # a partner field used by the rule changes: Bunta moves into the segment
        self.user_b.partner_id.write({"ref": "VIP"})
        self.assertEqual(ident_b.rich_menu_state, "pending")
        self.run_rich_menu_cron()
        self.assertEqual(self.shown(bunta), (vip_menu.line_rich_menu_id, "user"))
        # a field no rule reads does not recompute anyone
        self.user_b.partner_id.write({"comment": "nice"})
        self.assertEqual(ident_b.rich_menu_state, "ok")
        # priority: the segment after the linked rule no longer wins
        segment.sequence = 60
        self.run_rich_menu_cron()
        self.emu.advance(0)  # two users to one menu: a bulk call, applied asynchronously
        self.assertEqual(self.shown(aiko), (self.linked.line_rich_menu_id, "user"))
        self.assertEqual(ident_a.rich_menu_rule_id, self.linked_rule)

    def test_1203_users_with_three_bulk_calls_then_one_batch(self):
        users = [self.emu.add_user(f"User {i}") for i in range(1203)]
        for user in users:
            user.follow()
        partners = self.env["res.partner"].create([{"name": u.display_name} for u in users])
        self.env["line.identity"]._line_link_protocol().create([{
            "channel_id": self.channel.id, "line_user_id": u.user_id, "partner_id": p.id,
            "linked": True, "follow_state": "followed"} for u, p in zip(users, partners)])
        report = self.channel._line_reconcile_rich_menus()
        bulk = self.emu.requests_for("linkRichMenuIdToUsers")
        self.assertEqual(len(bulk), 3)
        self.assertEqual(sorted(users for _op, users, _rid in report["calls"]), [203, 500, 500])
        self.assertEqual((report["switched"], report["failed"]), (1203, 0))
        self.emu.advance(0)
        self.assertEqual({self.shown(u) for u in users}, {(self.linked.line_rich_menu_id, "user")})
        # republishing moves all 1,203 from the old menu to the new one with ONE batch call,
        # polled until done (the poll advances the emulator's frozen clock)
        old_id = self.linked.line_rich_menu_id
        self.linked.action_republish()
        self.assertEqual(len(self.emu.requests_for("richMenuBatch")), 1)
        self.assertEqual(len(self.emu.requests_for("linkRichMenuIdToUsers")), 3, "no new bulk")
        self.assertTrue(self.emu.requests_for("getRichMenuBatchProgress"))
        self.assertEqual({self.shown(u) for u in users}, {(self.linked.line_rich_menu_id, "user")})
        self.assertNotEqual(self.linked.line_rich_menu_id, old_id)
        self.assertEqual(self.env["line.identity"].search_count(
            [("rich_menu_applied_id", "=", self.linked.line_rich_menu_id)]), 1203)

    def test_failures_are_recorded_and_retried(self):
        aiko = self.friend()
        identity = self.linked_identity(aiko, self.user_a.partner_id)
        self.emu.faults.add({"endpoint": "linkRichMenuIdToUser", "status": 400,
                             "body": {"message": "broken on purpose"}, "times": 1})
        identity._line_rich_menu_refresh(apply_now=True)
        identity.invalidate_recordset()
        error = "linkRichMenuIdToUser: HTTP 400: broken on purpose"
        self.assertEqual((identity.rich_menu_state, identity.rich_menu_error,
                          identity.rich_menu_attempts), ("error", error, 1))
        self.assertEqual(identity.rich_menu_retry_at - identity.write_date,
                         datetime.timedelta(minutes=1), "first retry after one minute")
        self.assertEqual(self.channel.message_ids.filtered("body")[0].body,
                         f"<p>Rich menus not switched for 1 LINE user(s): {error}</p>",
                         "visible on the channel")
        self.run_rich_menu_cron()
        self.assertEqual(identity.rich_menu_state, "error", "not before its backoff")
        identity.sudo().write({"rich_menu_retry_at": fields.Datetime.subtract(
            fields.Datetime.now(), minutes=1)})
        self.run_rich_menu_cron()
        self.assertEqual(identity.rich_menu_state, "ok")
        self.assertEqual(self.shown(aiko), (self.linked.line_rich_menu_id, "user"))
