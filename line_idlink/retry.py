"""Calling the Messaging API safely: errors, their classification, backoff and the attempt loop.

Every outcome of a call is sorted into one *kind* (see :func:`classify`), and a call is retried
only for kinds its caller declares safe:

- ``throttled``  429 that is not the monthly quota. LINE does not process a 429 at all, so it
                 is always safe to retry.
- ``not_sent``   the connection was never established (refused, DNS, connect timeout): the
                 request surely did not reach LINE.
- ``server``     5xx: LINE may or may not have acted.
- ``maybe_sent`` read timeout, dropped connection, broken response: LINE may have acted.
- ``quota``      429 "You have reached your monthly limit.": not retried, waiting will not help.
- ``accepted``   409 to a request carrying ``X-Line-Retry-Key``: LINE already accepted it.
- ``rejected``   any other 4xx: permanent.

:data:`RETRY_ALWAYS` (kinds safe for idempotent calls and for sends with a retry key) and
:data:`RETRY_IF_NOT_PROCESSED` (kinds safe for anything, e.g. reply or create rich menu) name the
two policies. LINE's docs recommend retrying on 500 and timeouts only with a retry key.

Undocumented behaviour chosen here:

- 429 is told apart by its ``message``: LINE only documents the quota text, so any 429 whose
  message contains "monthly limit" is quota, every other 429 is throttling.
- An SDK ``ApiException`` with status 0 (an SSL error) counts as ``maybe_sent``.
"""

import contextlib
import dataclasses
import json
import random
import threading
import time

import urllib3
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob
from linebot.v3.messaging.exceptions import ApiException

from .ratelimit import RateLimiter

QUOTA_MESSAGE = "You have reached your monthly limit."
RETRY_ALWAYS = frozenset({"throttled", "not_sent", "server", "maybe_sent"})
RETRY_IF_NOT_PROCESSED = frozenset({"throttled", "not_sent"})
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds: the SDK has no default timeout at all


