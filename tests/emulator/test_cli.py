"""`line-idlink emulator`: start it as a process, read its JSON line, use it, stop it."""

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from linebot.v3.messaging import (ApiClient, Configuration, MessagingApi, PushMessageRequest,
                                  TextMessage)

from line_idlink_dev.cli import build_parser, main

KEYS = ["base_url", "channel_id", "channel_secret", "access_token", "bot_user_id",
        "login_channel_id", "login_channel_secret", "liff_id", "clock_start", "clock"]


class Running:
    def __init__(self, *args):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "line_idlink_dev.cli", "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()))
        reader.start()
        reader.join(30)
        if not line or not line[0]:
            self.process.kill()
            pytest.fail("the emulator printed no JSON line: " + self.process.stderr.read())
        self.info = json.loads(line[0])

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        try:
            return self.process.wait(20)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def wait_for(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_emulator_prints_one_json_line_serves_and_stops(webhook_sink):
    running = Running("--seed", "5", "--webhook-url", webhook_sink.url)
    try:
        info = running.info
        assert list(info) == KEYS
        assert info["base_url"].startswith("http://127.0.0.1:")

        base = info["base_url"] + "/__emulator__"
        user_id = requests.post(base + "/users", json={"displayName": "Aiko"}).json()["userId"]
        follow = requests.post(f"{base}/users/{user_id}/follow").json()
        assert follow["deliveries"] == []  # background by default: delivered by a worker
        assert wait_for(lambda: len(webhook_sink.events) == 1)
        assert webhook_sink.events[0]["source"]["userId"] == user_id

        api = MessagingApi(ApiClient(Configuration(host=info["base_url"],
                                                   access_token=info["access_token"])))
        api.push_message(PushMessageRequest(to=user_id, messages=[TextMessage(text="やあ")]))
        inbox = requests.get(f"{base}/users/{user_id}/inbox").json()["messages"]
        assert inbox[0]["message"]["text"] == "やあ"
    finally:
        code = running.stop()
    assert code == 0


def test_same_seed_same_credentials_and_sigint_stops():
    first = Running("--seed", "11", "--frozen-clock")
    second = Running("--seed", "11", "--delivery", "queued")
    try:
        apart = ("base_url", "clock_start", "clock")
        same = {k: v for k, v in first.info.items() if k not in apart}
        assert same == {k: v for k, v in second.info.items() if k not in apart}
        assert first.info["clock_start"] == "2026-11-02T00:00:00Z"
        clock = requests.get(first.info["base_url"] + "/__emulator__/clock").json()
        assert clock["now"] == "2026-11-02T00:00:00Z"  # frozen at the default epoch
        assert requests.get(second.info["base_url"] + "/__emulator__/info").json()[
            "delivery"] == "queued"
    finally:
        codes = first.stop(signal.SIGINT), second.stop()
    assert codes == (0, 0)


def id_token_claims(info, name="Aiko"):
    """Aiko logs in with LINE Login at the running emulator (consent through the control API,
    then the server-side code exchange an app does): the claims of the ID token it issues."""
    base = info["base_url"]
    callback = "http://127.0.0.1:9/line/login/callback"
    user_id = requests.post(base + "/__emulator__/users", json={"displayName": name}).json()[
        "userId"]
    authorize = (f"{base}/oauth2/v2.1/authorize?response_type=code&client_id="
                 f"{info['login_channel_id']}&redirect_uri={callback}&state=s1&scope=openid"
                 "%20profile&nonce=n0123456789")
    location = requests.post(f"{base}/__emulator__/users/{user_id}/authorize",
                             json={"url": authorize}).json()["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = requests.post(base + "/oauth2/v2.1/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "client_id": info["login_channel_id"], "client_secret": info["login_channel_secret"]})
    assert answer.status_code == 200, answer.text
    return jwt.decode(answer.json()["id_token"], options={"verify_signature": False})


def test_default_clock_is_the_wall_clock():
    """A real bot checks ID tokens and webhook timestamps against its own clock: started from
    the CLI, the emulator's "now" is the wall clock, not the tests' 2026-11-02 epoch."""
    running = Running()
    try:
        assert running.info["clock"] == "ticking"
        started = datetime.fromisoformat(running.info["clock_start"].replace("Z", "+00:00"))
        assert abs(started.timestamp() - time.time()) < 30
        claims = id_token_claims(running.info)
        assert abs(claims["iat"] - time.time()) < 30, claims
        assert claims["exp"] > time.time()
        now_ms = requests.get(running.info["base_url"] + "/__emulator__/clock").json()["nowMs"]
        assert abs(now_ms / 1000 - time.time()) < 30
    finally:
        assert running.stop() == 0


def test_start_chooses_the_clock_start():
    ticking = Running("--start", "2030-01-02T03:04:05+09:00")
    frozen = Running("--frozen-clock", "--start", "1900000000")
    try:
        assert ticking.info["clock_start"] == "2030-01-01T18:04:05Z"
        iat = id_token_claims(ticking.info)["iat"]
        start = datetime(2030, 1, 1, 18, 4, 5, tzinfo=timezone.utc).timestamp()
        assert start <= iat < start + 30  # the clock ticks on from the given start
        assert frozen.info["clock"] == "frozen"
        assert id_token_claims(frozen.info)["iat"] == 1_900_000_000
        assert requests.get(frozen.info["base_url"] + "/__emulator__/clock").json()[
            "now"] == "2030-03-17T17:46:40Z"
    finally:
        codes = ticking.stop(), frozen.stop()
    assert codes == (0, 0)


@pytest.mark.parametrize("start", ["yesterday", "2026-13-01", "1e300", "nan", ""])
def test_a_bad_start_is_a_clear_error(start):
    done = subprocess.run([sys.executable, "-m", "line_idlink_dev.cli", "emulator", "--port", "0",
                           "--start", start], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # no JSON line: nothing was started
    assert "--start" in done.stderr and "ISO 8601" in done.stderr or "out of range" in done.stderr


def test_a_busy_port_is_a_clear_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "line_idlink_dev.cli", "emulator", "--port",
                               str(port)], capture_output=True, text=True, timeout=60)
    # werkzeug reports "Port N is in use" itself on some versions; either way: exit 1, port named
    assert done.returncode == 1 and str(port) in done.stderr and done.stdout == ""


def test_parser_has_subcommands_and_defaults():
    args = build_parser().parse_args(["emulator"])
    assert (args.host, args.delivery, args.frozen, args.redelivery, args.start) == (
        "127.0.0.1", "background", False, False, None)
    with pytest.raises(SystemExit):
        main([])  # a subcommand is required
    with pytest.raises(SystemExit):
        main(["emulator", "--delivery", "carrier-pigeon"])


def test_real_clock_redelivers_without_being_advanced(webhook_sink):
    webhook_sink.status = 500
    running = Running("--webhook-url", webhook_sink.url, "--redelivery", "--delivery", "sync")
    try:
        base = running.info["base_url"] + "/__emulator__"
        user_id = requests.post(base + "/users", json={"displayName": "Aiko"}).json()["userId"]
        [failed] = requests.post(f"{base}/users/{user_id}/follow").json()["deliveries"]
        assert failed["status"] == 500
        webhook_sink.status = 200
        # 9.5 of the 10 seconds by hand; the ticking clock and the CLI's ticker do the rest.
        requests.post(base + "/clock/advance", json={"seconds": 9.5})
        assert wait_for(lambda: len(webhook_sink.received) == 2)
        again = webhook_sink.received[1]["body"]["events"][0]
        assert again["deliveryContext"]["isRedelivery"] is True
    finally:
        assert running.stop() == 0
