"""Webhook intake: raw-body signature check, parsing with line-bot-sdk, de-duplication by
``webhookEventId``, and dispatch to handlers per event type.

Accepting and processing are separate steps, because LINE wants an answer within 2 s and Odoo
processes from a cron::

    receiver = WebhookReceiver(channel_secret, storage, channel_id)
    receiver.on("follow", on_follow)                    # handler(event: StoredEvent)
    receiver.on("accountLink", lambda ev: linker.complete_link(ev))
    # in the HTTP route: fast, answers 200 when it returns, 400 on WebhookError
    receipt = receiver.receive(request.get_data(), signature_from_headers(request.headers))
    # later (a cron, a queue worker, or right after answering in a small app)
    receiver.process_pending()

``receive`` stores each new event (the storage row *is* the queue entry) and never runs a
handler; ``process_pending`` claims each pending event atomically, runs its handler and records
the result, so an event is handled at most once even with several workers.

Undocumented behaviour chosen here
----------------------------------
* A body whose signature is valid but which is not UTF-8 JSON of the documented shape (an
  object with an ``events`` array of objects, each with a string ``type`` and a non-empty string
  ``webhookEventId``) is refused whole with :class:`InvalidBody`; nothing is stored.
* Events the SDK does not know (``UnknownEvent``, e.g. a type newer than the SDK) are stored
  and go to the default handler; without one they are finished as "unhandled", not an error.
* Retry policy (one, here, for every app): a handler that raises a *transient* error -- LINE
  unreachable or answering 5xx after the client's own retries, a lost database race, anything
  :func:`is_transient` accepts, or :class:`RetryLater` -- puts its event back in the queue, to be
  tried again after 1, 2, 4, 8 minutes (``retry_backoff`` doubled per attempt), 5 attempts in
  all (``max_attempts``); then it is finished with the error. Any other error finishes the event
  with its text at once and it is NOT retried. A handler must raise a transient error only
  before it sent anything (apps defer their sends until the event's work is saved; the Odoo
  addon sends replies after its commit), so nothing is ever sent twice.
* ``process_pending(atomic=..., checkpoint=...)``: ``atomic`` wraps each handler call (a database
  savepoint: a failed handler leaves nothing behind); ``checkpoint(outcome)`` runs after each
  event is finished or rescheduled (a database app commits there, so one event's failure never
  rolls back another's effects).
* Within one body, events are stored and processed in body order. LINE may deliver out of
  order; handlers that care compare ``timestamp``.
* A body larger than :data:`MAX_WEBHOOK_BODY` (1 MiB) is refused with 413 before it is read
  (:func:`read_webhook_body`): LINE delivers at most a few events per request, a few KiB.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Optional

from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import Event

from .retry import RetriesExhausted

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-line-signature"
# The largest webhook body accepted, in bytes. LINE batches a few events per request (each well
# under a few KiB), so 1 MiB is far above anything LINE sends; anything larger is refused with
# 413 before it is read, signed or not (the signature can only be checked on the whole body).
MAX_WEBHOOK_BODY = 1024 * 1024
_READ_CHUNK = 64 * 1024


class WebhookError(ValueError):
    """The webhook request is refused; answer 400 (the message is safe to return)."""


class InvalidSignature(WebhookError):
    pass


class InvalidBody(WebhookError):
    pass


class BodyTooLarge(ValueError):
    """The webhook body is larger than the limit; answer 413 and store nothing."""

    status = 413


def read_webhook_body(stream, content_length, limit=MAX_WEBHOOK_BODY):
    """The request body, never holding more than ``limit + 1`` bytes of it.

    ``content_length``: the request's Content-Length (None when absent, e.g. chunked); a larger
    declared length is refused before anything is read. Otherwise at most ``limit + 1`` bytes
    are read from ``stream``; one byte more than ``limit`` raises :class:`BodyTooLarge`."""
    if content_length is not None and content_length > limit:
        raise BodyTooLarge(f"webhook body of {content_length} bytes is over the limit of"
                           f" {limit} bytes")
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyTooLarge(f"webhook body is over the limit of {limit} bytes")
    return b"".join(chunks)


def request_body(request, limit=MAX_WEBHOOK_BODY):
    """:func:`read_webhook_body` of a werkzeug request (``request.stream`` and
    ``request.content_length``); raises :class:`BodyTooLarge`."""
    return read_webhook_body(request.stream, request.content_length, limit)


def signature_from_headers(headers):
    """The ``x-line-signature`` value from any headers mapping (werkzeug ``Headers``, a dict, a
    list of pairs), whatever the case of the header name; None if absent."""
    items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if isinstance(name, bytes):
            name, value = name.decode("latin-1"), value.decode("latin-1")
        if name.lower() == SIGNATURE_HEADER:
            return value
    return None


def compute_signature(channel_secret, raw_body):
    """Base64 HMAC-SHA256 of the raw body keyed with the channel secret (what LINE sends)."""
    mac = hmac.new(channel_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def verify_signature(channel_secret, raw_body, signature):
    """True when ``signature`` is LINE's signature of exactly these bytes (constant time)."""
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        raise TypeError("verify the raw request bytes (request.get_data()), not decoded text")
    if not isinstance(signature, str) or not signature:
        return False
    expected = compute_signature(channel_secret, raw_body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


@dataclass
class StoredEvent:
    """One webhook event: its JSON exactly as LINE sent it (``data``) and the SDK model."""

    event_id: str
    channel_id: str
    data: dict
    received_at: float
    _model: object = field(default=None, repr=False, compare=False)

    @property
    def type(self):
        return self.data["type"]

    @property
    def timestamp(self):
        return self.data.get("timestamp")

    @property
    def is_redelivery(self):
        context = self.data.get("deliveryContext")
        return bool(isinstance(context, dict) and context.get("isRedelivery"))

    @property
    def mode(self):
        return self.data.get("mode")

    @property
    def user_id(self):
        source = self.data.get("source")
        return source.get("userId") if isinstance(source, dict) else None

    @property
    def reply_token(self):
        """None in standby mode (the bot must not answer) or when LINE sent none."""
        token = self.data.get("replyToken")
        return token if isinstance(token, str) and self.mode != "standby" else None

    @property
    def model(self):
        """The line-bot-sdk event (``UnknownEvent`` for types the SDK does not know)."""
        if self._model is None:
            self._model = event_model(self.data)
        return self._model

    @property
    def is_unknown(self):
        return isinstance(self.model, UnknownEvent)

    @classmethod
    def from_record(cls, record):
        return cls(record.event_id, record.channel_id, json.loads(record.payload),
                   record.received_at)


def event_model(data):
    """The SDK model of one event dict, as ``WebhookParser`` builds it."""
    try:
        return Event.from_dict(data)
    except ValueError:  # unknown type, or a known type the SDK's schema rejects
        return UnknownEvent.new_from_json_dict(data)


@dataclass
class Receipt:
    """What ``receive`` did: ``accepted`` new events (stored), ``duplicates`` (ids already
    known, e.g. redeliveries), ``unknown`` (ids of accepted events the SDK does not know)."""

    accepted: list
    duplicates: list
    unknown: list
    destination: Optional[str] = None


@dataclass
class Processed:
    event_id: str
    type: str
    handled: bool  # a handler (or the default handler) ran
    result: object = None
    error: Optional[str] = None
    retry_at: Optional[float] = None  # set when the event went back to the queue until then
    attempt: int = 1

    @property
    def finished(self):
        """False when the event waits for another attempt."""
        return self.retry_at is None


class RetryLater(Exception):
    """Raised by a handler that could not do its work for a reason that may pass (and sent
    nothing yet): the event is tried again later (see the retry policy above)."""

    transient = True


MAX_ATTEMPTS = 5
RETRY_BACKOFF = 60.0  # seconds before the 2nd attempt; doubled for each further attempt


def is_transient(exc):
    """The default test of the retry policy: errors that say so (``exc.transient is True``, as
    :class:`RetryLater` and the apps' LINE call errors do) and the client's
    :class:`~line_idlink.retry.RetriesExhausted` (LINE unreachable, or 5xx/429 every time)."""
    return getattr(exc, "transient", False) is True or isinstance(exc, RetriesExhausted)


def retry_delay(attempt, backoff=RETRY_BACKOFF):
    """Seconds between failed attempt number ``attempt`` (1-based) and the next one."""
    return backoff * 2 ** (max(attempt, 1) - 1)


class WebhookReceiver:
    """Receives one channel's webhooks. ``handlers`` maps event type -> callable(StoredEvent)."""

    def __init__(self, channel_secret, storage, channel_id="", handlers=None, default=None,
                 clock=time.time, max_attempts=MAX_ATTEMPTS, retry_backoff=RETRY_BACKOFF,
                 transient=is_transient):
        if not channel_secret:
            raise ValueError("channel_secret is required to verify webhooks")
        self._secret = channel_secret
        self._parser = WebhookParser(channel_secret)
        self.storage = storage
        self.channel_id = str(channel_id)
        self.handlers = dict(handlers or {})
        self.default_handler = default
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.transient = transient

    def __repr__(self):  # never show the secret
        return f"<WebhookReceiver channel={self.channel_id!r}>"

    def on(self, event_type, fn=None):
        """Register the handler of an event type (``"follow"``, ``"accountLink"`` ...); usable
        as a decorator: ``@receiver.on("postback")``."""
        if fn is None:
            return lambda f: self.on(event_type, f)
        self.handlers[event_type] = fn
        return fn

    def default(self, fn):
        """Handler for types without their own handler (unknown types included)."""
        self.default_handler = fn
        return fn

    # Accept ----------------------------------------------------------------------------------
    def parse(self, raw_body, signature):
        """Verify and parse; returns ``(destination, [(event dict, SDK event), ...])``.
        Raises InvalidSignature or InvalidBody; stores nothing."""
        if not verify_signature(self._secret, raw_body, signature):
            if not signature:
                raise InvalidSignature("missing x-line-signature header")
            raise InvalidSignature("invalid x-line-signature: the body was not signed with this"
                                   " channel's secret (verify the raw bytes, not re-serialised"
                                   " JSON)")
        try:
            text = bytes(raw_body).decode("utf-8")
            body = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidBody(f"webhook body is not UTF-8 JSON: {exc}") from None
        _check_shape(body)
        try:
            models = self._parser.parse(text, signature)
        except InvalidSignatureError:  # cannot happen after our own check; keep it typed
            raise InvalidSignature("invalid x-line-signature") from None
        except Exception as exc:  # the SDK trips on a malformed event: a clear 400, not a 500
            raise InvalidBody(f"webhook body could not be parsed: {exc}") from None
        return body.get("destination"), list(zip(body["events"], models))

    def receive(self, raw_body, signature):
        """Verify, parse and store new events; fast, runs no handler. Raises WebhookError."""
        destination, events = self.parse(raw_body, signature)
        now = self.clock()
        accepted, duplicates, unknown = [], [], []
        for data, model in events:
            event_id = data["webhookEventId"]
            payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            if not self.storage.remember_event(event_id, self.channel_id, payload, now):
                duplicates.append(event_id)
                continue
            stored = StoredEvent(event_id, self.channel_id, data, now, model)
            accepted.append(stored)
            if isinstance(model, UnknownEvent):
                unknown.append(event_id)
        log.info("webhook: %d accepted, %d duplicate(s), %d unknown", len(accepted),
                 len(duplicates), len(unknown))
        return Receipt(accepted, duplicates, unknown, destination)

    # Process ---------------------------------------------------------------------------------
    def process(self, event):
        """Run the handler for one event (a StoredEvent or an EventRecord). Does not claim or
        finish it: use :meth:`process_pending` for queued events. Handler errors propagate."""
        if not isinstance(event, StoredEvent):
            event = StoredEvent.from_record(event)
        handler = self.handlers.get(event.type, self.default_handler)
        if handler is None:
            return Processed(event.event_id, event.type, False)
        return Processed(event.event_id, event.type, True, handler(event))

    def process_pending(self, limit=100, atomic=None, checkpoint=None):
        """Claim, handle and finish (or reschedule) the pending events of this channel whose
        time has come, oldest first; returns their :class:`Processed` outcomes.

        ``atomic``: a context-manager factory wrapping each handler call (e.g. a database
        savepoint); ``checkpoint(outcome)``: called after each event is recorded (e.g. commit)."""
        done = []
        for record in self.storage.pending_events(self.channel_id, limit, now=self.clock()):
            outcome = self.process_one(record, atomic)
            if outcome is None:
                continue  # another worker has it
            done.append(outcome)
            if checkpoint is not None:
                checkpoint(outcome)
        return done

    def process_one(self, record, atomic=None):
        """Claim one pending event (an EventRecord), run its handler and record the outcome with
        the retry policy. None when another worker claimed it first."""
        if not self.storage.claim_event(record.event_id, self.clock()):
            return None
        attempt = (record.attempts or 0) + 1
        try:
            with (atomic or nullcontext)():
                outcome = self.process(record)
        except Exception as exc:  # noqa: BLE001 - recorded on the event
            error = f"{type(exc).__name__}: {exc}"
            if self.transient(exc) and attempt < self.max_attempts:
                retry_at = self.clock() + retry_delay(attempt, self.retry_backoff)
                log.info("webhook event %s: attempt %d failed (%s); next attempt at %s",
                         record.event_id, attempt, error, retry_at)
                self.storage.retry_event(record.event_id, retry_at, error)
                return Processed(record.event_id, _type_of(record), True, None, error, retry_at,
                                 attempt)
            if hasattr(exc, "transient"):  # a classified failure (e.g. LINE refused a call)
                log.warning("webhook event %s failed: %s", record.event_id, error)
            else:
                log.exception("webhook handler failed for event %s", record.event_id)
            self.storage.finish_event(record.event_id, self.clock(), error)
            return Processed(record.event_id, _type_of(record), True, None, error,
                             attempt=attempt)
        self.storage.finish_event(record.event_id, self.clock(),
                                  None if outcome.handled else "unhandled")
        outcome.attempt = attempt
        return outcome

    def handle(self, raw_body, signature):
        """receive + process_pending in one call, for small apps and notebooks."""
        receipt = self.receive(raw_body, signature)
        return receipt, self.process_pending()


def _type_of(record):
    try:
        return json.loads(record.payload).get("type")
    except ValueError:
        return None


def _check_shape(body):
    if not isinstance(body, dict):
        raise InvalidBody("webhook body must be a JSON object")
    events = body.get("events")
    if not isinstance(events, list):
        raise InvalidBody("webhook body must have an 'events' array")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise InvalidBody(f"events[{index}] must be an object")
        if not isinstance(event.get("type"), str) or not event["type"]:
            raise InvalidBody(f"events[{index}].type must be a non-empty string")
        event_id = event.get("webhookEventId")
        if not isinstance(event_id, str) or not event_id:
            raise InvalidBody(f"events[{index}].webhookEventId must be a non-empty string")
    destination = body.get("destination")
    if destination is not None and not isinstance(destination, str):
        raise InvalidBody("destination must be a string")
