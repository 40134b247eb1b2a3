"""Audiences for narrowcast (Manage Audience API): upload user ids by JSON or by file (multipart,
api-data host), add more, get, list, rename, delete. Uploads are jobs: QUEUED, then FINISHED one
``emu.messaging.async_delay`` later (``emu.advance(1)``); the audience turns IN_PROGRESS ->
READY when a job brought users.

Undocumented behaviour chosen here
----------------------------------
- Ids are counted (``audienceCount``) when their job finishes; ids of users who are not
  friends, blocked or unknown but well-formed are kept (LINE adds them; narrowcast skips them).
  A repeated id counts once.
- An audience with no users stays IN_PROGRESS (LINE: "stays in this state if empty").
- ``isIfaAudience: true`` is a 400: the emulator has user-id audiences only.
- Error bodies follow LINE's audience style: ``{"message": ..., "details": [{"message":
  "AUDIENCE_GROUP_NOT_FOUND"}]}``; an unknown audience is a 400, as in the OpenAPI example.
- Lists come newest first. Expired audiences (180 days) turn EXPIRED and refuse uploads.
"""

import re

from .errors import LineError, invalid
from .routing import route

AUDIENCES_MAX = 1000
IDS_PER_REQUEST = 10_000
IDS_PER_FILE = 1_500_000
KEEP_SECONDS = 180 * 86400
CONCURRENT_JOBS = 10
DESCRIPTION_MAX = 120
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
STATUSES = ("IN_PROGRESS", "READY", "FAILED", "EXPIRED", "INACTIVE", "ACTIVATING")


def _error(message, code, prop=None, status=400):
    detail = {"message": code}
    if prop:
        detail["property"] = prop
    return LineError(status, message, [detail])


def not_found():
    return _error("audience group not found", "AUDIENCE_GROUP_NOT_FOUND")


class AudienceState:
    def __init__(self, emu):
        self.emu = emu
        self.groups = {}  # audienceGroupId -> {"group": public dict, "members": {}, "jobs": []}

    def get(self, group_id):
        """The public ``audienceGroup`` object, or None."""
        entry = self.groups.get(group_id)
        return entry["group"] if entry else None

    def members(self, group_id):
        entry = self.groups.get(group_id)
        return list(entry["members"]) if entry else []

    def create(self, description, upload_description, ids):
        now = int(self.emu.clock.now())
        group_id = 1_000_000_000_000 + int(self.emu.ids.hex(10), 16)
        group = {"audienceGroupId": group_id, "type": "UPLOAD", "description": description,
                 "status": "IN_PROGRESS", "audienceCount": 0, "created": now,
                 "permission": "READ_WRITE", "isIfaAudience": False,
                 "expireTimestamp": now + KEEP_SECONDS, "createRoute": "MESSAGING_API"}
        self.groups[group_id] = {"group": group, "members": {}, "jobs": []}
        if ids:
            self.add_job(group_id, upload_description, ids)
        return group

    def add_job(self, group_id, upload_description, ids):
        job = {"audienceGroupJobId": 10_000_000 + int(self.emu.ids.hex(6), 16),
               "audienceGroupId": group_id, "description": upload_description or "",
               "type": "DIFF_ADD", "jobStatus": "QUEUED", "audienceCount": 0,
               "created": int(self.emu.clock.now()), "_ids": list(ids),
               "_due": self.emu.clock.now() + self.emu.messaging.async_delay}
        self.groups[group_id]["jobs"].append(job)
        return job

    def pending_jobs(self, group_id):
        return [job for job in self.groups[group_id]["jobs"]
                if job["jobStatus"] in ("QUEUED", "WORKING")]

    def run_pending(self):
        now = self.emu.clock.now()
        for entry in self.groups.values():
            group = entry["group"]
            for job in self.pending_jobs(group["audienceGroupId"]):
                if now >= job["_due"]:
                    before = len(entry["members"])
                    entry["members"].update(dict.fromkeys(job["_ids"]))
                    job.update(jobStatus="FINISHED", audienceCount=len(entry["members"]) - before)
            group["audienceCount"] = len(entry["members"])
            if group["status"] == "IN_PROGRESS" and entry["members"]:
                group["status"] = "READY"
            if now > group["expireTimestamp"] and group["status"] != "EXPIRED":
                group["status"] = "EXPIRED"


