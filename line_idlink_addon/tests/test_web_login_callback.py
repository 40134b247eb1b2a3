"""Issue 8 point 3: the LINE Login callback checks ``state`` first and never shows the text of
a crafted link; a refused login gets a fixed, translated sentence."""

from urllib.parse import parse_qs, quote, urlencode, urlsplit

from odoo.tests import HttpCase, tagged

from .test_line_login import LineLoginMixin

ATTACKER = "Your account is suspended. Call +1-555-0100 now"


@tagged("post_install", "-at_install", "line_idlink")
class TestWebLoginCallback(LineLoginMixin, HttpCase):

    def crafted(self, **params):
        return self.url_open("/line/login/callback?" + urlencode(params, quote_via=quote),
                             allow_redirects=False)

    def test_crafted_error_link_is_refused_and_the_real_login_still_works(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        self.authenticate(None, None)
        location = self.start("login")  # the visitor is on LINE's login page...
        # ...and follows a crafted link (another state, any text)
        response = self.crafted(error="access_denied", error_description=ATTACKER,
                                state="attacker-state")
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Call +1-555", response.text)
        self.assertIn("This LINE Login has expired or was started in another browser",
                      response.text)
        no_state = self.crafted(error="server_error", error_description=ATTACKER)
        self.assertEqual(no_state.status_code, 400)
        self.assertNotIn("Call +1-555", no_state.text)
        # the login this browser started is still there: LINE's real answer logs Aiko in
        response = self.callback(self.emu.login.authorize(aiko, location))
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.adopt_session(response)
        self.assertEqual(self.session.uid, self.user_a.id)

    def test_a_refusal_from_line_shows_a_fixed_message(self):
        """Even with this browser's state (LINE's own redirect, or the user cancelled), the
        error_description is not shown: a fixed sentence is."""
        self.authenticate(None, None)
        state = parse_qs(urlsplit(self.start("login")).query)["state"][0]
        response = self.crafted(error="access_denied", error_description=ATTACKER, state=state)
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("Call +1-555", response.text)
        self.assertIn("LINE Login was cancelled or refused. Please try again.", response.text)
        self.assertFalse(self.session.uid)

    def test_the_refusal_is_translated(self):
        self.use_japanese(self.user_a)
        self.authenticate("line_portal_a", "line_portal_a")
        # Odoo sends a Japanese customer to /ja/...: follow as a browser would, up to LINE
        location = f"/line/login/start?channel={self.channel.id}&mode=link"
        while not location.startswith(self.channel.auth_base):
            location = self.url_open(location, allow_redirects=False).headers["Location"]
        state = parse_qs(urlsplit(location).query)["state"][0]
        response = self.url_open("/line/login/callback?" + urlencode(
            {"error": "access_denied", "error_description": ATTACKER, "state": state},
            quote_via=quote))
        self.assertEqual(response.status_code, 400)
        self.assertIn("LINEログインはキャンセルされたか、拒否されました。", response.text)
        self.assertNotIn("Call +1-555", response.text)
