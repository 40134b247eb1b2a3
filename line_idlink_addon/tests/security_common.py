"""Helpers of the security tests: JSON-RPC as a given user, and LINE Login against an emulator
whose clock is the wall clock (so the product checks ID tokens with its own clock, unpatched)."""

import json
from urllib.parse import urlsplit

import odoo.http
from odoo.tools import mute_logger

from .common import LineCommon


class SecurityCommon(LineCommon):

    # ---- JSON-RPC, as the browser's web client sends it --------------------------------------
    def call_kw(self, model, method, args, kwargs=None, context=None):
        """The JSON body of ``/web/dataset/call_kw``: ``{"result": ...}`` or ``{"error": ...}``."""
        kwargs = dict(kwargs or {})
        if context is not None:
            kwargs["context"] = context
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"model": model, "method": method, "args": args,
                              "kwargs": kwargs}}
        with mute_logger("odoo.http"):
            response = self.url_open(f"/web/dataset/call_kw/{model}/{method}",
                                     data=json.dumps(payload),
                                     headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.json()

    def rpc(self, model, method, args, kwargs=None, context=None):
        """The result of a call that must succeed."""
        body = self.call_kw(model, method, args, kwargs, context)
        self.assertIn("result", body, body.get("error"))
        return body["result"]

    def rpc_refused(self, model, method, args, kwargs=None, context=None,
                    error="odoo.exceptions.AccessError"):
        """The message of a call that must fail with ``error``."""
        body = self.call_kw(model, method, args, kwargs, context)
        self.assertNotIn("result", body, f"{model}.{method} was allowed")
        self.assertEqual(body["error"]["data"]["name"], error, body["error"]["data"]["message"])
        return body["error"]["data"]["message"]

    def call_button(self, model, method, record_id):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"model": model, "method": method, "args": [[record_id]],
                              "kwargs": {"context": {}}}}
        with mute_logger("odoo.http"):
            response = self.url_open("/web/dataset/call_button", data=json.dumps(payload),
                                     headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.json()

    # ---- the emulator on the wall clock ------------------------------------------------------
    def start_wall_clock_emulator(self, login_callback_urls=None):
        emu = self.start_line_emulator(real_clock=True, seed=11,
                                       login_callback_urls=login_callback_urls)
        self.env.flush_all()
        return emu

    # ---- LINE Login, as the browser follows it -----------------------------------------------
    def line_login_location(self, sim_user, mode):
        """Open /line/login/start in the current session and log in at LINE as ``sim_user``:
        LINE's redirect back to Odoo."""
        start = self.url_open(f"/line/login/start?channel={self.channel.id}&mode={mode}",
                              allow_redirects=False)
        self.assertIn(start.status_code, (302, 303), start.text[:300])
        return self.emu.login.authorize(sim_user, start.headers["Location"])

    def open_callback(self, location):
        parts = urlsplit(location)
        self.assertEqual(parts.path, "/line/login/callback")
        return self.url_open(f"{parts.path}?{parts.query}", allow_redirects=False)

    def link_with_line_login(self, login, sim_user):
        """``login`` links ``sim_user``'s LINE account from /my/line ("Link with LINE")."""
        self.authenticate(login, login)
        response = self.open_callback(self.line_login_location(sim_user, "link"))
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(response.headers["Location"].endswith("/my/line?linked=1"))

    def log_in_with_line(self, sim_user):
        """A visitor presses "Log in with LINE" and logs in at LINE as ``sim_user``: the Odoo
        user id the browser session ends up with (None: not logged in)."""
        self.authenticate(None, None)
        response = self.open_callback(self.line_login_location(sim_user, "login"))
        self.assertIn(response.status_code, (200, 303), response.text[:500])
        sid = response.cookies.get("session_id")
        if response.status_code != 303 or not sid:
            return self.session.uid or None
        jar = self.opener.cookies
        for cookie in [c for c in jar if c.name == "session_id"]:
            jar.clear(cookie.domain, cookie.path, cookie.name)
        jar.set("session_id", sid)
        self.session = odoo.http.root.session_store.get(sid)
        return self.session.uid
