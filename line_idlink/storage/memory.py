"""In-process storage for tests, notebooks and demos: dictionaries behind one lock."""

import dataclasses
import threading

from .protocol import LINK_METHODS, EventRecord, LinkConflict


class MemoryStorage:
    """Implements :class:`line_idlink.storage.Storage`; every operation holds one lock, which is
    what makes consume/add/remember/claim atomic here."""

    def __init__(self):
        self._lock = threading.RLock()
        self._link_tokens = {}
        self._nonces = {}
        self._links = []  # every link ever made, ended ones keep their unlinked_at
        self._events = {}  # insertion-ordered: received order

    # Link tokens -----------------------------------------------------------------------------
    def save_link_token(self, record):
        with self._lock:
            self._link_tokens[record.token_hash] = record

    def get_link_token(self, token_hash):
        with self._lock:
            return self._link_tokens.get(token_hash)

    # Nonces ----------------------------------------------------------------------------------
    def add_nonce(self, record):
        with self._lock:
            if record.nonce_hash in self._nonces:
                raise ValueError("nonce already stored")
            self._nonces[record.nonce_hash] = record

    def get_nonce(self, nonce_hash):
        with self._lock:
            return self._nonces.get(nonce_hash)

    def consume_nonce(self, nonce_hash, now):
        with self._lock:
            record = self._nonces.get(nonce_hash)
            if record is None or record.used_at is not None or record.expires_at <= now:
                return None
            record = dataclasses.replace(record, used_at=now)
            self._nonces[nonce_hash] = record
            return record

    # Links -----------------------------------------------------------------------------------
    def add_link(self, record):
        if record.method not in LINK_METHODS:
            raise ValueError(f"invalid link method {record.method!r}")
        with self._lock:
            existing = self.get_link(record.channel_id, record.line_user_id)
            if existing is not None:
                raise LinkConflict(existing)
            self._links.append(record)

    def get_link(self, channel_id, line_user_id):
        with self._lock:
            for link in self._links:
                if (link.active and link.channel_id == channel_id
                        and link.line_user_id == line_user_id):
                    return link
            return None

    def links_for_customer(self, channel_id, customer_id):
        with self._lock:
            return [link for link in self._links if link.active and link.channel_id == channel_id
                    and link.customer_id == customer_id]

    def end_links(self, channel_id, now, line_user_id=None, customer_id=None):
        if line_user_id is None and customer_id is None:
            raise ValueError("end_links needs line_user_id or customer_id")
        ended = []
        with self._lock:
            for index, link in enumerate(self._links):
                if (link.active and link.channel_id == channel_id
                        and line_user_id in (None, link.line_user_id)
                        and customer_id in (None, link.customer_id)):
                    link = dataclasses.replace(link, unlinked_at=now)
                    self._links[index] = link
                    ended.append(link)
        return ended

    def all_links(self):
        """Every link, ended ones included (history for tests and the demo)."""
        with self._lock:
            return list(self._links)

    # Webhook events --------------------------------------------------------------------------
    def remember_event(self, event_id, channel_id, payload, received_at):
        with self._lock:
            if event_id in self._events:
                return False
            self._events[event_id] = EventRecord(event_id, channel_id, payload, received_at)
            return True

    def get_event(self, event_id):
        with self._lock:
            return self._events.get(event_id)

    def pending_events(self, channel_id=None, limit=100, now=None):
        with self._lock:
            pending = [event for event in self._events.values() if event.started_at is None
                       and channel_id in (None, event.channel_id)
                       and (now is None or event.next_try is None or event.next_try <= now)]
            return pending[:limit]

    def claim_event(self, event_id, now):
        with self._lock:
            event = self._events.get(event_id)
            if event is None or event.started_at is not None:
                return False
            self._events[event_id] = dataclasses.replace(event, started_at=now,
                                                         attempts=event.attempts + 1)
            return True

    def retry_event(self, event_id, next_try, error):
        with self._lock:
            event = self._events.get(event_id)
            if event is None:
                raise KeyError(f"unknown webhook event {event_id!r}")
            self._events[event_id] = dataclasses.replace(event, started_at=None,
                                                         next_try=next_try, error=error)

    def finish_event(self, event_id, now, error=None):
        with self._lock:
            event = self._events.get(event_id)
            if event is None:
                raise KeyError(f"unknown webhook event {event_id!r}")
            self._events[event_id] = dataclasses.replace(event, finished_at=now, error=error)

    # Housekeeping ----------------------------------------------------------------------------
    def purge_expired(self, now):
        with self._lock:
            nonces = [key for key, rec in self._nonces.items() if rec.expires_at < now]
            tokens = [key for key, rec in self._link_tokens.items() if rec.expires_at < now]
            for key in nonces:
                del self._nonces[key]
            for key in tokens:
                del self._link_tokens[key]
            return len(nonces) + len(tokens)

