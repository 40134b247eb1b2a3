"""The ``line-idlink`` command. One function per subcommand; add one with :func:`subcommand`.

    line-idlink emulator --port 8765 --webhook-url http://127.0.0.1:8069/line/webhook
"""

import argparse
import sys

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


# emulator (the line-emulator distribution's own command) ---------------------------------
def _emulator_arguments(parser):
    from line_emulator.cli import add_arguments

    add_arguments(parser)


@subcommand("emulator", "Serve the LINE platform emulator until interrupted (same as the "
                        "line-emulator command)", _emulator_arguments)
def run_emulator(args):
    from line_emulator.cli import run

    return run(args)


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
