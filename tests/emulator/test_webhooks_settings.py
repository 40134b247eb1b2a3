"""Webhook settings through the SDK: get / set the endpoint and the console's test button."""

import pytest
from linebot.v3.messaging import (ApiClient, ApiException, MessagingApi, SetWebhookEndpointRequest,
                                  TestWebhookEndpointRequest as WebhookTestRequest)


@pytest.fixture
def api(emulator_server):
    return MessagingApi(ApiClient(emulator_server.messaging_configuration()))


def test_get_and_set_the_endpoint(api, emu, webhook_sink):
    info = api.get_webhook_endpoint()
    assert (info.endpoint, info.active) == (webhook_sink.url, True)
    api.set_webhook_endpoint(SetWebhookEndpointRequest(endpoint="https://bot.example.com/hook"))
    assert emu.config.webhook_url == "https://bot.example.com/hook"
    emu.config.webhook_enabled = False
    assert api.get_webhook_endpoint().active is False


def test_set_rejects_a_non_url_and_keeps_the_old_one(emulator_server, emu, webhook_sink):
    import requests

    response = requests.put(emulator_server.base_url + "/v2/bot/channel/webhook/endpoint",
                            json={"endpoint": "not a url"},
                            headers={"Authorization": f"Bearer {emu.config.access_token}"})
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "endpoint"
    assert emu.config.webhook_url == webhook_sink.url


def test_test_button_reports_ok_and_failures(api, emu, webhook_sink):
    ok = api.test_webhook_endpoint(WebhookTestRequest())
    assert (ok.success, ok.status_code, ok.reason, ok.detail) == (True, 200, "OK", "200")
    assert webhook_sink.received[0]["body"]["events"] == []

    webhook_sink.status = 500
    failed = api.test_webhook_endpoint(WebhookTestRequest(endpoint=webhook_sink.url))
    assert (failed.success, failed.status_code, failed.reason) == (
        False, 500, "ERROR_STATUS_CODE")


def test_test_button_without_any_url_is_400(api, emu):
    emu.config.webhook_url = None
    with pytest.raises(ApiException) as caught:
        api.test_webhook_endpoint(WebhookTestRequest())
    assert caught.value.status == 400
