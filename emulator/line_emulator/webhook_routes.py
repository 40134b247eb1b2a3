"""Webhook settings endpoints of the Messaging API: get / set the webhook URL and test it.

Undocumented behaviour chosen here
----------------------------------
- LINE accepts only HTTPS webhook URLs; the emulator also accepts ``http://`` so that a bot on
  127.0.0.1 can be set up through the API exactly as in production.
- ``GET`` with no URL set answers ``{"endpoint": "", "active": false}``.
- The test posts ``{"destination", "events": []}`` at once, while the request is being handled
  (an empty event list gives a bot nothing to call back for). ``reason`` is ``OK``,
  ``COULD_NOT_CONNECT``, ``REQUEST_TIMEOUT`` or ``ERROR_STATUS_CODE``; ``statusCode`` is 0 when
  no answer came; ``detail`` is the status code or a short description. Testing with no URL given
  and none set is a 400.
"""

from datetime import datetime, timezone

from .errors import LineError, invalid
from .routing import route

URL_MAX = 500
REASONS = {None: "OK", "could_not_connect": "COULD_NOT_CONNECT",
           "request_timeout": "REQUEST_TIMEOUT", "error_status_code": "ERROR_STATUS_CODE"}


def _endpoint(body, required):
    value = body.get("endpoint")
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise invalid([("endpoint", "must be an https URL")])
    if len(value) > URL_MAX:
        raise invalid([("endpoint", f"size must be between 0 and {URL_MAX}")])
    return value


@route("GET", "/v2/bot/channel/webhook/endpoint", "getWebhookEndpoint")
def get_webhook_endpoint(call):
    config = call.emu.config
    return 200, {"endpoint": config.webhook_url or "",
                 "active": bool(config.webhook_url) and config.webhook_enabled}


@route("PUT", "/v2/bot/channel/webhook/endpoint", "setWebhookEndpoint")
def set_webhook_endpoint(call):
    call.emu.config.webhook_url = _endpoint(call.json(), required=True)
    return 200, {}


@route("POST", "/v2/bot/channel/webhook/test", "testWebhookEndpoint")
def test_webhook_endpoint(call):
    raw = call.request.get_data(cache=True)
    url = _endpoint(call.json() if raw.strip() else {}, required=False)
    if not (url or call.emu.config.webhook_url):
        raise LineError(400, "The webhook URL is not set")
    record = call.emu.webhooks.send_test(url)
    status = record["status"]
    stamp = datetime.fromtimestamp(record["time"], timezone.utc)
    return 200, {
        "success": record["error"] is None,
        "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "statusCode": status or 0,
        "reason": REASONS.get(record["error"], "UNCLASSIFIED"),
        "detail": str(status) if status is not None else record["error"].replace("_", " "),
    }
