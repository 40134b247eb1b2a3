"""Declarative fault rules: match an endpoint, then fail the call in a chosen way.

A rule (Python or JSON via ``POST /__emulator__/faults``)::

    {"endpoint": "pushMessage",          # operationId, or "path": "/v2/bot/message/push"
     "method": "POST",                   # optional, with "path"
     "nth": 2 | "every": 3 | "probability": 0.1,   # which matching calls (default: every one)
     "times": 1,                         # how many times at most (default: unlimited)
     "action": "status" | "rate_limit" | "delay" | "drop" | "malformed_json",
     "status": 500, "body": {...},       # for "status"
     "seconds": 1.5,                     # for "delay" (real seconds: for client timeouts)
     "when": "before" | "after"}         # before the request is applied, or after (committed)

"drop" closes the connection without an answer. With ``"when": "after"`` the request was
applied (a message delivered, a retry key accepted) and the client still sees a failure: the case
retry keys exist for.
"""

import random
import threading

ACTIONS = {"status", "rate_limit", "delay", "drop", "malformed_json"}


class FaultError(ValueError):
    pass


class FaultRule:
    def __init__(self, spec, seed):
        if not isinstance(spec, dict):
            raise FaultError("a fault rule is a JSON object")
        self.spec = dict(spec)
        self.endpoint = spec.get("endpoint")
        self.path = spec.get("path")
        self.method = (spec.get("method") or "").upper() or None
        if not self.endpoint and not self.path:
            raise FaultError("a fault rule needs 'endpoint' (an operationId) or 'path'")
        self.action = spec.get("action", "status")
        if self.action not in ACTIONS:
            raise FaultError(f"unknown fault action {self.action!r}; use one of {sorted(ACTIONS)}")
        self.when = spec.get("when", "before")
        if self.when not in ("before", "after"):
            raise FaultError("'when' is 'before' or 'after'")
        self.nth = spec.get("nth")
        self.every = spec.get("every")
        self.probability = spec.get("probability")
        self.times = spec.get("times")
        self.status = int(spec.get("status", 500 if self.action == "status" else 429))
        self.seconds = float(spec.get("seconds", 0))
        self.body = spec.get("body")
        self.seen = 0
        self.fired = 0
        self._rng = random.Random(spec.get("seed", seed))

    def matches(self, method, path, endpoint):
        if self.endpoint and self.endpoint != endpoint:
            return False
        if self.path and self.path != path:
            return False
        return not (self.method and self.method != method)

    def should_fire(self):
        self.seen += 1
        if self.times is not None and self.fired >= self.times:
            return False
        if self.nth is not None:
            hit = self.seen == self.nth
        elif self.every is not None:
            hit = self.seen % self.every == 0
        elif self.probability is not None:
            hit = self._rng.random() < self.probability
        else:
            hit = True
        if hit:
            self.fired += 1
        return hit

    def describe(self):
        return dict(self.spec, seen=self.seen, fired=self.fired)


class FaultSet:
    def __init__(self, seed=0):
        self.seed = seed
        self.rules = []
        self._lock = threading.Lock()

    def add(self, spec):
        rule = FaultRule(spec, self.seed)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self._lock:
            self.rules.clear()

    def pick(self, method, path, endpoint):
        """The first rule that fires for this call, or None. Each matching rule counts the call."""
        chosen = None
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path, endpoint) and rule.should_fire() and chosen is None:
                    chosen = rule
        return chosen
