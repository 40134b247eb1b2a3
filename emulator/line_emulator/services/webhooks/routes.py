"""The routes of the webhook settings endpoints: method, path, LINE's operationId, handler."""

from ...routing import Route
from . import handlers

ROUTES = [
    Route("GET", "/v2/bot/channel/webhook/endpoint", "getWebhookEndpoint",
          handlers.get_webhook_endpoint),
    Route("PUT", "/v2/bot/channel/webhook/endpoint", "setWebhookEndpoint",
          handlers.set_webhook_endpoint),
    Route("POST", "/v2/bot/channel/webhook/test", "testWebhookEndpoint",
          handlers.test_webhook_endpoint),
]
