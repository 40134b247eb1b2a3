"""The routes of the sent counts, aggregation units and Insight API:
method, path, LINE's operationId, handler."""

from ...routing import Route
from . import handlers

ROUTES = [
    Route("GET", "/v2/bot/message/aggregation/info", "getAggregationUnitUsage",
          handlers.get_aggregation_unit_usage),
    Route("GET", "/v2/bot/message/aggregation/list", "getAggregationUnitNameList",
          handlers.get_aggregation_unit_name_list),
    Route("GET", "/v2/bot/insight/message/event/aggregation", "getStatisticsPerUnit",
          handlers.get_statistics_per_unit),
    Route("GET", "/v2/bot/insight/message/delivery", "getNumberOfMessageDeliveries",
          handlers.get_number_of_message_deliveries),
    Route("GET", "/v2/bot/insight/message/event", "getMessageEvent", handlers.get_message_event),
    Route("GET", "/v2/bot/insight/followers", "getNumberOfFollowers",
          handlers.get_number_of_followers),
] + [
    Route("GET", f"/v2/bot/message/delivery/{api}", operation, handlers.sent_count(api))
    for api, operation in (("reply", "getNumberOfSentReplyMessages"),
                           ("push", "getNumberOfSentPushMessages"),
                           ("multicast", "getNumberOfSentMulticastMessages"),
                           ("broadcast", "getNumberOfSentBroadcastMessages"))
]
