from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .security_common import SecurityCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestChatSettingsSecurity(SecurityCommon, HttpCase):
    """What the bot answers in the chat (keywords, the default answer) is set by LINE
    Administrators only: LINE users read it, portal users not even that, over JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        new_test_user(cls.env, login="sec_chat_user",
                      groups="base.group_user,line_idlink_addon.group_line_user")
        new_test_user(cls.env, login="sec_chat_admin",
                      groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.keyword = cls.env["line.chat.keyword"].create({
            "channel_id": cls.channel.id, "action": "link", "keywords": "連携"})

    def state(self):
        self.env.invalidate_all()
        return (self.channel.unhandled_reply,
                self.env["line.chat.keyword"].search([]).mapped(lambda k: (k.action, k.keywords)))

    def test_line_user_reads_but_cannot_change_the_chat_settings(self):
        before = self.state()
        self.authenticate("sec_chat_user", "sec_chat_user")
        [row] = self.rpc("line.chat.keyword", "search_read", [[], ["action", "keywords"]])
        self.assertEqual((row["action"], row["keywords"]), ("link", "連携"))
        self.rpc_refused("line.chat.keyword", "write", [[self.keyword.id], {"keywords": "x"}])
        self.rpc_refused("line.chat.keyword", "create", [{
            "channel_id": self.channel.id, "action": "unlink", "keywords": "x"}])
        self.rpc_refused("line.chat.keyword", "unlink", [[self.keyword.id]])
        self.rpc_refused("line.channel", "write", [[self.channel.id],
                                                   {"unhandled_reply": "Call us!"}])
        self.assertEqual(self.state(), before, "nothing changed")

    def test_portal_user_cannot_read_the_keywords(self):
        self.authenticate("line_portal_a", "line_portal_a")
        self.rpc_refused("line.chat.keyword", "search_read", [[], ["keywords"]])
        self.rpc_refused("line.chat.keyword", "write", [[self.keyword.id], {"keywords": "x"}])

    def test_line_admin_sets_them(self):
        self.authenticate("sec_chat_admin", "sec_chat_admin")
        self.rpc("line.chat.keyword", "write", [[self.keyword.id], {"keywords": "つなぐ"}])
        self.rpc("line.channel", "write", [[self.channel.id], {"unhandled_reply": "Call us!"}])
        with mute_logger("odoo.sql_db"):  # the unique constraint's refusal
            message = self.rpc_refused("line.chat.keyword", "create", [{
                "channel_id": self.channel.id, "action": "link", "keywords": "x"}],
                error="odoo.exceptions.ValidationError")
        self.assertIn("one keyword list per action", message)
        self.assertEqual(self.state(), ("Call us!", [("link", "つなぐ")]))
