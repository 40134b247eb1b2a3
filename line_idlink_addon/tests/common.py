import json
import re
import time
from urllib.parse import parse_qs, urlsplit

from odoo import SUPERUSER_ID, api
from odoo.tests import new_test_user
from odoo.tools import config

from line_emulator import start_emulator
from line_idlink.postbacks import POSTBACK_LINK
from line_emulator.clock import Clock
from line_idlink.webhook import compute_signature

SECRET = "0123456789abcdef0123456789abcdef"


class LineCommon:
    """Data shared by the tests: a channel, two portal customers; helpers for the emulator."""

    @classmethod
    def _line_setup(cls):
        cls.channel = cls.env["line.channel"].create({
            "name": "Test OA", "line_channel_id": "1650000000", "channel_secret": SECRET,
            "access_token": "unused-token", "api_base": "http://127.0.0.1:9",
            "auth_base": "http://127.0.0.1:9"})
        cls.user_a = new_test_user(cls.env, login="line_portal_a", groups="base.group_portal",
                                   name="Aiko Customer")
        cls.user_b = new_test_user(cls.env, login="line_portal_b", groups="base.group_portal",
                                   name="Bunta Customer")

    def start_line_emulator(self, real_clock=False, seed=7, **options):
        """An emulator whose webhooks are queued until flush() (called from the test thread, so
        the emulator never calls Odoo back from inside an Odoo request). ``real_clock``: its
        clock ticks from now, as LINE's does, so Odoo checks its ID tokens on its own clock
        (default: the emulator's frozen clock). ``options``: more emulator settings (e.g.
        ``login_callback_urls``)."""
        url = f"http://127.0.0.1:{config['http_port']}/line/webhook/{self.channel.id}"
        clock = Clock(start=time.time(), frozen=False) if real_clock else None
        server = start_emulator(seed=seed, webhook_url=url, delivery="queued", clock=clock,
                                **options)
        self.addCleanup(server.stop)
        emu = server.emulator
        self.channel.write({"channel_secret": emu.config.channel_secret,
                            "access_token": emu.config.access_token,
                            "line_channel_id": emu.config.channel_id,
                            "login_channel_id": emu.config.login_channel_id,
                            "login_channel_secret": emu.config.login_channel_secret,
                            "api_base": server.base_url, "auth_base": server.base_url})
        return emu

    def process_events(self):
        """Run the event cron as Odoo runs it: in a cursor of its own, which it commits after
        each event (in HttpCase's test mode, a test cursor whose commit is a savepoint)."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            done = api.Environment(cr, SUPERUSER_ID, {})["line.webhook.event"]._cron_process()
        self.env.invalidate_all()
        return done

    def deliver(self):
        """Deliver the emulator's queued webhooks from the test thread, then run the event cron.

        Flushed first: the Odoo request that receives them runs in its own transaction view.
        """
        self.env.flush_all()
        records = self.emu.flush()
        for record in records:
            self.assertEqual(record.get("status"), 200, record)
        self.process_events()
        return records

    @staticmethod
    def line_json(body):
        """A body as LINE sends it: compact UTF-8 JSON, Japanese kept as UTF-8 bytes."""
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def signed_post(self, body, secret=SECRET, channel=None):
        raw = self.line_json(body) if not isinstance(body, bytes) else body
        channel = channel or self.channel
        return self.url_open(f"/line/webhook/{channel.id}", data=raw, headers={
            "Content-Type": "application/json",
            "X-Line-Signature": compute_signature(secret, raw)})

    def befriend_and_ask(self, name):
        """A LINE user follows, taps "link" and gets the button: returns (SimUser, linkToken)."""
        user = self.emu.add_user(name)
        user.follow()
        self.deliver()
        user.postback(POSTBACK_LINK)
        self.deliver()
        token = self.link_token_from(user.inbox)
        self.assertTrue(token, "the bot answered the postback with a /line/link button")
        return user, token

    def use_japanese(self, user):
        """Install the addon's Japanese translations and make ``user`` a Japanese speaker."""
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_addon"], ["ja_JP"],
                                                        overwrite=True)
        user.lang = "ja_JP"
        self.env.flush_all()

    @staticmethod
    def link_token_from(inbox):
        """The linkToken of the last "link your account" button the bot sent."""
        for entry in reversed(inbox):
            text = json.dumps(entry["message"])
            found = re.search(r"/line/link\?linkToken=([^\"&]+)", text)
            if found:
                return found.group(1)
        return None

    @staticmethod
    def nonce_from(location):
        return parse_qs(urlsplit(location).query)["nonce"][0]

    @staticmethod
    def csrf_from(html):
        return re.search(r'name="csrf_token"\s+value="([^"]+)"', html).group(1)
