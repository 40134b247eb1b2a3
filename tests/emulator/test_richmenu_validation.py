"""Rich menu objects: every rule LINE documents is enforced with a LINE-shaped 400 naming the
broken property, and a rejected menu is not created. Raw HTTP (not the SDK), because the SDK's
models refuse some of these bodies before they are sent."""

import copy

import pytest
from werkzeug.test import Client

from line_emulator import Emulator


@pytest.fixture
def api():
    emu = Emulator(seed=3)
    client = Client(emu.app)
    headers = {"Authorization": f"Bearer {emu.config.access_token}"}

    class Api:
        emulator = emu

        def post(self, path, body):
            return client.post(path, json=body, headers=headers)

        def get(self, path):
            return client.get(path, headers=headers)

    return Api()


def base_menu():
    return {
        "size": {"width": 2500, "height": 843},
        "selected": False,
        "name": "Main menu",
        "chatBarText": "Menu",
        "areas": [
            {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "postback", "label": "Link account", "data": "action=link",
                        "displayText": "Link my account"}},
            {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "uri", "label": "Shop", "uri": "https://example.com/shop"}},
        ],
    }


def _set(path, value):
    """A mutation of base_menu(): set (or, with value DELETE, remove) a dotted path."""
    def mutate(menu):
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        target = menu
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = copy.deepcopy(value)
        return menu
    return mutate


DELETE = object()
A0 = "areas.0.action"

CASES = {
    "width below 800": (_set("size.width", 799), "size.width"),
    "width above 2500": (_set("size.width", 2501), "size.width"),
    "height below 250": (_set("size", {"width": 800, "height": 249}), "size.height"),
    "aspect ratio below 1.45": (_set("size", {"width": 1200, "height": 1000}), "size"),
    "size missing": (_set("size", DELETE), "size"),
    "size not integers": (_set("size.width", "2500"), "size.width"),
    "selected missing": (_set("selected", DELETE), "selected"),
    "selected not a boolean": (_set("selected", "false"), "selected"),
    "name missing": (_set("name", DELETE), "name"),
    "name longer than 300": (_set("name", "n" * 301), "name"),
    "name empty": (_set("name", ""), "name"),
    "chatBarText missing": (_set("chatBarText", DELETE), "chatBarText"),
    "chatBarText longer than 14": (_set("chatBarText", "Tap here please"), "chatBarText"),
    "areas missing": (_set("areas", DELETE), "areas"),
    "more than 20 areas": (_set("areas", [base_menu()["areas"][0]] * 21), "areas"),
    "negative x": (_set("areas.0.bounds.x", -1), "areas[0].bounds.x"),
    "negative y": (_set("areas.0.bounds.y", -5), "areas[0].bounds.y"),
    "zero width": (_set("areas.0.bounds.width", 0), "areas[0].bounds.width"),
    "bounds missing height": (_set("areas.1.bounds.height", DELETE), "areas[1].bounds.height"),
    "area starting right of the image": (_set("areas.1.bounds.x", 2500), "areas[1].bounds.x"),
    "area starting below the image": (_set("areas.1.bounds.y", 843), "areas[1].bounds.y"),
    "bounds missing": (_set("areas.0.bounds", DELETE), "areas[0].bounds"),
    "action missing": (_set(A0, DELETE), "areas[0].action"),
    "unknown action type": (_set(A0, {"type": "teleport"}), "areas[0].action.type"),
    "label longer than 20": (_set(f"{A0}.label", "L" * 21), "areas[0].action.label"),
    "postback without data": (_set(f"{A0}.data", DELETE), "areas[0].action.data"),
    "postback data longer than 300": (_set(f"{A0}.data", "d" * 301), "areas[0].action.data"),
    "displayText longer than 300": (_set(f"{A0}.displayText", "t" * 301),
                                    "areas[0].action.displayText"),
    "displayText and text together": (_set(f"{A0}.text", "hi"), "areas[0].action.text"),
    "unknown inputOption": (_set(f"{A0}.inputOption", "openCamera"),
                            "areas[0].action.inputOption"),
    "fillInText without openKeyboard": (_set(f"{A0}.fillInText", "Name:"),
                                        "areas[0].action.fillInText"),
    "message without text": (_set(A0, {"type": "message"}), "areas[0].action.text"),
    "message text longer than 300": (_set(A0, {"type": "message", "text": "m" * 301}),
                                     "areas[0].action.text"),
    "uri with an ftp scheme": (_set("areas.1.action.uri", "ftp://example.com/menu"),
                               "areas[1].action.uri"),
    "uri longer than 1000": (_set("areas.1.action.uri", "https://e.com/" + "a" * 990),
                             "areas[1].action.uri"),
    "uri missing": (_set("areas.1.action.uri", DELETE), "areas[1].action.uri"),
    "datetimepicker without mode": (_set(A0, {"type": "datetimepicker", "data": "d"}),
                                    "areas[0].action.mode"),
    "datetimepicker min after max": (_set(A0, {"type": "datetimepicker", "data": "d",
                                               "mode": "date", "min": "2026-12-01",
                                               "max": "2026-11-01"}), "areas[0].action.max"),
    "richmenuswitch without alias": (_set(A0, {"type": "richmenuswitch", "data": "tab=b"}),
                                     "areas[0].action.richMenuAliasId"),
    "richmenuswitch alias longer than 32": (_set(A0, {"type": "richmenuswitch", "data": "x",
                                                      "richMenuAliasId": "a" * 33}),
                                            "areas[0].action.richMenuAliasId"),
    "richmenuswitch without data": (_set(A0, {"type": "richmenuswitch",
                                              "richMenuAliasId": "tab-b"}),
                                    "areas[0].action.data"),
    "clipboard without text": (_set(A0, {"type": "clipboard"}), "areas[0].action.clipboardText"),
    "camera (quick replies only)": (_set(A0, {"type": "camera", "label": "Camera"}),
                                    "areas[0].action.type"),
}


