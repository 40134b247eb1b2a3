"""LINE campaigns: a dispatch plan stored before anything is sent, then a run that can be resumed.

1. :func:`plan_campaign` turns recipients ``(recipient_id, LINE userId, rendered messages)`` into
   batches: recipients whose rendered messages are identical (canonical JSON) share multicast
   batches of at most 500; a recipient with a message list of its own gets a push. Recipients
   without a userId, with a ``skip_reason`` (blocked, opted out... the caller filters) or listed
   twice with the same content become ``skipped`` batches. Everything is validated first: a bad
   message raises :class:`~line_idlink.messaging.InvalidMessages` and nothing is stored.
2. :class:`CampaignRunner` stores the plan through a :class:`CampaignStore`, then sends batch by
   batch (``concurrency`` > 1: that many requests in flight, in worker threads; every store call
   stays on the calling thread). A batch's retry key is saved (state ``sending``) BEFORE its
   first attempt. On a later
   run ``sending`` batches go again with the SAME key (a 409 means LINE already has it), ``pending``
   ones go normally, ``sent``/``failed``/``skipped`` ones are left alone. So a crash at any point,
   followed by a new run on the same store, sends nobody twice and skips nobody.

Batch states: ``pending`` -> ``sending`` -> ``sent`` | ``failed``; ``skipped`` from the start.
A run stops by raising :class:`~line_idlink.messaging.QuotaExceeded` (monthly quota) or
:class:`~line_idlink.messaging.RetriesExhausted` (LINE kept failing); the batch goes back to
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
"""

import concurrent.futures
import copy
import dataclasses
import json
import time
from typing import Protocol, runtime_checkable

from .messaging import (MULTICAST_MAX, InvalidMessages, QuotaExceeded, RetriesExhausted,
                        SendRejected, canonical_json, check_aggregation_unit, chunked, to_messages)

RETRY_KEY_TTL = 24 * 3600
KEY_SAFETY_MARGIN = 300
FINAL_STATES = ("sent", "failed", "skipped")


class CampaignMismatch(ValueError):
    """The stored plan was made from other recipients or content than the ones given now."""


@dataclasses.dataclass
class Recipient:
    recipient_id: object       # the caller's own id (partner, trace...), kept as given
    user_id: str | None        # LINE userId; None = not linked (skipped)
    messages: list             # rendered LINE message dicts, 1..5
    skip_reason: str | None = None

    @classmethod
    def coerce(cls, value):
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(value["recipient_id"], value.get("user_id"), value.get("messages") or [],
                       value.get("skip_reason"))
        return cls(*value)


@dataclasses.dataclass
class Batch:
    """One planned request (or one skipped recipient) and where it stands. JSON-able via
    :meth:`to_dict` so a store can keep it in a text column."""

    batch_id: str
    kind: str                   # "multicast" | "push" | "skip"
    recipients: list            # [[recipient_id, user_id], ...]
    messages: list              # LINE message dicts (empty for "skip")
    aggregation_unit: str | None = None
    notification_disabled: bool = False
    state: str = "pending"      # pending | sending | sent | failed | skipped
    retry_key: str | None = None
    key_created_at: float | None = None  # wall-clock time of the key's first use
    request_id: str | None = None
    attempts: int = 0           # over every run
    error: str | None = None    # why failed / skipped / interrupted
    sent_messages: list = dataclasses.field(default_factory=list)  # push: [{id, quoteToken}]

    def to_dict(self):
        # Field by field rather than dataclasses.asdict, which recurses into every [rid, uid]
        # pair and cost ~2 ms per 500-recipient batch, twice per batch sent.
        data = {name: getattr(self, name) for name in _BATCH_FIELDS}
        data["recipients"] = [list(pair) for pair in self.recipients]
        data["messages"] = copy.deepcopy(self.messages)
        data["sent_messages"] = copy.deepcopy(self.sent_messages)
        return data

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    @property
    def user_ids(self):
        return [user_id for _, user_id in self.recipients]


_BATCH_FIELDS = tuple(field.name for field in dataclasses.fields(Batch))


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


