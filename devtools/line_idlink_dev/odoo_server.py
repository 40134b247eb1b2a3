"""A real ``odoo-bin`` serving HTTP with this repository's addons, for ``scripts/odoo-demo`` and
``scripts/bench odoo-webhooks`` (developer tooling: nothing here runs inside Odoo).

    odoo = OdooInstallation.from_env()                  # ODOO_SRC / ODOO_PY
    prepare_database(odoo, "line_idlink_demo")          # created, upgraded or reused
    with OdooServer(odoo, "line_idlink_demo", log_path="/tmp/odoo.log") as server:
        rpc = JsonRpc(server.url, "line_idlink_demo").login("admin", "admin")
        rpc.call("res.partner", "search_count", [[]])

A database is created from the template database ``scripts/odoo-test`` keeps for the addon's
dependencies when there is one (seconds), else from scratch (minutes), then ``-i
line_idlink_addon``. Its PostgreSQL comment records a fingerprint of the addon's files, so a
reused database is upgraded (``-u``) when the addon changed since. Odoo imports ``line_idlink``
from this repository (first on ``PYTHONPATH``).
"""

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import requests

ADDON = "line_idlink_addon"
REPO = pathlib.Path(__file__).resolve().parents[2]
# What Odoo imports from this work tree: the core (REPO) and, for tests and benchmarks run inside
# Odoo, the emulator (never installed into Odoo's Python).
PYTHONPATH = [str(REPO), str(REPO / "emulator")]
DATA_DIR = pathlib.Path(os.environ.get("ODOO_TEST_DATA_DIR",
                                       pathlib.Path.home() / ".local/share/odoo-test"))
COMMENT = "line-idlink database"


class OdooUnavailable(Exception):
    """No usable Odoo installation (ODOO_SRC / ODOO_PY unset or wrong)."""


class OdooError(Exception):
    """Odoo failed: installing, starting, or answering a JSON-RPC call."""


class OdooInstallation:
    def __init__(self, src, python):
        self.src = pathlib.Path(src)
        self.python = python

    @classmethod
    def from_env(cls):
        src, py = os.environ.get("ODOO_SRC"), os.environ.get("ODOO_PY")
        if not src:
            raise OdooUnavailable("ODOO_SRC is not set: set ODOO_SRC (an Odoo 18.0 source tree) "
                                  "and ODOO_PY (its Python), or use scripts/odoo-demo, which "
                                  "prepares the shipped Odoo 18.0 tree")
        if not py:
            raise OdooUnavailable("ODOO_PY is not set (the Python of the Odoo installation in "
                                  "ODOO_SRC)")
        if not (pathlib.Path(src) / "odoo-bin").is_file():
            raise OdooUnavailable(f"ODOO_SRC={src} has no odoo-bin")
        return cls(src, py)

    def command(self, db, *extra, subcommand=()):
        return [self.python, str(self.src / "odoo-bin"), *subcommand, "-c", "/dev/null",
                f"--addons-path={self.src}/addons,{self.src}/odoo/addons,{REPO}",
                f"--data-dir={DATA_DIR}", "-d", db, *extra]

    def environ(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [*PYTHONPATH, env.get("PYTHONPATH")]))
        # Odoo restarts itself (a thread over its time limit, SIGHUP) by exec'ing its Python
        # with argv[0] = the bare name ("python"), which that Python resolves on PATH: without
        # this, a venv's odoo-bin comes back under the system Python (ModuleNotFoundError: babel)
        bindir = os.path.dirname(os.path.abspath(self.python))
        env["PATH"] = os.pathsep.join(filter(None, [bindir, env.get("PATH")]))
        return env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# PostgreSQL ---------------------------------------------------------------------------------
def psql(query, db="postgres"):
    done = subprocess.run(["psql", "-d", db, "-XAtc", query], capture_output=True, text=True)
    if done.returncode != 0:
        raise OdooError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


def database_exists(db):
    return psql(f"select 1 from pg_database where datname = {_literal(db)}") == "1"


def drop_database(db):
    subprocess.run(["dropdb", "--if-exists", "--force", db], capture_output=True)
    shutil.rmtree(DATA_DIR / "filestore" / db, ignore_errors=True)


def addon_fingerprint():
    """sha256 of the addon's files (path and content): a changed addon means an upgrade."""
    digest = hashlib.sha256()
    root = REPO / ADDON
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def template_database():
    """The template database ``scripts/odoo-test`` keeps for the addon's Odoo dependencies
    (with demo data), or None: same name rule (md5 of "deps|demo=0") and comment."""
    manifest = eval((REPO / ADDON / "__manifest__.py").read_text())  # noqa: S307 - our file
    deps = ",".join(sorted(set(manifest.get("depends", [])) | {"base"}))
    key = hashlib.md5(f"{deps}|demo=0".encode()).hexdigest()[:8]
    names = psql("select datname from pg_database where datname like "
                 f"'odoo\\_test\\_tmpl\\_{key}\\_%' and shobj_description(oid, 'pg_database')"
                 " = 'odoo-test template ok'").split()
    return names[0] if names else None


def _installed(db):
    try:
        return psql(f"select state from ir_module_module where name = '{ADDON}'", db) == "installed"
    except OdooError:
        return False


