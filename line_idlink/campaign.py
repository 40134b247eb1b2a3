"""LINE campaigns: a dispatch plan stored before anything is sent, then a run that can be resumed.

1. :func:`plan_campaign` (in :mod:`line_idlink.campaign_plan`) turns recipients
   ``(recipient_id, LINE userId, rendered messages)`` into batches: recipients whose rendered
   messages are identical (canonical JSON) share multicast batches of at most 500; a recipient
   with a message list of its own gets a push. Recipients without a userId, with a
   ``skip_reason`` (blocked, opted out... the caller filters) or listed twice with the same
   content become ``skipped`` batches. Everything is validated first: a bad message raises
   :class:`~line_idlink.sender.InvalidMessages` and nothing is stored.
2. :class:`CampaignRunner` stores the plan through a :class:`CampaignStore`, then sends batch by
   batch (``concurrency`` > 1: that many requests in flight, in worker threads; every store call
   stays on the calling thread). A batch's retry key is saved (state ``sending``) BEFORE its
   first attempt. On a later run ``sending`` batches go again with the SAME key (a 409 means
   LINE already has it), ``pending`` ones go normally, ``sent``/``failed``/``skipped`` ones are
   left alone. So a crash at any point, followed by a new run on the same store, sends nobody
   twice and skips nobody.

Batch states: ``pending`` -> ``sending`` -> ``sent`` | ``failed``; ``skipped`` from the start.
A run stops by raising :class:`~line_idlink.sender.QuotaExceeded` (monthly quota) or
:class:`~line_idlink.sender.RetriesExhausted` (LINE kept failing); the batch goes back to
``pending`` when no attempt with its key can have reached LINE, else it stays ``sending``, and
everything not yet sent stays resumable. A batch LINE rejects (4xx) is ``failed`` with LINE's
message and the run goes on.

Undocumented behaviour chosen here:

- LINE keeps a retry key 24 hours after its first use. A ``sending`` batch whose key is older
  than that (minus a 5-minute margin) can no longer be sent safely: LINE would not recognise the
  key and might deliver twice. It is marked ``failed`` ("outcome unknown") instead.
- A plan, once stored, is authoritative: a later ``run`` with a different recipient list raises
  :class:`CampaignMismatch` rather than silently sending the old or the new one.
- A LINE userId listed twice with identical content is sent once (the second is ``skipped``,
  reason ``duplicate``); with different content both are sent.
- One runner per campaign at a time; the caller serialises runs (e.g. an Odoo cron lock).
- LINE limits requests per second, not requests in flight. With ``concurrency`` > 1 several
  batches are in flight at once (the client-side limiter still keeps the per-second limit); when
  one of them has to stop the run, the others already in flight are finished and recorded, and
  no new one starts. Requests then reach LINE in nearly, not exactly, plan order.
"""

import concurrent.futures
import copy
import dataclasses
import time
from typing import Protocol, runtime_checkable

from .campaign_plan import Batch, Recipient, _fingerprint, plan_campaign
from .sender import InvalidMessages, QuotaExceeded, RetriesExhausted, SendRejected

RETRY_KEY_TTL = 24 * 3600
KEY_SAFETY_MARGIN = 300
FINAL_STATES = ("sent", "failed", "skipped")


class CampaignMismatch(ValueError):
    """The stored plan was made from other recipients or content than the ones given now."""


@runtime_checkable
class CampaignStore(Protocol):
    """Where a campaign's batches live (the reference app: SQLite; Odoo: a model)."""

    def load_batches(self, campaign_id) -> "list[Batch] | None":
        """The stored plan in order, or None when the campaign has none yet."""

    def save_batches(self, campaign_id, batches) -> None:
        """Store a whole new plan, atomically (all batches or none)."""

    def save_batch(self, campaign_id, batch) -> None:
        """Persist one batch's new state durably before returning."""


