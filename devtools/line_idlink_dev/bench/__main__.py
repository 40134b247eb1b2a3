"""``python -m line_idlink_dev.bench [NAME] [--full] [--n N]``: run one benchmark, or all of them.

Exit status 1 when a correctness check fails (a duplicate, a lost message, an accepted forgery);
a speed target that is missed is a measurement, printed as FAIL in its table, not an error.
"""

import argparse
import os
import sys
import time

from . import ALL, CORE, ODOO, load
from .table import FAIL, render


def add_arguments(parser):
    parser.add_argument("name", nargs="?", choices=ALL, metavar="NAME",
                        help=f"one of {', '.join(ALL)} (default: {', '.join(CORE)}, and "
                             f"{' and '.join(ODOO)} when ODOO_SRC is set)")
    parser.add_argument("--full", action="store_true",
                        help="PRODUCT.md's sizes (1M campaign, 100k faults...): takes longer")
    parser.add_argument("--n", type=int, default=None,
                        help="size (recipients, sends, identities...) of the benchmark")
    parser.add_argument("--seconds", type=int, default=None,
                        help="odoo-webhooks: how long events are sent (default 60)")
    parser.add_argument("--rate", type=int, default=None,
                        help="odoo-webhooks: events per second (default 200)")


def run(args):
    if args.n is not None and args.n < 1:
        print("bench: --n must be at least 1", file=sys.stderr)
        return 2
    timed = {k: v for k in ("seconds", "rate") if (v := getattr(args, k, None)) is not None}
    if any(v < 1 for v in timed.values()):
        print("bench: --seconds and --rate must be at least 1", file=sys.stderr)
        return 2
    if timed and not (args.name and getattr(load(args.name), "TIMED", False)):
        print("bench: --seconds and --rate apply to odoo-webhooks only", file=sys.stderr)
        return 2
    names = [args.name] if args.name else list(CORE) + (list(ODOO) if os.environ.get(
        "ODOO_SRC") else [])
    if not args.name and not os.environ.get("ODOO_SRC"):
        print(f"bench: SKIPPED {', '.join(ODOO)}: set ODOO_SRC (an Odoo 18.0 source tree) and "
              "ODOO_PY (its Python) to run them", flush=True)
    loadavg = os.getloadavg()
    print(f"bench: {os.cpu_count()} CPU(s), load average "
          + " ".join(f"{value:.2f}" for value in loadavg)
          + " (other work on the machine slows every figure)", flush=True)
    failed_checks = []
    for name in names:
        module = load(name)
        n = args.n or (module.FULL_N if args.full else module.DEFAULT_N)
        started = time.perf_counter()
        title, rows = module.run(n, **timed) if timed else module.run(n)
        print(render(title, rows))
        print(f"   ({time.perf_counter() - started:.1f} s)\n", flush=True)
        failed_checks += [f"{name}: {row.metric}" for row in rows
                          if row.check and row.verdict == FAIL]
    if failed_checks:
        print("bench: correctness checks FAILED: " + "; ".join(failed_checks), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
