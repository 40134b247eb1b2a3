import json

from odoo.tests import HttpCase, new_test_user, tagged

from line_idlink.storage import LinkRecord

from .security_common import SecurityCommon

USER_A = "U" + "a1" * 16
USER_B = "U" + "b2" * 16


@tagged("post_install", "-at_install", "line_idlink")
class TestCompanies(SecurityCommon, HttpCase):
    """Issue 8, point 14: every LINE record follows its channel's company. A LINE Administrator
    of company B sees nothing of company A's channel, over JSON-RPC, and no record of company B
    can point at one of company A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()  # cls.channel: company A (the main company)
        cls.company_a = cls.channel.company_id
        cls.company_b = cls.env["res.company"].create({"name": "LINE Company B"})
        cls.channel_b = cls.env["line.channel"].create({
            "name": "Company B OA", "line_channel_id": "1650000099", "company_id": cls.company_b.id,
            "api_base": "http://127.0.0.1:9", "auth_base": "http://127.0.0.1:9"})
        cls.admin_a = new_test_user(cls.env, login="sec_admin_a", company_id=cls.company_a.id,
                                    groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.admin_b = new_test_user(cls.env, login="sec_admin_b", company_id=cls.company_b.id,
                                    groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.admin_ab = new_test_user(cls.env, login="sec_admin_ab", company_id=cls.company_b.id,
                                     company_ids=[(6, 0, (cls.company_a | cls.company_b).ids)],
                                     groups="base.group_user,line_idlink_addon.group_line_admin")
        cls.user_in_b = new_test_user(cls.env, login="sec_user_b", company_id=cls.company_b.id,
                                      groups="base.group_user,line_idlink_addon.group_line_user")
        cls.customer = cls.env["res.partner"].create({"name": "Customer of both"})
        cls.records = {}
        for key, channel, line_user in (("a", cls.channel, USER_A), ("b", cls.channel_b, USER_B)):
            storage = channel._line_storage()
            # written the way the product writes them: SQL of lib/odoo_storage.py
            storage.add_link(LinkRecord(str(channel.id), line_user, str(cls.customer.id),
                                        "messaging_api", 1_800_000_000.0))
            storage.remember_event(f"EV{key.upper()}" + "0" * 24, str(channel.id),
                                   json.dumps({"type": "follow"}), 1_800_000_000.0)
            menu = cls.env["line.rich.menu"].create({
                "name": f"Menu {key.upper()}", "channel_id": channel.id, "alias_id": f"tab-{key}",
                "area_ids": [(0, 0, {"x": 0, "y": 0, "width": 2500, "height": 1686,
                                     "action_type": "postback", "postback_preset": "link"})]})
            rule = cls.env["line.rich.menu.rule"].create({
                "name": f"Rule {key.upper()}", "channel_id": channel.id, "role": "linked",
                "rich_menu_id": menu.id})
            cls.records[key] = {
                "line.identity": cls.env["line.identity"].search(
                    [("line_user_id", "=", line_user)]),
                "line.webhook.event": cls.env["line.webhook.event"].search(
                    [("channel_id", "=", channel.id)]),
                "line.rich.menu": menu, "line.rich.menu.area": menu.area_ids,
                "line.rich.menu.rule": rule, "line.channel": channel}

    def visible_ids(self, model):
        return set(r["id"] for r in self.rpc(model, "search_read", [[], ["id"]]))

    def test_each_company_sees_only_its_channel(self):
        for login, own, other in (("sec_admin_b", "b", "a"), ("sec_admin_a", "a", "b")):
            self.authenticate(login, login)
            for model, records in self.records[own].items():
                with self.subTest(user=login, model=model):
                    self.assertEqual(len(records), 1, model)
                    visible = self.visible_ids(model)
                    self.assertIn(records.id, visible, "its own company's, even written by SQL")
                    foreign = self.records[other][model]
                    self.assertNotIn(foreign.id, visible)
                    self.rpc_refused(model, "read", [[foreign.id], ["display_name"]])

    def test_line_user_of_company_b(self):
        self.authenticate("sec_user_b", "sec_user_b")
        self.assertEqual(self.visible_ids("line.identity"),
                         {self.records["b"]["line.identity"].id})
        self.assertEqual(self.visible_ids("line.rich.menu"),
                         {self.records["b"]["line.rich.menu"].id})
        self.rpc_refused("line.identity", "read", [[self.records["a"]["line.identity"].id],
                                                   ["name"]])
        # the partner's LINE tab shows only company B's LINE account
        partner = self.rpc("res.partner", "read", [[self.customer.id],
                                                   ["line_identity_ids"]])[0]
        self.assertEqual(partner["line_identity_ids"], [self.records["b"]["line.identity"].id])

    def test_no_link_across_companies(self):
        menu_a = self.records["a"]["line.rich.menu"]
        rule_b = self.records["b"]["line.rich.menu.rule"]
        identity_b = self.records["b"]["line.identity"]
        area_b = self.records["b"]["line.rich.menu.area"]
        rules = self.env["line.rich.menu.rule"].search_count([])
        # company B's administrator does not even reach company A's menu
        self.authenticate("sec_admin_b", "sec_admin_b")
        self.rpc_refused("line.rich.menu.rule", "create", [{
            "name": "Stolen", "channel_id": self.channel_b.id, "role": "segment",
            "rich_menu_id": menu_a.id}])
        # check_company: company B's LINE user shown company A's menu
        message = self.rpc_refused("line.identity", "write", [
            identity_b.ids, {"rich_menu_id": menu_a.id}], error="odoo.exceptions.UserError")
        self.assertIn("Incompatible companies", message)
        # an administrator of both companies reaches both, and still cannot mix them
        self.authenticate("sec_admin_ab", "sec_admin_ab")
        self.assertIn(menu_a.id, self.visible_ids("line.rich.menu"))
        self.rpc_refused("line.rich.menu.rule", "create", [{
            "name": "Mixed", "channel_id": self.channel_b.id, "role": "segment",
            "rich_menu_id": menu_a.id}], error="odoo.exceptions.ValidationError")
        self.rpc_refused("line.rich.menu.rule", "write", [rule_b.ids, {"rich_menu_id": menu_a.id}],
                         error="odoo.exceptions.ValidationError")
        self.rpc_refused("line.rich.menu.area", "write", [area_b.ids, {
            "action_type": "richmenuswitch", "switch_menu_id": menu_a.id}],
            error="odoo.exceptions.ValidationError")
        message = self.rpc_refused("line.identity", "write", [
            identity_b.ids, {"rich_menu_id": menu_a.id}], error="odoo.exceptions.UserError")
        self.assertIn("Incompatible companies", message)
        self.env.invalidate_all()
        self.assertEqual(self.env["line.rich.menu.rule"].search_count([]), rules)
        self.assertEqual(rule_b.rich_menu_id, self.records["b"]["line.rich.menu"])
        self.assertFalse(identity_b.rich_menu_id)
        self.assertFalse(area_b.switch_menu_id)