class MemoryCampaignStore:
    """A :class:`CampaignStore` in memory, storing copies (as a database would)."""

    def __init__(self):
        self.campaigns = {}

    def load_batches(self, campaign_id):
        rows = self.campaigns.get(campaign_id)
        return None if rows is None else [Batch.from_dict(copy.deepcopy(row)) for row in rows]

    def save_batches(self, campaign_id, batches):
        self.campaigns[campaign_id] = [copy.deepcopy(b.to_dict()) for b in batches]

    def save_batch(self, campaign_id, batch):
        rows = self.campaigns[campaign_id]
        for index, row in enumerate(rows):
            if row["batch_id"] == batch.batch_id:
                rows[index] = copy.deepcopy(batch.to_dict())
                return
        raise KeyError(f"campaign {campaign_id!r} has no batch {batch.batch_id!r}")


# Running -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class RecipientOutcome:
    """One recipient's status: ``sent`` | ``failed`` | ``skipped`` | ``pending`` (not sent yet) |
    ``sending`` (an attempt may have reached LINE; the next run resumes it with its retry key)."""

    recipient_id: object
    user_id: str | None
    status: str
    reason: str | None = None
    request_id: str | None = None
    batch_id: str | None = None


@dataclasses.dataclass
class CampaignReport:
    campaign_id: object
    batches: list

    @property
    def outcomes(self):
        return [RecipientOutcome(rid, uid, b.state, b.error, b.request_id, b.batch_id)
                for b in self.batches for rid, uid in b.recipients]

    @property
    def counts(self):
        counts = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    @property
    def done(self):
        return all(b.state in FINAL_STATES for b in self.batches)


