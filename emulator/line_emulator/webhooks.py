"""Signed webhook delivery (sync, queued, background), the attempt log and redelivery.

A webhook body is ``{"destination": <bot user id>, "events": [...]}`` serialized ONCE to compact
UTF-8 JSON (Japanese and emoji stay UTF-8) and signed over those exact bytes:
``x-line-signature: Base64(HMAC-SHA256(channel secret, body))``. A receiver that re-serializes the
JSON before checking the signature fails, as it would with LINE.

Delivery modes (``Emulator(delivery=...)`` or ``POST /__emulator__/config {"delivery"}``):

- ``sync``: delivered by the thread that made the user act, once it releases the emulator lock;
  the action's result carries the bot's answer.
- ``queued``: held until :meth:`WebhookDispatcher.flush` (``emu.flush()``). For bots that call the
  emulator from inside a request whose own lock a synchronous callback would wait for (Odoo's
  test cursor).
- ``background``: a worker thread delivers in order (the CLI and demos).

Webhooks are never POSTed while the emulator lock is held: a bot that calls the emulator back from
its webhook handler (a reply, a link token) would otherwise deadlock.

Every attempt is recorded in :attr:`WebhookDispatcher.deliveries`::

    {"seq", "url", "status": int|None, "error": "could_not_connect"|"request_timeout"|
     "error_status_code"|None, "latencyMs", "eventIds", "isRedelivery", "time",
     "attempt", "outcome": "ok"|"failed"|"skipped", "reason", "responseBody"}

``latencyMs`` is real time and so differs from run to run: show it, but never print it where
output is compared (notebooks under nbval).

Undocumented behaviour chosen here
----------------------------------
- Redelivery (LINE publishes neither count nor interval): when ``config.redelivery`` is on, a
  failed attempt (no 2xx, could not connect, no answer in 2 s) is sent again by
  ``run_pending()`` (``emu.advance()``) once the emulator clock has passed 10 s, then 20 s, then
  40 s after the previous failure: at most 3 redeliveries, 4 attempts in all. The redelivered
  events are the originals with ``deliveryContext.isRedelivery = true``: same ``webhookEventId``,
  ``timestamp`` and ``replyToken`` (the reply token is renewed through
  ``emu.messaging.renew_reply_token``). A redelivery follows the delivery mode (held in queued
  mode until ``flush()``).
- No webhook URL, or the webhook switched off: nothing is sent, an attempt with outcome
  ``"skipped"`` is recorded, and it is never redelivered (LINE sends nothing either).
- Redirects are not followed: a 3xx counts as ``error_status_code``.
- ``User-Agent: LineBotWebhook/2.0`` (what LINE is reported to send; unconfirmed).
"""

import base64
import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time

import requests

MODES = ("sync", "queued", "background")
TIMEOUT = 2.0  # LINE's webhook timeout (request_timeout in the error statistics)
REDELIVERY_DELAYS = (10, 20, 40)  # seconds of emulator clock after each failure
USER_AGENT = "LineBotWebhook/2.0"

log = logging.getLogger("line_emulator.webhooks")


class Batch:
    """One webhook body's events, through its first attempt and redeliveries."""

    def __init__(self, events):
        self.events = events
        self.redelivery = False
        self.attempts = 0
        self.due = None
        self.records = []  # this batch's attempts, filled as they happen