def _public_job(job):
    return {key: value for key, value in job.items() if not key.startswith("_")}


def _audience_ids(body, required):
    """The ``audiences`` ids; one malformed id fails the whole call, as on LINE."""
    audiences = body.get("audiences")
    if audiences is None and not required:
        return []
    if not isinstance(audiences, list) or (required and not audiences):
        raise invalid([("audiences", "must be a non-empty array of {\"id\": userId}"
                        if required else "must be an array of {\"id\": userId}")])
    if len(audiences) > IDS_PER_REQUEST:
        raise invalid([("audiences", f"Size must be between 0 and {IDS_PER_REQUEST}")])
    ids = []
    for i, item in enumerate(audiences):
        uid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(uid, str) or not USER_ID.match(uid):
            raise _error("Invalid audience ID format",
                         "UPLOAD_AUDIENCE_GROUP_INVALID_AUDIENCE_ID_FORMAT", f"audiences[{i}].id")
        ids.append(uid)
    return ids


def _description(body, key="description"):
    value = body.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= DESCRIPTION_MAX:
        raise invalid([(key, f"must be a string of 1 to {DESCRIPTION_MAX} characters")])
    return value


def _group_entry(state, raw_id):
    try:
        group_id = int(raw_id)
    except (TypeError, ValueError):
        raise not_found() from None
    state.run_pending()  # a ticking clock moves without emu.advance()
    entry = state.groups.get(group_id)
    if entry is None:
        raise not_found()
    return entry


def _file_ids(call):
    """User ids of the multipart ``file`` part: one per line, at most 1,500,000."""
    upload = call.request.files.get("file")
    if upload is None:
        raise invalid([("file", "must be specified: a text/plain file, one user ID per line")])
    try:
        lines = upload.read().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise invalid([("file", "must be UTF-8 text")]) from None
    ids = [line.strip() for line in lines if line.strip()]
    if len(ids) > IDS_PER_FILE:
        raise invalid([("file", f"at most {IDS_PER_FILE} user IDs")])
    for number, uid in enumerate(ids, 1):
        if not USER_ID.match(uid):
            raise _error("Invalid audience ID format",
                         "UPLOAD_AUDIENCE_GROUP_INVALID_AUDIENCE_ID_FORMAT", f"file line {number}")
    return ids


def _create(call, description, is_ifa, upload_description, ids):
    if is_ifa not in (None, False):
        raise invalid([("isIfaAudience", "IFA audiences are not emulated: use user IDs")])
    if upload_description is not None and not isinstance(upload_description, str):
        raise invalid([("uploadDescription", "must be a string")])
    state = call.emu.messaging.audiences
    if len(state.groups) >= AUDIENCES_MAX:
        raise _error("Too many audiences", "AUDIENCE_GROUP_COUNT_MAX_OVER")
    group = state.create(description, upload_description, ids)
    keys = ("audienceGroupId", "createRoute", "type", "description", "created", "permission",
            "expireTimestamp", "isIfaAudience")
    return 202, {key: group[key] for key in keys}


def _add(call, group_id, upload_description, ids):
    if upload_description is not None and not isinstance(upload_description, str):
        raise invalid([("uploadDescription", "must be a string")])
    state = call.emu.messaging.audiences
    entry = _group_entry(state, group_id)
    if entry["group"]["status"] == "EXPIRED":
        raise _error("The audience has expired", "AUDIENCE_GROUP_CAN_NOT_UPLOAD_STATUS_EXPIRED")
    if len(state.pending_jobs(entry["group"]["audienceGroupId"])) >= CONCURRENT_JOBS:
        raise _error("Too many concurrent jobs for this audience",
                     "TOO_MANY_CONCURRENT_JOBS", status=429)
    state.add_job(entry["group"]["audienceGroupId"], upload_description, ids)
    return 202, {}


