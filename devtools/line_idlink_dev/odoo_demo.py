"""``scripts/odoo-demo``: the addon on a real Odoo 18.0, wired to the CLI LINE emulator.

    scripts/odoo-demo             # serve until Ctrl-C: prints the URLs, logins and LINE sign-ins
    scripts/odoo-demo --reset     # drop the demo database first
    scripts/odoo-demo --check     # the end-to-end journey over HTTP, on a throwaway database

It starts ``odoo-bin`` (HTTP, one cron thread) on a database of its own (``line_idlink_demo``,
reused by the next start), then ``line-idlink emulator`` as a process (its defaults: ticking wall
clock, background webhook delivery) with ``--webhook-url`` and ``--login-callback-url`` aimed at
Odoo. Over JSON-RPC, as the administrator: a channel with the emulator's credentials and URLs,
``web.base.url``, "Test connection", "Create default menus", three portal customers. Then the
simulated LINE users Aiko, Kenji and Yui add the bot as a friend.

``--check`` drives what a customer does, over HTTP only (the emulator's control API stands for
the LINE app, ``requests`` sessions for browsers), and checks each step: follow; the Messaging
API link (postback, link URL, portal login, confirm with CSRF, LINE's dialog, accountLink
webhook); the LINE Login link from ``/my/line``; "Log in with LINE"; unlink from ``/my/line``.
Nothing is patched: Odoo checks the emulator's ID tokens with its own clock.
"""

import argparse
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote, urljoin, urlsplit

import requests

from line_idlink.postbacks import POSTBACK_LINK
from .odoo_server import (JsonRpc, OdooError, OdooInstallation, OdooServer, OdooUnavailable,
                          drop_database, free_port, prepare_database)

DEFAULT_DB = "line_idlink_demo"
SEED = 7
PASSWORD = "line-demo"
CUSTOMERS = [("Aiko Tanaka", "aiko@example.com"), ("Kenji Sato", "kenji@example.com"),
             ("Yui Suzuki", "yui@example.com")]
LINE_USERS = ("Aiko", "Kenji", "Yui")
WAIT = 90  # seconds a step may take (a busy 2-core machine: the cron, Odoo's first page loads)


class CheckFailed(Exception):
    pass


def add_arguments(parser):
    parser.add_argument("--db", default=None,
                        help=f"database (default {DEFAULT_DB}; --check: a throwaway one)")
    parser.add_argument("--reset", action="store_true", help="drop the database first")
    parser.add_argument("--check", action="store_true",
                        help="run the end-to-end journey, print it and exit 0 (all good) or 1")
    parser.add_argument("--port", type=int, default=0, help="Odoo's HTTP port (default: free)")
    parser.add_argument("--emulator-port", type=int, default=0,
                        help="the emulator's port (default: free)")
    parser.add_argument("--log-dir", default=os.path.join(tempfile.gettempdir(), "odoo-demo"),
                        help="where odoo-bin's and the emulator's logs go")


