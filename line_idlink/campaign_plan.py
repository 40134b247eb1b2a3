"""Planning a LINE campaign: recipients -> :class:`Batch` es (see :mod:`line_idlink.campaign`).

Recipients whose rendered messages are identical (canonical JSON) share multicast batches of at
most 500; a recipient with messages of its own gets a push; unlinked, excluded and duplicate
recipients become ``skip`` batches. A distinct body is validated with the SDK's models once,
however many recipients share it.
"""

import copy
import dataclasses
import json

from .sender import (MULTICAST_MAX, InvalidMessages, canonical_json, check_aggregation_unit,
                     chunked, to_messages)


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
