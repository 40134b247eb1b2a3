"""Serve the reference shop: ``python -m line_idlink_dev.reference`` or ``line-idlink reference``.

Against a running emulator (``line-idlink emulator``)::

    line-idlink reference --emulator-url http://127.0.0.1:8765 --db shop.db --port 8000

reads the channel settings from the emulator's ``/__emulator__/info``, follows the emulator's
clock (ID tokens and link tokens are checked against it) and points the emulator's webhook URL at
the shop. Against LINE itself, the channels come from the environment (secrets never go on the
command line, where ``ps`` shows them): ``LINE_CHANNEL_ID``, ``LINE_CHANNEL_SECRET``,
``LINE_CHANNEL_ACCESS_TOKEN``, ``LINE_LOGIN_CHANNEL_ID``, ``LINE_LOGIN_CHANNEL_SECRET``; then
``--public-url`` is the HTTPS address LINE reaches the shop at.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

ENVIRONMENT = ("LINE_CHANNEL_ID", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN",
               "LINE_LOGIN_CHANNEL_ID", "LINE_LOGIN_CHANNEL_SECRET")


def add_arguments(parser):
    parser.add_argument("--emulator-url", help="base URL of a running `line-idlink emulator`")
    parser.add_argument("--db", default="reference-shop.db",
                        help="SQLite file, created and seeded on first start "
                             "(default reference-shop.db)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000, 0: any)")
    parser.add_argument("--public-url", help="the URL LINE and browsers reach the shop at "
                                             "(default http://HOST:PORT)")
    return parser


def _emulator_settings(url):
    import requests

    from .app import LineSettings

    with requests.Session() as http:
        http.trust_env = False
        info = http.get(f"{url}/__emulator__/info", timeout=10).json()
        now_ms = http.get(f"{url}/__emulator__/clock", timeout=10).json()["nowMs"]
    offset = now_ms / 1000 - time.time()
    return LineSettings.from_emulator(dict(info, base_url=url)), lambda: time.time() + offset


def _environment_settings():
    from .app import LineSettings

    missing = [name for name in ENVIRONMENT if not os.environ.get(name)]
    if missing:
        raise SystemExit("line-idlink reference: give --emulator-url, or set " + ", ".join(missing))
    env = os.environ
    return LineSettings("https://api.line.me", "https://access.line.me", env["LINE_CHANNEL_ID"],
                        env["LINE_CHANNEL_SECRET"], env["LINE_CHANNEL_ACCESS_TOKEN"],
                        env["LINE_LOGIN_CHANNEL_ID"], env["LINE_LOGIN_CHANNEL_SECRET"]), time.time


def run(args, out=None, stop=None):
    """Serve until Ctrl-C/SIGTERM, or until ``stop`` (a threading.Event) is set; ``out`` prints
    the JSON line that says where the shop is (default: stdout)."""
    import requests

    from .app import ReferenceServer

    url = (args.emulator_url or "").rstrip("/")
    try:
        settings, clock = _emulator_settings(url) if url else _environment_settings()
    except (requests.RequestException, ValueError, KeyError) as exc:
        print(f"line-idlink reference: cannot read the emulator at {url}: {exc}", file=sys.stderr)
        return 1
    try:
        server = ReferenceServer(args.db, settings, host=args.host, port=args.port,
                                 public_url=args.public_url, clock=clock)
    except OSError as exc:
        print(f"line-idlink reference: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    server.start()
    webhook_url = f"{server.url}/line/webhook"
    if url:
        with requests.Session() as http:
            http.trust_env = False
            http.post(f"{url}/__emulator__/config", json={"webhook_url": webhook_url},
                      timeout=10).raise_for_status()
    (out or _print)(json.dumps({"url": server.url, "login": f"{server.url}/login", "db": args.db,
                                "webhook_url": webhook_url, "line": settings.api_base}))
    if stop is None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _print(line):
    print(line, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m line_idlink_dev.reference",
                                     description="Serve the LINE ID Link reference shop")
    return run(add_arguments(parser).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