def _run_odoo(odoo, db, *args, what, log):
    with open(log, "a") as out:
        done = subprocess.run(odoo.command(db, *args, "--stop-after-init", "--no-http",
                                           "--max-cron-threads=0", "--log-level=warn"),
                              env=odoo.environ(), stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=3600)
    if done.returncode != 0 or not _installed(db):
        tail = pathlib.Path(log).read_text(errors="replace")[-3000:]
        raise OdooError(f"{what} failed (odoo-bin exit {done.returncode}); log {log}:\n{tail}")


def _comment(db):
    return psql(f"select shobj_description(oid, 'pg_database') from pg_database "
                f"where datname = {_literal(db)}")


def _set_comment(db, text):
    psql(f"comment on database \"{db}\" is {_literal(text)}")


def prepare_database(odoo, db, reset=False, log="/dev/null", say=print):
    """Make ``db`` a database with the addon installed and up to date; returns what was done:
    "created", "upgraded" or "reused". ``reset`` drops it first. A database this module did not
    create is never touched (unless ``reset``): OdooError."""
    fingerprint = addon_fingerprint()
    if database_exists(db):
        comment = _comment(db) or ""
        if reset:
            say(f"dropping database {db} (--reset)")
        elif not comment.startswith(COMMENT):
            raise OdooError(f"database {db} exists and was not created by line-idlink: choose "
                            "another database name, or --reset to drop it")
        elif comment == f"{COMMENT} {fingerprint}" and _installed(db):
            return "reused"
        elif _installed(db):
            say(f"upgrading {ADDON} in database {db} (the addon changed since it was installed)")
            _run_odoo(odoo, db, "-u", ADDON, what=f"upgrading {ADDON}", log=log)
            _set_comment(db, f"{COMMENT} {fingerprint}")
            return "upgraded"
        drop_database(db)  # --reset, or half-created by an interrupted run
    template = template_database()
    if template:
        with open(DATA_DIR / f"{template}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # scripts/odoo-test may be cloning it too
            subprocess.run(["createdb", "-T", template, db], check=True, capture_output=True)
        if (DATA_DIR / "filestore" / template).is_dir():
            (DATA_DIR / "filestore").mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(DATA_DIR / "filestore" / template),
                            str(DATA_DIR / "filestore" / db)], check=True)
    else:
        subprocess.run(["createdb", db], check=True, capture_output=True)
    _set_comment(db, f"{COMMENT} (being created)")
    say(f"installing {ADDON} into database {db} ("
        + (f"from template {template}: about a minute)" if template else
           "from scratch: several minutes; the template database scripts/odoo-test builds "
           "makes it faster)"))
    _run_odoo(odoo, db, "-i", ADDON, what=f"installing {ADDON}", log=log)
    _set_comment(db, f"{COMMENT} {fingerprint}")
    return "created"


# odoo-bin serving HTTP ----------------------------------------------------------------------
class OdooServer:
    """``odoo-bin`` serving ``db`` on 127.0.0.1:``port`` (0: a free one), in a session of its
    own so that :meth:`stop` ends it with every process it started.

    ``workers=0`` is Odoo's threaded server; ``workers=N`` its prefork server (N HTTP worker
    processes). ``cron_threads`` run the crons (woken by ``_trigger()``).
    """

    def __init__(self, odoo, db, port=0, workers=0, cron_threads=1, log_path="/dev/null",
                 log_level="info", extra=()):
        self.odoo, self.db = odoo, db
        self.port = port or free_port()
        self.log_path = log_path
        args = ["--db-filter", f"^{db}$", "--http-interface=127.0.0.1",
                f"--http-port={self.port}", f"--workers={workers}",
                f"--max-cron-threads={cron_threads}", f"--log-level={log_level}", *extra]
        if workers:
            args += [f"--gevent-port={free_port()}", "--limit-time-real=600",
                     "--limit-time-cpu=600"]
        self._command = odoo.command(db, *args)
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=300):
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(self._command, env=self.odoo.environ(), stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise OdooError(f"odoo-bin exited ({self.process.returncode}) while starting; "
                                f"log {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/web/health", timeout=5).status_code == 200:
                    return self
            time.sleep(0.5)
        self.stop()
        raise OdooError(f"odoo-bin did not answer on {self.url} within {timeout} s; "
                        f"log {self.log_path}")

    def stop(self, grace=20):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self):
        return self.start() if self.process is None else self

    def __exit__(self, *exc):
        self.stop()


# JSON-RPC -----------------------------------------------------------------------------------
class JsonRpc:
    """Odoo's web client protocol: a session cookie from ``/web/session/authenticate``, then
    ``/web/dataset/call_kw``. An Odoo error raises :class:`OdooError` with Odoo's message."""

    def __init__(self, url, db, session=None):
        self.url, self.db = url.rstrip("/"), db
        self.session = session or requests.Session()
        self.uid = None

    def post(self, path, params):
        answer = self.session.post(self.url + path, json={
            "jsonrpc": "2.0", "method": "call", "id": 1, "params": params}, timeout=120)
        answer.raise_for_status()
        body = answer.json()
        if body.get("error"):
            data = body["error"].get("data") or {}
            raise OdooError(data.get("message") or body["error"].get("message"))
        return body.get("result")

    def login(self, login, password):
        result = self.post("/web/session/authenticate",
                           {"db": self.db, "login": login, "password": password})
        if not result or not result.get("uid"):
            raise OdooError(f"Odoo refused the login {login}")
        self.uid = result["uid"]
        return self

    def call(self, model, method, *args, **kwargs):
        return self.post(f"/web/dataset/call_kw/{model}/{method}",
                         {"model": model, "method": method, "args": list(args),
                          "kwargs": kwargs})
