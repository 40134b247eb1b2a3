"""The routes of the Manage Audience API: method, path, LINE's operationId, handler."""

from ...routing import Route
from . import handlers

ROUTES = [
    Route("POST", "/v2/bot/audienceGroup/upload", "createAudienceGroup",
          handlers.create_audience_group),
    Route("PUT", "/v2/bot/audienceGroup/upload", "addAudienceToAudienceGroup",
          handlers.add_audience_to_audience_group),
    Route("POST", "/v2/bot/audienceGroup/upload/byFile", "createAudienceForUploadingUserIds",
          handlers.create_audience_for_uploading_user_ids, host="api-data"),
    Route("PUT", "/v2/bot/audienceGroup/upload/byFile", "addUserIdsToAudience",
          handlers.add_user_ids_to_audience, host="api-data"),
    Route("GET", "/v2/bot/audienceGroup/<audienceGroupId>", "getAudienceData",
          handlers.get_audience_data),
    Route("PUT", "/v2/bot/audienceGroup/<audienceGroupId>/updateDescription",
          "updateAudienceGroupDescription",
          handlers.update_audience_group_description),
    Route("DELETE", "/v2/bot/audienceGroup/<audienceGroupId>", "deleteAudienceGroup",
          handlers.delete_audience_group),
    Route("GET", "/v2/bot/audienceGroup/list", "getAudienceGroups", handlers.get_audience_groups),
]
