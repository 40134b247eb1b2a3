"""Sending LINE messages so that nothing is lost and nothing is sent twice.

:class:`Sender` wraps ``linebot.v3.messaging.MessagingApi`` with what the SDK leaves to us:

- a UUID ``X-Line-Retry-Key`` for every push/multicast, handed to ``key_store`` (so the caller can
  persist it) BEFORE the first attempt and reused on every attempt; 409 = LINE already accepted
  it (status ``accepted_before``, with the accepted request id and, for push, ``sentMessages``);
- retries with exponential backoff and full jitter on 429 throttling, 5xx, timeouts and dropped
  connections; urllib3's own retries are switched off so no POST is repeated behind our back;
- an explicit ``(connect, read)`` timeout per request (the SDK has none);
- a client-side rate limiter per endpoint (:mod:`line_idlink.ratelimit`);
- quota exhaustion (:class:`QuotaExceeded`) told apart from throttling and never retried; other
  4xx are permanent (:class:`SendRejected`, with LINE's message and details).

Results are values, not exceptions: :class:`SendResult` per request, :class:`RecipientResult` per
recipient for :meth:`Sender.multicast_all`. Invalid input (more than 5 messages, a bad
aggregation unit, an unknown message type) raises :class:`InvalidMessages` before any request.

Undocumented behaviour chosen here:

- Reply cannot carry a retry key (LINE answers 400), so a reply is retried only when LINE surely
  did not process it: the connection was never established, or a 429 throttle (LINE does not
  process a 429). A reply that hit a 5xx, a timeout or a dropped connection is NOT retried: it
  may have arrived, and the reply token is single-use anyway. At most ``reply_attempts`` (3)
  attempts, because reply tokens are only good for about a minute.
- :meth:`Sender.multicast_all` stops at the first chunk that hits the quota or runs out of
  retries; later chunks are reported ``pending`` (never attempted). A rejected chunk (4xx) does
  not stop the others.
- A duplicate userId in one multicast is refused before sending (LINE does not say what it does);
  ``multicast_all`` silently keeps the first occurrence.
"""

import dataclasses
import json
import re
import time
import uuid

from linebot.v3.messaging import Message, MulticastRequest, PushMessageRequest, ReplyMessageRequest

from .retry import (DEFAULT_TIMEOUT, RETRY_ALWAYS, RETRY_IF_NOT_PROCESSED, ApiCaller,
                    LineApiError, QuotaExceeded, RetriesExhausted, SendRejected)

__all__ = ["Sender", "SendResult", "RecipientResult", "InvalidMessages", "SendRejected",
           "QuotaExceeded", "RetriesExhausted", "LineApiError", "to_messages", "canonical_json",
           "chunked", "check_aggregation_unit", "new_retry_key", "MAX_MESSAGES", "MULTICAST_MAX"]

MAX_MESSAGES = 5
MULTICAST_MAX = 500
AGGREGATION_UNIT = re.compile(r"^[a-zA-Z0-9_]{1,30}$")


class InvalidMessages(ValueError):
    """The request was not sent: its messages, recipients or options break LINE's rules."""


# Helpers shared with the campaign planner ---------------------------------------------------
def to_messages(messages):
    """LINE message dicts (or SDK ``Message`` models) -> SDK models; InvalidMessages if wrong."""
    if isinstance(messages, (dict, Message)):
        messages = [messages]
    messages = list(messages or [])
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise InvalidMessages(f"a request carries 1 to {MAX_MESSAGES} messages, got "
                              f"{len(messages)}")
    models = []
    for index, message in enumerate(messages):
        if isinstance(message, Message):
            models.append(message)
            continue
        if not isinstance(message, dict):
            raise InvalidMessages(f"messages[{index}] is not a message object: {message!r}")
        try:
            model = Message.from_dict(message)
        except ValueError as exc:  # pydantic.v1 ValidationError is a ValueError too
            raise InvalidMessages(f"messages[{index}]: {exc}") from None
        if model is None:
            raise InvalidMessages(f"messages[{index}] is empty")
        models.append(model)
    return models


def canonical_json(messages):
    """One string per distinct message list: equal content gives equal strings."""
    plain = [m.to_dict() if isinstance(m, Message) else m for m in messages]
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chunked(items, size):
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def new_retry_key():
    return str(uuid.uuid4())


