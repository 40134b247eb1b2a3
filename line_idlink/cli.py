"""The ``line-idlink`` command. One function per subcommand; add one with :func:`subcommand`.

    line-idlink emulator --port 8765 --webhook-url http://127.0.0.1:8069/line/webhook
"""

import argparse
import json
import logging
import signal
import sys
import threading
import time
from datetime import datetime, timezone

COMMANDS = []  # (name, help, add_arguments(parser), run(args) -> exit code)


def subcommand(name, help, add_arguments):
    def register(run):
        COMMANDS.append((name, help, add_arguments, run))
        return run

    return register


def build_parser():
    parser = argparse.ArgumentParser(prog="line-idlink", description="LINE ID Link for Odoo")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name, help_text, add_arguments, run in COMMANDS:
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args) or 0


# emulator ----------------------------------------------------------------------------------
def _emulator_arguments(parser):
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
    from .emulator import Clock
    from .emulator.clock import DEFAULT_EPOCH

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


@subcommand("emulator", "Serve the LINE platform emulator until interrupted", _emulator_arguments)
def run_emulator(args):
    from .emulator import Emulator, EmulatorServer

    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(name)s %(message)s")
    if args.quota is not None and args.quota < 0:
        print("line-idlink emulator: --quota must be 0 or more", file=sys.stderr)
        return 2
    try:
        start, clock = emulator_clock(args)
    except ValueError as exc:
        print(f"line-idlink emulator: {exc}", file=sys.stderr)
        return 2
    clock_start = _iso(start)
    emulator = Emulator(seed=args.seed, webhook_url=args.webhook_url,
                        clock=clock, delivery=args.delivery,
                        quota=args.quota, redelivery=args.redelivery,
                        login_callback_urls=args.login_callback_url)
    try:
        server = EmulatorServer(emulator, host=args.host, port=args.port)
    except OSError as exc:
        print(f"line-idlink emulator: cannot listen on {args.host}:{args.port}: {exc}",
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


# demo and reference (the reference app's engineer) ------------------------------------------
def _demo_arguments(parser):
    from .demo import add_arguments

    add_arguments(parser)


@subcommand("demo", "Run the whole LINE ID-link journey against the emulator and the reference "
                    "shop; --serve keeps them running for a browser", _demo_arguments)
def run_demo(args):
    from .demo import run

    return run(args)


def _reference_arguments(parser):
    from .reference.__main__ import add_arguments

    add_arguments(parser)


@subcommand("reference", "Serve the reference shop (werkzeug + SQLite) against an emulator or "
                         "LINE", _reference_arguments)
def run_reference(args):
    from .reference.__main__ import run

    return run(args)


# bench -----------------------------------------------------------------------------------
def _bench_arguments(parser):
    from .bench.__main__ import add_arguments

    add_arguments(parser)


@subcommand("bench", "Run the benchmarks against the emulator and print measured figures beside "
                     "the product targets", _bench_arguments)
def run_bench(args):
    from .bench.__main__ import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
