"""Numbers about what was sent: daily sent counts per API, custom aggregation units used this
month, and the Insight API's followers and deliveries per day, statistics per aggregation unit
and per narrowcast/broadcast request (``getMessageEvent``).

Undocumented behaviour chosen here
----------------------------------
- Counts are per (request, recipient), the unit the quota uses, not per message object.
- A day's sent count is ``unready`` until that UTC+9 day is over on the emulator clock, then
  ``ready`` (or ``unavailable_for_privacy`` under 20); dates before 2018-03-31 are
  ``out_of_service``; a malformed date is a 400.
- Simulated users see every message they receive: each delivery of a tagged push/multicast is
  one impression of each of its message objects (``seq`` = position in ``messages``, from 1).
  Clicks and media plays are not simulated, so those values are ``null`` and ``clicks`` is empty.
- ``getMessageEvent`` knows narrowcast and broadcast request ids (404 ``Not found`` otherwise);
  ``delivered`` is null while a narrowcast is still waiting or sending.
- Insight deliveries per day: the OA Manager fields (broadcast, targeting, autoResponse,
  welcomeResponse, chat) are 0; ``api*`` count per (request, recipient).
- ``getNumberOfFollowers`` has no history to read: for any finished day it reports the state
  now (followers = users who ever added the bot, blocks = users blocking it now,
  targetedReaches = friends now, since simulated users match every demographic filter). The
  current day is ``unready``; days before 2016-11-01 are ``out_of_service`` (2017-03-01 for
  the Insight deliveries).
- The unit-name list pages 100 names by default (``limit`` 1..100); ``next`` is an opaque offset.
"""

import base64
import re
from datetime import datetime, timedelta

from .errors import LineError, invalid
from .messaging import JST, UNIT_NAME, jst_date
from .routing import route

PRIVACY_MIN = 20
FIRST_COUNTED_DAY = "20180331"
FOLLOWERS_FIRST_DAY = "20161101"
DELIVERIES_FIRST_DAY = "20170301"
STATS_MAX_DAYS = 30
UNIT_LIST_MAX = 100
MEDIA_KEYS = ("mediaPlayed", "mediaPlayed25Percent", "mediaPlayed50Percent",
              "mediaPlayed75Percent", "mediaPlayed100Percent", "uniqueMediaPlayed",
              "uniqueMediaPlayed25Percent", "uniqueMediaPlayed50Percent",
              "uniqueMediaPlayed75Percent", "uniqueMediaPlayed100Percent")


def _private(count):
    """LINE hides values under 20 (``null``)."""
    return count if count >= PRIVACY_MIN else None


def _date(call, name):
    raw = call.query(name)
    try:
        if raw is None or not re.fullmatch(r"[0-9]{8}", raw):
            raise ValueError(raw)
        return datetime.strptime(raw, "%Y%m%d").replace(tzinfo=JST)
    except ValueError:
        raise invalid([(name, "must be a date yyyyMMdd (UTC+9)")]) from None


def _sent_count(call, api):
    day = _date(call, "date")
    date = day.strftime("%Y%m%d")
    if date < FIRST_COUNTED_DAY:
        return 200, {"status": "out_of_service"}
    if call.emu.clock.now() < (day + timedelta(days=1)).timestamp():
        return 200, {"status": "unready"}
    count = sum(1 for d in call.emu.messaging.deliveries
                if d["api"] == api and jst_date(d["time"]) == date)
    if count < PRIVACY_MIN:
        return 200, {"status": "unavailable_for_privacy"}
    return 200, {"status": "ready", "success": count}


for _api, _operation in (("reply", "getNumberOfSentReplyMessages"),
                         ("push", "getNumberOfSentPushMessages"),
                         ("multicast", "getNumberOfSentMulticastMessages"),
                         ("broadcast", "getNumberOfSentBroadcastMessages")):
    route("GET", f"/v2/bot/message/delivery/{_api}", _operation)(
        lambda call, _api=_api: _sent_count(call, _api))


def _units_this_month(call):
    return call.emu.messaging.units.get(jst_date(call.emu.clock.now())[:6], [])


@route("GET", "/v2/bot/message/aggregation/info", "getAggregationUnitUsage")
def get_aggregation_unit_usage(call):
    return 200, {"numOfCustomAggregationUnits": len(_units_this_month(call))}


