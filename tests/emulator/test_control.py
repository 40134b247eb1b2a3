"""The /__emulator__ control API, driven with plain `requests` against a running emulator."""

import pytest
import requests


@pytest.fixture
def ctl(emulator_server):
    base = emulator_server.base_url + "/__emulator__"

    class Control:
        def get(self, path, **kw):
            return requests.get(base + path, **kw)

        def post(self, path, json=None, **kw):
            return requests.post(base + path, json=json, **kw)

        def delete(self, path, **kw):
            return requests.delete(base + path, **kw)

        def new_user(self, name="Aiko"):
            response = self.post("/users", {"displayName": name})
            assert response.status_code == 201
            return response.json()["userId"]

    return Control()


def test_create_list_and_get_users(ctl, emu):
    created = ctl.post("/users", {"displayName": "愛子", "language": "en"})
    assert created.status_code == 201
    user_id = created.json()["userId"]
    assert user_id in emu.users and emu.users[user_id].language == "en"

    [listed] = ctl.get("/users").json()["users"]
    assert listed["userId"] == user_id and listed["displayName"] == "愛子"
    assert listed["friendship"] == "none" and listed["isFriend"] is False
    assert ctl.get(f"/users/{user_id}").json()["displayName"] == "愛子"


@pytest.mark.parametrize("body, prop", [({}, "displayName"), ({"displayName": " "}, "displayName"),
                                        ({"displayName": "A", "language": 3}, "language")])
def test_create_user_rejects_bad_fields(ctl, emu, body, prop):
    response = ctl.post("/users", body)
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == prop
    assert emu.users == {}


def test_actions_answer_events_and_deliveries(ctl, emu, webhook_sink):
    user_id = ctl.new_user()
    follow = ctl.post(f"/users/{user_id}/follow").json()
    assert follow["events"][0]["type"] == "follow"
    assert follow["deliveries"][0]["status"] == 200  # sync mode: the bot already answered

    said = ctl.post(f"/users/{user_id}/messages", {"text": "こんにちは"}).json()
    assert said["events"][0]["message"]["text"] == "こんにちは"
    posted = ctl.post(f"/users/{user_id}/postback",
                      {"data": "pick", "params": {"date": "2026-11-03"}}).json()
    assert posted["events"][0]["postback"]["params"] == {"date": "2026-11-03"}
    blocked = ctl.post(f"/users/{user_id}/block").json()
    assert blocked["events"][0]["type"] == "unfollow"
    unblocked = ctl.post(f"/users/{user_id}/unblock").json()
    assert unblocked["events"][0]["follow"]["isUnblocked"] is True

    assert [e["type"] for e in webhook_sink.events] == [
        "follow", "message", "postback", "unfollow", "follow"]
    assert emu.users[user_id].friendship == "friend"


@pytest.mark.parametrize("path, body, expected", [
    ("messages", {}, "text"),
    ("messages", {"text": 5}, "text"),
    ("postback", {"data": "x", "params": "no"}, "params"),
    ("tap", {"x": 1}, "y"),
    ("tap", {"x": 1.5, "y": 2}, "x"),
    ("account-link", {"linkToken": "abc"}, "nonce"),
    ("authorize", {}, "url"),
])
def test_bad_fields_answer_400_and_change_nothing(ctl, emu, webhook_sink, path, body, expected):
    user_id = ctl.new_user()
    response = ctl.post(f"/users/{user_id}/{path}", body)
    assert response.status_code == 400
    assert expected in response.text
    assert webhook_sink.received == [] and emu.webhooks.deliveries == []
    assert emu.users[user_id].last_message_at is None