# The emulator process ---------------------------------------------------------------------
class EmulatorProcess:
    """``line-idlink emulator`` (this Python) with the CLI's defaults and the given options."""

    def __init__(self, port, options, log_path):
        self.log = open(log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "line_idlink_dev.cli", "emulator", "--port", str(port),
             "--verbose", *options],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, text=True)
        line = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(60)
        if not line or not line[0]:
            self.stop()
            raise OdooError(f"line-idlink emulator printed nothing; log {log_path}")
        self.info = json.loads(line[0])
        self.url = self.info["base_url"]

    def control(self, method, path, **kwargs):
        answer = requests.request(method, f"{self.url}/__emulator__{path}", timeout=30, **kwargs)
        if answer.status_code >= 400:
            raise CheckFailed(f"emulator {method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def emulator_credentials(seed):
    """The credentials ``line-idlink emulator --seed`` will print (a seed fixes them), so the
    channel, and its webhook URL, exist before the emulator starts."""
    from line_emulator import Emulator

    return Emulator(seed=seed).config.public()


# Setting Odoo up, as its administrator (JSON-RPC) -------------------------------------------
def setup_odoo(rpc, odoo_url, emulator_url, credentials, say):
    rpc.call("ir.config_parameter", "set_param", "web.base.url", odoo_url)
    rpc.call("ir.config_parameter", "set_param", "web.base.url.freeze", "True")
    values = {"name": "LINE demo", "line_channel_id": credentials["channel_id"],
              "channel_secret": credentials["channel_secret"],
              "access_token": credentials["access_token"],
              "login_channel_id": credentials["login_channel_id"],
              "login_channel_secret": credentials["login_channel_secret"],
              "api_base": emulator_url, "auth_base": emulator_url}
    found = rpc.call("line.channel", "search", [("line_channel_id", "=",
                                                  credentials["channel_id"])], limit=1)
    if found:
        channel_id = found[0]
        rpc.call("line.channel", "write", [channel_id], values)
    else:
        channel_id = rpc.call("line.channel", "create", values)
    [channel] = rpc.call("line.channel", "read", [channel_id], ["webhook_url"])
    say(f"channel {channel_id}: webhook URL {channel['webhook_url']}")
    customers = {}
    portal = rpc.call("ir.model.data", "search_read", [("module", "=", "base"),
                                                       ("name", "=", "group_portal")],
                      ["res_id"])[0]["res_id"]
    for name, login in CUSTOMERS:
        found = rpc.call("res.users", "search", [("login", "=", login)], limit=1)
        if found:
            rpc.call("res.users", "write", found, {"password": PASSWORD})
            customers[login] = found[0]
        else:
            customers[login] = rpc.call("res.users", "create", {
                "name": name, "login": login, "email": login, "password": PASSWORD,
                "groups_id": [(6, 0, [portal])]})
    return channel_id, channel["webhook_url"], customers


def publish_menus(rpc, channel_id, say):
    """"Create default menus"; on a reused database the emulator is new (LINE forgot every
    menu): republish the published ones there. Returns {rule role: LINE richMenuId}."""
    rules = rpc.call("line.rich.menu.rule", "search_read", [("channel_id", "=", channel_id)],
                     ["role"])
    if not any(rule["role"] in ("default", "linked") for rule in rules):
        rpc.call("line.channel", "action_create_default_rich_menus", [channel_id])
    else:
        published = rpc.call("line.rich.menu", "search", [("channel_id", "=", channel_id),
                                                          ("state", "=", "published")])
        if published:
            rpc.call("line.rich.menu", "action_republish", published)
    menus = rpc.call("line.rich.menu", "search_read", [("channel_id", "=", channel_id)],
                     ["name", "state", "line_rich_menu_id"])
    say("rich menus: " + ", ".join(f"{m['name']} ({m['state']})" for m in menus))
    line_ids = {m["id"]: m["line_rich_menu_id"] for m in menus}
    rules = rpc.call("line.rich.menu.rule", "search_read", [("channel_id", "=", channel_id)],
                     ["role", "rich_menu_id"])
    return {rule["role"]: line_ids.get(rule["rich_menu_id"][0]) for rule in rules
            if rule["rich_menu_id"]}


def wait_until(what, condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not after {timeout} s")
        time.sleep(0.3)


# A browser ---------------------------------------------------------------------------------
class Browser:
    """A requests session that follows redirects as a browser does (cookies of both sites)."""

    def __init__(self, odoo_url):
        self.odoo = odoo_url
        self.session = requests.Session()

    def get(self, url, **kwargs):
        answer = self.session.get(urljoin(self.odoo, url), timeout=60, **kwargs)
        return answer

    def post(self, url, data, **kwargs):
        return self.session.post(urljoin(self.odoo, url), data=data, timeout=60, **kwargs)

    def log_in(self, login, password=PASSWORD, redirect=None):
        """Odoo's login form (CSRF token from the page); the page it lands on."""
        page = self.get("/web/login" + (f"?redirect={quote(redirect, safe='')}" if redirect
                                        else ""))
        data = {"login": login, "password": password, "csrf_token": csrf(page.text)}
        if redirect:
            data["redirect"] = redirect
        answer = self.post("/web/login", data)
        if urlsplit(answer.url).path == "/web/login":
            raise CheckFailed(f"Odoo refused the password login of {login}")
        return answer

    def session_login(self):
        """Who Odoo says this browser is logged in as (None: a visitor)."""
        try:
            info = JsonRpc(self.odoo, None, session=self.session).post(
                "/web/session/get_session_info", {})
        except OdooError:  # a visitor: "Session expired"
            return None
        return info.get("username") if info and info.get("uid") else None


def csrf(page):
    found = re.search(r'name="csrf_token"\s+value="([^"]+)"', page)
    if not found:
        raise CheckFailed("no CSRF token on the page")
    return found.group(1)


# The journey --------------------------------------------------------------------------------
class Journey:
    def __init__(self, odoo_url, rpc, emulator, channel_id, customers, say):
        self.odoo, self.rpc, self.emu = odoo_url, rpc, emulator
        self.channel_id, self.customers, self.say = channel_id, customers, say
        self.users = {}
        self.menus = {}  # rule role ("default", "linked") -> LINE richMenuId
        self.aiko_browser = None  # logged in as aiko@example.com by the Messaging API link

    def add_line_users(self):
        for name in LINE_USERS:
            self.users[name] = self.emu.control("POST", "/users", json={"displayName": name})[
                "userId"]

    def inbox(self, name):
        return self.emu.control("GET", f"/users/{self.users[name]}/inbox")["messages"]

    def identity(self, name):
        found = self.rpc.call("line.identity", "search_read",
                              [("line_user_id", "=", self.users[name]),
                               ("channel_id", "=", self.channel_id)],
                              ["linked", "partner_id", "link_method", "follow_state", "name"])
        return found[0] if found else None

    def partner_of(self, login):
        return self.rpc.call("res.users", "read", [self.customers[login]], ["partner_id"])[0][
            "partner_id"][0]

    def follow(self, name):
        seen = len(self.inbox(name))
        self.emu.control("POST", f"/users/{self.users[name]}/follow")
        wait_until(f"{name}'s follow reaches Odoo", lambda: (self.identity(name) or {}).get(
            "follow_state") == "followed")
        wait_until(f"{name} is invited to link", lambda: len(self.inbox(name)) > seen)

    def link_url(self, name):
        """{name} taps 連携する (the link postback): the /line/link URL of the bot's button."""
        seen = len(self.inbox(name))
        self.emu.control("POST", f"/users/{self.users[name]}/postback",
                         json={"data": POSTBACK_LINK})

        def found():
            for entry in self.inbox(name)[seen:]:
                hit = re.search(r'"(https?://[^"]+/line/link\?linkToken=[^"]+)"',
                                json.dumps(entry["message"]))
                if hit:
                    return hit.group(1)
            return None

        return wait_until(f"the bot sends {name} a link button", found)

    def signed_in_to_line(self, browser, name):
        """The browser is "signed in to LINE" as the simulated user (the emulator's cookie)."""
        answer = browser.get(f"{self.emu.url}/__emulator__/users/{self.users[name]}/signin")
        if answer.status_code != 200:
            raise CheckFailed(f"signing in to LINE as {name}: {answer.status_code}")

    def run(self):
        steps = [("Aiko adds the bot as a friend: Odoo stores her, LINE shows the invitation",
                  lambda: self.follow("Aiko")),
                 ("Aiko links with the Messaging API (link URL, portal login, confirm, LINE "
                  "dialog, accountLink webhook)", self.messaging_api_link),
                 ("Kenji links with LINE Login from /my/line", self.line_login_link),
                 ("Kenji logs in with LINE (no password)", self.log_in_with_line),
                 ("Aiko unlinks on /my/line", self.unlink)]
        failed = 0
        for title, step in steps:
            started = time.monotonic()
            try:
                detail = step()
            except Exception as exc:  # noqa: BLE001 - every failure is a failed step, reported
                failed += 1
                reason = str(exc) if isinstance(exc, (CheckFailed, OdooError)) else repr(exc)
                self.say(f"FAIL  {title}\n      {reason}")
            else:
                self.say(f"ok    {title} ({time.monotonic() - started:.1f} s)"
                         + (f"\n      {detail}" if detail else ""))
        return failed

    def messaging_api_link(self):
        link = self.link_url("Aiko")
        if not link.startswith(self.odoo + "/line/link?"):
            raise CheckFailed(f"the link button opens {link}, not this Odoo")
        browser = Browser(self.odoo)
        # not logged in: the link page sends the customer to the login page, then back
        first = browser.get(link, allow_redirects=False)
        if first.status_code not in (302, 303) or "/web/login" not in first.headers["Location"]:
            raise CheckFailed(f"the link page without a login answered {first.status_code}")
        redirect = urlsplit(link)._replace(scheme="", netloc="").geturl()
        page = browser.log_in("aiko@example.com", redirect=redirect)
        if "o_line_link_confirm" not in page.text or "Aiko" not in page.text:
            raise CheckFailed(f"after the login, {page.url} is not the confirmation page "
                              "naming the LINE account Aiko")
        token = re.search(r'name="linkToken"\s+value="([^"]+)"', page.text).group(1)
        answer = browser.post("/line/link/confirm", {"csrf_token": csrf(page.text),
                                                     "linkToken": html.unescape(token)},
                              allow_redirects=False)
        dialog = answer.headers.get("Location", "")
        if not dialog.startswith(self.emu.url + "/dialog/bot/accountLink?"):
            raise CheckFailed(f"the confirmation answered {answer.status_code} {dialog!r}, "
                              "not LINE's account-link dialog")
        self.signed_in_to_line(browser, "Aiko")
        shown = browser.get(dialog)
        if "Accounts linked" not in shown.text:
            raise CheckFailed(f"LINE's dialog shows: {shown.text[:300]}")
        aiko = self.partner_of("aiko@example.com")
        identity = wait_until("the accountLink webhook links Aiko in Odoo", lambda: (
            lambda i: i if i and i["linked"] and i["partner_id"][0] == aiko else None)(
            self.identity("Aiko")))
        if identity["link_method"] != "messaging_api":
            raise CheckFailed(f"link method {identity['link_method']}")
        wait_until("Aiko gets the confirmation in LINE", lambda: any(
            "連携が完了" in json.dumps(m["message"], ensure_ascii=False)
            for m in self.inbox("Aiko")))
        page = browser.get("/my/line")
        if "o_line_identity" not in page.text:
            raise CheckFailed("/my/line does not show the link")
        linked_menu = self.menus["linked"]
        wait_until("Aiko's LINE shows the linked rich menu", lambda: self.rich_menu(
            "Aiko")["richMenuId"] == linked_menu)
        self.aiko_browser = browser
        return (f"identity linked to partner {identity['partner_id'][1]}; her LINE shows the "
                "linked rich menu")

    def rich_menu(self, name):
        return self.emu.control("GET", f"/users/{self.users[name]}/richmenu")

    def line_login_link(self):
        browser = Browser(self.odoo)
        browser.log_in("kenji@example.com", redirect="/my/line")
        page = browser.get("/my/line")
        button = re.search(r'href="(/line/login/start\?[^"]*mode=link[^"]*)"', page.text)
        if not button:
            raise CheckFailed("/my/line has no 'Link with LINE' button")
        self.signed_in_to_line(browser, "Kenji")
        landed = browser.get(html.unescape(button.group(1)))
        if "o_line_linked_ok" not in landed.text:
            raise CheckFailed(f"LINE Login ended on {landed.url} ({landed.status_code}): "
                              + _text(landed.text))
        kenji = self.partner_of("kenji@example.com")
        identity = self.identity("Kenji")
        if not (identity and identity["linked"] and identity["partner_id"][0] == kenji
                and identity["link_method"] == "line_login"):
            raise CheckFailed(f"Odoo's identity of Kenji: {identity}")
        return f"ID token accepted on Odoo's clock; linked to {identity['partner_id'][1]}"

    def log_in_with_line(self):
        browser = Browser(self.odoo)
        page = browser.get("/web/login")
        button = re.search(r'<a\b[^>]*\bo_line_login\b[^>]*>', page.text)
        if not button:
            raise CheckFailed("the login page has no 'Log in with LINE' button")
        href = html.unescape(re.search(r'href="([^"]*)"', button.group(0)).group(1))
        self.signed_in_to_line(browser, "Kenji")
        landed = browser.get(href)
        who = browser.session_login()
        if who != "kenji@example.com":
            raise CheckFailed(f"after Log in with LINE, Odoo says the browser is {who!r} "
                              f"(page {landed.url}: {_text(landed.text)})")
        return "the browser's Odoo session is kenji@example.com"

    def unlink(self):
        browser = self.aiko_browser
        if browser is None:
            raise CheckFailed("Aiko is not linked (the Messaging API link step failed)")
        page = browser.get("/my/line")
        form = re.search(r'action="(/my/line/unlink/\d+)"', page.text)
        if not form:
            raise CheckFailed("/my/line has no unlink form")
        done = browser.post(form.group(1), {"csrf_token": csrf(page.text)})
        if "o_line_unlinked_ok" not in done.text:
            raise CheckFailed(f"unlinking answered {done.status_code} on {done.url}")
        identity = self.identity("Aiko")
        if identity["linked"]:
            raise CheckFailed("Odoo still says Aiko is linked")
        wait_until("Aiko's LINE shows the default rich menu again", lambda: self.rich_menu(
            "Aiko") == {"richMenuId": self.menus["default"], "source": "default"})
        return "Odoo says not linked; her LINE shows the default menu again"

    def serve_urls(self, odoo_port):
        """For a person with a browser: everyone follows, Yui asks for a link."""
        for name in LINE_USERS:
            self.follow(name)
        yui_link = self.link_url("Yui")
        line = self.emu.url
        say = self.say
        say("")
        say(f"== Odoo {self.odoo} (port {odoo_port}) with the LINE emulator {line} "
            f"(port {urlsplit(line).port}): Ctrl-C stops both")
        say(f"   back office: {self.odoo}/odoo   login admin / password admin")
        say(f"                LINE > Configuration > Channels > LINE demo; LINE > LINE Users")
        say(f"   portal:      {self.odoo}/web/login   "
            + " / ".join(login for _name, login in CUSTOMERS) + f", password {PASSWORD}")
        say("   Sign in to LINE as a simulated user (the LINE app knows who you are; a browser "
            "needs telling), then go on to Odoo:")
        for name in LINE_USERS:
            target = yui_link if name == "Yui" else f"{self.odoo}/my/line"
            say(f"     {name:6} {line}/__emulator__/users/{self.users[name]}/signin?next="
                f"{quote(target, safe=':/')}")
        say("   Yui's link is the button the bot sent her: log in as yui@example.com, confirm,"
            " and LINE's dialog links her.")
        say("   On /my/line, 'Link with LINE' links with LINE Login; /web/login has 'Log in with"
            " LINE'.")
        say("   What a LINE user sees, and how they tap 連携する in the chat:")
        aiko = self.users["Aiko"]
        say(f"     {line}/__emulator__/users/{aiko}/inbox")
        say(f"     curl -X POST {line}/__emulator__/users/{aiko}/postback "
            f"-H 'Content-Type: application/json' -d '{{\"data\": \"{POSTBACK_LINK}\"}}'")


def _text(page):
    """What the page says: its alert (Odoo's error pages put the reason there), else its text."""
    alert = re.search(r'<[^>]*role="alert"[^>]*>(.*?)</', page, re.S)
    body = alert.group(1) if alert else re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())[:300]


# Main ---------------------------------------------------------------------------------------
def run(args, stop=None):
    say = _printer()
    try:
        odoo = OdooInstallation.from_env()
    except OdooUnavailable as exc:
        print(f"odoo-demo: {exc}", file=sys.stderr)
        return 2
    check = args.check
    db = args.db or (f"{DEFAULT_DB}_check_{os.getpid()}" if check else DEFAULT_DB)
    os.makedirs(args.log_dir, exist_ok=True)
    odoo_log = os.path.join(args.log_dir, f"{db}.odoo.log")
    emulator_log = os.path.join(args.log_dir, f"{db}.emulator.log")
    for path in (odoo_log, emulator_log):
        open(path, "w").close()
    server = emulator = None
    try:
        state = prepare_database(odoo, db, reset=args.reset or check, log=odoo_log, say=say)
        say(f"database {db}: {state}")
        server = OdooServer(odoo, db, port=args.port, cron_threads=1, log_path=odoo_log).start()
        say(f"odoo-bin serving {server.url} (log {odoo_log})")
        rpc = JsonRpc(server.url, db).login("admin", "admin")
        emulator_port = args.emulator_port or free_port()
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        credentials = emulator_credentials(SEED)
        channel_id, webhook_url, customers = setup_odoo(rpc, server.url, emulator_url,
                                                        credentials, say)
        emulator = EmulatorProcess(emulator_port, [
            "--seed", str(SEED), "--webhook-url", webhook_url,
            "--login-callback-url", f"{server.url}/line/login/callback"], emulator_log)
        printed = {k: v for k, v in emulator.info.items() if k in credentials}
        if printed != credentials:
            raise OdooError("the emulator's credentials are not the ones its seed gives")
        say(f"line-idlink emulator serving {emulator.url}, clock {emulator.info['clock']} "
            f"from {emulator.info['clock_start']} (log {emulator_log})")
        test = rpc.call("line.channel", "action_test_connection", [channel_id])
        say(f"Test connection: {test['params']['message']}")
        if test["params"]["type"] != "success":
            raise OdooError("Test connection failed")
        menus = publish_menus(rpc, channel_id, say)
        journey = Journey(server.url, rpc, emulator, channel_id, customers, say)
        journey.menus = menus
        journey.add_line_users()
        if check:
            say("== end-to-end journey over HTTP (Odoo, the emulator's control API and browsers)")
            failed = journey.run()
            say(f"== {'all steps ok' if not failed else f'{failed} step(s) FAILED'}")
            return 1 if failed else 0
        journey.serve_urls(server.port)
        (stop or _ctrl_c()).wait()
        return 0
    except (OdooError, CheckFailed, requests.RequestException) as exc:
        say(f"odoo-demo: ERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if emulator:
            emulator.stop()
        if server:
            server.stop()
        if check and not os.environ.get("KEEP_DB") == "1":
            drop_database(db)
        elif check:
            say(f"KEEP_DB=1: kept database {db}")


def _ctrl_c():
    import signal

    event = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: event.set())
    return event


def _printer():
    def say(text=""):
        print(text, flush=True)

    return say


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/odoo-demo", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
