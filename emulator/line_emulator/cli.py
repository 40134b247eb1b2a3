"""The ``line-emulator`` command: serve the LINE platform emulator until interrupted.

    line-emulator --port 8765 --webhook-url http://127.0.0.1:8069/line/webhook

It prints one JSON line (base URL, channel ids, secrets and tokens, clock) once it listens, and
stops on SIGINT/SIGTERM. ``python -m line_emulator`` is the same command.
"""

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import datetime, timezone

from .clock import DEFAULT_EPOCH, Clock
from .core import Emulator
from .server import EmulatorServer

PROG = "line-emulator"


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of every id, secret and token (same seed, same values)")
    parser.add_argument("--webhook-url", help="where the bot receives webhooks")
    parser.add_argument("--delivery", choices=("sync", "queued", "background"),
                        default="background", help="how webhooks leave (default background)")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument("--real-clock", dest="frozen", action="store_false", default=False,
                       help="the clock ticks, so tokens expire in real time (default)")
    clock.add_argument("--frozen-clock", dest="frozen", action="store_true",
                       help="the clock stands still until POST /__emulator__/clock/advance")
    parser.add_argument("--start", metavar="WHEN",
                        help="the clock's start: an ISO 8601 date-time (2026-11-02T09:00:00+09:00;"
                             " no offset means UTC) or seconds since the Unix epoch. Default: now "
                             "for a ticking clock, 2026-11-02T00:00:00Z for a frozen one")
    parser.add_argument("--redelivery", action="store_true",
                        help="redeliver failed webhooks (LINE's console switch)")
    parser.add_argument("--quota", type=int, default=None,
                        help="monthly message quota (default: none)")
    parser.add_argument("--login-callback-url", action="append", default=[],
                        help="allowed LINE Login callback URL (repeat; default: any)")
    parser.add_argument("--verbose", action="store_true",
                        help="log webhook deliveries and errors to stderr")


def parse_start(text):
    """Seconds since the Unix epoch from ``--start``: a number of seconds, or an ISO 8601
    date-time (``Z`` or an offset; none means UTC). ValueError says what is accepted."""
    text = (text or "").strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise ValueError(f"--start {text!r} is neither an ISO 8601 date-time (e.g. "
                         "2026-11-02T09:00:00+09:00) nor seconds since the Unix epoch") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def emulator_clock(args):
    """(start, clock) of the CLI: the wall clock by default (ID tokens and webhook timestamps
    are "now", as a real bot checks them), ``--start`` to start elsewhere; a frozen clock starts
    at DEFAULT_EPOCH, as in tests and notebooks."""
    if args.start is not None:
        start = parse_start(args.start)
        if not -62135596800 <= start <= 253402300799:  # years 1 to 9999
            raise ValueError(f"--start {args.start!r} is out of range")
    else:
        start = DEFAULT_EPOCH if args.frozen else time.time()
    return start, Clock(start=start, frozen=args.frozen)


def _iso(seconds):
    when = datetime.fromtimestamp(seconds, timezone.utc)
    return when.isoformat(timespec="milliseconds" if when.microsecond else "seconds").replace(
        "+00:00", "Z")


def run(args):
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(name)s %(message)s")
    if args.quota is not None and args.quota < 0:
        print(f"{PROG}: --quota must be 0 or more", file=sys.stderr)
        return 2
    try:
        start, clock = emulator_clock(args)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    clock_start = _iso(start)
    emulator = Emulator(seed=args.seed, webhook_url=args.webhook_url,
                        clock=clock, delivery=args.delivery,
                        quota=args.quota, redelivery=args.redelivery,
                        login_callback_urls=args.login_callback_url)
    try:
        server = EmulatorServer(emulator, host=args.host, port=args.port)
    except OSError as exc:
        print(f"{PROG}: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(json.dumps(dict(server.info(), clock_start=clock_start,
                          clock="frozen" if args.frozen else "ticking")), flush=True)
    try:
        while not stop.wait(0.5):
            if not args.frozen:  # a ticking clock: redeliveries and jobs fall due by themselves
                emulator.run_pending()
    finally:
        server.stop()
    return 0


def build_parser(prog=PROG):
    parser = argparse.ArgumentParser(prog=prog, description="Serve the LINE platform emulator "
                                                            "(Messaging API, LINE Login, webhooks)")
    add_arguments(parser)
    return parser


def main(argv=None):
    return run(build_parser().parse_args(argv)) or 0


if __name__ == "__main__":
    sys.exit(main())