def test_bad_json_answers_400(ctl, webhook_sink):
    user_id = ctl.new_user()
    response = ctl.post(f"/users/{user_id}/messages", data=b"{not json",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    assert webhook_sink.received == []


def test_unknown_user_is_404(ctl):
    for path in ("follow", "messages"):
        response = ctl.post(f"/users/U0000/{path}", {"text": "x"})
        assert response.status_code == 404 and "U0000" in response.json()["message"]
    assert ctl.get("/users/U0000/inbox").status_code == 404


def test_blocked_user_talking_is_409(ctl, webhook_sink):
    user_id = ctl.new_user()
    ctl.post(f"/users/{user_id}/block")
    response = ctl.post(f"/users/{user_id}/messages", {"text": "hi"})
    assert response.status_code == 409 and "blocked" in response.json()["message"]
    assert webhook_sink.received == []


def test_inbox_and_rich_menu(ctl, emulator_server):
    from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage

    user_id = ctl.new_user()
    ctl.post(f"/users/{user_id}/follow")
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    api.push_message(PushMessageRequest(to=user_id, messages=[TextMessage(text="ようこそ")]))
    [message] = ctl.get(f"/users/{user_id}/inbox").json()["messages"]
    assert message["api"] == "push" and message["message"]["text"] == "ようこそ"
    assert ctl.get(f"/users/{user_id}/richmenu").json() == {"richMenuId": None, "source": None}


def test_account_link_through_the_control_api(ctl, emulator_server, webhook_sink):
    from linebot.v3.messaging import ApiClient, MessagingApi

    user_id = ctl.new_user()
    ctl.post(f"/users/{user_id}/follow")
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    token = api.issue_link_token(user_id).link_token
    short = ctl.post(f"/users/{user_id}/account-link", {"linkToken": token, "nonce": "short"})
    assert short.status_code == 200 and short.json()["events"] == []
    assert "nonce" in short.json()["error"]
    linked = ctl.post(f"/users/{user_id}/account-link",
                      {"linkToken": token, "nonce": "n0nce-n0nce-n0nce"}).json()
    assert linked["events"][0]["link"] == {"result": "ok", "nonce": "n0nce-n0nce-n0nce"}
    assert webhook_sink.events[-1]["type"] == "accountLink"


def test_queued_mode_and_flush(ctl, emu, webhook_sink):
    assert ctl.post("/config", {"delivery": "queued"}).json()["delivery"] == "queued"
    user_id = ctl.new_user()
    follow = ctl.post(f"/users/{user_id}/follow").json()
    assert follow["deliveries"] == [] and webhook_sink.received == []
    assert ctl.get("/deliveries").json()["pending"]["held"] == 1
    flushed = ctl.post("/flush").json()["deliveries"]
    assert [d["status"] for d in flushed] == [200]
    assert webhook_sink.events[0]["webhookEventId"] == follow["events"][0]["webhookEventId"]
    assert ctl.get("/deliveries").json()["deliveries"] == flushed


def test_clock_advance_runs_redeliveries(ctl, emu, webhook_sink):
    ctl.post("/config", {"redelivery": True})
    webhook_sink.status = 500
    user_id = ctl.new_user()
    ctl.post(f"/users/{user_id}/follow")
    webhook_sink.status = 200
    before = ctl.get("/clock").json()["nowMs"]
    advanced = ctl.post("/clock/advance", {"seconds": 10}).json()
    assert advanced["nowMs"] == before + 10_000
    assert [(d["status"], d["isRedelivery"]) for d in advanced["deliveries"]] == [(200, True)]
    assert ctl.post("/clock/advance", {"seconds": -1}).status_code == 400
    assert ctl.post("/clock/advance", {"seconds": "10"}).status_code == 400
    assert ctl.get("/clock").json()["nowMs"] == before + 10_000


def test_faults_add_list_clear(ctl, emulator_server):
    from linebot.v3.messaging import ApiClient, ApiException, MessagingApi, PushMessageRequest
    from linebot.v3.messaging import TextMessage

    rule = ctl.post("/faults", {"endpoint": "pushMessage", "action": "status", "status": 503,
                                "times": 1})
    assert rule.status_code == 201
    assert [f["endpoint"] for f in ctl.get("/faults").json()["faults"]] == ["pushMessage"]
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    user_id = ctl.new_user()
    ctl.post(f"/users/{user_id}/follow")
    with pytest.raises(ApiException) as caught:
        api.push_message(PushMessageRequest(to=user_id, messages=[TextMessage(text="x")]))
    assert caught.value.status == 503
    assert ctl.delete("/faults").json() == {"faults": []}
    assert ctl.get("/faults").json()["faults"] == []


@pytest.mark.parametrize("rule", [{"action": "status"}, {"endpoint": "x", "action": "explode"},
                                  {"endpoint": "x", "status": "abc"}])
def test_bad_fault_rule_is_400(ctl, emu, rule):
    response = ctl.post("/faults", rule)
    assert response.status_code == 400 and response.json()["message"].startswith("Bad fault rule")
    assert emu.faults.rules == []


def test_request_log_with_endpoint_filter(ctl, emulator_server):
    from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage

    user_id = ctl.new_user()
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    api.push_message(PushMessageRequest(to=user_id, messages=[TextMessage(text="x")]))
    requests.get(emulator_server.base_url + "/v2/bot/info")  # unauthenticated: 401, logged
    pushes = ctl.get("/requests", params={"endpoint": "pushMessage"}).json()["requests"]
    assert [(r["endpoint"], r["status"]) for r in pushes] == [("pushMessage", 200)]
    everything = ctl.get("/requests").json()["requests"]
    assert len(everything) == 2
    assert not any(r["path"].startswith("/__emulator__") for r in everything)


def test_info_and_config(ctl, emu, emulator_server):
    info = ctl.get("/info").json()
    assert info["base_url"] == emulator_server.base_url
    for key in ("channel_id", "channel_secret", "access_token", "bot_user_id",
                "login_channel_id", "login_channel_secret", "liff_id"):
        assert info[key] == getattr(emu.config, key)
    assert info["delivery"] == "sync" and info["redelivery"] is False

    changed = ctl.post("/config", {"webhook_url": "http://127.0.0.1:9/hook", "quota": 500,
                                   "webhook_enabled": False}).json()
    assert (changed["webhook_url"], changed["quota"], changed["webhook_enabled"]) == (
        "http://127.0.0.1:9/hook", 500, False)
    assert emu.config.quota == 500


@pytest.mark.parametrize("body", [{"delivery": "carrier-pigeon"}, {"quota": -1},
                                  {"redelivery": "yes"}, {"webhook_url": "ftp://x"},
                                  {"colour": "blue"}, {"quota": 5, "delivery": "nope"}])
def test_bad_config_is_400_and_changes_nothing(ctl, emu, body):
    before = (emu.config.quota, emu.webhooks.mode, emu.config.redelivery, emu.config.webhook_url)
    response = ctl.post("/config", body)
    assert response.status_code == 400 and response.json()["details"]
    assert (emu.config.quota, emu.webhooks.mode, emu.config.redelivery,
            emu.config.webhook_url) == before


def test_authorize_consents_and_answers_the_redirect(ctl, emu):
    from urllib.parse import parse_qs, urlencode, urlsplit

    user_id = ctl.new_user()
    url = "https://access.line.me/oauth2/v2.1/authorize?" + urlencode({
        "response_type": "code", "client_id": emu.config.login_channel_id,
        "redirect_uri": "https://shop.example.com/line/callback", "state": "st4te",
        "scope": "openid profile"})
    answer = ctl.post(f"/users/{user_id}/authorize", {"url": url})
    assert answer.status_code == 200
    location = urlsplit(answer.json()["location"])
    assert location.netloc == "shop.example.com"
    query = parse_qs(location.query)
    assert query["state"] == ["st4te"] and query["code"]

    denied = ctl.post(f"/users/{user_id}/authorize", {"url": url, "approve": False}).json()
    assert "error=ACCESS_DENIED" in denied["location"]
    wrong = ctl.post(f"/users/{user_id}/authorize", {"url": url.replace("client_id=", "x=")})
    assert wrong.status_code == 400
