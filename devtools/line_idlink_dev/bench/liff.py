"""``liff``: verifying a LIFF ID token (what the LIFF member card's server does per opening).

One :class:`~line_idlink.login.LoginClient` (as the loyalty bridge keeps one per worker and
channel) verifies ES256 ID tokens from the emulator's LINE Login channel with ``kind="liff"``:
the first call fetches the JWKS (``/oauth2/v2.1/certs``), every later one uses the cached keys,
so a warm verification is a local ES256 check. Target: ≤ 2 ms per warm verification (median and
95th percentile shown). Correctness: every valid token accepted, one JWKS fetch in all, and
forged tokens (HS256 with the channel secret, ``alg: none``, another channel's audience)
refused.
"""

import base64
import json
import statistics
import time

from line_idlink.login import IdTokenError, LoginClient

from . import table
from .common import BenchEmulator

NAME = "liff"
DEFAULT_N = 2_000
FULL_N = 10_000
TARGET_MS = 2.0


def _alg_none(claims):
    def b64(value):
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def run(n):
    with BenchEmulator(seed=7) as bench:
        emu = bench.emu
        config = emu.config
        users = [emu.add_user(f"member {i}") for i in range(min(n, 200))]
        tokens = [emu.login.liff_id_token(users[i % len(users)]) for i in range(n)]
        client = LoginClient(config.login_channel_id, config.login_channel_secret, None,
                             api_base=bench.server.base_url, auth_base=bench.server.base_url,
                             timeout=10, clock=emu.clock.now)  # the emulator's time
        started = time.perf_counter()
        client.verify_id_token(tokens[0], kind="liff")
        cold_ms = (time.perf_counter() - started) * 1e3
        durations, accepted = [], 0
        for token in tokens:
            started = time.perf_counter()
            claims = client.verify_id_token(token, kind="liff")
            durations.append((time.perf_counter() - started) * 1e3)
            accepted += bool(claims.get("sub"))
        fetches = bench.requests_by_endpoint().get("loginJwks", 0)
        signer = emu.login.signer
        claims = signer.claims(users[0].record, emu.clock.now(), ("openid",))
        other = dict(claims, aud="1999999999")
        forged = [signer.sign(claims, "web"), _alg_none(claims), signer.sign(other, "liff")]
        refused = 0
        for token in forged:
            try:
                client.verify_id_token(token, kind="liff")
            except IdTokenError:
                refused += 1
    durations.sort()
    median = statistics.median(durations)
    p95 = durations[int(0.95 * (len(durations) - 1))]
    return (f"liff: LIFF ID-token verification, warm JWKS cache ({n:,} tokens)", [
        table.at_most("warm verification, median", median, TARGET_MS, "ms"),
        table.at_most("warm verification, 95th percentile", p95, TARGET_MS, "ms"),
        table.info("first verification (fetches the JWKS)", cold_ms, "ms"),
        table.exactly("valid tokens accepted", accepted, n),
        table.exactly("JWKS fetches", fetches, 1),
        table.exactly("forged tokens refused (HS256, alg none, other audience)", refused, 3),
    ])
