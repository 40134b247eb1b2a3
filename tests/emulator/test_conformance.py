"""The emulator against LINE's official OpenAPI specs (line/line-openapi, beside the repository).

1. The validator can fail: it rejects the mistakes that matter (missing text, unknown message
   type, postback data over 300 characters, batch operation without ``to``, accountLink without
   ``link``, bad ``link.result``, bad ``destination``).
2. A scripted scenario drives every emulated endpoint through the official line-bot-sdk; a WSGI
   middleware validates each request the SDK sends and each response the emulator returns, and
   every webhook body the emulator sends is validated against ``CallbackRequest``.

Without the specs these tests skip, saying so: it is the only skip in the project.
"""

import threading
import uuid

import pytest
import requests
from werkzeug.serving import make_server

from line_emulator import Emulator, contract
from line_emulator.contract_middleware import ContractMiddleware
from line_emulator.server import QuietHandler

# pytest puts tests/emulator/ on sys.path (rootdir-relative "prepend" import mode).
from conformance_scenario import STEPS, Scenario, send_invalid_variants


@pytest.fixture(scope="module")
def spec():
    if not contract.specs_available():
        pytest.skip(f"LINE OpenAPI specs not found at {contract.specs_dir()}; "
                    "conformance not checked")
    return contract.default_contract()


BOT = "U" + "0123456789abcdef" * 2
USER = "U" + "fedcba9876543210" * 2


def _event(**extra):
    event = {"type": "follow", "mode": "active", "timestamp": 1793577600000,
             "source": {"type": "user", "userId": USER},
             "webhookEventId": "01JBX3Q8Z0000000000000000",
             "deliveryContext": {"isRedelivery": False}, "replyToken": "r" * 32,
             "follow": {"isUnblocked": False}}
    event.update(extra)
    return {k: v for k, v in event.items() if v is not None}


def _account_link(link, failed=False):
    if failed:  # LINE cannot vouch for the user: no source, no replyToken
        return _event(type="accountLink", follow=None, link=link, source=None, replyToken=None)
    return _event(type="accountLink", follow=None, link=link)


def _text(text="こんにちは"):
    return {"type": "text", "text": text}


def _push(*messages):
    return {"to": USER, "messages": list(messages)}


def _buttons(data):
    return {"type": "template", "altText": "連携", "template": {
        "type": "buttons", "text": "ID連携しますか？",
        "actions": [{"type": "postback", "label": "連携する", "data": data}]}}


# 1. The validator catches what matters --------------------------------------------------------
def test_valid_examples_pass(spec):
    assert spec.validate_request("POST", "/v2/bot/message/push",
                                 _push(_text(), _buttons("action=link"))) == []
    assert spec.validate_request("POST", "/v2/bot/richmenu/batch", {"operations": [
        {"type": "link", "from": "richmenu-a", "to": "richmenu-b"},
        {"type": "unlinkAll"}]}) == []
    assert spec.validate_webhook({"destination": BOT, "events": [
        _event(), _account_link({"result": "ok", "nonce": "n" * 16}),
        _account_link({"result": "failed", "nonce": "n" * 16}, failed=True)]}) == []
    assert spec.validate_response("POST", "/v2/bot/message/push", 200,
                                  {"sentMessages": [{"id": "1", "quoteToken": "q"}]}) == []


@pytest.mark.parametrize("body, expected", [
    (_push({"type": "text"}), "$.messages[0]: 'text' is a required property"),
    (_push({"type": "bogus"}), "$.messages[0]: 'bogus' is not a known 'type'"),
    (_push(_buttons("x" * 301)), "$.messages[0].template.actions[0].data: "),
    (_push(), "$.messages: [] should be non-empty"),
    (_push(*[_text()] * 6), "$.messages: "),
])
def test_invalid_messages_are_rejected(spec, body, expected):
    errors = spec.validate_request("POST", "/v2/bot/message/push", body)
    assert any(expected in error for error in errors), errors


