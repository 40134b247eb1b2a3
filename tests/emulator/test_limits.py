"""Every documented limit of message and action objects is refused with a clear, LINE-shaped 400
(and the same body one unit below the limit is accepted); plus ``validate_action`` by context."""

import pytest

from line_emulator.limits import u16len, validate_action, validate_messages
from messaging_support import friend, raw

PUSH, MULTICAST = "/v2/bot/message/push", "/v2/bot/message/multicast"
OK_ACTION = {"type": "message", "label": "OK", "text": "OK"}


def text(value="x", **extra):
    return {"type": "text", "text": value, **extra}


def template(tpl, alt="alt"):
    return {"type": "template", "altText": alt, "template": tpl}


def buttons(actions):
    return template({"type": "buttons", "text": "choose", "actions": actions})


def bubble(size_text="hello", footer=None):
    body = {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                       "contents": [{"type": "text", "text": size_text}]}}
    if footer:
        body["footer"] = {"type": "box", "layout": "vertical", "contents": footer}
    return body


def flex(contents, alt="alt"):
    return {"type": "flex", "altText": alt, "contents": contents}


def carousel(bubbles):
    return flex({"type": "carousel", "contents": bubbles})


def quick(items):
    return text(quickReply={"items": items})


def qr_item(action=None):
    return {"type": "action", "action": action or OK_ACTION}


def column(actions, **extra):
    return {"text": "column", "actions": actions, **extra}


def image(url):
    return {"type": "image", "originalContentUrl": url, "previewImageUrl": url}


def postback(**fields):
    return buttons([{"type": "postback", "label": "go", "data": "d", **fields}])


def uri(value):
    return buttons([{"type": "uri", "label": "go", "uri": value}])


