"""The storage seam of the account-link protocol: the records it keeps and the operations that
must be atomic. The reference app uses :class:`SQLiteStorage`, tests use :class:`MemoryStorage`,
and the Odoo addon implements :class:`Storage` on its own models.

What has to be atomic, and why each operation exists:

* ``consume_nonce``: a nonce links at most once, even when LINE delivers the same
  ``accountLink`` twice at the same moment (two webhook workers).
* ``add_link``: a LINE userId is linked to at most one customer per channel; check-and-insert in
  one step (a unique index in SQL), otherwise two concurrent links could both succeed.
* ``remember_event``: a ``webhookEventId`` is stored once (LINE redelivers with the same id), and
  storing it *is* queueing it, so an event is never marked "seen" without being kept.
* ``claim_event``: one worker processes an event, so nothing is answered twice.
* ``retry_event``: an event whose handler failed for a transient reason goes back to the queue
  with the time of its next attempt (the retry policy is the receiver's, see ``webhook``).

Secrets at rest: nonces and link tokens are kept only as SHA-256 hex digests
(:func:`digest`); lookups hash the value received from the browser or from LINE.

Customer ids are strings (Odoo passes ``str(partner.id)``); times are float seconds since the
Unix epoch, taken from the caller's clock so tests can freeze and advance it.
"""

import hashlib
from dataclasses import dataclass
from typing import Optional, Protocol, runtime_checkable

METHOD_MESSAGING_API = "messaging_api"
METHOD_LINE_LOGIN = "line_login"
LINK_METHODS = (METHOD_MESSAGING_API, METHOD_LINE_LOGIN)


def digest(secret: str) -> str:
    """SHA-256 hex digest of a nonce or link token: the only form stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NonceRecord:
    nonce_hash: str
    channel_id: str
    customer_id: str
    line_user_id: str
    link_token_hash: str
    created_at: float
    expires_at: float
    used_at: Optional[float] = None


@dataclass(frozen=True)
class LinkTokenRecord:
    """A link token issued by LINE for one userId, remembered so that ``/line/link?linkToken=``
    knows whose LINE account the visitor is about to link (and can name it on the page)."""

    token_hash: str
    channel_id: str
    line_user_id: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True)
class LinkRecord:
    channel_id: str
    line_user_id: str
    customer_id: str
    method: str  # METHOD_MESSAGING_API or METHOD_LINE_LOGIN
    linked_at: float
    unlinked_at: Optional[float] = None

    @property
    def active(self):
        return self.unlinked_at is None


@dataclass(frozen=True)
class EventRecord:
    """One webhook event as received: the queue row processed later (Odoo: by a cron)."""

    event_id: str  # webhookEventId
    channel_id: str
    payload: str  # the event object as compact JSON (one element of the body's ``events``)
    received_at: float
    started_at: Optional[float] = None
    finished_at: Optional[float] = None
    error: Optional[str] = None
    attempts: int = 0  # claims so far (``claim_event`` counts them)
    next_try: Optional[float] = None  # set by ``retry_event``: not pending before this time


class LinkConflict(Exception):
    """Raised by ``add_link`` when the LINE userId already has an active link in the channel."""

    def __init__(self, existing: LinkRecord):
        super().__init__(f"LINE user already linked to customer {existing.customer_id!r}")
        self.existing = existing


@runtime_checkable
class Storage(Protocol):
    # Link tokens -----------------------------------------------------------------------------
    def save_link_token(self, record: LinkTokenRecord) -> None:
        """Insert or replace (the same token issued again keeps the newest binding)."""

    def get_link_token(self, token_hash: str) -> Optional[LinkTokenRecord]: ...

    # Nonces ----------------------------------------------------------------------------------
    def add_nonce(self, record: NonceRecord) -> None:
        """Insert; a hash collision (never expected with 256-bit nonces) raises ValueError."""

    def get_nonce(self, nonce_hash: str) -> Optional[NonceRecord]: ...

    def consume_nonce(self, nonce_hash: str, now: float) -> Optional[NonceRecord]:
        """Atomically mark an unused, unexpired nonce used; return it (with ``used_at``), or
        None if it is unknown, expired or already used. At most one caller ever gets it."""

    # Links -----------------------------------------------------------------------------------
    def add_link(self, record: LinkRecord) -> None:
        """Insert an active link; raise :class:`LinkConflict` (carrying the existing link) if the
        LINE userId already has an active link in this channel. Check and insert are atomic."""

    def get_link(self, channel_id: str, line_user_id: str) -> Optional[LinkRecord]:
        """The active link of a LINE user in a channel, or None."""

    def links_for_customer(self, channel_id: str, customer_id: str) -> list:
        """Active links of a customer in a channel (a customer may link several LINE accounts)."""

    def end_links(self, channel_id: str, now: float, line_user_id: Optional[str] = None,
                  customer_id: Optional[str] = None) -> list:
        """Set ``unlinked_at`` on the matching active links (by LINE user and/or customer) and
        return them as ended. Nothing matching: empty list."""

    # Webhook events --------------------------------------------------------------------------
    def remember_event(self, event_id: str, channel_id: str, payload: str,
                       received_at: float) -> bool:
        """Store the event if its id is new (True); a known id changes nothing (False)."""

    def get_event(self, event_id: str) -> Optional[EventRecord]: ...

    def pending_events(self, channel_id: Optional[str] = None, limit: int = 100,
                       now: Optional[float] = None) -> list:
        """Unclaimed events, oldest first (received order); with ``now``, only those whose
        ``next_try`` (if any) has come."""

    def claim_event(self, event_id: str, now: float) -> bool:
        """Atomically mark a pending event started and count the attempt; True for exactly one
        caller."""

    def finish_event(self, event_id: str, now: float, error: Optional[str] = None) -> None: ...

    def retry_event(self, event_id: str, next_try: float, error: str) -> None:
        """Put a claimed event back in the queue, not to be claimed before ``next_try``; the
        error of the failed attempt is kept for the back office."""

    # Housekeeping ----------------------------------------------------------------------------
    def purge_expired(self, now: float) -> int:
        """Delete nonces and link tokens that expired before ``now``; return how many."""
