"""The account-link flow end to end against the emulator: the bot is a real HTTP webhook endpoint
(WebhookReceiver behind werkzeug), link tokens come from the SDK's ``issue_link_token``, users
open LINE's dialog (SimUser.account_link, or a browser on the dialog URL), and the bot answers
through the SDK's ``reply_message``."""

import threading
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from linebot.v3.messaging import ApiClient, Message, MessagingApi, ReplyMessageRequest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from line_idlink import message_builders, postbacks
from line_emulator import Emulator, EmulatorServer
from line_emulator.server import QuietHandler
from line_idlink.linking import AccountLinker, LinkStatus
from line_idlink.storage import SQLiteStorage
from line_idlink.webhook import WebhookError, WebhookReceiver, signature_from_headers

SHOP = "https://shop.example"


class Bot:
    """A minimal bot: the webhook route only accepts (verify + store + 200); ``work()`` plays
    the cron that processes stored events, as the reference app and Odoo do."""

    def __init__(self, storage, channel, clock, api, auth_base):
        self.linker = AccountLinker(storage, channel.channel_id, clock=clock, auth_base=auth_base)
        self.receiver = WebhookReceiver(channel.channel_secret, storage, channel.channel_id,
                                        clock=clock)
        self.api = api
        self.outcomes = []
        self.answers = []  # HTTP status of each webhook request
        self.late_answers = 0  # store the events, then answer 500 (LINE saw a timeout)
        self.receiver.on("postback", self.on_postback)
        self.receiver.on("accountLink", self.on_account_link)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                   request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/line/webhook"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @Request.application
    def app(self, request):
        try:
            self.receiver.receive(request.get_data(), signature_from_headers(request.headers))
        except WebhookError as exc:
            self.answers.append(400)
            return Response(str(exc), status=400)
        if self.late_answers:
            self.late_answers -= 1
            self.answers.append(500)
            return Response("too late", status=500)
        self.answers.append(200)
        return Response("OK")

    def work(self):
        return self.receiver.process_pending()

    def reply(self, token, *payloads):
        self.api.reply_message(ReplyMessageRequest(
            reply_token=token, messages=[Message.from_dict(p) for p in payloads]))

    def on_postback(self, event):
        if postbacks.parse_postback(event.model.postback.data).get("action") == "link":
            token = self.api.issue_link_token(event.user_id).link_token
            self.linker.remember_link_token(event.user_id, token)
            self.reply(event.reply_token, message_builders.link_account(SHOP, token))

    def on_account_link(self, event):
        outcome = self.linker.complete_link(event)
        self.outcomes.append(outcome)
        if outcome.ok and outcome.reply_token:
            self.reply(outcome.reply_token, message_builders.link_done())
        return outcome

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def world(tmp_path):
    emu = Emulator(seed=11)
    server = EmulatorServer(emu).start()
    client = ApiClient(server.messaging_configuration())
    storage = SQLiteStorage(tmp_path / "bot.db")
    bot = Bot(storage, emu.config, emu.clock.now, MessagingApi(client), server.base_url)
    emu.config.webhook_url = bot.url
    yield emu, server, bot
    bot.stop()
    client.close()
    server.stop()
    storage.close()


def link_token_from_inbox(user):
    """The linkToken of the last "link your account" button the user received."""
    template = user.inbox[-1]["message"]["template"]
    uri = template["actions"][0]["uri"]
    assert uri.startswith(f"{SHOP}/line/link?")
    return parse_qs(urlsplit(uri).query)["linkToken"][0]


def tap_link(bot, user):
    user.postback(postbacks.POSTBACK_LINK)
    bot.work()
    return link_token_from_inbox(user)


def test_full_link_flow(world):
    emu, _server, bot = world
    user = emu.add_user("山田 花子")
    user.follow()
    token = tap_link(bot, user)
    # /line/link?linkToken=: the page knows whose LINE account it is, the customer confirms
    assert bot.linker.line_user_for_link_token(token) == user.user_id
    nonce, url = bot.linker.start_link("42", user.user_id, token)
    query = parse_qs(urlsplit(url).query)
    result = user.account_link(query["linkToken"][0], query["nonce"][0])
    assert result.error is None and result.event["link"] == {"result": "ok", "nonce": nonce}
    [processed] = bot.work()
    assert processed.result.status is LinkStatus.LINKED
    assert bot.linker.customer_for(user.user_id) == "42"
    confirmation = user.inbox[-1]["message"]
    assert confirmation["type"] == "text" and "解除" in confirmation["text"]
    assert bot.answers == [200, 200, 200]  # follow, postback, accountLink


