"""Per-channel, per-endpoint rate limits from LINE's table, evaluated on the emulator clock.

LINE counts per channel and per endpoint (method + path, parameters ignored). The windows here
are sliding, and only admitted requests count; a 429 is not processed at all.
"""

import collections
import threading

SECOND, MINUTE, HOUR = 1.0, 60.0, 3600.0

DEFAULT_LIMIT = (2000, SECOND)
# operationId -> (requests, per seconds), LINE's published table (the same as the client-side
# limiter of line_idlink.ratelimit; the emulator does not depend on it).
LINE_LIMITS = {
    "pushMessage": (2000, SECOND),
    "replyMessage": (2000, SECOND),
    "multicast": (200, SECOND),  # 2,000/s before 2025-04-23; 200/s is the current published figure
    "narrowcast": (60, HOUR),
    "broadcast": (60, HOUR),
    "createRichMenu": (100, HOUR),
    "deleteRichMenu": (100, HOUR),
    "deleteRichMenuAlias": (100, HOUR),
    "getRichMenuBatchProgress": (100, HOUR),
    "richMenuBatch": (3, HOUR),
    "getRichMenuList": (10, SECOND),
    "getStatisticsPerUnit": (60, HOUR),
    "getMessageEvent": (60, HOUR),
    "getNumberOfMessageDeliveries": (60, HOUR),
    "getNumberOfFollowers": (60, HOUR),
    "getFriendsDemographics": (60, HOUR),
}
# Every audience-management endpoint: 60 requests per minute.
LINE_LIMITS.update({endpoint: (60, MINUTE) for endpoint in (
    "createAudienceGroup", "addAudienceToAudienceGroup", "createAudienceForUploadingUserIds",
    "addUserIdsToAudience", "getAudienceData", "updateAudienceGroupDescription",
    "deleteAudienceGroup", "getAudienceGroups")})
LIMITS = LINE_LIMITS


class RateLimiter:
    def __init__(self, clock):
        self.clock = clock
        self.enabled = True
        self.limits = dict(LIMITS)
        self._hits = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def set_limit(self, endpoint, count, per_seconds):
        self.limits[endpoint] = (int(count), float(per_seconds))

    def limit_for(self, endpoint):
        return self.limits.get(endpoint, DEFAULT_LIMIT)

    def admit(self, endpoint):
        """Count one request if it fits in the window; False means answer 429."""
        if not self.enabled:
            return True
        count, window = self.limit_for(endpoint)
        now = self.clock.now()
        with self._lock:
            hits = self._hits[endpoint]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                return False
            hits.append(now)
            return True

    def reset(self):
        with self._lock:
            self._hits.clear()
