"""Seeded identifiers in LINE's formats, so that a run with the same seed repeats exactly."""

import random
import string
import threading
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed=0):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def _bits(self, n):
        with self._lock:
            return self._rng.getrandbits(n)

    def hex(self, chars):
        return format(self._bits(chars * 4), f"0{chars}x")

    def alnum(self, chars):
        # The same stream as ``rng.choice(_ALNUM)`` (6 random bits, values >= 62 rejected), at a
        # third of the cost: a multicast draws a quote token per recipient.
        out = []
        with self._lock:
            getrandbits = self._rng.getrandbits
            while len(out) < chars:
                index = getrandbits(6)
                if index < 62:
                    out.append(_ALNUM[index])
        return "".join(out)

    def random(self):
        with self._lock:
            return self._rng.random()

    # LINE's id shapes -------------------------------------------------------------------------
    def user_id(self):
        """`U` + 32 hex digits, the shape of a LINE userId (and of a bot's `destination`)."""
        return "U" + self.hex(32)

    def channel_id(self):
        return str(1_600_000_000 + self._bits(26))

    def secret(self):
        return self.hex(32)

    def access_token(self):
        return self.alnum(40) + "/" + self.alnum(40) + "="

    def message_id(self):
        return str(500_000_000_000_000_000 + self._bits(58))

    def message_ids(self, count):
        """``count`` message ids under one lock: the same stream as ``count`` message_id calls."""
        with self._lock:
            getrandbits = self._rng.getrandbits
            return [str(500_000_000_000_000_000 + getrandbits(58)) for _ in range(count)]

    def reply_token(self):
        return self.hex(32)

    def quote_token(self):
        return self.alnum(40)

    def link_token(self):
        return self.alnum(32)

    def rich_menu_id(self):
        return "richmenu-" + self.hex(32)

    def request_id(self):
        """A UUID (x-line-request-id); a narrowcast's requestId is the request id of its call."""
        return str(uuid.UUID(int=self._bits(128), version=4))

    def ulid(self, ms):
        """A ULID (webhookEventId): 48-bit millisecond time + 80 random bits, Crockford base32."""
        value = (int(ms) << 80) | self._bits(80)
        return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    def token(self, chars=43):
        return self.alnum(chars)
