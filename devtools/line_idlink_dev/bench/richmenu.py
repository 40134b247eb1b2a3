"""``richmenu``: switching 100k identities' rich menus in Odoo against the emulator.

Needs an Odoo 18.0 installation: ``ODOO_SRC`` (source tree) and ``ODOO_PY`` (its Python); without
them it says plainly that it skipped. It creates a database (from the cached template database
``scripts/odoo-test`` builds, when there is one, else from scratch), installs
``line_idlink_addon``, then pipes :mod:`.richmenu_odoo` into ``odoo-bin shell``: emulator
in-process, a channel pointed at it, N partners and identities, the ready-made menu pair
published, then ``line.channel._line_reconcile_rich_menus()`` timed while everyone moves from the
default menu to the linked one, and back. Targets per switch: ≤ 200 API calls, ≤ 30 s.

The Odoo processes import ``line_idlink`` from this work tree (PYTHONPATH), and the database is
dropped afterwards unless ``KEEP_DB=1``; ``BENCH_ODOO_DB=name`` uses an existing database that
already has the addon installed instead.
"""

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

from ..odoo_server import PYTHONPATH, template_database
from . import table

NAME = "richmenu"
DEFAULT_N = 100_000
FULL_N = 100_000
MAX_CALLS = 200
MAX_SECONDS = 30.0
ADDON = "line_idlink_addon"
REPO = pathlib.Path(__file__).resolve().parents[3]
DATA_DIR = pathlib.Path(os.environ.get("ODOO_TEST_DATA_DIR",
                                       pathlib.Path.home() / ".local/share/odoo-test"))


class Skipped(Exception):
    pass


def _odoo():
    src, py = os.environ.get("ODOO_SRC"), os.environ.get("ODOO_PY")
    if not src:
        raise Skipped("ODOO_SRC is not set: set ODOO_SRC (an Odoo 18.0 source tree) and ODOO_PY "
                      "(its Python) to run this benchmark")
    if not py:
        raise Skipped("ODOO_PY is not set (the Python of the Odoo installation in ODOO_SRC)")
    if not (pathlib.Path(src) / "odoo-bin").is_file():
        raise Skipped(f"ODOO_SRC={src} has no odoo-bin")
    return pathlib.Path(src), py


def _base_command(src, py, db, subcommand=()):
    return [py, str(src / "odoo-bin"), *subcommand, "-c", "/dev/null",
            f"--addons-path={src}/addons,{src}/odoo/addons,{REPO}", f"--data-dir={DATA_DIR}",
            "-d", db, "--no-http", "--max-cron-threads=0"]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*PYTHONPATH, env.get("PYTHONPATH")]))
    return env


def _psql(query, db="postgres"):
    out = subprocess.run(["psql", "-d", db, "-XAtc", query], capture_output=True, text=True)
    return out.stdout.strip()


@contextlib.contextmanager
def _database(src, py):
    given = os.environ.get("BENCH_ODOO_DB")
    if given:
        yield given
        return
    db = f"line_idlink_bench_{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}"
    try:
        template = template_database()
        if template:
            with open(DATA_DIR / f"{template}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # odoo-test may be cloning it too
                subprocess.run(["createdb", "-T", template, db], check=True)
            if (DATA_DIR / "filestore" / template).is_dir():
                subprocess.run(["cp", "-al", str(DATA_DIR / "filestore" / template),
                                str(DATA_DIR / "filestore" / db)], check=True)
        print(f"richmenu: installing {ADDON} into database {db} "
              f"({'template ' + template if template else 'from scratch: slow'})", flush=True)
        install = subprocess.run(_base_command(src, py, db) + ["-i", ADDON, "--stop-after-init",
                                                              "--log-level=warn"],
                                 env=_env(), capture_output=True, text=True, timeout=3600)
        if install.returncode != 0:
            raise RuntimeError(f"installing {ADDON} failed:\n{install.stdout[-3000:]}"
                               f"{install.stderr[-3000:]}")
        yield db
    finally:
        if os.environ.get("KEEP_DB") == "1":
            print(f"richmenu: KEEP_DB=1: kept database {db}", flush=True)
        else:
            subprocess.run(["dropdb", "--if-exists", "--force", db], capture_output=True)
            shutil.rmtree(DATA_DIR / "filestore" / db, ignore_errors=True)


def measure(n):
    src, py = _odoo()
    script = (pathlib.Path(__file__).with_name("richmenu_odoo.py")).read_text()
    with _database(src, py) as db:
        env = dict(_env(), BENCH_N=str(n))
        shell = subprocess.run(_base_command(src, py, db, ["shell"]) + ["--log-level=warn"],
                               input=script, env=env, capture_output=True, text=True,
                               timeout=7200)
    for line in shell.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError("the Odoo shell script printed no result:\n"
                       f"{shell.stdout[-3000:]}\n{shell.stderr[-5000:]}")


def run(n=DEFAULT_N):
    title = f"richmenu: rich-menu switch of {n:,} identities in Odoo against the emulator"
    try:
        result = measure(n)
    except Skipped as why:
        print(f"bench: SKIPPED richmenu: {why}", file=sys.stderr)
        return f"{title}: SKIPPED", [table.info("skipped", str(why))]
    rows = []
    for phase in result["phases"]:
        calls = sum(phase["calls"].values())
        name = phase["name"]
        rows += [
            table.at_most(f"{name}: API calls", calls, MAX_CALLS),
            table.info(f"  by endpoint", ", ".join(f"{k} {v}" for k, v in
                                                   sorted(phase["calls"].items())) or "none"),
            table.at_most(f"{name}: wall time", phase["seconds"], MAX_SECONDS, "s"),
            table.info("  of which waits (limiter, batch polling)", phase["waited"], "s"),
            table.exactly(f"{name}: users on the right menu (emulator)", phase["on_menu"], n),
            table.exactly(f"{name}: identities up to date (Odoo)", phase["odoo_ok"], n),
            table.exactly(f"{name}: failed", phase["failed"], 0),
            table.info("  RSS before / after", f"{phase['rss_before']:,.0f} / "
                       f"{phase['rss_after']:,.0f}", "MB"),
        ]
    rows += [table.info("setup (partners, identities, menus)", result["setup_seconds"], "s"),
             table.info("peak RSS (Odoo process, emulator included)", result["peak_rss_mb"],
                        "MB")]
    return title, rows