def test_postback_data_of_300_characters_passes(spec):
    assert spec.validate_request("POST", "/v2/bot/message/push", _push(_buttons("x" * 300))) == []


def test_batch_link_without_to_is_rejected(spec):
    errors = spec.validate_request("POST", "/v2/bot/richmenu/batch",
                                   {"operations": [{"type": "link", "from": "richmenu-a"}]})
    assert errors == ["richMenuBatch request body at $.operations[0]: "
                      "'to' is a required property"]


@pytest.mark.parametrize("event, expected", [
    (_account_link(None), "$.events[0]: 'link' is a required property"),
    (_account_link({"result": "maybe", "nonce": "n" * 16}),
     "$.events[0].link.result: 'maybe' is not one of ['ok', 'failed']"),
    (_account_link({"result": "ok"}), "$.events[0].link: 'nonce' is a required property"),
    (_event(type="party"), "$.events[0]: 'party' is not a known 'type'"),
])
def test_invalid_webhook_events_are_rejected(spec, event, expected):
    errors = spec.validate_webhook({"destination": BOT, "events": [event]})
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize("destination",
                         ["U" + "0123456789ABCDEF" * 2, "U123", BOT + "0", "C" + BOT[1:]])
def test_webhook_destination_must_be_a_bot_user_id(spec, destination):
    errors = spec.validate_webhook({"destination": destination, "events": []})
    assert any("$.destination" in error for error in errors), errors


def test_responses_are_checked_too(spec):
    assert spec.validate_response("POST", "/v2/bot/message/push", 200, {}) == [
        "pushMessage 200 response: 'sentMessages' is a required property"]
    # Bulk link is documented as 202: a 200 is a contract violation.
    assert "status 200 is not documented" in spec.validate_response(
        "POST", "/v2/bot/richmenu/bulk/link", 200, None)[0]
    # Undocumented error statuses must still have LINE's error body.
    assert spec.validate_response("GET", "/v2/bot/profile/" + USER, 404,
                                  {"message": "Not found"}) == []
    assert spec.validate_response("GET", "/v2/bot/profile/" + USER, 500, {"error": "x"}) == [
        "getProfile 500 response: 'message' is a required property"]
    # nullable: LINE's AudienceGroupFailedType may be null, other enums may not.
    assert spec.validate_schema("AudienceGroupFailedType", None, "manage-audience.yml") == []
    assert spec.validate_schema("AudienceGroupStatus", None, "manage-audience.yml") != []


def test_responses_and_webhooks_may_not_carry_undeclared_members(spec):
    """A misspelt optional field passes plain JSON Schema; the strict check reports it."""
    progress = {"phase": "succeeded", "successCount": 2, "failureCount": 0, "targetCount": 2,
                "acceptedTime": "2026-11-02T00:00:00.000Z"}
    path = "/v2/bot/message/progress/narrowcast"
    assert spec.validate_response("GET", path, 200, progress) == []
    assert spec.validate_response("GET", path, 200, progress | {"completeTime": "x"}) == [
        "getNarrowcastProgress 200 response at $.completeTime: not declared in the spec "
        "(misspelt or invented?)"]
    assert spec.validate_response("GET", path, 200, progress | {"completeTime": "x"},
                                  strict=False) == []
    event = _event()
    event["follow"]["isUnBlocked"] = True
    assert spec.validate_webhook({"destination": BOT, "events": [event]}) == [
        "webhook at $.events[0].follow.isUnBlocked: not declared in the spec "
        "(misspelt or invented?)"]
    # Members LINE sends that this spec snapshot's schema lacks are listed, not reported.
    group = {"audienceGroupId": 1, "type": "UPLOAD", "description": "VIP", "status": "READY",
             "audienceCount": 2, "created": 1, "permission": "READ", "createRoute": "MESSAGING_API",
             "isIfaAudience": False, "expireTimestamp": 2}
    assert spec.validate_response("GET", "/v2/bot/audienceGroup/1", 200,
                                  {"audienceGroup": group, "jobs": []}) == []
    assert contract.SPEC_DRIFT["AudienceGroup"] == ("expireTimestamp",)


