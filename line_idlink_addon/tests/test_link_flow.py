import json
from urllib.parse import quote

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from line_idlink.message_builders import link_done
from line_idlink.postbacks import POSTBACK_UNLINK, POSTBACK_UNLINK_CONFIRM
from line_idlink.storage import digest

from .common import LineCommon

LINKED_TEXT = "アカウント連携が完了しました。"


@tagged("post_install", "-at_install", "line_idlink")
class TestAccountLinkFlow(LineCommon, HttpCase):
    """The Messaging API account link end to end: emulator (LINE) <-> Odoo pages and cron."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()

    def texts(self, user):
        return [json.dumps(entry["message"], ensure_ascii=False) for entry in user.inbox]


    def confirm_page(self, token, login):
        self.authenticate(login, login)
        page = self.url_open(f"/line/link?linkToken={quote(token, safe='')}")
        self.assertEqual(page.status_code, 200)
        return page

    def confirm(self, token, login):
        page = self.confirm_page(token, login)
        response = self.url_open("/line/link/confirm", data={
            "csrf_token": self.csrf_from(page.text), "linkToken": token}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.channel.auth_base + "/dialog/bot/accountLink?"))
        return location

    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def test_follow_creates_identity_and_invites(self):
        aiko = self.emu.add_user("Aiko", language="ja")
        aiko.follow()
        self.deliver()
        identity = self.identity(aiko)
        self.assertEqual(identity.follow_state, "followed")
        self.assertEqual(identity.name, "Aiko", "profile fetched from LINE")
        self.assertFalse(identity.linked)
        self.assertIn("action=link", self.texts(aiko)[-1], "invitation with a link button")
        aiko.block()
        self.deliver()
        self.assertEqual(identity.follow_state, "blocked")

    def test_link_requires_login(self):
        _aiko, token = self.befriend_and_ask("Aiko")
        response = self.url_open(f"/line/link?linkToken={token}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(response.headers["Location"], "/web/login?redirect=" + quote(
            f"/line/link?linkToken={token}", safe=""))

    def test_full_link_then_unlink_in_chat(self):
        aiko, token = self.befriend_and_ask("Aiko")
        page = self.confirm_page(token, "line_portal_a")
        self.assertIn("Aiko", page.text, "the page names the LINE account being linked")
        self.assertIn("o_line_unlink_notice", page.text, "and says unlinking is always possible")
        location = self.confirm(token, "line_portal_a")
        result = aiko.account_link(token, self.nonce_from(location))
        self.assertIsNone(result.error)
        self.deliver()
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_a.partner_id)
        self.assertEqual(identity.link_method, "messaging_api")
        self.assertEqual(aiko.inbox[-1]["message"], link_done("ja", "Aiko Customer"))
        self.assertEqual(aiko.inbox[-1]["message"]["text"].split("\n")[0],
                         f"Aiko Customer様、{LINKED_TEXT}")
        self.assertEqual(identity.message_ids.filtered("body")[0].body,
                         "<p>Linked to Aiko Customer through the LINE account-link dialog.</p>")
        # the portal page shows the link; unlink in the chat with confirmation
        self.assertIn("o_line_identity", self.url_open("/my/line").text)
        aiko.postback(POSTBACK_UNLINK)
        self.deliver()
        self.assertTrue(identity.linked, "asking is not unlinking")
        self.assertIn("unlink_confirm", self.texts(aiko)[-1])
        aiko.postback(POSTBACK_UNLINK_CONFIRM)
        self.deliver()
        self.assertFalse(identity.linked)
        self.assertIn("o_line_not_linked", self.url_open("/my/line").text)

    def test_portal_unlink(self):
        aiko, token = self.befriend_and_ask("Aiko")
        aiko.account_link(token, self.nonce_from(self.confirm(token, "line_portal_a")))
        self.deliver()
        identity = self.identity(aiko)
        page = self.url_open("/my/line")
        self.assertIn("o_line_unlink_notice", page.text)
        # another portal user cannot unlink it, even with a valid CSRF token of their own
        self.authenticate("line_portal_b", "line_portal_b")
        page_b = self.url_open("/my/line")
        with mute_logger("odoo.http"):
            refused = self.url_open(f"/my/line/unlink/{identity.id}",
                                    data={"csrf_token": self.csrf_from_any(page_b.text)})
        self.assertEqual(refused.status_code, 403)
        self.assertTrue(identity.linked)
        self.authenticate("line_portal_a", "line_portal_a")
        page = self.url_open("/my/line")
        done = self.url_open(f"/my/line/unlink/{identity.id}",
                             data={"csrf_token": self.csrf_from(page.text)})
        self.assertEqual(done.status_code, 200)
        self.assertFalse(identity.linked)

    def csrf_from_any(self, html):
        import re
        return re.search(r'csrf_token\s*[:=]\s*"([^"]+)"', html).group(1)

    def test_csrf_required_on_confirm(self):
        _aiko, token = self.befriend_and_ask("Aiko")
        self.confirm_page(token, "line_portal_a")
        with mute_logger("odoo.http"):
            response = self.url_open("/line/link/confirm", data={"linkToken": token},
                                     allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.env["line.link.nonce"].search([]), "no nonce was issued")

    def test_replayed_nonce(self):
        aiko, token = self.befriend_and_ask("Aiko")
        nonce = self.nonce_from(self.confirm(token, "line_portal_a"))
        aiko.account_link(token, nonce)
        self.deliver()
        identity = self.identity(aiko)
        identity_partner = identity.partner_id
        # an attacker replays the accountLink event with the same nonce for partner B's session
        self.signed_account_link("01HREPLAY", aiko.user_id, nonce)
        self.process_events()
        self.assertEqual(identity.partner_id, identity_partner)
        self.assertEqual(self.channel.message_ids.filtered("body")[0].body,
                         f"<p>Account link refused for LINE user {aiko.user_id}.<br>the nonce was "
                         "already used</p>", "the refusal is logged on the channel")

    def signed_account_link(self, event_id, user_id, nonce, result="ok"):
        event = {"type": "accountLink", "mode": "active", "timestamp": 1_800_000_000_000,
                 "webhookEventId": event_id, "deliveryContext": {"isRedelivery": False},
                 "source": {"type": "user", "userId": user_id},
                 "link": {"result": result, "nonce": nonce}}
        response = self.signed_post({"destination": "Ubot", "events": [event]},
                                    secret=self.channel.sudo().channel_secret)
        self.assertEqual(response.status_code, 200)

    def test_nonce_of_another_partner(self):
        aiko, _token_a = self.befriend_and_ask("Aiko")
        _bunta, token_b = self.befriend_and_ask("Bunta")
        nonce_b = self.nonce_from(self.confirm(token_b, "line_portal_b"))
        # Aiko's LINE account presents the nonce issued to partner B for Bunta's LINE account
        self.signed_account_link("01HSTOLEN", aiko.user_id, nonce_b)
        self.process_events()
        self.assertFalse(self.identity(aiko).linked)
        self.assertNotEqual(self.identity(aiko).partner_id, self.user_b.partner_id)

    def test_foreign_line_user_opens_link_url(self):
        aiko, _token_a = self.befriend_and_ask("Aiko")
        bunta, token_b = self.befriend_and_ask("Bunta")
        nonce_b = self.nonce_from(self.confirm(token_b, "line_portal_b"))
        # Aiko opens the dialog URL meant for Bunta: LINE sends accountLink "failed"
        aiko.account_link(token_b, nonce_b)
        records = self.deliver()
        self.assertFalse(self.identity(aiko).linked)
        self.assertFalse(self.identity(bunta).linked)
        (event_id,) = records[-1]["eventIds"]
        event = self.env["line.webhook.event"].search([("event_id", "=", event_id)])
        self.assertEqual((event.event_type, event.state), ("accountLink", "done"))
        self.assertEqual(str(self.channel.message_ids.filtered("body")[0].body),
                         "<p>Account link refused for LINE user ?.<br>LINE reported "
                         "link.result='failed'; nothing linked</p>",
                         "logged (LINE's failed event names no user)")
        nonce = self.env["line.link.nonce"].search([("nonce_hash", "=", digest(nonce_b))])
        self.assertEqual(len(nonce), 1)
        self.assertTrue(nonce.used_at, "the nonce is spent")
        # the failed attempt burnt the nonce: Bunta cannot use it afterwards either
        bunta.account_link(token_b, nonce_b)
        self.deliver()
        self.assertFalse(self.identity(bunta).linked)
