"""Narrowcast: 202 at once, then phases waiting -> sending -> succeeded | failed, advanced by
``emu.advance()`` (each step takes ``emu.messaging.async_delay`` seconds, 1 s by default).
Progress is looked up by the narrowcast call's ``x-line-request-id``.

Recipients: ``recipient`` (audience / redelivery / operator and|or|not) evaluated among the
bot's friends, or every friend without it; ``limit.max`` picks at random (seeded by the request
id); fewer than 50 final recipients fails the job with errorCode 2 and sends nothing.

Undocumented behaviour chosen here
----------------------------------
- Recipients are resolved when sending starts (waiting -> sending), so follows and blocks while
  waiting count; every message is delivered at that step, and ``sending`` turns ``succeeded``
  one step later.
- ``filter.demographic`` is validated (types, values, at most 10 conditions) but not applied:
  simulated users have no demographics, so everyone matches.
- The 50-recipient rule applies to every narrowcast, uploaded audiences included (LINE exempts
  your own uploaded audiences); errorCode 4 (an audience under 50) is never produced.
- An audience that does not exist, or is not READY, or a redelivery requestId that is unknown
  or older than 14 days, is a 400 at the call; nothing is queued.
- With a quota the target reach is reserved at acceptance (LINE does this), and the call is a
  429 when it does not fit, unless ``limit.upToRemainingQuota`` is true. A job with
  ``forbidPartialDelivery`` that would be cut by the quota fails with errorCode 5.
- An unknown or expired (14 days) requestId in the progress call is a 404 ``Not found``.
"""

import random
import re
from datetime import datetime, timezone

from .errors import LineError, invalid
from .messaging import common_errors, read_body
from .routing import route

PROGRESS_DAYS = 14
MAX_RECIPIENT_OBJECTS = 10
MAX_DEMOGRAPHIC_CONDITIONS = 10
MIN_RECIPIENTS = 50
AGES = tuple(f"age_{n}" for n in range(15, 75, 5))
PERIODS = ("day_7", "day_30", "day_90", "day_180", "day_365")
AREA = re.compile(r"^[a-z]{2}_[0-9]{2}$")


