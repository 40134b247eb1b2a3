"""Simulated users: friendship, talking, postbacks, rich-menu taps, as the bot receives them."""

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.webhooks import (FollowEvent, MessageEvent, PostbackEvent, TextMessageContent,
                                 UnfollowEvent)

from line_emulator.users import UserActionError


def received_events(emu, webhook_sink):
    parser = WebhookParser(emu.config.channel_secret)
    return [event for item in webhook_sink.received
            for event in parser.parse(item["raw"].decode("utf-8"),
                                      item["headers"]["X-Line-Signature"])]


def test_follow_block_unblock(emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    assert not aiko.is_friend and aiko.friendship == "none"

    first = aiko.follow()
    assert aiko.is_friend
    assert first.event["follow"] == {"isUnblocked": False}
    assert first.event["replyToken"]

    blocked = aiko.block()
    assert aiko.friendship == "blocked"
    assert blocked.event["type"] == "unfollow" and "replyToken" not in blocked.event

    again = aiko.unblock()
    assert aiko.is_friend and again.event["follow"] == {"isUnblocked": True}

    follow, unfollow, refollow = received_events(emu, webhook_sink)
    assert isinstance(follow, FollowEvent) and follow.follow.is_unblocked is False
    assert isinstance(unfollow, UnfollowEvent) and unfollow.source.user_id == aiko.user_id
    assert isinstance(refollow, FollowEvent) and refollow.follow.is_unblocked is True
    assert follow.reply_token != refollow.reply_token


def test_following_twice_or_blocking_twice_sends_nothing(emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    assert aiko.follow().events == []
    aiko.block()
    assert aiko.block().events == []
    assert [e["type"] for e in webhook_sink.events] == ["follow", "unfollow"]


def test_follow_after_block_is_an_unblock(emu):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    aiko.block()
    assert aiko.follow().event["follow"]["isUnblocked"] is True


def test_unblock_without_a_block_is_refused(emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    with pytest.raises(UserActionError) as caught:
        aiko.unblock()
    assert caught.value.status == 409
    assert webhook_sink.received == [] and aiko.friendship == "none"


def test_a_blocked_user_cannot_talk(emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    aiko.block()
    for act in (lambda: aiko.say("hi"), lambda: aiko.postback("a=1"), lambda: aiko.tap(1, 1)):
        with pytest.raises(UserActionError, match="blocked"):
            act()
    assert [e["type"] for e in webhook_sink.events] == ["follow", "unfollow"]


def test_say_sends_a_text_message_event(emu, webhook_sink):
    aiko = emu.add_user("Aiko")  # not a friend: LINE still delivers 1:1 messages
    emu.advance(5)
    result = aiko.send_text("注文履歴")
    message = result.event["message"]
    assert message["type"] == "text" and message["text"] == "注文履歴"
    assert message["id"] and message["quoteToken"] and message["markAsReadToken"]
    assert aiko.record.last_message_at == emu.clock.now()

    [event] = received_events(emu, webhook_sink)
    assert isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent)
    assert event.message.quote_token == message["quoteToken"]
    assert event.reply_token == result.event["replyToken"]


@pytest.mark.parametrize("text", ["", None, 3])
def test_say_rejects_bad_text(emu, webhook_sink, text):
    with pytest.raises(UserActionError) as caught:
        emu.add_user("Aiko").say(text)
    assert caught.value.status == 400
    assert webhook_sink.received == []


def test_postback_with_params(emu, webhook_sink):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    aiko.postback("action=link")
    aiko.postback("pick=date", {"date": "2026-11-03"})
    _, plain, picked = received_events(emu, webhook_sink)
    assert isinstance(plain, PostbackEvent)
    assert plain.postback.data == "action=link" and plain.postback.params is None
    assert picked.postback.params == {"date": "2026-11-03"}


@pytest.mark.parametrize("data, params", [("x" * 301, None), (None, None), ("ok", {"a": 1})])
def test_postback_rejects_bad_input(emu, webhook_sink, data, params):
    with pytest.raises(UserActionError):
        emu.add_user("Aiko").postback(data, params)
    assert webhook_sink.received == []


# Rich-menu taps: the area's action (from the rich-menu state) decides the event ------------------
@pytest.fixture
def menu_action(emu, monkeypatch):
    """Make every tap hit an area with the action the test sets."""
    chosen = {}

    def tap(record, x, y):
        return chosen.get("result")

    monkeypatch.setattr(emu.richmenus, "tap", tap)

    def choose(action, params=None):
        chosen["result"] = {"action": action, "params": params} if action else None

    return choose


def test_tap_postback_area(emu, webhook_sink, menu_action):
    menu_action({"type": "postback", "data": "action=orders", "displayText": "注文履歴"})
    result = emu.add_user("Aiko").tap(100, 200)
    assert result.event["postback"] == {"data": "action=orders"}
    assert result.action["type"] == "postback"
    assert isinstance(received_events(emu, webhook_sink)[0], PostbackEvent)


def test_tap_richmenuswitch_area(emu, menu_action):
    menu_action({"type": "richmenuswitch", "richMenuAliasId": "page-2", "data": "tab=2"},
                {"newRichMenuAliasId": "page-2", "status": "SUCCESS"})
    result = emu.add_user("Aiko").tap(5, 5)
    assert result.event["postback"] == {
        "data": "tab=2", "params": {"newRichMenuAliasId": "page-2", "status": "SUCCESS"}}


def test_tap_message_area(emu, webhook_sink, menu_action):
    menu_action({"type": "message", "text": "ポイント"})
    aiko = emu.add_user("Aiko")
    result = aiko.tap(0, 0)
    assert result.event["message"]["text"] == "ポイント"
    assert aiko.record.last_message_at == emu.clock.now()


def test_tap_uri_area_opens_the_uri_and_sends_nothing(emu, webhook_sink, menu_action):
    menu_action({"type": "uri", "uri": "https://shop.example.com/my/line"})
    result = emu.add_user("Aiko").tap(0, 0)
    assert result.uri == "https://shop.example.com/my/line"
    assert result.events == [] and webhook_sink.received == []


def test_tap_outside_any_area_sends_nothing(emu, webhook_sink, menu_action):
    menu_action(None)
    result = emu.add_user("Aiko").tap(0, 0)
    assert result.events == [] and result.error
    assert webhook_sink.received == []


@pytest.mark.parametrize("x, y", [(-1, 0), (0, 1.5), ("1", 2), (True, 0)])
def test_tap_rejects_bad_coordinates(emu, x, y):
    with pytest.raises(UserActionError):
        emu.add_user("Aiko").tap(x, y)


def test_rich_menu_property_reports_no_menu_for_a_new_user(emu):
    assert emu.add_user("Aiko").rich_menu == {"richMenuId": None, "source": None}


def test_inbox_collects_what_the_bot_sends(emulator_server):
    from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage

    emu = emulator_server.emulator
    aiko = emu.add_user("Aiko")
    aiko.follow()
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    api.push_message(PushMessageRequest(to=aiko.user_id, messages=[TextMessage(text="ようこそ")]))
    [item] = aiko.inbox
    assert item["api"] == "push" and item["message"]["text"] == "ようこそ"


# The same taps on a real rich menu created through the SDK ---------------------------------------
def test_tapping_a_real_default_rich_menu(emulator_server, webhook_sink):
    import requests
    from linebot.v3.messaging import (ApiClient, MessageAction, MessagingApi, MessagingApiBlob,
                                      PostbackAction, RichMenuArea, RichMenuBounds,
                                      RichMenuRequest, RichMenuSize, URIAction)

    from line_emulator.images import solid_png

    emu = emulator_server.emulator
    client = ApiClient(emulator_server.messaging_configuration())
    api = MessagingApi(client)
    area = lambda x, action: RichMenuArea(  # noqa: E731
        bounds=RichMenuBounds(x=x, y=0, width=800, height=810), action=action)
    menu_id = api.create_rich_menu(RichMenuRequest(
        size=RichMenuSize(width=2400, height=810), selected=True, name="unlinked",
        chat_bar_text="メニュー", areas=[
            area(0, PostbackAction(label="link", data="action=link")),
            area(800, MessageAction(label="points", text="ポイント")),
            area(1600, URIAction(label="shop", uri="https://shop.example.com/")),
        ])).rich_menu_id
    MessagingApiBlob(client).set_rich_menu_image(menu_id, solid_png(2400, 810),
                                                 _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(menu_id)

    aiko = emu.add_user("Aiko")
    aiko.follow()
    assert aiko.rich_menu == {"richMenuId": menu_id, "source": "default"}
    assert aiko.tap(10, 10).event["postback"] == {"data": "action=link"}
    assert aiko.tap(900, 10).event["message"]["text"] == "ポイント"

    control = f"{emulator_server.base_url}/__emulator__/users/{aiko.user_id}"
    uri = requests.post(control + "/tap", json={"x": 2000, "y": 10}).json()
    assert uri["uri"] == "https://shop.example.com/" and uri["events"] == []
    assert requests.get(control + "/richmenu").json() == {"richMenuId": menu_id,
                                                          "source": "default"}
    assert [e["type"] for e in webhook_sink.events] == ["follow", "postback", "message"]
