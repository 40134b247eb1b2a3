"""``webhooks``: forged and tampered webhook bodies against :class:`WebhookReceiver`.

N forged bodies (default 10,000) in five equal kinds, mixed at random with 1,000 valid ones, go
to ``WebhookReceiver.receive`` on SQLite storage (a file in a temporary directory):

- ``random signature``: a random 32-byte HMAC, base64;
- ``bit flip``: a signed body with one bit flipped, original signature;
- ``re-serialized``: a signed body parsed and dumped again (spaces, ``\\uXXXX`` escapes), the
  original signature: what frameworks that hand over parsed JSON cause;
- ``wrong secret``: signed with another channel's secret;
- ``truncated``: a signed body cut short, original signature.

Every forged body carries fresh event ids, so an accepted one would show up as a stored event.
Targets: 0 forged accepted, every valid one accepted (and stored exactly once).
"""

import base64
import collections
import json
import os
import random
import tempfile

from line_emulator import Emulator
from line_emulator import events as event_builders
from line_idlink.storage.sqlite import SQLiteStorage
from line_idlink.webhook import WebhookError, WebhookReceiver, compute_signature
from . import table
from .common import Stopwatch

NAME = "webhooks"
DEFAULT_N = 10_000
FULL_N = 10_000
VALID = 1_000
KINDS = ("random signature", "bit flip", "re-serialized", "wrong secret", "truncated")


def _body(emu, user_ids, rng):
    user_id = rng.choice(user_ids)
    event = event_builders.text_message(emu, user_id, f"注文の状況を教えて #{rng.randrange(10**6)}")
    body = {"destination": emu.config.bot_user_id, "events": [event]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _forge(kind, raw, secret, rng):
    """(body bytes, signature) of one forgery made from a validly signed body ``raw``."""
    if kind == "random signature":
        return raw, base64.b64encode(rng.randbytes(32)).decode()
    signature = compute_signature(secret, raw)
    if kind == "bit flip":
        flipped = bytearray(raw)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        return bytes(flipped), signature
    if kind == "re-serialized":
        again = json.dumps(json.loads(raw)).encode("utf-8")
        assert again != raw
        return again, signature
    if kind == "wrong secret":
        return raw, compute_signature(os.urandom(16).hex(), raw)
    if kind == "truncated":
        return raw[:rng.randrange(1, len(raw))], signature
    raise ValueError(kind)


def run(n=DEFAULT_N):
    rng = random.Random(20261102)
    emu = Emulator(seed=5)  # frozen clock: only used to build events in LINE's shapes
    secret = emu.config.channel_secret
    user_ids = [emu.add_user(f"user {i}").user_id for i in range(50)]
    bodies = []  # (kind, raw, signature)
    for _ in range(VALID):
        raw = _body(emu, user_ids, rng)
        bodies.append(("valid", raw, compute_signature(secret, raw)))
    for index in range(n):
        kind = KINDS[index % len(KINDS)]
        bodies.append((kind, *_forge(kind, _body(emu, user_ids, rng), secret, rng)))
    rng.shuffle(bodies)

    accepted = collections.Counter()
    refused = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        storage = SQLiteStorage(os.path.join(tmp, "webhooks.sqlite3"))
        receiver = WebhookReceiver(secret, storage, emu.config.channel_id)
        with Stopwatch() as wall:
            for kind, raw, signature in bodies:
                try:
                    receipt = receiver.receive(raw, signature)
                except WebhookError:
                    refused[kind] += 1
                else:
                    accepted[kind] += len(receipt.accepted)
        stored = len(storage.pending_events(emu.config.channel_id, limit=10 * (n + VALID)))
        storage.close()

    forged_accepted = sum(v for k, v in accepted.items() if k != "valid")
    rows = [table.exactly("forged/tampered bodies accepted", forged_accepted, 0)]
    rows += [table.exactly(f"  {kind} accepted", accepted.get(kind, 0), 0) for kind in KINDS]
    rows += [
        table.exactly("valid bodies accepted", accepted.get("valid", 0), VALID),
        table.exactly("events stored (SQLite)", stored, VALID),
        table.info("bodies refused", sum(refused.values())),
        table.info("throughput (all bodies)", len(bodies) / wall.seconds, "bodies/s"),
        table.info("wall time", wall.seconds, "s"),
    ]
    return f"webhooks: {n:,} forged/tampered + {VALID:,} valid bodies into WebhookReceiver " \
           "(SQLite)", rows