def _check_retry_key(key):
    try:
        uuid.UUID(str(key))
    except ValueError:
        raise InvalidMessages("a retry key is a UUID such as "
                              f"123e4567-e89b-12d3-a456-426614174000, got {key!r}") from None
    return str(key)


def _check_flag(value, name="notificationDisabled"):
    if not isinstance(value, bool):
        raise InvalidMessages(f"{name} is true or false, got {value!r}")
    return value


def check_aggregation_unit(unit):
    if unit is None:
        return None
    if not isinstance(unit, str) or not AGGREGATION_UNIT.match(unit):
        raise InvalidMessages("customAggregationUnits: a unit name is 1-30 characters of "
                              f"[a-zA-Z0-9_], got {unit!r}")
    return [unit]


# Results -----------------------------------------------------------------------------------------
@dataclasses.dataclass
class SendResult:
    """One request's outcome. ``status``: ``sent`` | ``accepted_before`` (409: an earlier attempt
    with the same key was accepted) | ``failed`` (see ``error``)."""

    endpoint: str
    status: str
    recipients: list
    retry_key: str | None = None
    request_id: str | None = None  # for accepted_before: the accepted request's id
    attempts: int = 0
    error: Exception | None = None
    sent_messages: list = dataclasses.field(default_factory=list)  # push/reply: [{id, quoteToken}]
    history: list = dataclasses.field(default_factory=list)        # per attempt: "ok" | kind
    waits: list = dataclasses.field(default_factory=list)          # backoff sleeps, seconds

    @property
    def ok(self):
        return self.status in ("sent", "accepted_before")

    def raise_for_error(self):
        if self.error is not None:
            raise self.error
        return self


@dataclasses.dataclass
class RecipientResult:
    """One recipient's outcome in :meth:`Sender.multicast_all`: ``sent`` | ``accepted_before`` |
    ``failed`` | ``pending`` (not attempted because sending stopped)."""

    user_id: str
    status: str
    request_id: str | None = None
    retry_key: str | None = None
    error: Exception | None = None