class CampaignRunner:
    """Runs stored campaign plans with a :class:`~line_idlink.sender.Sender`.

    ``now`` is the wall clock used to age retry keys (injectable for tests). ``concurrency``:
    how many batches may be in flight at once (worker threads sharing the sender, its connection
    pool and its thread-safe rate limiter). Every store call and every retry key is made on the
    calling thread, in plan order, so a store need not be thread-safe. The default, 1, sends in
    plan order, which keeps seeded runs (notebooks, fault tests by request number) reproducible.
    A large campaign that should run at LINE's limit needs more in flight than the limit times
    one request's time outside the limiter (round trip + our CPU): at 200 multicasts/s and 20-50
    ms, 12 keeps a few batches waiting at the limiter when a slot frees (measured with
    ``scripts/bench campaign``; 8 often left none waiting). Keep it at or under the SDK
    ``Configuration.connection_pool_maxsize`` (default 5 per CPU): a request beyond the pool
    opens a connection of its own and throws it away.
    """

    def __init__(self, sender, store, now=time.time, concurrency=1):
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError("concurrency is a whole number, 1 or more")
        self.sender = sender
        self.store = store
        self.now = now
        self.concurrency = concurrency

    def prepare(self, campaign_id, recipients, aggregation_unit=None,
                notification_disabled=False):
        """The stored plan, or a new one made from ``recipients`` and stored before returning."""
        stored = self.store.load_batches(campaign_id)
        if stored is not None and recipients is None:
            return stored
        if recipients is None:
            raise ValueError(f"campaign {campaign_id!r} has no stored plan: pass its recipients")
        planned = plan_campaign(recipients, aggregation_unit, notification_disabled)
        if stored is None:
            self.store.save_batches(campaign_id, planned)
            return planned
        if _fingerprint(planned) != _fingerprint(stored):
            raise CampaignMismatch(f"campaign {campaign_id!r} already has a stored plan for other "
                                   "recipients or content; it is resumed as stored or not at all")
        return stored

    def run(self, campaign_id, recipients=None, aggregation_unit=None,
            notification_disabled=False):
        """Send every batch not yet final. Returns a :class:`CampaignReport`; raises
        QuotaExceeded / RetriesExhausted when it has to stop (the state stays resumable)."""
        batches = self.prepare(campaign_id, recipients, aggregation_unit, notification_disabled)
        todo = [batch for batch in batches if batch.state not in FINAL_STATES]
        if self.concurrency == 1:
            for batch in todo:
                fresh = self._begin(campaign_id, batch)
                if fresh is not None:
                    error = self._record(campaign_id, batch, fresh, self._request(batch))
                    if error is not None:
                        raise error
        else:
            self._run_concurrently(campaign_id, todo)
        return CampaignReport(campaign_id, batches)

    def report(self, campaign_id):
        return CampaignReport(campaign_id, self.store.load_batches(campaign_id) or [])

    def _run_concurrently(self, campaign_id, todo):
        """Up to ``concurrency`` requests in flight. The first batch that has to stop the run
        stops new requests; those in flight are finished and recorded, then its error is raised.
        If the caller's thread dies (a store failure, a kill), the requests in flight complete but
        their results are not stored: their batches stay ``sending`` and resume with their keys,
        exactly as after a crash."""
        pending = iter(todo)
        in_flight = {}  # future -> (batch, fresh)
        error = None
        with concurrent.futures.ThreadPoolExecutor(self.concurrency,
                                                   thread_name_prefix="campaign") as pool:
            while True:
                while error is None and len(in_flight) < self.concurrency:
                    batch = next(pending, None)
                    if batch is None:
                        break
                    fresh = self._begin(campaign_id, batch)
                    if fresh is not None:
                        in_flight[pool.submit(self._request, batch)] = (batch, fresh)
                if not in_flight:
                    break
                done, _ = concurrent.futures.wait(
                    in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: in_flight[f][0].batch_id):
                    batch, fresh = in_flight.pop(future)
                    failure = self._record(campaign_id, batch, fresh, future.result())
                    error = error or failure
        if error is not None:
            raise error

    def _begin(self, campaign_id, batch):
        """Make the batch ready to send (its key stored before any attempt). Returns whether the
        key is fresh, or None when the batch must not be sent (it is now ``failed``)."""
        if batch.state == "sending" and self._key_expired(batch):
            batch.state = "failed"
            batch.error = ("outcome unknown: the retry key is older than LINE keeps it (24 h), so "
                           "sending again could deliver twice")
            self.store.save_batch(campaign_id, batch)
            return None
        fresh = batch.state == "pending"
        if fresh:
            # The key is stored before the first attempt: from now on, only this key may send it.
            batch.retry_key = self.sender.key_factory()
            batch.key_created_at = self.now()
            batch.state = "sending"
            batch.error = None
            self.store.save_batch(campaign_id, batch)
        return fresh

    def _request(self, batch):
        """The request itself; touches only the sender, so it may run in a worker thread."""
        if batch.kind == "multicast":
            return self.sender.multicast(batch.user_ids, batch.messages,
                                         retry_key=batch.retry_key,
                                         aggregation_unit=batch.aggregation_unit,
                                         notification_disabled=batch.notification_disabled)
        return self.sender.push(batch.user_ids[0], batch.messages,
                                retry_key=batch.retry_key,
                                aggregation_unit=batch.aggregation_unit,
                                notification_disabled=batch.notification_disabled)

    def _record(self, campaign_id, batch, fresh, result):
        """Store a request's outcome; returns the error that must stop the run, if any."""
        batch.attempts += result.attempts
        batch.request_id = result.request_id or batch.request_id
        if result.ok:
            batch.state = "sent"
            batch.error = None
            batch.sent_messages = result.sent_messages
            self.store.save_batch(campaign_id, batch)
            return None
        batch.error = str(result.error)
        if isinstance(result.error, SendRejected):
            batch.state = "failed"
            self.store.save_batch(campaign_id, batch)
            return None
        if fresh and not _maybe_sent(result):
            # No attempt with this key can have reached LINE (quota, throttling, no connection):
            # the key was never accepted, and a fresh one comes with the next run.
            batch.state = "pending"
            batch.retry_key = None
            batch.key_created_at = None
        self.store.save_batch(campaign_id, batch)
        return result.error

    def _key_expired(self, batch):
        if batch.key_created_at is None:
            return False
        return self.now() - batch.key_created_at >= RETRY_KEY_TTL - KEY_SAFETY_MARGIN


def _maybe_sent(result):
    return any(kind in ("server", "maybe_sent") for kind in result.history)


__all__ = ["Recipient", "Batch", "CampaignStore", "MemoryCampaignStore", "plan_campaign",
           "CampaignRunner", "CampaignReport", "RecipientOutcome", "CampaignMismatch",
           "QuotaExceeded", "RetriesExhausted", "SendRejected", "InvalidMessages"]
