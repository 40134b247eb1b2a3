import datetime

import requests

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..lib.pg_ratelimit import WINDOW_MARGIN
from .rich_menu_common import RichMenuCommon

HOUR = 3600


def ceil_minute(moment):
    if moment.second or moment.microsecond:
        return moment.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    return moment


@tagged("post_install", "-at_install", "line_idlink")
class TestRichMenuLimits(RichMenuCommon, HttpCase):
    """LINE's rate limits and failures as users meet them: the channel's real rate limiter runs
    on the emulator's clock (only the clock and the sleep are injected)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def crowd(self, count):
        """``count`` friends of the bot, each linked to a customer of their own."""
        users = [self.emu.add_user(f"User {i}") for i in range(count)]
        for user in users:
            user.follow()
        partners = self.env["res.partner"].create([{"name": u.display_name} for u in users])
        self.env["line.identity"]._line_link_protocol().create([{
            "channel_id": self.channel.id, "line_user_id": u.user_id, "partner_id": p.id,
            "linked": True, "follow_state": "followed"} for u, p in zip(users, partners)])
        return users

    def endpoints_since(self, start):
        return [entry["endpoint"] for entry in self.rich_menu_calls()[start:]]

    def cron_triggers_at(self, moment):
        cron = self.env.ref("line_idlink_addon.ir_cron_line_rich_menus")
        return self.env["ir.cron.trigger"].sudo().search_count(
            [("cron_id", "=", cron.id), ("call_at", "=", moment)])

    # ---- LINE's batch limit (3 an hour) -----------------------------------------------------------
    def test_fourth_everyone_moves_within_an_hour_uses_bulk_calls(self):
        menu_a, menu_b = self.make_menu("Menu A"), self.make_menu("Menu B")
        (menu_a | menu_b).action_publish()
        rule = self.rule("linked", menu_a)
        users = self.crowd(1000)
        self.run_rich_menu_cron()
        self.emu.advance(0)  # bulk links are applied by LINE after their 202
        self.assertEqual({self.shown(u) for u in users}, {(menu_a.line_rich_menu_id, "user")})
        started = self.emu.clock.now()
        moves = [(menu_b, ["richMenuBatch"]), (menu_a, ["richMenuBatch"]),
                 (menu_b, ["richMenuBatch"]),
                 # no batch slot left this hour: two bulk calls of 500, no waiting
                 (menu_a, ["linkRichMenuIdToUsers", "linkRichMenuIdToUsers"])]
        for number, (menu, endpoints) in enumerate(moves, start=1):
            with self.subTest(move=number):
                start = len(self.rich_menu_calls())
                rule.rich_menu_id = menu  # everyone moves
                report = self.run_rich_menu_cron()
                self.emu.advance(0)
                self.assertEqual(report, 1000)
                self.assertEqual(self.endpoints_since(start), endpoints)
                self.assertEqual({self.shown(u) for u in users},
                                 {(menu.line_rich_menu_id, "user")})
                self.assertEqual(self.env["line.identity"].search_count(
                    [("rich_menu_applied_id", "=", menu.line_rich_menu_id),
                     ("rich_menu_state", "=", "ok")]), 1000)
        self.assertEqual(len(self.emu.requests_for("richMenuBatch")), 3)
        self.assertLess(self.emu.clock.now() - started, 60,
                        "the fourth move did not wait for the next batch slot")

    # ---- failed switches: backoff, then the nightly run --------------------------------------------
    def test_failed_switch_backs_off_1_2_4_minutes_then_waits_for_the_nightly_run(self):
        menu = self.make_menu("Members")
        menu.action_publish()
        self.rule("linked", menu)
        aiko = self.friend()
        identity = self.linked_identity(aiko, self.user_a.partner_id)
        self.emu.faults.add({"endpoint": "linkRichMenuIdToUser", "status": 500,
                             "body": {"message": "LINE is down"}})
        delays = [60, 120, 240, 480, 960, 1920, 3840]  # 1 min, doubling (cap 6 h not reached)
        for attempt in range(1, 9):
            with self.subTest(attempt=attempt):
                tried = len(self.emu.requests_for("linkRichMenuIdToUser"))
                before = fields.Datetime.now()
                self.run_rich_menu_cron()
                after = fields.Datetime.now()
                self.assertGreater(len(self.emu.requests_for("linkRichMenuIdToUser")), tried,
                                   "LINE was called again")
                identity.invalidate_recordset()
                self.assertEqual((identity.rich_menu_state, identity.rich_menu_attempts),
                                 ("error", attempt))
                self.assertTrue(before <= identity.write_date <= after)
                if attempt == 8:
                    self.assertFalse(identity.rich_menu_retry_at,
                                     "after 8 attempts only the nightly run tries again")
                    break
                delay = datetime.timedelta(seconds=delays[attempt - 1])
                self.assertEqual(identity.rich_menu_retry_at - identity.write_date, delay)
                self.assertEqual(self.cron_triggers_at(identity.rich_menu_retry_at), 1,
                                 "the cron is woken at the retry time")
                tried_now = len(self.emu.requests_for("linkRichMenuIdToUser"))
                self.run_rich_menu_cron()
                self.assertEqual(len(self.emu.requests_for("linkRichMenuIdToUser")), tried_now,
                                 "not retried before its time")
                # the retry time comes
                identity.sudo().write({"rich_menu_retry_at": before - datetime.timedelta(
                    seconds=1)})
        self.assertEqual(identity.rich_menu_error,
                         "linkRichMenuIdToUser: HTTP 500: gave up after 3 attempt(s), last: LINE is "
                         "down")
        self.assertEqual(self.shown(aiko), (None, None))
        tried = len(self.emu.requests_for("linkRichMenuIdToUser"))
        self.run_rich_menu_cron()
        self.assertEqual(len(self.emu.requests_for("linkRichMenuIdToUser")), tried,
                         "the hourly cron leaves it alone")
        self.emu.faults.clear()
        self.env.ref("line_idlink_addon.ir_cron_line_rich_menus_nightly").method_direct_trigger()
        identity.invalidate_recordset()
        self.assertEqual((identity.rich_menu_state, identity.rich_menu_attempts,
                          identity.rich_menu_retry_at, identity.rich_menu_error),
                         ("ok", 0, False, False))
        self.assertEqual(self.shown(aiko), (menu.line_rich_menu_id, "user"))

    # ---- the nightly reconcile ---------------------------------------------------------------------
    def test_nightly_reconcile_puts_back_menus_changed_on_line(self):
        unlinked, linked, other = (self.make_menu(name) for name in ("Not linked", "Linked",
                                                                     "Campaign"))
        (unlinked | linked | other).action_publish()
        self.rule("default", unlinked, sequence=100)
        self.rule("linked", linked, sequence=50)
        aiko, bunta, chika = self.friend("Aiko"), self.friend("Bunta"), self.friend("Chika")
        self.linked_identity(aiko, self.user_a.partner_id)
        self.linked_identity(bunta, self.user_b.partner_id)
        self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": chika.user_id, "name": "Chika",
            "follow_state": "followed"})
        self.run_rich_menu_cron()
        self.emu.advance(0)
        right = {aiko: (linked.line_rich_menu_id, "user"),
                 bunta: (linked.line_rich_menu_id, "user"),
                 chika: (unlinked.line_rich_menu_id, "default")}
        self.assertEqual({u: self.shown(u) for u in right}, right)
        # another tool changes menus on LINE directly: Odoo's records still say "ok"
        api = self.channel.sudo().api_base
        headers = {"Authorization": f"Bearer {self.emu.config.access_token}"}
        for user in (aiko, chika):
            response = requests.post(
                f"{api}/v2/bot/user/{user.user_id}/richmenu/{other.line_rich_menu_id}",
                headers=headers, timeout=10)
            self.assertEqual(response.status_code, 200)
        response = requests.delete(f"{api}/v2/bot/user/{bunta.user_id}/richmenu",
                                   headers=headers, timeout=10)
        self.assertEqual(response.status_code, 200)
        drifted = {aiko: (other.line_rich_menu_id, "user"),
                   bunta: (unlinked.line_rich_menu_id, "default"),
                   chika: (other.line_rich_menu_id, "user")}
        self.assertEqual({u: self.shown(u) for u in right}, drifted)
        self.run_rich_menu_cron()
        self.assertEqual({u: self.shown(u) for u in right}, drifted,
                         "the hourly cron only applies what changed in Odoo")
        self.env.ref("line_idlink_addon.ir_cron_line_rich_menus_nightly").method_direct_trigger()
        self.emu.advance(0)
        self.assertEqual({u: self.shown(u) for u in right}, right)
        self.assertEqual(self.env["line.identity"].search_count(
            [("channel_id", "=", self.channel.id), ("rich_menu_state", "=", "ok")]), 3)

    # ---- Republish never waits for the rate limit --------------------------------------------------
    def test_republish_at_the_rate_limit_is_queued_and_the_user_told_when(self):
        menu, users = self.published_members_menu()
        self.run_rich_menu_cron()
        self.emu.advance(0)
        old_id = menu.line_rich_menu_id
        self.assertEqual([self.shown(u) for u in users], [(old_id, "user")] * 2)
        # this hour's 100 new menus are used up (another menu, another worker...)
        limiter = self.limiter()
        while not limiter.delay_for("createRichMenu"):
            limiter.acquire("createRichMenu")
        self.emu.advance(600)  # LINE allows the next one in 50 minutes (+ the shared
        # limiter's safety margin, lib/pg_ratelimit.WINDOW_MARGIN)
        self.assertEqual(limiter.delay_for("createRichMenu"), HOUR - 600 + WINDOW_MARGIN)
        self.env.flush_all()
        clock, calls = self.emu.clock.now(), len(self.rich_menu_calls())
        self.authenticate("admin", "admin")
        before = fields.Datetime.now()
        result = self.make_jsonrpc_request(
            "/web/dataset/call_button/line.rich.menu/action_republish",
            {"model": "line.rich.menu", "method": "action_republish", "args": [[menu.id]],
             "kwargs": {"context": {"lang": "en_US", "tz": "Asia/Tokyo"}}})
        after = fields.Datetime.now()
        self.assertEqual(self.emu.clock.now(), clock, "the button never waited")
        self.assertEqual(len(self.rich_menu_calls()), calls, "nothing sent to LINE")
        menu.invalidate_recordset()
        self.assertTrue(menu.republish_pending)
        self.assertEqual((menu.state, menu.line_rich_menu_id), ("published", old_id))
        wait = datetime.timedelta(seconds=HOUR - 600 + WINDOW_MARGIN)
        self.assertTrue(ceil_minute(before + wait) <= menu.republish_at
                        <= ceil_minute(after + wait), menu.republish_at)
        tokyo = menu.republish_at + datetime.timedelta(hours=9)
        self.assertEqual(result["tag"], "display_notification")
        self.assertEqual(result["params"]["title"], "Republish queued")
        self.assertEqual(result["params"]["type"], "warning")
        self.assertEqual(result["params"]["message"],
                         "LINE allows no new rich menu right now (at most 100 an hour). Members "
                         f"will be republished at {tokyo:%Y-%m-%d %H:%M} (Asia/Tokyo).")
        self.assertEqual(self.cron_triggers_at(menu.republish_at), 1, "the cron is woken then")
        # the cron runs before the limit allows it: nothing sent, still queued
        self.run_rich_menu_cron()
        self.assertEqual(len(self.rich_menu_calls()), calls)
        self.assertTrue(menu.republish_pending)
        # LINE's hour has passed: the cron republishes and moves the users
        self.emu.advance(HOUR - 600 + WINDOW_MARGIN)
        self.run_rich_menu_cron()
        self.emu.advance(0)
        menu.invalidate_recordset()
        self.assertFalse(menu.republish_pending)
        self.assertFalse(menu.republish_at)
        self.assertNotEqual(menu.line_rich_menu_id, old_id)
        self.assertIsNone(self.emu.richmenus.menu(old_id), "the old LINE menu is deleted")
        self.assertEqual([self.shown(u) for u in users], [(menu.line_rich_menu_id, "user")] * 2)
        self.assertEqual(menu.message_ids.filtered("body")[0].body,
                         f"<p>Republished: 2 user(s) moved, old LINE menu {old_id} deleted.</p>")
