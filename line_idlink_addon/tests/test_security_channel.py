from lxml import etree

from odoo.tests import HttpCase, new_test_user, tagged

from line_emulator.login_authorize import AuthorizeError

from .security_common import SecurityCommon

EVIL = "http://evil.example"
DESTINATIONS = ("api_base", "auth_base")


@tagged("post_install", "-at_install", "line_idlink")
class TestChannelSecretDestinations(SecurityCommon, HttpCase):
    """Issue 8, point 2: the URLs the channel's secrets are sent to are system administrators'
    business; a LINE Administrator neither reads nor changes them, over JSON-RPC, yet uses the
    channel form and "Test connection". Point 16: the form shows the LINE Login callback URL."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.line_admin = new_test_user(cls.env, login="sec_channel_admin",
                                       groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.sysadmin = new_test_user(cls.env, login="sec_channel_system",
                                     groups="base.group_user,base.group_system,"
                                            "line_idlink_addon.group_line_admin")

    def setUp(self):
        super().setUp()
        self.emu = self.start_wall_clock_emulator()
        self.configured = self.channel.api_base

    def destinations(self):
        self.env.invalidate_all()
        return {name: self.channel[name] for name in DESTINATIONS}

    def test_line_admin_cannot_read_or_write_where_secrets_go(self):
        before = self.destinations()
        self.assertEqual(before, {"api_base": self.configured, "auth_base": self.configured})
        channel_count = self.env["line.channel"].search_count([])
        self.authenticate("sec_channel_admin", "sec_channel_admin")
        channel = self.channel.id
        self.assertEqual(self.rpc("line.channel", "read", [[channel], ["name"]])[0]["name"],
                         "Test OA", "the channel itself is readable")
        for name in DESTINATIONS:
            with self.subTest(field=name):
                self.assertIn(name, self.rpc_refused("line.channel", "read", [[channel], [name]]))
                self.rpc_refused("line.channel", "search_read", [[], [name]])
                self.rpc_refused("line.channel", "web_read", [[channel]],
                                 {"specification": {name: {}}})
                self.assertIn(name, self.rpc_refused("line.channel", "write",
                                                     [[channel], {name: EVIL}]))
                self.rpc_refused("line.channel", "create", [{
                    "name": "Evil OA", "line_channel_id": "1650009999", name: EVIL}])
                self.rpc_refused("line.channel", "create", [{
                    "name": "Evil OA", "line_channel_id": "1650009999"}],
                    context={f"default_{name}": EVIL})
                fields = self.rpc("line.channel", "fields_get", [], {"attributes": ["type"]})
                self.assertNotIn(name, fields, "not even listed")
        self.assertEqual(self.destinations(), before, "nothing changed")
        self.assertEqual(self.env["line.channel"].search_count([]), channel_count)

        # "Test connection" still works for them, against the configured URL
        calls = len(self.emu.requests_for("getBotInfo"))
        body = self.call_button("line.channel", "action_test_connection", channel)
        self.assertNotIn("error", body, body.get("error"))
        self.assertEqual(body["result"]["params"]["type"], "success", body["result"])
        self.assertEqual(len(self.emu.requests_for("getBotInfo")), calls + 1,
                         "the configured emulator answered")

    def test_channel_form_loads_for_line_admin(self):
        self.authenticate("sec_channel_admin", "sec_channel_admin")
        views = self.rpc("line.channel", "get_views", [[[False, "form"]]])
        arch = etree.fromstring(views["views"]["form"]["arch"])
        names = {node.get("name") for node in arch.iter("field")}
        self.assertFalse(names & set(DESTINATIONS), "hidden from the form")
        self.assertIn("webhook_url", names)
        self.assertIn("login_callback_url", names)
        # the web client reads every field of the form: no access error
        fields = views["models"]["line.channel"]["fields"]
        record = self.rpc("line.channel", "web_read", [[self.channel.id]],
                          {"specification": {name: {} for name in fields
                                             if name not in ("identity_ids", "rich_menu_ids",
                                                             "rich_menu_rule_ids",
                                                             "message_ids", "activity_ids",
                                                             "message_follower_ids",
                                                             "website_message_ids")}})[0]
        base = self.env["ir.config_parameter"].get_param("web.base.url").rstrip("/")
        self.assertEqual(record["login_callback_url"], f"{base}/line/login/callback")
        self.assertEqual(record["webhook_url"], f"{base}/line/webhook/{self.channel.id}")
        # a new channel's form (defaults, onchange) works too
        self.rpc("line.channel", "onchange", [[], {}, [], {name: {} for name in fields
                                                          if name in ("name", "company_id",
                                                                      "login_callback_url")}])
        created = self.rpc("line.channel", "create", [{"name": "Second OA",
                                                       "line_channel_id": "1650000002"}])
        self.env.invalidate_all()
        second = self.env["line.channel"].browse(created)
        self.assertEqual(second.api_base, "https://api.line.me", "LINE's, by default")

    def test_system_admin_sets_where_secrets_go(self):
        self.authenticate("sec_channel_system", "sec_channel_system")
        self.rpc("line.channel", "write", [[self.channel.id],
                                           {"auth_base": "https://access.line.me"}])
        record = self.rpc("line.channel", "read", [[self.channel.id], list(DESTINATIONS)])[0]
        self.assertEqual(record["auth_base"], "https://access.line.me")
        self.assertEqual(record["api_base"], self.configured)

    def test_line_login_callback_url_is_the_one_line_must_accept(self):
        """The URL shown on the form, registered as the only callback URL at LINE (the emulator
        refuses any other), lets a customer link with LINE Login."""
        self.authenticate("sec_channel_admin", "sec_channel_admin")
        shown = self.rpc("line.channel", "read", [[self.channel.id], ["login_callback_url"]])
        self.emu.config.login_callback_urls[:] = [shown[0]["login_callback_url"]]
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_line_login("line_portal_a", aiko)
        identity = self.env["line.identity"].search([("line_user_id", "=", aiko.user_id)])
        self.assertTrue(identity.linked)
        # a different registered URL: LINE refuses to send the customer back to Odoo
        self.emu.config.login_callback_urls[:] = ["https://elsewhere.example/callback"]
        self.authenticate("line_portal_b", "line_portal_b")
        with self.assertRaises(AuthorizeError):
            self.line_login_location(self.emu.add_user("Bunta LINE"), "link")
