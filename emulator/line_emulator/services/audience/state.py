"""The audiences of a channel (``emu.messaging.audiences``): groups, their members and upload
jobs, which finish one ``emu.messaging.async_delay`` after they were queued. The rules are in
:mod:`.handlers`."""

AUDIENCES_MAX = 1000
KEEP_SECONDS = 180 * 86400
CONCURRENT_JOBS = 10


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