@route("GET", "/v2/bot/message/aggregation/list", "getAggregationUnitNameList")
def get_aggregation_unit_name_list(call):
    try:
        limit = int(call.query("limit", UNIT_LIST_MAX))
        offset = int(base64.urlsafe_b64decode(call.query("start") or "MA==").decode())
    except ValueError:
        raise invalid([("start", "limit must be 1..100 and start a token from `next`")]) from None
    if not 1 <= limit <= UNIT_LIST_MAX or offset < 0:
        raise invalid([("limit", f"must be an integer between 1 and {UNIT_LIST_MAX}")])
    names = _units_this_month(call)
    body = {"customAggregationUnits": names[offset:offset + limit]}
    if offset + limit < len(names):
        body["next"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return 200, body


def _per_message(deliveries, unique=False):
    """One entry per message position: every delivery counts as one impression of it."""
    messages = []
    for seq in range(1, max((len(d["messageIds"]) for d in deliveries), default=0) + 1):
        shown = [d for d in deliveries if len(d["messageIds"]) >= seq]
        entry = {"seq": seq, "impression": _private(len(shown))}
        if unique:
            entry["uniqueImpression"] = _private(len({d["userId"] for d in shown}))
        entry.update(dict.fromkeys(MEDIA_KEYS))
        messages.append(entry)
    return messages


@route("GET", "/v2/bot/insight/message/event/aggregation", "getStatisticsPerUnit")
def get_statistics_per_unit(call):
    unit = call.query("customAggregationUnit")
    if not unit or not UNIT_NAME.match(unit):
        raise invalid([("customAggregationUnit", "must match ^[a-zA-Z0-9_]{1,30}$")])
    start, end = _date(call, "from"), _date(call, "to")
    if end < start or (end - start).days > STATS_MAX_DAYS:
        raise invalid([("to", f"must be from 0 to {STATS_MAX_DAYS} days after from")])
    first, last = start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
    tagged = [d for d in call.emu.messaging.deliveries
              if d["unit"] == unit and first <= jst_date(d["time"]) <= last]
    messages = _per_message(tagged, unique=True)
    overview = {"uniqueImpression": _private(len({d["userId"] for d in tagged})),
                "uniqueClick": None, "uniqueMediaPlayed": None,
                "uniqueMediaPlayed100Percent": None}
    return 200, {"overview": overview, "messages": messages, "clicks": []}


@route("GET", "/v2/bot/insight/message/delivery", "getNumberOfMessageDeliveries")
def get_number_of_message_deliveries(call):
    day = _date(call, "date")
    date = day.strftime("%Y%m%d")
    if date < DELIVERIES_FIRST_DAY:
        return 200, {"status": "out_of_service"}
    if call.emu.clock.now() < (day + timedelta(days=1)).timestamp():
        return 200, {"status": "unready"}
    counts = dict.fromkeys(("reply", "push", "multicast", "narrowcast", "broadcast"), 0)
    for d in call.emu.messaging.deliveries:
        if d["api"] in counts and jst_date(d["time"]) == date:
            counts[d["api"]] += 1
    body = {"status": "ready", "broadcast": 0, "targeting": 0, "autoResponse": 0,
            "welcomeResponse": 0, "chat": 0}  # sent from LINE Official Account Manager: none
    body.update({f"api{api[0].upper()}{api[1:]}": count for api, count in counts.items()})
    return 200, body


@route("GET", "/v2/bot/insight/message/event", "getMessageEvent")
def get_message_event(call):
    request_id = call.query("requestId")
    if not request_id:
        raise invalid([("requestId", "must be specified")])
    sent = [d for d in call.emu.messaging.deliveries
            if d["requestId"] == request_id and d["api"] in ("narrowcast", "broadcast")]
    job = call.emu.messaging.narrowcasts.get(request_id)
    if not sent and job is None:
        raise LineError(404, "Not found")
    finished = job is None or job["phase"] in ("succeeded", "failed")
    overview = {"requestId": request_id,
                "timestamp": int(sent[0]["time"]) if sent else int(job["accepted"]),
                "delivered": len(sent) if finished else None,
                "uniqueImpression": _private(len({d["userId"] for d in sent})),
                "uniqueClick": None, "uniqueMediaPlayed": None,
                "uniqueMediaPlayed100Percent": None}
    return 200, {"overview": overview, "messages": _per_message(sent), "clicks": []}


@route("GET", "/v2/bot/insight/followers", "getNumberOfFollowers")
def get_number_of_followers(call):
    if call.query("date") is None:  # optional on LINE: then yesterday (UTC+9)
        day = datetime.fromtimestamp(call.emu.clock.now(), JST) - timedelta(days=1)
        day = day.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        day = _date(call, "date")
    if day.strftime("%Y%m%d") < FOLLOWERS_FIRST_DAY:
        return 200, {"status": "out_of_service"}
    if call.emu.clock.now() < (day + timedelta(days=1)).timestamp():
        return 200, {"status": "unready"}
    users = list(call.emu.users.values())
    return 200, {"status": "ready", "followers": sum(1 for u in users if u.ever_followed),
                 "targetedReaches": sum(1 for u in users if u.is_friend),
                 "blocks": sum(1 for u in users if u.friendship == "blocked")}
