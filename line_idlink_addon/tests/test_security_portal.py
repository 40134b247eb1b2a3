from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from line_idlink.storage import LinkRecord

from .security_common import SecurityCommon

LINE_A = "U" + "c3" * 16
LINE_B = "U" + "d4" * 16


@tagged("post_install", "-at_install", "line_idlink")
class TestPortalColleagues(SecurityCommon, HttpCase):
    """Issue 13, mutation 1: two portal users of the SAME company (contacts of one commercial
    partner). The portal record rule is strict (``partner_id = user.partner_id``): a colleague
    neither reads nor unlinks someone else's LINE account, and /my/line shows only one's own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.acme = cls.env["res.partner"].create({"name": "Acme Trading", "is_company": True})
        cls.hana = new_test_user(cls.env, login="sec_portal_hana", name="Hana Acme",
                                 groups="base.group_portal")
        cls.kenji = new_test_user(cls.env, login="sec_portal_kenji", name="Kenji Acme",
                                  groups="base.group_portal")
        (cls.hana | cls.kenji).partner_id.write({"parent_id": cls.acme.id})
        storage = cls.channel._line_storage()
        for line_user, user, name in ((LINE_A, cls.hana, "Hana on LINE"),
                                      (LINE_B, cls.kenji, "Kenji on LINE")):
            storage.add_link(LinkRecord(str(cls.channel.id), line_user, str(user.partner_id.id),
                                        "messaging_api", 1_800_000_000.0))
            cls.env["line.identity"].search([("line_user_id", "=", line_user)]).name = name
        cls.hana_identity = cls.env["line.identity"].search([("line_user_id", "=", LINE_A)])
        cls.kenji_identity = cls.env["line.identity"].search([("line_user_id", "=", LINE_B)])

    def test_same_company_colleague_sees_and_unlinks_nothing_of_mine(self):
        self.assertEqual(self.hana.partner_id.commercial_partner_id,
                         self.kenji.partner_id.commercial_partner_id, "one company")
        self.authenticate("sec_portal_kenji", "sec_portal_kenji")
        hana = self.hana_identity.id
        # JSON-RPC: Kenji finds and reads only his own LINE account
        found = self.rpc("line.identity", "search_read", [[], ["name", "partner_id"]])
        self.assertEqual([r["id"] for r in found], [self.kenji_identity.id])
        self.assertEqual(self.rpc("line.identity", "search_count",
                                  [[("partner_id", "child_of", self.acme.id)]]), 1)
        self.rpc_refused("line.identity", "read", [[hana], ["name"]])
        self.rpc_refused("line.identity", "action_unlink_line", [[hana]])
        # the portal's unlink form, pointed at Hana's identity
        page = self.url_open("/my/line")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Kenji on LINE", page.text)
        self.assertNotIn("Hana on LINE", page.text)
        with mute_logger("odoo.http"):
            response = self.url_open(f"/my/line/unlink/{hana}",
                                     data={"csrf_token": self.csrf_from(page.text)},
                                     allow_redirects=False)
        self.assertNotEqual(response.status_code, 303, "no 'unlinked' redirect")
        self.env.invalidate_all()
        self.assertTrue(self.hana_identity.linked, "Hana's link stays")
        self.assertEqual(self.hana_identity.partner_id, self.hana.partner_id)
        self.assertTrue(self.kenji_identity.linked)
        # Hana herself still sees and unlinks hers
        self.authenticate("sec_portal_hana", "sec_portal_hana")
        page = self.url_open("/my/line")
        self.assertIn("Hana on LINE", page.text)
        self.assertNotIn("Kenji on LINE", page.text)
        response = self.url_open(f"/my/line/unlink/{hana}",
                                 data={"csrf_token": self.csrf_from(page.text)},
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertFalse(self.hana_identity.linked)
