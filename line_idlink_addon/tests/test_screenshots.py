import base64
import os
import pathlib

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from .common import LineCommon

# Set to a folder (e.g. <repo>/docs/screenshots) to save the README screenshots there.
SCREENSHOTS_ENV = "LINE_IDLINK_SCREENSHOTS"


@tagged("post_install", "-at_install", "line_idlink")
class TestScreens(LineCommon, HttpCase):
    """The three README pages render in Chromium (and are saved when LINE_IDLINK_SCREENSHOTS
    names a folder)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.channel.write({"name": "Sakura Shop", "login_channel_id": "2006000001",
                           "login_channel_secret": "f" * 32})
        cls.agent = new_test_user(cls.env, login="line_agent", name="Line Agent",
                                  groups="base.group_user,base.group_partner_manager,"
                                         "line_idlink_addon.group_line_admin")
        cls.env["line.identity"]._line_link_protocol().create({
            "channel_id": cls.channel.id, "line_user_id": "U" + "4af4980629" * 3 + "ab",
            "name": "Aiko LINE", "partner_id": cls.user_a.partner_id.id, "linked": True,
            "follow_state": "followed", "link_method": "line_login", "language": "ja",
            "linked_since": "2026-11-01 09:00:00", "last_event_at": "2026-11-02 00:00:00"})

    def capture(self, login, url, tour, name):
        """Run ``tour`` and capture the page just before Odoo closes Chromium."""
        shots = []
        original_stop = ChromeBrowser.stop

        def stop(browser):
            if browser.ws is not None and not shots:
                shot = browser._websocket_request("Page.captureScreenshot",
                                                  params={"format": "png"}, timeout=30)
                shots.append(base64.b64decode(shot["data"]))
            return original_stop(browser)

        self.patch(ChromeBrowser, "stop", stop)
        self.start_tour(url, tour, login=login)
        self.patch(ChromeBrowser, "stop", original_stop)
        self.assertTrue(shots and shots[0].startswith(b"\x89PNG"), f"{name}: no screenshot")
        folder = os.environ.get(SCREENSHOTS_ENV)
        if folder:
            pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
            (pathlib.Path(folder) / name).write_bytes(shots[0])

    def test_screens(self):
        self.capture("admin", f"/odoo/line.channel/{self.channel.id}",
                     "line_idlink_screen_settings", "odoo-settings.png")
        self.capture("line_agent", f"/odoo/res.partner/{self.user_a.partner_id.id}",
                     "line_idlink_screen_partner", "odoo-partner-line-tab.png")
        self.capture("line_portal_a", "/my/line", "line_idlink_screen_portal",
                     "odoo-portal-my-line.png")
