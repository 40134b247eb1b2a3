"""Segmented LINE campaigns from the reference app: light vs loyal buyers, through the core's
resumable :mod:`line_idlink.campaign` runner, its plan kept in the shop's SQLite file.

    report = send_segmented_campaign(app, {
        "light": [messages.text("初回購入の方に10%オフクーポン")],
        "loyal": [messages.text("いつもありがとうございます。会員様限定セールのご案内")],
    })
    report.counts        # {"sent": 2, "skipped": 1}

Recipients are every customer: the linked, following ones get their segment's messages; the
others are kept in the plan as ``skipped`` with the reason (not linked, blocked, no message for
the segment), so the report accounts for everyone.

Undocumented behaviour chosen here
----------------------------------
* Without ``campaign_id`` each call is a new campaign named ``segmented-N`` (N counts the
  campaigns stored so far: deterministic in demos). With the id of a stored campaign the call
  resumes that campaign's stored plan (what is already ``sent`` is not sent again) and ignores
  ``messages_by_segment``: a stored plan is authoritative.
"""

import json

from line_idlink.campaign import Batch, CampaignRunner, Recipient

SEGMENTS = ("light", "loyal")


class SQLiteCampaignStore:
    """:class:`line_idlink.campaign.CampaignStore` on the shop database (table campaign_batch)."""

    def __init__(self, db):
        self.db = db

    def load_batches(self, campaign_id):
        rows = self.db.query("SELECT data FROM campaign_batch WHERE campaign_id = ? ORDER BY seq",
                             (campaign_id,))
        return [Batch.from_dict(json.loads(row["data"])) for row in rows] or None

    def save_batches(self, campaign_id, batches):
        with self.db.transaction() as con:
            con.execute("DELETE FROM campaign_batch WHERE campaign_id = ?", (campaign_id,))
            for seq, batch in enumerate(batches):
                con.execute("INSERT INTO campaign_batch (campaign_id, seq, batch_id, data)"
                            " VALUES (?, ?, ?, ?)",
                            (campaign_id, seq, batch.batch_id, _json(batch)))

    def save_batch(self, campaign_id, batch):
        cursor = self.db.execute("UPDATE campaign_batch SET data = ? WHERE campaign_id = ?"
                                 " AND batch_id = ?", (_json(batch), campaign_id, batch.batch_id))
        if cursor.rowcount != 1:
            raise KeyError(f"campaign {campaign_id!r} has no batch {batch.batch_id!r}")

    def campaign_ids(self):
        return [row["campaign_id"] for row in self.db.query(
            "SELECT campaign_id FROM campaign_batch GROUP BY campaign_id ORDER BY MIN(rowid)")]


def _json(batch):
    return json.dumps(batch.to_dict(), ensure_ascii=False, separators=(",", ":"))


def campaign_recipients(app, messages_by_segment):
    """One :class:`~line_idlink.campaign.Recipient` per customer and LINE link, in customer
    order; recipient_id is the customer id."""
    recipients = []
    for customer in app.db.customers():
        segment = app.db.segment(customer["id"])
        content = messages_by_segment.get(segment)
        links = app.linker.links_for(customer["id"])
        if not links:
            recipients.append(Recipient(customer["id"], None, [], "not linked"))
        for link in links:
            profile = app.db.profile(link.line_user_id)
            reason = None
            if profile and profile["blocked"]:
                reason = "blocked"
            elif not content:
                reason = f"no message for segment {segment}"
            recipients.append(Recipient(customer["id"], link.line_user_id, list(content or []),
                                        reason))
    return recipients


def send_segmented_campaign(app, messages_by_segment, campaign_id=None):
    """Send (or resume) a campaign; returns the core's CampaignReport. Raises ValueError for an
    unknown segment, InvalidMessages for a bad message (nothing sent), QuotaExceeded /
    RetriesExhausted when LINE stops it (resume with the same ``campaign_id``)."""
    unknown = set(messages_by_segment) - set(SEGMENTS)
    if unknown:
        raise ValueError(f"unknown segment(s) {sorted(unknown)}; the segments are {SEGMENTS}")
    store = SQLiteCampaignStore(app.db)
    runner = CampaignRunner(app.sender, store, now=app.clock)
    if campaign_id is not None and store.load_batches(campaign_id) is not None:
        report = runner.run(campaign_id)
    else:
        campaign_id = campaign_id or f"segmented-{len(store.campaign_ids()) + 1}"
        report = runner.run(campaign_id, campaign_recipients(app, messages_by_segment))
    app.audit("campaign_run", detail=f"{campaign_id}: {report.counts}")
    return report