# Endpoints -----------------------------------------------------------------------------------
@route("POST", "/v2/bot/audienceGroup/upload", "createAudienceGroup")
def create_audience_group(call):
    body = call.json()
    description = _description(body)
    return _create(call, description, body.get("isIfaAudience"), body.get("uploadDescription"),
                   _audience_ids(body, required=False))


@route("PUT", "/v2/bot/audienceGroup/upload", "addAudienceToAudienceGroup")
def add_audience_to_audience_group(call):
    body = call.json()
    group_id = body.get("audienceGroupId")
    if not isinstance(group_id, int) or isinstance(group_id, bool):
        raise invalid([("audienceGroupId", "must be specified as an integer")])
    ids = _audience_ids(body, required=True)
    return _add(call, group_id, body.get("uploadDescription"), ids)


@route("POST", "/v2/bot/audienceGroup/upload/byFile", "createAudienceForUploadingUserIds",
       host="api-data")
def create_audience_for_uploading_user_ids(call):
    form = call.form()
    description = _description(form)
    flags = {"true": True, "false": False, None: None}
    if form.get("isIfaAudience") not in flags:
        raise invalid([("isIfaAudience", "must be true or false")])
    is_ifa = flags[form.get("isIfaAudience")]
    return _create(call, description, is_ifa, form.get("uploadDescription"), _file_ids(call))


@route("PUT", "/v2/bot/audienceGroup/upload/byFile", "addUserIdsToAudience", host="api-data")
def add_user_ids_to_audience(call):
    form = call.form()
    if not (form.get("audienceGroupId") or "").isdigit():
        raise invalid([("audienceGroupId", "must be specified as an integer")])
    ids = _file_ids(call)
    if not ids:
        raise invalid([("file", "must contain at least one user ID")])
    return _add(call, int(form["audienceGroupId"]), form.get("uploadDescription"), ids)


@route("GET", "/v2/bot/audienceGroup/<audienceGroupId>", "getAudienceData")
def get_audience_data(call):
    entry = _group_entry(call.emu.messaging.audiences, call.args["audienceGroupId"])
    jobs = [_public_job(job) for job in reversed(entry["jobs"])][:50]
    return 200, {"audienceGroup": dict(entry["group"]), "jobs": jobs}


@route("PUT", "/v2/bot/audienceGroup/<audienceGroupId>/updateDescription",
       "updateAudienceGroupDescription")
def update_audience_group_description(call):
    body = call.json()
    description = _description(body)
    entry = _group_entry(call.emu.messaging.audiences, call.args["audienceGroupId"])
    entry["group"]["description"] = description
    return 200, {}


@route("DELETE", "/v2/bot/audienceGroup/<audienceGroupId>", "deleteAudienceGroup")
def delete_audience_group(call):
    state = call.emu.messaging.audiences
    entry = _group_entry(state, call.args["audienceGroupId"])
    del state.groups[entry["group"]["audienceGroupId"]]
    return 200, {}


def _int_query(call, name, default, low, high):
    raw = call.query(name)
    if raw is None and default is not None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not low <= value <= high:
        raise invalid([(name, f"must be an integer between {low} and {high}")])
    return value


@route("GET", "/v2/bot/audienceGroup/list", "getAudienceGroups")
def get_audience_groups(call):
    page = _int_query(call, "page", None, 1, 10**9)
    size = _int_query(call, "size", 20, 1, 40)
    status = call.query("status")
    if status is not None and status not in STATUSES:
        raise invalid([("status", f"must be one of {', '.join(STATUSES)}")])
    route_filter = call.query("createRoute")
    description = (call.query("description") or "").lower()
    state = call.emu.messaging.audiences
    state.run_pending()
    groups = [entry["group"] for entry in reversed(state.groups.values())
              if description in entry["group"]["description"].lower()
              and status in (None, entry["group"]["status"])
              and route_filter in (None, entry["group"]["createRoute"])]
    chunk = groups[(page - 1) * size:page * size]
    return 200, {"audienceGroups": [dict(g) for g in chunk],
                 "hasNextPage": page * size < len(groups), "totalCount": len(groups),
                 "readWriteAudienceGroupTotalCount": len(groups), "page": page, "size": size}