# Planning ----------------------------------------------------------------------------------------
# The key under which a recipient's raw message list is looked up: equal JSON, equal validation.
_raw_key = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def _unpack(value):
    """A recipient as ``(recipient_id, user_id, messages, skip_reason)``, without building a
    :class:`Recipient` per row (a campaign has up to millions)."""
    if type(value) is tuple and len(value) == 3:
        return value + (None,)
    if not isinstance(value, Recipient):
        value = Recipient.coerce(value)
    return value.recipient_id, value.user_id, value.messages, value.skip_reason


def _validated(messages, cache):
    """``(canonical content, plain message dicts)`` for a recipient's messages. A body is
    validated with the SDK's models once per distinct raw JSON, not once per recipient: an
    identical-body campaign validates one body. SDK models (not JSON-able) are validated each
    time. Raises InvalidMessages."""
    try:
        raw = _raw_key(messages)
    except (TypeError, ValueError):
        raw = None
    hit = cache.get(raw) if raw is not None else None
    if hit is None:
        plain = [m.to_dict() for m in to_messages(messages)]
        hit = (canonical_json(plain), plain)
        if raw is not None:
            cache[raw] = hit
    return hit


def plan_campaign(recipients, aggregation_unit=None, notification_disabled=False,
                  max_batch=MULTICAST_MAX):
    """Recipients -> batches (see the module doc); InvalidMessages before planning anything."""
    if not 1 <= max_batch <= MULTICAST_MAX:
        raise ValueError(f"max_batch is 1..{MULTICAST_MAX}")
    check_aggregation_unit(aggregation_unit)
    groups = {}     # canonical content -> (messages, [[rid, uid], ...], {uid: first rid})
    skipped = []    # [(recipient_id, user_id, reason)]
    validated = {}  # raw JSON of a body -> (content, plain): see _validated
    for recipient in recipients:
        recipient_id, user_id, messages, skip_reason = _unpack(recipient)
        if skip_reason:
            skipped.append((recipient_id, user_id, skip_reason))
            continue
        if not user_id:
            skipped.append((recipient_id, None, "not linked"))
            continue
        try:
            content, plain = _validated(messages, validated)
        except InvalidMessages as exc:
            raise InvalidMessages(f"recipient {recipient_id!r}: {exc}") from None
        group = groups.get(content)
        if group is None:
            group = groups[content] = (plain, [], {})
        first = group[2].setdefault(user_id, recipient_id)
        if first != recipient_id:
            skipped.append((recipient_id, user_id,
                            f"duplicate (same LINE user and content as {first!r})"))
            continue
        group[1].append([recipient_id, user_id])

    batches = []

    def add(kind, members, messages, state="pending", error=None):
        batches.append(Batch(f"{len(batches) + 1:05d}", kind, members, messages, aggregation_unit,
                             notification_disabled, state=state, error=error))

    for messages, members, _ in groups.values():
        kind = "multicast" if len(members) > 1 else "push"
        for chunk in chunked(members, max_batch):
            add(kind, chunk, messages)
    for recipient_id, user_id, reason in skipped:
        add("skip", [[recipient_id, user_id]], [], state="skipped", error=reason)
    return batches


def _fingerprint(batches):
    """What a plan sends to whom, independent of batch states."""
    return sorted((str(rid), uid or "", canonical_json(b.messages) if b.kind != "skip" else "",
                   b.error if b.kind == "skip" else "")
                  for b in batches for rid, uid in b.recipients)


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
    """Runs stored campaign plans with a :class:`~line_idlink.messaging.Sender`.

    ``now`` is the wall clock used to age retry keys (injectable for tests). ``concurrency``:
    how many batches may be in flight at once (worker threads sharing the sender, its connection
    pool and its thread-safe rate limiter). Every store call and every retry key is made on the
    calling thread, in plan order, so a store need not be thread-safe. The default, 1, sends in
    plan order, which keeps seeded runs (notebooks, fault tests by request number) reproducible;
    a large campaign wants 4 or so (a request's round trip, not LINE's limit, is then what
    waits). Keep it at or under the SDK ``Configuration.connection_pool_maxsize``.
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