class WebhookDispatcher:
    def __init__(self, emu, mode="sync"):
        self.emu = emu
        self._mode = None
        self.mode = mode
        self.timeout = TIMEOUT
        self.bad_signature = False  # send a wrong x-line-signature (does the bot reject it?)
        self.deliveries = []
        self._lock = threading.Lock()  # the dispatcher's own lists, never held while POSTing
        self._held = []  # queued mode
        self._retries = []  # batches waiting for redelivery
        self._work = queue.Queue()
        self._worker = None
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self._local = threading.local()

    # Mode ----------------------------------------------------------------------------------
    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        if value not in MODES:
            raise ValueError(f"delivery mode must be one of {', '.join(MODES)}, not {value!r}")
        self._mode = value

    # Signing -------------------------------------------------------------------------------
    def sign(self, body):
        """``x-line-signature`` for these exact bytes (str is encoded as UTF-8)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        secret = self.emu.config.channel_secret.encode("utf-8")
        return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")

    def body_for(self, events):
        """The exact bytes LINE would send for these events."""
        payload = {"destination": self.emu.config.bot_user_id, "events": events}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    # Submitting ----------------------------------------------------------------------------
    def submit(self, events):
        """Send ``events`` in one webhook, per the delivery mode.

        Returns the batch's attempt list; in sync mode it is filled once the caller releases the
        emulator lock (at once if it holds none).
        """
        batch = Batch(list(events))
        self._dispatch(batch)
        return batch.records

    def _dispatch(self, batch):
        if self.mode == "queued":
            with self._lock:
                self._held.append(batch)
        elif self.mode == "background":
            self.emu.after_unlock(lambda: self._enqueue(batch))
        else:
            self.emu.after_unlock(lambda: self._deliver(batch))

    def _enqueue(self, batch):
        with self._lock:
            self._busy += 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work_loop, name="line-webhooks",
                                                daemon=True)
                self._worker.start()
        self._work.put(batch)

    def _work_loop(self):
        while True:
            batch = self._work.get()
            if batch is None:
                return
            try:
                self._deliver(batch)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle.notify_all()

    # Queues and time -----------------------------------------------------------------------
    def run_pending(self):
        """Send the redeliveries whose time has come; returns the attempts made here (sync)."""
        now = self.emu.clock.now()
        with self._lock:
            due = [batch for batch in self._retries if batch.due <= now]
            self._retries = [batch for batch in self._retries if batch.due > now]
        start = len(self.deliveries)
        for batch in due:
            self._prepare_redelivery(batch)
            self._dispatch(batch)
        return self.deliveries[start:] if due and self.mode == "sync" else []

    def _prepare_redelivery(self, batch):
        with self.emu.locked():
            events = copy.deepcopy(batch.events)
            for event in events:
                event["deliveryContext"] = {"isRedelivery": True}
                if event.get("replyToken"):
                    self.emu.messaging.renew_reply_token(event["replyToken"])
            batch.events = events
            batch.redelivery = True

    def flush(self):
        """Deliver every held webhook now (and wait for the background worker to finish).

        Returns the attempts made while it ran.
        """
        if getattr(self.emu._held, "depth", 0):
            raise RuntimeError("flush() was called while holding the emulator lock: a bot that "
                               "calls the emulator back would deadlock")
        start = len(self.deliveries)
        with self._lock:
            held, self._held = self._held, []
        for batch in held:
            self._deliver(batch)
        self.wait_idle()
        return self.deliveries[start:]

    @property
    def pending(self):
        """How many webhooks are held (queued mode) or waiting for redelivery."""
        with self._lock:
            return {"held": len(self._held), "redeliveries": len(self._retries),
                    "inFlight": self._busy}

    def wait_idle(self, timeout=30.0):
        """Wait until the background worker has nothing left; False if it timed out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self):
        """Stop the background worker (held and retrying webhooks stay where they are)."""
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._work.put(None)
            worker.join(timeout=self.timeout + 1)
        self._worker = None

    # Delivering ----------------------------------------------------------------------------
    def _deliver(self, batch):
        config = self.emu.config
        batch.attempts += 1
        event_ids = [event["webhookEventId"] for event in batch.events]
        url = config.webhook_url or None
        if not url or not config.webhook_enabled:
            reason = "no webhook URL" if not url else "webhook disabled"
            return self._record(batch, url, None, None, None, event_ids, "skipped", reason, None)
        body = self.body_for(batch.events)
        status, error, latency, answer = self._post(url, body)
        outcome = "ok" if error is None else "failed"
        record = self._record(batch, url, status, error, latency, event_ids, outcome, None, answer)
        if error and config.redelivery and batch.attempts <= len(REDELIVERY_DELAYS):
            with self._lock:
                batch.due = self.emu.clock.now() + REDELIVERY_DELAYS[batch.attempts - 1]
                self._retries.append(batch)
        return record

    def _post(self, url, body):
        signature = self.sign(body)
        if self.bad_signature:
            signature = self.sign(body + b" ")
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "User-Agent": USER_AGENT,
            "x-line-signature": signature,
        }
        started = time.monotonic()
        status = answer = error = None
        try:
            response = self._session().post(url, data=body, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
            status, answer = response.status_code, response.text[:1000]
            if not 200 <= status < 300:
                error = "error_status_code"
        except requests.exceptions.ReadTimeout:
            error = "request_timeout"
        except requests.exceptions.RequestException:
            error = "could_not_connect"
        return status, error, round((time.monotonic() - started) * 1000), answer

    def _session(self):
        # One session per thread (requests sessions are not thread-safe); no proxies from the
        # environment: the emulator talks to the bot directly, as LINE does.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def _record(self, batch, url, status, error, latency, event_ids, outcome, reason, answer):
        with self._lock:
            record = {
                "seq": len(self.deliveries) + 1,
                "url": url,
                "status": status,
                "error": error,
                "latencyMs": latency,
                "eventIds": event_ids,
                "isRedelivery": batch.redelivery,
                "time": self.emu.clock.now(),
                "attempt": batch.attempts,
                "outcome": outcome,
                "reason": reason,
                "responseBody": answer,
            }
            self.deliveries.append(record)
            batch.records.append(record)
        log.info("webhook #%s %s -> %s %s (%s events)", record["seq"], url or "-",
                 status if status is not None else outcome, error or "", len(event_ids))
        return record

    # The console's "Verify" button -------------------------------------------------------------
    def send_test(self, url=None):
        """POST ``{"destination", "events": []}`` to ``url`` (default: the webhook URL) now.

        For the webhook-test endpoint. It posts at once whatever the mode, even under the
        emulator lock: a bot has nothing to call back for an empty event list.
        """
        url = url or self.emu.config.webhook_url
        batch = Batch([])
        batch.attempts = 1
        if not url:
            return self._record(batch, None, None, None, None, [], "skipped", "no webhook URL",
                                None)
        status, error, latency, answer = self._post(url, self.body_for([]))
        return self._record(batch, url, status, error, latency, [],
                            "ok" if error is None else "failed", None, answer)
