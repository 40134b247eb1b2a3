"""The remaining routes (home, login/signup/logout, guards), `line-idlink reference` against a
running emulator, and `scripts/demo --serve`."""

import argparse
import json
import re
import threading

import requests

from line_idlink_dev import cli
from line_idlink_dev.demo import main as demo_main
from line_emulator import Emulator, EmulatorServer
from line_idlink_dev.reference.__main__ import add_arguments, run


def test_pages_guard_login_and_logout_ends_the_session(shop):
    browser = shop.browser()
    home = browser.get(f"{shop.url}/", follow=False)
    assert home.status_code == 302 and home.headers["Location"].endswith("/login")
    guarded = browser.get(f"{shop.url}/my/line", follow=False)
    assert guarded.status_code == 302 and "/login?next=%2Fmy%2Fline" in guarded.headers["Location"]
    assert browser.get(f"{shop.url}/line/login?purpose=admin").status_code == 400
    page = browser.get(f"{shop.url}/line/login?purpose=link")  # linking needs a logged-in customer
    assert "/login" in page.url

    page = browser.get(f"{shop.url}/login")
    wrong = browser.submit(page, "/login", email="aiko@example.com", password="nope")
    assert wrong.status_code == 401 and "違います" in wrong.text
    offsite = browser.submit(wrong, "/login", email="aiko@example.com", password="line-demo",
                             next="https://evil.example/")
    assert offsite.url == f"{shop.url}/my/line"  # no open redirect after login
    assert "佐藤 愛子様" in offsite.text and "いつでも解除" in offsite.text

    taken = browser.get(f"{shop.url}/signup")
    taken = browser.submit(taken, "/signup", name="X", email="kenji@example.com",
                           password="password1")
    assert taken.status_code == 400 and "log in instead" in taken.text

    page = browser.get(f"{shop.url}/my/line")
    browser.submit(page, "/logout")
    assert "/login" in browser.get(f"{shop.url}/my/line").url


def test_line_idlink_reference_serves_the_shop_against_a_running_emulator(tmp_path):
    assert "reference" in [name for name, *_ in cli.COMMANDS]
    emulator = EmulatorServer(Emulator(seed=9)).start()
    lines, stop = [], threading.Event()
    args = add_arguments(argparse.ArgumentParser()).parse_args(
        ["--emulator-url", emulator.base_url, "--db", str(tmp_path / "shop.db"), "--port", "0"])
    ready = threading.Event()

    def out(line):
        lines.append(line)
        ready.set()

    thread = threading.Thread(target=run, args=(args, out, stop), daemon=True)
    thread.start()
    try:
        assert ready.wait(20)
        info = json.loads(lines[0])
        assert emulator.emulator.config.webhook_url == info["webhook_url"]
        user = emulator.emulator.add_user("Hana")
        user.follow()
        assert [m["message"]["type"] for m in user.inbox] == ["text", "template"]
        assert requests.get(info["login"], timeout=10).status_code == 200
    finally:
        stop.set()
        thread.join(10)
        emulator.stop()
    assert not thread.is_alive()


def test_demo_serve_keeps_both_running_until_stopped():
    lines, stop, served = [], threading.Event(), threading.Event()

    def out(line=""):
        lines.append(line)
        if "/signin?next=" in line and line.strip().startswith("Yui"):
            served.set()

    result = []
    thread = threading.Thread(target=lambda: result.append(demo_main(["--serve"], out, stop)),
                              daemon=True)
    thread.start()
    try:
        assert served.wait(60), "\n".join(lines)
        text = "\n".join(lines)
        shop = re.search(r"shop:\s+(\S+)/login", text).group(1)
        yui_signin = re.search(r"Yui\s+(\S+/signin\?next=\S+)", text).group(1)
        with requests.Session() as browser:
            page = browser.get(yui_signin, timeout=10)  # LINE sign-in, then Yui's link -> login
            assert page.url.startswith(f"{shop}/login?next=")
            assert browser.get(f"{shop}/login", timeout=10).status_code == 200
    finally:
        stop.set()
        thread.join(20)
    assert result == [0]