@pytest.mark.parametrize("mutate,prop", CASES.values(), ids=list(CASES))
def test_every_rule_is_a_400_naming_the_property_and_nothing_is_created(api, mutate, prop):
    body = mutate(base_menu())
    for path in ("/v2/bot/richmenu/validate", "/v2/bot/richmenu"):
        response = api.post(path, body)
        assert response.status_code == 400, response.json
        assert response.json["message"].startswith("The request body has")
        problems = {d["property"]: d["message"] for d in response.json["details"]}
        assert prop in problems, response.json
        assert problems[prop]  # a message a developer can act on
    assert api.get("/v2/bot/richmenu/list").json == {"richmenus": []}
    assert api.emulator.richmenus.menus == {}


def test_all_problems_are_reported_together(api):
    body = base_menu()
    body["size"]["width"] = 2600
    del body["name"]
    body["areas"][1]["action"]["uri"] = "javascript:alert(1)"
    response = api.post("/v2/bot/richmenu", body)
    assert response.status_code == 400
    assert response.json["message"] == "The request body has 3 error(s)"
    props = [d["property"] for d in response.json["details"]]
    assert props == ["size.width", "name", "areas[1].action.uri"]


def test_a_valid_menu_validates_and_is_created_as_sent(api):
    body = base_menu()
    assert api.post("/v2/bot/richmenu/validate", body).status_code == 200
    assert api.emulator.richmenus.menus == {}  # validating creates nothing
    created = api.post("/v2/bot/richmenu", body)
    assert created.status_code == 200
    rich_menu_id = created.json["richMenuId"]
    assert rich_menu_id.startswith("richmenu-") and len(rich_menu_id) == 41
    assert api.get(f"/v2/bot/richmenu/{rich_menu_id}").json == {"richMenuId": rich_menu_id,
                                                                **body}


def test_lines_own_tab_example_with_a_1px_overhang_is_accepted(api):
    # developers.line.biz "Switch between tabs": x=1251, width=1250 on a 2500 px menu.
    body = base_menu()
    body["size"] = {"width": 2500, "height": 1686}
    body["areas"] = [
        {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 1686},
         "action": {"type": "uri", "uri": "https://developers.line.biz/"}},
        {"bounds": {"x": 1251, "y": 0, "width": 1250, "height": 1686},
         "action": {"type": "richmenuswitch", "richMenuAliasId": "richmenu-alias-b",
                    "data": "richmenu-changed-to-b"}},
    ]
    assert api.post("/v2/bot/richmenu", body).status_code == 200


@pytest.mark.parametrize("raw,message", [
    (b"{not json", "could not be parsed as JSON"),
    (b"[1, 2]", "must be a JSON object"),
])
def test_a_body_that_is_not_a_json_object_is_a_400(api, raw, message):
    client = Client(api.emulator.app)
    response = client.post("/v2/bot/richmenu", data=raw, content_type="application/json",
                           headers={"Authorization": f"Bearer {api.emulator.config.access_token}"})
    assert response.status_code == 400
    assert message in response.json["message"]


def test_at_most_1000_rich_menus(api):
    state = api.emulator.richmenus
    for _ in range(1000):
        state.create(base_menu())
    response = api.post("/v2/bot/richmenu", base_menu())
    assert response.status_code == 400
    assert "maximum number of rich menus (1000)" in response.json["message"]
    assert len(state.menus) == 1000
    # Validation is not creation: the object itself is still valid.
    assert api.post("/v2/bot/richmenu/validate", base_menu()).status_code == 200