def test_browser_walks_the_dialog_url(world):
    emu, server, bot = world
    user = emu.add_user("Browser User", "en")
    user.follow()
    token = tap_link(bot, user)
    _nonce, url = bot.linker.start_link("7", user.user_id, token)
    with requests.Session() as browser:
        signin = f"{server.base_url}/__emulator__/users/{user.user_id}/signin?next=" + quote(
            urlsplit(url).path + "?" + urlsplit(url).query, safe="")
        page = browser.get(signin, timeout=10)
    assert page.status_code == 200 and "linked" in page.text
    assert bot.work()[0].result.status is LinkStatus.LINKED
    assert bot.linker.customer_for(user.user_id) == "7"


def test_impersonation_fails_and_burns_the_nonce(world):
    emu, _server, bot = world
    victim, attacker = emu.add_user("Victim"), emu.add_user("Attacker")
    victim.follow()
    attacker.follow()
    token = tap_link(bot, victim)
    nonce, _ = bot.linker.start_link("42", victim.user_id, token)
    result = attacker.account_link(token, nonce)  # LINE: the token is not the attacker's
    assert result.event["link"]["result"] == "failed" and "source" not in result.event
    assert bot.work()[0].result.status is LinkStatus.FAILED_RESULT
    assert bot.linker.customer_for(attacker.user_id) is None
    # The burned nonce cannot be completed, even by the rightful user: they start again.
    victim.account_link(token, nonce)
    assert bot.work()[0].result.status is LinkStatus.USED_NONCE
    assert bot.linker.customer_for(victim.user_id) is None


def test_expired_link_token_sends_no_event(world):
    emu, _server, bot = world
    user = emu.add_user("Slow")
    user.follow()
    token = tap_link(bot, user)
    nonce, _ = bot.linker.start_link("42", user.user_id, token)
    emu.advance(601)
    result = user.account_link(token, nonce)
    assert result.events == [] and result.error
    assert bot.work() == [] and bot.linker.customer_for(user.user_id) is None
    assert bot.linker.line_user_for_link_token(token) is None


def test_one_line_user_cannot_link_a_second_customer(world):
    emu, _server, bot = world
    user = emu.add_user("Shared phone")
    user.follow()
    first = tap_link(bot, user)
    second = tap_link(bot, user)
    nonce_a, _ = bot.linker.start_link("1", user.user_id, first)
    nonce_b, _ = bot.linker.start_link("2", user.user_id, second)
    user.account_link(first, nonce_a)
    user.account_link(second, nonce_b)
    statuses = [p.result.status for p in bot.work()]
    assert statuses == [LinkStatus.LINKED, LinkStatus.LINE_USER_TAKEN]
    assert bot.linker.customer_for(user.user_id) == "1"
    assert len([m for m in user.inbox if m["message"]["type"] == "text"]) == 1


def test_redelivered_webhook_is_processed_once(tmp_path):
    emu = Emulator(seed=5, redelivery=True)
    server = EmulatorServer(emu).start()
    client = ApiClient(server.messaging_configuration())
    storage = SQLiteStorage(tmp_path / "bot.db")
    bot = Bot(storage, emu.config, emu.clock.now, MessagingApi(client), server.base_url)
    emu.config.webhook_url = bot.url
    try:
        user = emu.add_user("Flaky network")
        user.follow()
        token = tap_link(bot, user)
        nonce, _ = bot.linker.start_link("42", user.user_id, token)
        # The bot stores the event but LINE sees a failure (e.g. the answer came too late).
        bot.late_answers = 1
        user.account_link(token, nonce)
        emu.advance(10)  # LINE redelivers the same webhookEventId with isRedelivery=true
        redelivered = [d for d in emu.webhooks.deliveries if d["isRedelivery"]]
        assert redelivered and redelivered[-1]["status"] == 200
        assert bot.answers[-2:] == [500, 200]
        statuses = [p.result.status for p in bot.work()]
        assert statuses == [LinkStatus.LINKED]
        assert bot.receiver.process_pending() == []
    finally:
        bot.stop()
        client.close()
        server.stop()
        storage.close()