def iso_ms(seconds):
    return (datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"))


# Validation ----------------------------------------------------------------------------------
def _operator_errors(obj, prop, check_child):
    keys = [key for key in ("and", "or", "not") if obj.get(key) is not None]
    if len(keys) != 1:
        return [(prop, "an operator needs exactly one of and, or, not")]
    key = keys[0]
    if key == "not":
        return check_child(obj["not"], f"{prop}.not")
    if not isinstance(obj[key], list) or not obj[key]:
        return [(f"{prop}.{key}", "must be a non-empty array")]
    found = []
    for i, child in enumerate(obj[key]):
        found += check_child(child, f"{prop}.{key}[{i}]")
    return found


def recipient_errors(rec, prop, counter):
    if not isinstance(rec, dict):
        return [(prop, "must be a JSON object")]
    kind = rec.get("type")
    if kind == "operator":
        return _operator_errors(rec, prop, lambda r, p: recipient_errors(r, p, counter))
    if kind == "audience":
        counter.append(prop)
        gid = rec.get("audienceGroupId")
        if not isinstance(gid, int) or isinstance(gid, bool):
            return [(f"{prop}.audienceGroupId", "must be an integer audience ID")]
        return []
    if kind == "redelivery":
        counter.append(prop)
        if not isinstance(rec.get("requestId"), str) or not rec["requestId"]:
            return [(f"{prop}.requestId", "must be specified")]
        return []
    if kind is None:
        return [(f"{prop}.type", "must be specified")]
    return [(f"{prop}.type", "must be one of audience, redelivery, operator")]


def _one_of(demo, prop, allowed=None, pattern=None):
    values = demo.get("oneOf")
    if not isinstance(values, list) or not values:
        return [(f"{prop}.oneOf", "must be a non-empty array")]
    bad = [v for v in values if not isinstance(v, str) or (allowed and v not in allowed)
           or (pattern and not pattern.match(v))]
    return [(f"{prop}.oneOf", f"invalid value(s): {bad}")] if bad else []


def _range(demo, prop, allowed):
    gte, lt = demo.get("gte"), demo.get("lt")
    if gte is None and lt is None:
        return [(prop, "needs gte and/or lt")]
    found = [(f"{prop}.{key}", f"must be one of {', '.join(allowed)}")
             for key, value in (("gte", gte), ("lt", lt))
             if value is not None and value not in allowed]
    if not found and gte is not None and lt is not None and allowed.index(gte) >= allowed.index(lt):
        found.append((f"{prop}.lt", "must be greater than gte"))
    return found


def demographic_errors(demo, prop, counter):
    if not isinstance(demo, dict):
        return [(prop, "must be a JSON object")]
    kind = demo.get("type")
    if kind == "operator":
        return _operator_errors(demo, prop, lambda d, p: demographic_errors(d, p, counter))
    counter.append(prop)
    if kind == "gender":
        return _one_of(demo, prop, allowed=("male", "female"))
    if kind == "appType":
        return _one_of(demo, prop, allowed=("ios", "android"))
    if kind == "area":
        return _one_of(demo, prop, pattern=AREA)
    if kind == "age":
        return _range(demo, prop, AGES)
    if kind == "subscriptionPeriod":
        return _range(demo, prop, PERIODS)
    if kind is None:
        return [(f"{prop}.type", "must be specified")]
    return [(f"{prop}.type", "must be one of gender, age, appType, area, subscriptionPeriod, "
                             "operator")]


def limit_errors(limit):
    if not isinstance(limit, dict):
        return [("limit", "must be a JSON object")]
    found = []
    cap = limit.get("max")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        found.append(("limit.max", "must be an integer greater than or equal to 1"))
    for key in ("upToRemainingQuota", "forbidPartialDelivery"):
        if not isinstance(limit.get(key, False), bool):
            found.append((f"limit.{key}", "must be a boolean"))
    if limit.get("forbidPartialDelivery") is True and limit.get("upToRemainingQuota") is not True:
        found.append(("limit.forbidPartialDelivery", "can be true only with upToRemainingQuota"))
    return found


def _reference_errors(state, rec, prop):
    """Audiences that must exist and be READY, redeliveries of a narrowcast of the last 14 days."""
    if rec.get("type") == "operator":
        found = []
        for key in ("and", "or"):
            for i, child in enumerate(rec.get(key) or []):
                found += _reference_errors(state, child, f"{prop}.{key}[{i}]")
        if rec.get("not") is not None:
            found += _reference_errors(state, rec["not"], f"{prop}.not")
        return found
    if rec["type"] == "audience":
        group = state.audiences.get(rec["audienceGroupId"])
        if group is None:
            return [(f"{prop}.audienceGroupId", "audience group not found")]
        if group["status"] != "READY":
            return [(f"{prop}.audienceGroupId",
                     f"audience group is not READY (status {group['status']})")]
        return []
    if live_job(state, rec["requestId"]) is None:
        return [(f"{prop}.requestId", "no narrowcast with this request ID in the last 14 days")]
    return []


# Recipients ----------------------------------------------------------------------------------
def _evaluate(state, rec, universe):
    kind = rec["type"]
    if kind == "audience":
        return set(state.audiences.members(rec["audienceGroupId"])) & universe
    if kind == "redelivery":
        job = live_job(state, rec["requestId"])
        return set(job["recipients"] if job else []) & universe
    if rec.get("not") is not None:
        return universe - _evaluate(state, rec["not"], universe)
    parts = [_evaluate(state, child, universe) for child in rec.get("and") or rec.get("or")]
    return set.intersection(*parts) if rec.get("and") else set.union(*parts)


def targets(state, recipient):
    """Friends the recipient object selects, in the emulator's stable user order."""
    friends = [user.user_id for user in state.emu.users.values() if user.is_friend]
    if recipient is None:
        return friends
    chosen = _evaluate(state, recipient, set(friends))
    return [uid for uid in friends if uid in chosen]


def _pick(state, request_id, users, count):
    """``count`` users at random, seeded by the request id, kept in stable order."""
    if count >= len(users):
        return users
    picked = set(random.Random(f"{state.emu.seed}:{request_id}").sample(users, count))
    return [uid for uid in users if uid in picked]


# Endpoints -----------------------------------------------------------------------------------
@route("POST", "/v2/bot/message/narrowcast", "narrowcast", retry_key=True)
def narrowcast(call):
    body = read_body(call)
    problems = common_errors(body)
    sources, conditions = [], []
    if body.get("recipient") is not None:
        problems += recipient_errors(body["recipient"], "recipient", sources)
    if len(sources) > MAX_RECIPIENT_OBJECTS:
        problems.append(("recipient", "at most 10 audience and redelivery objects"))
    filt = body.get("filter")
    if filt is not None:
        if not isinstance(filt, dict):
            problems.append(("filter", "must be a JSON object"))
        elif filt.get("demographic") is not None:
            problems += demographic_errors(filt["demographic"], "filter.demographic", conditions)
    if len(conditions) > MAX_DEMOGRAPHIC_CONDITIONS:
        problems.append(("filter.demographic", "at most 10 demographic conditions"))
    limit = body.get("limit") or {}
    problems += limit_errors(limit)
    if problems:
        raise invalid(problems)
    state = call.emu.messaging
    if body.get("recipient") is not None:
        problems = _reference_errors(state, body["recipient"], "recipient")
        if problems:
            raise invalid(problems)
    reach = len(targets(state, body.get("recipient")))
    if limit.get("max"):
        reach = min(reach, limit["max"])
    remaining = state.remaining_quota()
    if not limit.get("upToRemainingQuota"):
        state.check_quota(reach)
    state.narrowcasts[call.request_id] = {
        "requestId": call.request_id, "phase": "waiting", "accepted": call.emu.clock.now(),
        "messages": body["messages"], "recipient": body.get("recipient"), "limit": limit,
        "notificationDisabled": body.get("notificationDisabled", False),
        "reserved": 0 if remaining is None else min(reach, remaining),
        "recipients": [],
    }
    return 202, {}


@route("GET", "/v2/bot/message/progress/narrowcast", "getNarrowcastProgress")
def get_narrowcast_progress(call):
    request_id = call.query("requestId")
    if not request_id:
        raise invalid([("requestId", "must be specified")])
    state = call.emu.messaging
    advance_narrowcasts(state)  # a ticking clock moves without emu.advance()
    job = live_job(state, request_id)
    if job is None:
        raise LineError(404, "Not found")
    data = {"phase": job["phase"], "acceptedTime": iso_ms(job["accepted"])}
    if job["phase"] != "waiting":
        data.update(successCount=job["successCount"], failureCount=job["failureCount"],
                    targetCount=job["targetCount"])
    if job["phase"] in ("succeeded", "failed"):
        data["completedTime"] = iso_ms(job["completed"])
    if job["phase"] == "failed":
        data.update(failedDescription=job["failedDescription"], errorCode=job["errorCode"])
    return 200, data


# Progress ------------------------------------------------------------------------------------
def live_job(state, request_id):
    job = state.narrowcasts.get(request_id)
    if job is None or state.emu.clock.now() > job["accepted"] + PROGRESS_DAYS * 86400:
        return None
    return job


def advance_narrowcasts(state):
    """Move every due job one or two steps; called by ``MessagingState.run_pending``."""
    now, delay = state.emu.clock.now(), state.async_delay
    for request_id, job in list(state.narrowcasts.items()):
        if job["phase"] == "waiting" and now >= job["accepted"] + delay:
            _start_sending(state, request_id, job)
        if job["phase"] == "sending" and now >= job["accepted"] + 2 * delay:
            job.update(phase="succeeded", completed=now)


def _fail(job, now, code, description, target_count):
    job.update(phase="failed", completed=now, errorCode=code, failedDescription=description,
               successCount=0, failureCount=0, targetCount=target_count)


def _start_sending(state, request_id, job):
    now = state.emu.clock.now()
    job["reserved"] = 0  # released: the real deliveries below now count instead
    users = targets(state, job["recipient"])
    limit = job["limit"]
    if limit.get("max"):
        users = _pick(state, request_id, users, limit["max"])
    remaining = state.remaining_quota()
    if remaining is not None and len(users) > remaining:
        if not limit.get("upToRemainingQuota"):
            return _fail(job, now, 1, "The monthly message quota is exhausted", len(users))
        if limit.get("forbidPartialDelivery"):
            return _fail(job, now, 5, "Delivery to only part of the audience was forbidden",
                         len(users))
        users = _pick(state, request_id, users, remaining)
    if len(users) < MIN_RECIPIENTS:
        return _fail(job, now, 2, f"Fewer than {MIN_RECIPIENTS} recipients ({len(users)})",
                     len(users))
    state.deliver_many(users, "narrowcast", job["messages"], request_id,
                       notification_disabled=job["notificationDisabled"])
    job.update(phase="sending", recipients=users, successCount=len(users), failureCount=0,
               targetCount=len(users))
    return None
