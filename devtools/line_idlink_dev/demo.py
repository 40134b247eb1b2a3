"""The whole journey in one command: the LINE emulator and the reference shop in this process,
three customers, every flow, a readable transcript and a summary table.

    scripts/demo             # prints the transcript; exit status 1 if any expectation fails
    scripts/demo --serve     # then keeps LINE and the shop running for a person with a browser

1. Aiko, Kenji and Yui add the shop (invitation + the default "unlinked" rich menu).
2. Aiko links through the Messaging API: taps 連携する, opens the link in her browser, logs in,
   confirms, LINE's dialog sends ``accountLink``; she gets the linked menu and a confirmation.
3. Kenji links through LINE Login from /my/line.
4. The menus before and after; Kenji uses his linked menu.
5. A segmented campaign (light vs loyal buyers) while LINE fails twice: one 500, one request
   delivered whose answer is lost. Retry keys make sure nobody gets a message twice.
6. Aiko asks 残高 in the chat and gets her own balance; Yui (not linked) is invited to link.
7. Aiko unlinks from the chat (with confirmation): default menu back.

Deterministic: seeded emulator, frozen clock, and the transcript prints no port, token or nonce.
Webhooks go out in ``sync`` mode: the user's action returns once the app answered it (the app
processes events right after storing them, see reference/app.py), so every step can check what
the user saw. The journey itself is :mod:`line_idlink_dev.reference.journey`.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading


def add_arguments(parser):
    parser.add_argument("--serve", action="store_true",
                        help="after the journey keep LINE and the shop running until Ctrl-C")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--app-port", type=int, default=0, help="shop port (0: a free one)")
    parser.add_argument("--emulator-port", type=int, default=0,
                        help="emulator port (0: a free one)")
    parser.add_argument("--db", help="the shop's SQLite file, which must not exist yet (default: "
                                     "in a temporary directory)")
    return parser


def main(argv=None, out=None, stop=None):
    """``line-idlink demo``: 0 when every expectation held, 1 when one failed. ``out`` prints a
    line (default: stdout); ``stop`` (a threading.Event) ends ``--serve`` instead of Ctrl-C."""
    parser = argparse.ArgumentParser(prog="line-idlink demo",
                                     description=__doc__.split("\n")[0])
    return run(add_arguments(parser).parse_args(argv), out, stop)


def run(args, out=None, stop=None):
    # Imported here: the SDK and the emulator take a second to import, and `line-idlink`
    # builds every subcommand's parser at start.
    from .reference.journey import DemoFailure, Journey

    out = out or _printer()
    if args.db and os.path.exists(args.db):
        out(f"demo: {args.db} exists; the journey needs a fresh database")
        return 2
    with tempfile.TemporaryDirectory(prefix="line-idlink-demo-") as workdir:
        journey = None
        try:
            journey = Journey(out, args.db or os.path.join(workdir, "shop.db"), host=args.host,
                              app_port=args.app_port, emulator_port=args.emulator_port)
            journey.run()
            out("")
            out("DEMO OK: every expectation held")
            if args.serve:
                journey.print_urls()
                _wait(stop)
            return 0
        except DemoFailure as failure:
            out(f"DEMO FAILED: {failure}")
            return 1
        finally:
            if journey is not None:
                journey.stop()


def _printer():
    stream = sys.stdout
    if (stream.encoding or "").lower().replace("-", "") != "utf8":
        try:  # a non-UTF-8 terminal still gets the transcript, Japanese escaped
            stream.reconfigure(errors="backslashreplace")
        except AttributeError:
            pass

    def out(text=""):
        print(text, file=stream, flush=True)

    return out


def _wait(stop):
    if stop is None:
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