# The sender --------------------------------------------------------------------------------------
class Sender:
    """Push, multicast and reply through one channel with retry keys, backoff and rate limiting.

    ``configuration``: a ``linebot.v3.messaging.Configuration`` or ``(api_base, access_token)``.
    ``backoff``: a :class:`line_idlink.retry.Backoff` (default base 0.5 s, cap 30 s, full jitter).
    ``sleep``/``clock`` are injectable so tests record waits instead of sleeping;
    ``key_factory()`` makes retry keys (UUID4 by default).
    """

    def __init__(self, configuration, limiter=None, max_attempts=6, backoff=None,
                 timeout=DEFAULT_TIMEOUT, sleep=time.sleep, clock=time.monotonic,
                 reply_attempts=3, key_factory=new_retry_key):
        self.caller = ApiCaller(configuration, limiter=limiter, max_attempts=max_attempts,
                                backoff=backoff, timeout=timeout, sleep=sleep, clock=clock)
        self.reply_attempts = reply_attempts
        self.key_factory = key_factory  # seeded in notebooks so retry keys repeat run to run

    @property
    def limiter(self):
        return self.caller.limiter

    def close(self):
        self.caller.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # push / multicast --------------------------------------------------------------------------
    def push(self, to, messages, retry_key=None, aggregation_unit=None,
             notification_disabled=False, key_store=None):
        """Push to one user/group/room. ``key_store(retry_key, [to])`` runs before the first
        attempt; pass the stored ``retry_key`` to resume a push that may already have been
        accepted."""
        if not isinstance(to, str) or not to:
            raise InvalidMessages("push needs a recipient id ('to')")
        units = check_aggregation_unit(aggregation_unit)
        _check_flag(notification_disabled)
        request = PushMessageRequest.construct(to=to, messages=to_messages(messages),
                                               notification_disabled=notification_disabled,
                                               custom_aggregation_units=units)
        return self._send_with_key("pushMessage", [to], request, retry_key, key_store,
                                   self.caller.api.push_message_with_http_info)

    def multicast(self, user_ids, messages, retry_key=None, aggregation_unit=None,
                  notification_disabled=False, key_store=None):
        """One multicast request to 1..500 distinct userIds (use :meth:`multicast_all` for more)."""
        user_ids = list(user_ids)
        if not 1 <= len(user_ids) <= MULTICAST_MAX:
            raise InvalidMessages(f"a multicast goes to 1 to {MULTICAST_MAX} userIds, got "
                                  f"{len(user_ids)}; use multicast_all to chunk")
        if len(set(user_ids)) != len(user_ids) or not all(isinstance(u, str) and u
                                                          for u in user_ids):
            raise InvalidMessages("multicast userIds must be distinct non-empty strings")
        units = check_aggregation_unit(aggregation_unit)
        _check_flag(notification_disabled)
        # Every field is checked above (the messages are SDK models already), so the request is
        # built without pydantic re-validating 500 userIds one by one (~3 ms per request).
        request = MulticastRequest.construct(to=user_ids, messages=to_messages(messages),
                                             notification_disabled=notification_disabled,
                                             custom_aggregation_units=units)
        return self._send_with_key("multicast", user_ids, request, retry_key, key_store,
                                   self.caller.api.multicast_with_http_info)

    def multicast_all(self, user_ids, messages, aggregation_unit=None,
                      notification_disabled=False, key_store=None):
        """Multicast to any number of users in chunks of 500 (1,201 -> 500/500/201).

        Returns one :class:`RecipientResult` per distinct userId, in input order. Everything is
        validated before the first request. For a send that must survive a crash, use
        :mod:`line_idlink.campaign`, which stores each chunk's key and state.
        """
        distinct = list(dict.fromkeys(user_ids))
        models = to_messages(messages)
        check_aggregation_unit(aggregation_unit)
        if not distinct:
            return []
        results, stopped = [], False
        for chunk in chunked(distinct, MULTICAST_MAX):
            if stopped:
                results.extend(RecipientResult(u, "pending") for u in chunk)
                continue
            sent = self.multicast(chunk, models, aggregation_unit=aggregation_unit,
                                  notification_disabled=notification_disabled,
                                  key_store=key_store)
            results.extend(RecipientResult(u, sent.status, sent.request_id, sent.retry_key,
                                           sent.error) for u in chunk)
            stopped = isinstance(sent.error, (QuotaExceeded, RetriesExhausted))
        return results

    def _send_with_key(self, endpoint, recipients, request, retry_key, key_store, method):
        key = _check_retry_key(retry_key or self.key_factory())
        if key_store is not None:
            key_store(key, list(recipients))  # persisted before anything can reach LINE
        outcome = self.caller.call(
            endpoint, lambda **kw: method(request, x_line_retry_key=key, **kw),
            retry_on=RETRY_ALWAYS, retry_key_sent=True)
        result = SendResult(endpoint, "sent", list(recipients), retry_key=key,
                            attempts=outcome.attempts, history=outcome.history,
                            waits=outcome.waits)
        if outcome.failure is None:
            result.request_id = outcome.request_id
            result.sent_messages = _sent_messages(outcome.response.data)
        elif outcome.failure.kind == "accepted":
            result.status = "accepted_before"
            result.request_id = outcome.failure.accepted_request_id
            result.sent_messages = list((outcome.failure.body or {}).get("sentMessages") or [])
        else:
            result.status = "failed"
            result.request_id = outcome.request_id
            result.error = outcome.error(SendRejected)
        return result

    # reply -------------------------------------------------------------------------------------
    def reply(self, reply_token, messages, notification_disabled=False):
        """Reply to a webhook event. No retry key (LINE forbids it); retried only when LINE surely
        did not process the request (see the module doc)."""
        if not isinstance(reply_token, str) or not reply_token:
            raise InvalidMessages("reply needs the event's replyToken")
        request = ReplyMessageRequest(reply_token=reply_token, messages=to_messages(messages),
                                      notification_disabled=notification_disabled)
        outcome = self.caller.call(
            "replyMessage",
            lambda **kw: self.caller.api.reply_message_with_http_info(request, **kw),
            retry_on=RETRY_IF_NOT_PROCESSED, max_attempts=self.reply_attempts)
        result = SendResult("replyMessage", "sent", [], attempts=outcome.attempts,
                            request_id=outcome.request_id, history=outcome.history,
                            waits=outcome.waits)
        if outcome.failure is None:
            result.sent_messages = _sent_messages(outcome.response.data)
        else:
            result.status = "failed"
            result.error = outcome.error(SendRejected)
        return result


def _sent_messages(data):
    sent = getattr(data, "sent_messages", None) or []
    return [m.to_dict() if hasattr(m, "to_dict") else dict(m) for m in sent]
