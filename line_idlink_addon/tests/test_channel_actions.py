import json

import requests

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestChannelActions(LineCommon, HttpCase):
    """The back-office buttons an administrator presses, through the web client's JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.emu = emu = self.start_line_emulator()
        # LINE calls wait (backoff) on the emulator's clock instead of sleeping
        self.patch(type(self.env["line.channel"]), "_line_time",
                   lambda channel: {"clock": emu.clock.now, "sleep": emu.advance})
        self.env.flush_all()
        self.authenticate("admin", "admin")

    def press(self, record, method):
        """Press a button as the web client does; the JSON-RPC result (or error object)."""
        response = self.url_open(
            f"/web/dataset/call_button/{record._name}/{method}",
            data=json.dumps({"id": 0, "jsonrpc": "2.0", "method": "call", "params": {
                "model": record._name, "method": method, "args": [[record.id]],
                "kwargs": {"context": {"lang": "en_US"}}}}).encode(),
            headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        body = response.json()
        return body["result"] if "result" in body else body["error"]

    def channel_notes(self):
        self.channel.invalidate_recordset()
        return self.channel.message_ids.filtered("body")  # not the tracking messages

    # ---- Test connection ------------------------------------------------------------------------
    def test_connection_names_the_bot_and_the_quota(self):
        self.emu.messaging.bot_display_name = "Shop Bot"
        self.emu.config.quota = 1000
        bot = requests.get(f"{self.channel.sudo().api_base}/v2/bot/info", timeout=10, headers={
            "Authorization": f"Bearer {self.emu.config.access_token}"}).json()
        aiko = self.emu.add_user("Aiko")
        aiko.follow()
        with self.channel._line_api() as api:
            self.assertTrue(api.push(aiko.user_id, [{"type": "text", "text": "hello"}]).ok)
        result = self.press(self.channel, "action_test_connection")
        message = (f"Bot Shop Bot ({bot['basicId']}) answers. Messages this month: 1 of 1000.")
        self.assertEqual(result["params"], {"title": "Connection OK", "message": message,
                                            "type": "success", "sticky": False})
        self.assertEqual(self.channel_notes()[0].body, f"<p>{message}</p>")
        # no quota set on LINE
        self.emu.config.quota = None
        result = self.press(self.channel, "action_test_connection")
        self.assertEqual(result["params"]["message"], f"Bot Shop Bot ({bot['basicId']}) answers."
                                                      " Messages this month: 1 of unlimited.")

    def test_connection_failure_is_shown_and_noted(self):
        self.emu.faults.add({"endpoint": "getBotInfo", "status": 500,
                             "body": {"message": "LINE is down"}})
        notes = len(self.channel_notes())
        result = self.press(self.channel, "action_test_connection")
        error = "getBotInfo: HTTP 500: gave up after 3 attempt(s), last: LINE is down"
        self.assertEqual(result["params"], {"title": "Connection failed", "message": error,
                                            "type": "danger", "sticky": False})
        self.assertEqual(len(self.channel_notes()), notes + 1)
        self.assertEqual(self.channel_notes()[0].body,
                         f"<p>Connection test failed: {error}</p>")
        # a wrong channel access token
        self.emu.faults.clear()
        self.channel.sudo().access_token = "not-the-token"
        self.env.flush_all()
        result = self.press(self.channel, "action_test_connection")
        self.assertEqual(result["params"]["title"], "Connection failed")
        self.assertEqual(result["params"]["message"],
                         "getBotInfo: HTTP 401: Authentication failed. Confirm that the access "
                         "token in the authorization header is valid.")
        self.assertEqual(self.channel_notes()[0].body,
                         f"<p>Connection test failed: {result['params']['message']}</p>")

    # ---- Refresh profile --------------------------------------------------------------------------
    def identity_of(self, user):
        aiko_id = self.env["line.identity"].search([("line_user_id", "=", user.user_id)])
        self.assertEqual(len(aiko_id), 1)
        return aiko_id

    def test_refresh_profile_takes_the_new_name_and_picture(self):
        aiko = self.emu.add_user("Aiko", picture_url="https://profile.line-scdn.net/old")
        aiko.follow()
        self.deliver()
        identity = self.identity_of(aiko)
        self.assertEqual((identity.name, identity.picture_url),
                         ("Aiko", "https://profile.line-scdn.net/old"))
        # the user changes name and picture in LINE
        aiko.record.display_name = "Aiko Tanaka"
        aiko.record.picture_url = "https://profile.line-scdn.net/new"
        self.assertEqual(self.press(identity, "action_refresh_profile"), False)
        identity.invalidate_recordset()
        self.assertEqual((identity.name, identity.picture_url),
                         ("Aiko Tanaka", "https://profile.line-scdn.net/new"))

    def test_refresh_profile_failure_is_a_clear_error_and_changes_nothing(self):
        aiko = self.emu.add_user("Aiko", picture_url="https://profile.line-scdn.net/old")
        aiko.follow()
        self.deliver()
        identity = self.identity_of(aiko)
        aiko.record.display_name = "Aiko Tanaka"
        aiko.record.picture_url = "https://profile.line-scdn.net/new"
        self.emu.faults.add({"endpoint": "getProfile", "status": 500,
                             "body": {"message": "LINE is down"}})
        with mute_logger("odoo.http"):
            error = self.press(identity, "action_refresh_profile")
        self.assertEqual((error["data"]["name"], error["data"]["message"]), (
            "odoo.exceptions.UserError",
            "LINE did not answer: getProfile: HTTP 500: gave up after 3 attempt(s), "
            "last: LINE is down"))
        identity.invalidate_recordset()
        self.assertEqual((identity.name, identity.picture_url),
                         ("Aiko", "https://profile.line-scdn.net/old"))