def test_paths_match_literal_segments_before_parameters(spec):
    assert spec.operation_for("GET", "/v2/bot/richmenu/list") == "getRichMenuList"
    assert spec.operation_for("GET", "/v2/bot/richmenu/richmenu-1") == "getRichMenu"
    assert spec.operation_for("GET", "/v2/bot/user/all/richmenu") == "getDefaultRichMenuId"
    assert spec.operation_for("GET", f"/v2/bot/user/{USER}/richmenu") == "getRichMenuIdOfUser"
    assert spec.operation_for("POST", "/v2/bot/richmenu/content") is None
    assert contract.operation_for("GET", "/v2/bot/audienceGroup/list") == "getAudienceGroups"
    assert spec.validate_request("GET", "/v2/bot/audienceGroup/abc") == [
        "getAudienceData path parameter audienceGroupId: 'abc' is not of type 'integer'"]
    assert spec.validate_request("GET", "/v2/bot/followers/ids", query={"limit": ["many"]}) == [
        "getFollowers query parameter limit: 'many' is not of type 'integer'"]


# 2. The emulator as the SDK sees it ---------------------------------------------------------
@pytest.fixture
def checked_server(spec, webhook_sink):
    """An emulator (seed 7, webhooks to the sink) served behind the contract middleware."""
    emu = Emulator(seed=7, webhook_url=webhook_sink.url)
    middleware = ContractMiddleware(emu.app, spec)
    server = make_server("127.0.0.1", 0, middleware, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield emu, middleware, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    emu.webhooks.stop()


def test_the_middleware_reports_a_contract_violation(checked_server):
    """The conformance run can fail: an invalid response is reported, not swallowed."""
    emu, middleware, base_url = checked_server
    with middleware.expect_invalid():
        requests.post(f"{base_url}/v2/bot/message/push", json=_push({"type": "bogus"}),
                      headers={"Authorization": f"Bearer {emu.config.access_token}"}, timeout=10)
    requests.post(f"{base_url}/v2/bot/message/push", json=_push(_text()),
                  headers={"Authorization": f"Bearer {emu.config.access_token}",
                           "X-Line-Retry-Key": "not-a-uuid"}, timeout=10)
    assert middleware.violations == []
    # The same valid request, marked as meant to be invalid, is reported.
    with middleware.expect_invalid():
        requests.get(f"{base_url}/v2/bot/message/quota",
                     headers={"Authorization": f"Bearer {emu.config.access_token}"}, timeout=10)
    assert middleware.violations == [
        "GET /v2/bot/message/quota: sent as an invalid request, but the specs accept it"]
    assert [(x["endpoint"], x["checked"]) for x in middleware.exchanges][-1] == (
        "getMessageQuota", True)


def test_sdk_scenario_conforms_to_the_specs(spec, checked_server, webhook_sink):
    emu, middleware, base_url = checked_server
    scenario = Scenario(emu, middleware, base_url, webhook_sink)
    scenario.run(STEPS)
    report = scenario.report(spec)
    assert not report, "\n".join(report)


def test_emulator_rejects_what_the_specs_reject(spec, checked_server, webhook_sink):
    """Each member of a valid request dropped or given a wrong type, where the specs then reject
    the request: the emulator answers 400 and delivers nothing."""
    emu, middleware, base_url = checked_server
    scenario = Scenario(emu, middleware, base_url, webhook_sink)
    scenario.run(STEPS)
    problems = send_invalid_variants(scenario, spec)
    assert scenario.ctx["invalid_sent"] > 100  # the check covers real ground
    problems += [f"contract: {v}" for v in middleware.violations]
    assert not problems, "\n".join(problems)