# (id, path, messages or full body, property, words the error message must contain)
REFUSED = [
    ("no messages", PUSH, [], "messages", "between 1 and 5"),
    ("six messages", PUSH, [text()] * 6, "messages", "between 1 and 5"),
    ("unknown message type", PUSH, [{"type": "postcard"}], "messages[0].type",
     "Invalid message type 'postcard'"),
    ("text over 5000 UTF-16 units", PUSH, [text("🍣" * 2500 + "x")], "messages[0].text",
     "between 1 and 5000"),
    ("empty text", PUSH, [text("")], "messages[0].text", "between 1 and 5000"),
    ("21 emojis", PUSH, [text("$" * 21, emojis=[
        {"index": i, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"}
        for i in range(21)])], "messages[0].emojis", "between 0 and 20"),
    ("emoji index off a $", PUSH, [text("a$", emojis=[
        {"index": 0, "productId": "p", "emojiId": "001"}])], "messages[0].emojis[0].index", "$"),
    ("flex altText over 400", PUSH, [flex(bubble(), alt="a" * 401)], "messages[0].altText",
     "between 1 and 400"),
    ("flex bubble over 30 KB", PUSH, [flex(bubble("x" * 31_000))], "messages[0].contents",
     "30720 bytes"),
    ("flex carousel of 13 bubbles", PUSH, [carousel([bubble()] * 13)],
     "messages[0].contents.contents", "between 1 and 12"),
    ("flex carousel over 50 KB", PUSH, [carousel([bubble("x" * 20_000)] * 3)],
     "messages[0].contents", "51200 bytes"),
    ("flex button label over 40", PUSH, [flex(bubble(footer=[
        {"type": "button", "action": {"type": "uri", "label": "l" * 41, "uri": "https://a.jp"}}]))],
     "messages[0].contents.footer.contents[0].action.label", "between 1 and 40"),
    ("flex button without label", PUSH, [flex(bubble(footer=[
        {"type": "button", "action": {"type": "uri", "uri": "https://a.jp"}}]))],
     "messages[0].contents.footer.contents[0].action.label", "must be specified"),
    ("template altText over 400", PUSH, [template({"type": "confirm", "text": "?", "actions": [
        OK_ACTION, OK_ACTION]}, alt="a" * 401)], "messages[0].altText", "between 1 and 400"),
    ("buttons with 5 actions", PUSH, [buttons([OK_ACTION] * 5)], "messages[0].template.actions",
     "between 1 and 4"),
    ("confirm with 3 actions", PUSH, [template({"type": "confirm", "text": "?",
                                                "actions": [OK_ACTION] * 3})],
     "messages[0].template.actions", "exactly 2"),
    ("carousel of 11 columns", PUSH, [template({"type": "carousel", "columns": [
        column([OK_ACTION])] * 11})], "messages[0].template.columns", "between 1 and 10"),
    ("carousel column with 4 actions", PUSH, [template({"type": "carousel", "columns": [
        column([OK_ACTION] * 4)]})], "messages[0].template.columns[0].actions",
     "between 1 and 3"),
    ("template action label over 20", PUSH, [buttons([dict(OK_ACTION, label="l" * 21)])],
     "messages[0].template.actions[0].label", "between 1 and 20"),
    ("image carousel label over 12", PUSH, [template({"type": "image_carousel", "columns": [
        {"imageUrl": "https://a.jp/i.png", "action": dict(OK_ACTION, label="l" * 13)}]})],
     "messages[0].template.columns[0].action.label", "between 1 and 12"),
    ("postback data over 300", PUSH, [postback(data="d" * 301)],
     "messages[0].template.actions[0].data", "between 0 and 300"),
    ("postback displayText over 300", PUSH, [postback(displayText="t" * 301)],
     "messages[0].template.actions[0].displayText", "between 1 and 300"),
    ("uri over 1000", PUSH, [uri("https://a.jp/" + "p" * 990)],
     "messages[0].template.actions[0].uri", "between 1 and 1000"),
    ("uri with an ftp scheme", PUSH, [uri("ftp://a.jp/file")],
     "messages[0].template.actions[0].uri", "http, https, line or tel"),
    ("uri not percent-encoded", PUSH, [uri("https://a.jp/注文")],
     "messages[0].template.actions[0].uri", "percent-encoded"),
    ("richmenuswitch outside a rich menu", PUSH, [quick([qr_item(
        {"type": "richmenuswitch", "label": "a", "richMenuAliasId": "a", "data": "d"})])],
     "messages[0].quickReply.items[0].action.type", "rich menu"),
    ("camera outside a quick reply", PUSH, [buttons([{"type": "camera", "label": "c"}])],
     "messages[0].template.actions[0].type", "quick reply"),
    ("14 quick reply items", PUSH, [quick([qr_item()] * 14)], "messages[0].quickReply.items",
     "between 1 and 13"),
    ("quick reply label over 20", PUSH, [quick([qr_item(dict(OK_ACTION, label="l" * 21))])],
     "messages[0].quickReply.items[0].action.label", "between 1 and 20"),
    ("sender name over 20", PUSH, [text(sender={"name": "n" * 21})], "messages[0].sender.name",
     "between 1 and 20"),
    ("image over http", PUSH, [image("http://a.jp/i.png")], "messages[0].originalContentUrl",
     "https"),
    ("image URL over 2000", PUSH, [image("https://a.jp/" + "i" * 1990)],
     "messages[0].previewImageUrl", "between 1 and 2000"),
    ("two aggregation units", PUSH, {"customAggregationUnits": ["a", "b"]},
     "customAggregationUnits", "between 0 and 1"),
    ("aggregation unit with a dash", PUSH, {"customAggregationUnits": ["autumn-sale"]},
     "customAggregationUnits[0]", "^[a-zA-Z0-9_]{1,30}$"),
    ("multicast to 501", MULTICAST, {"to": [f"U{n:032x}" for n in range(501)]}, "to",
     "between 1 and 500"),
    ("multicast to a group", MULTICAST, {"to": ["C" + "0" * 32]}, "to[0]", "user ID"),
]


def _body(path, payload, user_id):
    body = {"messages": [text()]} if isinstance(payload, dict) else {"messages": payload}
    if isinstance(payload, dict):
        body.update(payload)
    body.setdefault("to", [user_id] if path == MULTICAST else user_id)
    if path == MULTICAST and body["to"] and body["to"][0] == "U" + "0" * 32:
        body["to"] = [user_id] + body["to"][1:]  # the friend is one of the recipients
    return body


@pytest.mark.parametrize("path, payload, prop, words", [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_every_limit_is_refused_with_a_clear_400(emulator_server, emu, path, payload, prop, words):
    aiko = friend(emu)
    answer = raw(emulator_server, "POST", path, json=_body(path, payload, aiko.user_id))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["message"] == f"The request body has {len(body['details'])} error(s)"
    messages = {d["property"]: d["message"] for d in body["details"]}
    assert prop in messages, body
    assert words in messages[prop]
    assert aiko.inbox == [] and emu.messaging.deliveries == []


ACCEPTED = [
    ("five messages", PUSH, [text()] * 5),
    ("text of 5000 UTF-16 units", PUSH, [text("🍣" * 2500)]),
    ("20 emojis", PUSH, [text("$" * 20, emojis=[
        {"index": i, "productId": "p", "emojiId": "001"} for i in range(20)])]),
    ("flex carousel of 12 bubbles", PUSH, [carousel([bubble()] * 12)]),
    ("flex bubble just under 30 KB", PUSH, [flex(bubble("x" * 30_500))]),
    ("buttons with 4 actions and 20-character labels",
     PUSH, [buttons([dict(OK_ACTION, label="l" * 20)] * 4)]),
    ("13 quick reply items", PUSH, [quick([qr_item()] * 13)]),
    ("postback data of 300", PUSH, [postback(data="d" * 300, displayText="t" * 300)]),
    ("tel and line URIs", PUSH, [uri("tel:0312345678"), uri("line://nv/chat")]),
    ("multicast to 500", MULTICAST, {"to": [f"U{n:032x}" for n in range(500)]}),
    ("one aggregation unit", MULTICAST, {"customAggregationUnits": ["autumn_sale_2026"]}),
]


@pytest.mark.parametrize("path, payload", [case[1:] for case in ACCEPTED],
                         ids=[case[0] for case in ACCEPTED])
def test_bodies_at_the_limit_are_accepted(emulator_server, emu, path, payload):
    aiko = friend(emu)
    answer = raw(emulator_server, "POST", path, json=_body(path, payload, aiko.user_id))
    assert answer.status_code == 200, answer.text
    assert aiko.inbox


def test_lengths_are_counted_in_utf16_units():
    assert u16len("🍣") == 2 and u16len("寿司") == 2 and u16len("") == 0
    assert validate_messages([text("寿" * 5000)]) == []


@pytest.mark.parametrize("context, limit", [("richmenu", 20), ("template", 20),
                                            ("quickreply", 20), ("flex", 40),
                                            ("imagecarousel", 12)])
def test_action_label_limits_depend_on_where_the_action_is(context, limit):
    action = {"type": "postback", "data": "d", "label": "l" * limit}
    assert validate_action(action, "a", context) == []
    assert validate_action(dict(action, label="l" * (limit + 1)), "a", context) == [
        ("a.label", f"Length must be between 1 and {limit}")]


def test_action_types_are_allowed_only_in_their_places():
    switch = {"type": "richmenuswitch", "richMenuAliasId": "menu-b", "data": "tab=b"}
    assert validate_action(switch, "areas[0].action", "richmenu") == []
    assert validate_action(dict(switch, richMenuAliasId="Menu B"), "a", "richmenu") == [
        ("a.richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$")]
    assert validate_action({"type": "camera", "label": "撮る"}, "a", "quickreply") == []
    assert validate_action({"type": "postback", "data": "d"}, "a", "richmenu") == []  # no label
    assert validate_action({"type": "postback", "data": "d"}, "a", "template") == [
        ("a.label", "must be specified")]
    assert validate_action({"type": "teleport"}, "a", "richmenu") == [
        ("a.type", "Invalid action type 'teleport'")]
    with pytest.raises(ValueError):
        validate_action(switch, "a", "sidebar")


def test_postback_and_datetimepicker_fields():
    both = {"type": "postback", "data": "d", "displayText": "a", "text": "b"}
    assert validate_action(both, "a", "richmenu") == [
        ("a.text", "displayText and text cannot both be set")]
    fill = {"type": "postback", "data": "d", "fillInText": "x"}
    assert validate_action(fill, "a", "richmenu") == [
        ("a.fillInText", "fillInText needs inputOption openKeyboard")]
    assert validate_action(dict(fill, inputOption="openKeyboard"), "a", "richmenu") == []
    picker = {"type": "datetimepicker", "data": "d", "mode": "date",
              "initial": "2026-11-02", "min": "2026-11-01", "max": "2026-12-31"}
    assert validate_action(picker, "a", "richmenu") == []
    assert [p for p, _ in validate_action(dict(picker, initial="2026/11/02"), "a",
                                          "richmenu")] == ["a.initial"]
    assert [p for p, _ in validate_action(dict(picker, mode="year"), "a", "richmenu")] == [
        "a.mode"]