# Errors ------------------------------------------------------------------------------------------
class LineApiError(Exception):
    """A LINE API call that did not succeed. ``message``/``details`` are LINE's own words."""

    def __init__(self, message, status=None, details=None, request_id=None, endpoint=None,
                 kind=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = list(details or [])
        self.request_id = request_id
        self.endpoint = endpoint
        self.kind = kind

    def __str__(self):
        text = f"{self.endpoint}: " if self.endpoint else ""
        text += f"HTTP {self.status}: " if self.status else ""
        text += self.message
        for detail in self.details:
            text += f"; {detail.get('property')}: {detail.get('message')}"
        return text


class RequestRejected(LineApiError):
    """LINE refused the request (4xx other than 409/429): sending it again will not help."""


class SendRejected(RequestRejected):
    """A message request refused by LINE (bad message, bad recipient, bad token...)."""


class QuotaExceeded(LineApiError):
    """429 "You have reached your monthly limit.": nothing was sent; resume when quota allows."""


class RetriesExhausted(LineApiError):
    """Still failing (throttled, 5xx, timeouts) after the last attempt. ``maybe_sent`` says whether
    LINE might have acted on one of the attempts (then only its retry key may send it again)."""

    def __init__(self, *args, maybe_sent=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.maybe_sent = maybe_sent


# Classification ----------------------------------------------------------------------------------
@dataclasses.dataclass
class Failure:
    kind: str
    status: int | None = None
    message: str = ""
    details: list = dataclasses.field(default_factory=list)
    body: dict | None = None
    request_id: str | None = None
    accepted_request_id: str | None = None


def _header(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive
        lowered = {str(k).lower(): v for k, v in headers.items()}
        value = lowered.get(name.lower())
    return value


def _parse_body(raw):
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8", "replace")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def classify(exc, retry_key_sent=False):
    """Sort an exception raised by an SDK call into a :class:`Failure` (see the module doc)."""
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, (urllib3.exceptions.NewConnectionError,
                        urllib3.exceptions.ConnectTimeoutError, ConnectionRefusedError)):
        return Failure("not_sent", message=f"connection failed: {exc}")
    if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
        return Failure("maybe_sent", message=f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, ApiException):
        raise TypeError(f"not an API failure: {exc!r}") from exc
    if not exc.status:
        return Failure("maybe_sent", message=str(exc.reason))
    body = _parse_body(exc.body) or {}
    failure = Failure("rejected", status=exc.status,
                      message=body.get("message") or exc.reason or "",
                      details=body.get("details") or [], body=body,
                      request_id=_header(exc.headers, "x-line-request-id"))
    if exc.status == 409 and retry_key_sent:
        failure.kind = "accepted"
        failure.accepted_request_id = _header(exc.headers, "x-line-accepted-request-id")
    elif exc.status == 429:
        failure.kind = "quota" if "monthly limit" in failure.message.lower() else "throttled"
    elif exc.status >= 500:
        failure.kind = "server"
    return failure


# Backoff -----------------------------------------------------------------------------------------
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**(n-1))).

    Full jitter spreads the retries of many workers that failed together (AWS architecture blog,
    "Exponential Backoff And Jitter"). ``rng`` (or ``seed``) makes the waits reproducible.
    """

    def __init__(self, base=0.5, cap=30.0, rng=None, seed=None):
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random(seed)

    def ceiling(self, attempt):
        return min(self.cap, self.base * 2 ** (attempt - 1))

    def delay(self, attempt):
        return self.rng.uniform(0, self.ceiling(attempt))


# The attempt loop --------------------------------------------------------------------------------
@dataclasses.dataclass
class Attempted:
    """What one logical call came to after all its attempts."""

    endpoint: str
    response: object = None          # the SDK ApiResponse of the successful attempt
    failure: Failure | None = None   # the last failure when there is no response
    attempts: int = 0
    history: list = dataclasses.field(default_factory=list)  # per attempt: "ok" or a failure kind
    waits: list = dataclasses.field(default_factory=list)    # backoff sleeps, seconds

    @property
    def request_id(self):
        if self.response is not None:
            return _header(self.response.headers, "x-line-request-id")
        return self.failure.request_id if self.failure else None

    @property
    def maybe_sent(self):
        return any(kind in ("server", "maybe_sent") for kind in self.history)

    def error(self, rejected_class=RequestRejected):
        """The exception describing the failure (None when the call succeeded)."""
        f = self.failure
        if f is None:
            return None
        common = dict(status=f.status, details=f.details, request_id=f.request_id,
                      endpoint=self.endpoint, kind=f.kind)
        if f.kind == "quota":
            return QuotaExceeded(f.message or QUOTA_MESSAGE, **common)
        if f.kind == "rejected":
            return rejected_class(f.message or "request rejected", **common)
        if f.kind == "accepted":
            return LineApiError(f.message, **common)
        return RetriesExhausted(
            f"gave up after {self.attempts} attempt(s), last: {f.message or f.kind}",
            maybe_sent=self.maybe_sent, **common)

    def raise_for_failure(self, rejected_class=RequestRejected):
        if self.failure is not None:
            raise self.error(rejected_class)
        return self.response


def make_configuration(configuration):
    """A private copy of a ``Configuration`` (or one built from ``(api_base, access_token)``) that
    urllib3 will not retry by itself: a silent re-POST would bypass our retry-key bookkeeping."""
    if isinstance(configuration, (tuple, list)):
        api_base, access_token = configuration
        configuration = Configuration(host=api_base, access_token=access_token)
    elif not isinstance(configuration, Configuration):
        raise TypeError("configuration is a linebot.v3.messaging.Configuration or "
                        "(api_base, access_token)")
    import copy

    configuration = copy.deepcopy(configuration)
    configuration.retries = False
    return configuration


class SlotAtSendApiClient(ApiClient):
    """The SDK's ``ApiClient``, taking a rate-limiter slot in :meth:`request`, i.e. as late as
    the SDK allows: after it has validated the arguments, built the headers and the auth, and
    turned the body into plain JSON values (the models' ``to_dict``, the bulk of the client's
    CPU per request), and right before the HTTP call (``json.dumps``, then urllib3).

    Why: LINE counts a request when it ARRIVES, in a strict window. A slot taken before the SDK
    builds the body is followed by that work, whose duration varies by tens of milliseconds when
    threads share the GIL on a busy machine; two requests whose slots are a window apart could
    then arrive less than a window apart, and the second gets a 429 (a backoff of 0.5 s or more).

    ``take_slot()`` (:meth:`ApiCaller._take_slot`) is a context manager entered once per HTTP
    request and left when its answer has been read (or it failed): the limiter then counts the
    request from its answer (:meth:`line_idlink.ratelimit.RateLimiter.slot`).
    """

    def __init__(self, configuration, take_slot):
        super().__init__(configuration)
        self._take_slot = take_slot

    def request(self, *args, **kwargs):
        with self._take_slot():
            return super().request(*args, **kwargs)


class ApiCaller:
    """One channel's SDK client plus the shared policy: limiter, timeout, backoff, attempts.

    ``sleep`` and ``clock`` are injectable so tests never really wait; the limiter made by default
    uses the same pair. The limiter's slot for an attempt is taken by the SDK client itself, once
    the request is built and right before it is sent (:class:`SlotAtSendApiClient`): every HTTP
    request made by ``fn`` inside :meth:`call` takes one slot of ``endpoint``, and an attempt that
    fails before sending anything (bad arguments) takes none.
    """

    def __init__(self, configuration, limiter=None, max_attempts=6, backoff=None,
                 timeout=DEFAULT_TIMEOUT, sleep=time.sleep, clock=time.monotonic):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.configuration = make_configuration(configuration)
        self._calling = threading.local()  # .endpoint: the call() running on this thread
        self.api_client = SlotAtSendApiClient(self.configuration, self._take_slot)
        self.api = MessagingApi(self.api_client)
        self.blob = MessagingApiBlob(self.api_client)
        self.limiter = limiter if limiter is not None else RateLimiter(clock=clock, sleep=sleep)
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock

    def call(self, endpoint, fn, retry_on=RETRY_ALWAYS, retry_key_sent=False, max_attempts=None):
        """Run ``fn(_request_timeout=...)`` until it succeeds, fails for good or runs out of
        attempts.

        Never raises for an API outcome: the :class:`Attempted` says what happened.
        """
        outcome = Attempted(endpoint)
        limit = max_attempts or self.max_attempts
        while True:
            outcome.attempts += 1
            outer, self._calling.endpoint = getattr(self._calling, "endpoint", None), endpoint
            try:
                outcome.response = fn(_request_timeout=self.timeout)
            except (ApiException, urllib3.exceptions.HTTPError, ConnectionError,
                    TimeoutError) as exc:
                outcome.failure = classify(exc, retry_key_sent)
                outcome.history.append(outcome.failure.kind)
            else:
                outcome.failure = None
                outcome.history.append("ok")
                return outcome
            finally:
                self._calling.endpoint = outer
            if outcome.failure.kind not in retry_on or outcome.attempts >= limit:
                return outcome
            wait = self.backoff.delay(outcome.attempts)
            outcome.waits.append(wait)
            self.sleep(wait)

    def _take_slot(self):
        """Entered by the SDK client right before each HTTP request, left once it is answered:
        a slot of the endpoint of the :meth:`call` running on this thread. A limiter with only
        ``acquire`` (the addon's PostgreSQL one) counts the request from its slot. A request made
        outside ``call`` (the SDK used directly) is not counted, as before."""
        endpoint = getattr(self._calling, "endpoint", None)
        if endpoint is None:
            return contextlib.nullcontext()
        slot = getattr(self.limiter, "slot", None)
        if slot is not None:
            return slot(endpoint)
        self.limiter.acquire(endpoint)
        return contextlib.nullcontext()

    def close(self):
        self.api_client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
