from odoo.tests import HttpCase, new_test_user, tagged

from .security_common import SecurityCommon

GUARD = "cannot be changed by hand"
LINK_FIELDS = ["partner_id", "line_user_id", "channel_id", "linked", "link_method",
               "linked_since", "unlinked_at"]


@tagged("post_install", "-at_install", "line_idlink")
class TestIdentityLinkGuard(SecurityCommon, HttpCase):
    """Issue 8, point 1: nobody points a LINE account at someone else over JSON-RPC.

    A LINE: User and a LINE: Administrator, each with their own LINE account, try to point it at
    a customer and at an administrator who may log in with LINE. Every attempt is refused with
    the guard's message, the database is unchanged, and "Log in with LINE" still logs in only
    the real owners."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.line_user = new_test_user(
            cls.env, login="sec_line_user", name="Mallory Staff",
            groups="base.group_user,base.group_partner_manager,line_idlink_addon.group_line_user")
        cls.line_admin = new_test_user(
            cls.env, login="sec_line_admin", name="Oscar Manager",
            groups="base.group_user,base.group_partner_manager,line_idlink_addon.group_line_admin")
        cls.boss = new_test_user(cls.env, login="sec_boss", name="Boss Admin",
                                 groups="base.group_user,base.group_system")
        cls.boss.line_login_allowed = True

    def setUp(self):
        super().setUp()
        self.emu = self.start_wall_clock_emulator()
        # the real owners link their own LINE accounts with LINE Login
        self.aiko = self.emu.add_user("Aiko LINE")
        self.boss_line = self.emu.add_user("Boss LINE")
        self.link_with_line_login("line_portal_a", self.aiko)
        self.link_with_line_login("sec_boss", self.boss_line)
        # the attackers' own LINE accounts follow the official account (identities, unlinked)
        self.mallory = self.emu.add_user("Mallory LINE")
        self.oscar = self.emu.add_user("Oscar LINE")
        self.mallory.follow()
        self.oscar.follow()
        self.deliver()
        self.identities = self.env["line.identity"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(len(self.identities), 4)

    def identity(self, sim_user):
        return self.identities.filtered(lambda i: i.line_user_id == sim_user.user_id)

    def snapshot(self):
        """Every identity's link fields, as the database holds them."""
        self.env.invalidate_all()
        identities = self.env["line.identity"].search([])
        return {i.id: tuple(str(i[name]) for name in LINK_FIELDS) for i in identities}

    def attempts(self, own_line, spare_line):
        """What an attacker whose LINE account is ``own_line`` tries over JSON-RPC."""
        own = self.identity(own_line).id
        boss_identity, aiko_identity = self.identity(self.boss_line).id, self.identity(self.aiko).id
        customer = self.user_a.partner_id.id
        boss = self.boss.partner_id.id
        takeover = {"linked": True, "link_method": "line_login",
                    "linked_since": "2026-11-01 00:00:00"}
        yield "write", [[own], dict(takeover, partner_id=customer)], {}
        yield "write", [[own], dict(takeover, partner_id=boss)], {}
        yield "write", [[own], {"partner_id": boss}], {}
        yield "write", [[own], {"linked": True}], {}
        # the boss's identity (linked) moved to a LINE account the attacker owns
        yield "write", [[boss_identity], {"line_user_id": spare_line}], {}
        yield "write", [[aiko_identity], {"unlinked_at": False, "linked_since": False}], {}
        # a new identity, linked at once
        yield "create", [{"channel_id": self.channel.id, "line_user_id": spare_line,
                          "partner_id": boss, **takeover}], {}
        # the same through the create form's defaults
        yield "create", [{"name": "x"}], {"context": {
            "default_channel_id": self.channel.id, "default_line_user_id": spare_line,
            "default_partner_id": customer, "default_linked": True}}
        # a copy of the boss's identity for another LINE account
        yield "copy", [[boss_identity], {"line_user_id": spare_line}], {}

    def test_no_user_can_point_a_line_account_at_someone_else(self):
        before = self.snapshot()
        for login, own_line, spare in (("sec_line_user", self.mallory, "U" + "d" * 32),
                                       ("sec_line_admin", self.oscar, "U" + "e" * 32)):
            self.authenticate(login, login)
            for method, args, kwargs in self.attempts(own_line, spare):
                with self.subTest(user=login, method=method, args=args, kwargs=kwargs):
                    message = self.rpc_refused("line.identity", method, args, kwargs)
                    self.assertIn(GUARD, message)
            # through the partner form's LINE tab: the one2many of the customer
            for command in ([4, self.identity(own_line).id, 0], [0, 0, {
                    "channel_id": self.channel.id, "line_user_id": spare, "linked": True}],
                    [3, self.identity(self.aiko).id, 0]):
                with self.subTest(user=login, partner_command=command):
                    message = self.rpc_refused("res.partner", "write", [
                        [self.user_a.partner_id.id], {"line_identity_ids": [command]}])
                    self.assertIn(GUARD, message)
            self.assertEqual(self.snapshot(), before, f"{login}: nothing changed")
        self.assertFalse(self.env["line.identity"].search_count(
            [("line_user_id", "in", ["U" + "d" * 32, "U" + "e" * 32])]))

        # "Log in with LINE": each LINE account opens only its real owner's session
        self.assertEqual(self.log_in_with_line(self.aiko), self.user_a.id)
        self.assertEqual(self.log_in_with_line(self.boss_line), self.boss.id)
        for attacker in (self.mallory, self.oscar):
            uid = self.log_in_with_line(attacker)
            self.assertFalse(uid, f"{attacker.display_name}: not logged in as anyone")
        self.assertEqual(self.snapshot(), before, "the failed logins linked nothing")

    def test_the_guard_message_is_clear_and_translated(self):
        self.use_japanese(self.line_admin)
        self.authenticate("sec_line_admin", "sec_line_admin")
        message = self.rpc_refused("line.identity", "write", [
            [self.identity(self.oscar).id], {"partner_id": self.boss.partner_id.id}])
        self.assertIn("LINEアカウントの連携", message)
        self.assertIn("手動では変更できません", message)

    def test_line_user_has_no_write_access_but_keeps_its_buttons(self):
        aiko = self.identity(self.aiko).id
        self.authenticate("sec_line_user", "sec_line_user")
        self.assertIn("not allowed to modify", self.rpc_refused(
            "line.identity", "write", [[aiko], {"name": "Renamed", "follow_state": "blocked"}]))
        self.assertIn("not allowed", self.rpc_refused(
            "line.identity", "action_apply_rich_menu", [[aiko]]))
        # Refresh profile (the LINE tab's button): the display name LINE knows
        self.emu.users[self.aiko.user_id].display_name = "Aiko (new name)"  # renamed on LINE
        body = self.call_button("line.identity", "action_refresh_profile", aiko)
        self.assertNotIn("error", body, body.get("error"))
        self.env.invalidate_all()
        self.assertEqual(self.identity(self.aiko).name, "Aiko (new name)")
        # Unlink: the real unlink protocol (kept as history)
        body = self.call_button("line.identity", "action_unlink_line", aiko)
        self.assertNotIn("error", body, body.get("error"))
        self.env.invalidate_all()
        self.assertFalse(self.identity(self.aiko).linked)
        self.assertEqual(self.identity(self.aiko).partner_id, self.user_a.partner_id)
        self.assertFalse(self.log_in_with_line(self.aiko), "unlinked: no LINE login")

    def test_line_admin_edits_what_is_not_the_link(self):
        oscar = self.identity(self.oscar).id
        self.authenticate("sec_line_admin", "sec_line_admin")
        self.rpc("line.identity", "write", [[oscar], {"follow_state": "blocked"}])
        body = self.call_button("line.identity", "action_apply_rich_menu", oscar)
        self.assertNotIn("error", body, body.get("error"))
        self.env.invalidate_all()
        self.assertEqual(self.identity(self.oscar).follow_state, "blocked")

    def test_portal_owner_cannot_move_own_link_either(self):
        self.authenticate("line_portal_a", "line_portal_a")
        before = self.snapshot()
        self.rpc_refused("line.identity", "write", [[self.identity(self.aiko).id],
                                                    {"partner_id": self.boss.partner_id.id}])
        self.assertEqual(self.snapshot(), before)
