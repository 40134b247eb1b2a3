import datetime
import json

from odoo import Command, fields
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from odoo.addons.line_idlink_addon.tests.common import LineCommon


class SaleLineCommon(LineCommon):
    """Two portal customers (Aiko, Bunta) with LINE friends in the emulator, a product, and
    helpers to order, invoice and run the outgoing queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._sale_setup()

    @classmethod
    def _sale_setup(cls):
        cls._line_setup()
        cls.partner_a = cls.user_a.partner_id
        cls.partner_b = cls.user_b.partner_id
        cls.product = cls.env["product.product"].create({
            "name": "Matcha 100g", "list_price": 1200.0, "type": "consu",
            "invoice_policy": "order", "taxes_id": [Command.clear()]})
        cls.company = cls.env.company

    def setUp(self):
        super().setUp()
        self.forget_rate_limit_slots()
        self.addCleanup(self.forget_rate_limit_slots)
        if getattr(self, "emu", None) is None:  # RichMenuCommon may have started it
            self.emu = self.start_line_emulator()

    def forget_rate_limit_slots(self):
        # rate-limit slots are committed on a cursor of their own: start each test with none
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM line_rate_limit WHERE channel_key = %s",
                       [str(self.channel.id)])

    def friend_linked_to(self, name, partner, follow_state="followed"):
        """A LINE friend in the emulator whose identity is linked to ``partner``."""
        user = self.emu.add_user(name)
        user.follow()  # its webhook stays queued: the link is made directly
        identity = self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": user.user_id, "name": name,
            "partner_id": partner.id, "linked": True, "follow_state": follow_state,
            "link_method": "messaging_api"})
        return user, identity

    def order(self, partner, qty=1, confirm=True, days_ago=None):
        order = self.env["sale.order"].create({
            "partner_id": partner.id,
            "order_line": [Command.create({"product_id": self.product.id,
                                           "product_uom_qty": qty})]})
        if confirm:
            order.action_confirm()
        if days_ago is not None:
            order.date_order = fields.Datetime.now() - datetime.timedelta(days=days_ago)
        return order

    def invoice(self, partner, amount=5000.0, due_in=30, post=True):
        today = fields.Date.context_today(self.env.user)
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id,
            "invoice_date": today + datetime.timedelta(days=min(due_in, 0) - 1),
            "invoice_date_due": today + datetime.timedelta(days=due_in),
            "invoice_line_ids": [Command.create({"product_id": self.product.id, "quantity": 1,
                                                 "price_unit": amount, "tax_ids": []})]})
        if post:
            move.action_post()
        return move

    def staff_user(self, login, *groups):
        """An internal user with these groups (xml ids) and the password ``<login>_pw1``."""
        return self.env["res.users"].create({
            "name": login.replace("_", " ").title(), "login": login, "password": f"{login}_pw1",
            "groups_id": [Command.set([self.env.ref(group).id for group in groups])]})

    def rpc(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` over JSON-RPC like the web client, as the user
        authenticated last; an error comes back as ``JsonRpcException`` (its message is the
        exception's class, e.g. ``odoo.exceptions.AccessError``)."""
        with mute_logger("odoo.http"):
            response = self.url_open("/web/dataset/call_kw", data=json.dumps({
                "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                    "model": model, "method": method, "args": list(args), "kwargs": kwargs}}),
                headers={"Content-Type": "application/json"}).json()
        if "error" in response:
            error = response["error"]["data"]
            raise JsonRpcException(code=200, message=error["name"]) from Exception(
                error["message"])
        return response["result"]

    def assert_rpc_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as refused:
            self.rpc(model, method, *args, **kwargs)
        self.assertEqual(str(refused.exception), "odoo.exceptions.AccessError",
                         refused.exception.__cause__)

    def open_form(self, record):
        """Open ``record``'s form like the web client (get_views, then web_read of the view's
        fields) as the user authenticated last; returns (view fields, values)."""
        views = self.rpc(record._name, "get_views", [[False, "form"]])
        names = views["models"][record._name]["fields"]
        [values] = self.rpc(record._name, "web_read", [record.id],
                            specification={name: {} for name in names})
        return names, values

    def switch_on(self, *notices):
        self.company.write({f"line_notice_{notice}": True for notice in notices})

    def queued_for(self, record):
        return self.env["line.message"].sudo().search(
            [("res_model", "=", record._name), ("res_id", "=", record.id)])

    def send_queue(self):
        self.env.flush_all()
        done = self.env["line.message"]._process_queue()
        self.env.invalidate_all()
        return done

    @staticmethod
    def _nodes(message):
        """Every dict inside a LINE message, depth first."""
        stack = [message]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict):
                yield node
                stack[:0] = list(node.values())
            elif isinstance(node, list):
                stack[:0] = node

    def flex_texts(self, message):
        """Every text of a LINE message (a text message, or a Flex bubble/carousel)."""
        root = message.get("contents") if message.get("type") == "flex" else message
        return [node["text"] for node in self._nodes(root)
                if node.get("type") == "text" and "text" in node]

    def uris(self, message):
        return [node["uri"] for node in self._nodes(message) if node.get("type") == "uri"]
