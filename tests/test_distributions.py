"""The three distributions stand on their own (issue 9 item 1).

- ``line-emulator`` installs alone into a clean venv (``pip install ./emulator``: werkzeug,
  requests, pyjwt[crypto]),
  its console script serves, and a line-bot-sdk v3 push from this project's venv reaches a
  simulated user's inbox; the core ``line_idlink`` is not importable there.
- The core wheel (``pip wheel . --no-deps``) holds ``line_idlink/**`` only (no emulator, reference
  shop, benchmarks or addon) and requires only line-bot-sdk, pyjwt[crypto] and requests.

Both build from a copy of the sources in a temporary folder (setuptools writes build/ and
*.egg-info beside the sources) and use the machine's package index as pip is configured; about
half a minute together.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
import requests
from linebot.v3.messaging import (ApiClient, Configuration, MessagingApi, PushMessageRequest,
                                  TextMessage)

ROOT = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist", "*.egg-info")
# the clean venv sees nothing of this work tree (no PYTHONPATH, no active venv)
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV",
                                                                "PYTHONHOME")}


def pip(python, *args, timeout=300):
    done = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=timeout, env=CLEAN_ENV)
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def emulator_venv(tmp_path_factory):
    """A clean venv with nothing but ``pip install ./emulator`` in it."""
    tmp = tmp_path_factory.mktemp("emulator-alone")
    source = tmp / "emulator"
    shutil.copytree(ROOT / "emulator", source, ignore=IGNORE)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120,
                   env=CLEAN_ENV)
    python = venv / "bin" / "python"
    pip(python, "install", "-q", str(source))
    return venv


def test_the_emulator_venv_has_werkzeug_and_not_the_core(emulator_venv):
    python = emulator_venv / "bin" / "python"
    frozen = pip(python, "list", "--format=freeze").stdout.lower()
    names = {line.split("==")[0] for line in frozen.split()}
    assert {"line-emulator", "werkzeug", "requests", "pyjwt", "cryptography"} <= names
    assert not names & {"line-idlink", "line-idlink-devtools", "line-bot-sdk"}
    done = subprocess.run([str(python), "-c", "import line_idlink"], capture_output=True,
                          text=True, timeout=60, env=CLEAN_ENV, cwd=emulator_venv)
    assert done.returncode != 0 and "No module named 'line_idlink'" in done.stderr


def test_the_emulator_cli_serves_a_line_bot_sdk_push(emulator_venv):
    process = subprocess.Popen([str(emulator_venv / "bin" / "line-emulator"), "--port", "0",
                                "--seed", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=CLEAN_ENV, cwd=emulator_venv)
    try:
        line = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()))
        reader.start()
        reader.join(60)
        assert line and line[0], "line-emulator printed no JSON line: " + process.stderr.read()
        info = json.loads(line[0])
        control = info["base_url"] + "/__emulator__"
        user = requests.post(control + "/users", json={"displayName": "Aiko"}, timeout=10)
        assert user.status_code == 201
        user_id = user.json()["userId"]
        requests.post(f"{control}/users/{user_id}/follow", timeout=10).raise_for_status()

        configuration = Configuration(host=info["base_url"], access_token=info["access_token"])
        with ApiClient(configuration) as client:
            MessagingApi(client).push_message(PushMessageRequest(
                to=user_id, messages=[TextMessage(text="こんにちは from line-bot-sdk")]))

        inbox = requests.get(f"{control}/users/{user_id}/inbox", timeout=10).json()["messages"]
        assert [m["message"]["text"] for m in inbox] == ["こんにちは from line-bot-sdk"]
        assert inbox[0]["api"] == "push"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0


def test_the_core_wheel_holds_the_core_only(tmp_path):
    source = tmp_path / "core"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    # the whole repository's top level, as `pip wheel .` sees it: every folder is a candidate
    for folder in ("line_idlink", "line_idlink_addon", "emulator", "devtools"):
        shutil.copytree(ROOT / folder, source / folder, ignore=IGNORE)
    pip(sys.executable, "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(source))
    [wheel] = (tmp_path / "dist").glob("line_idlink-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(archive.read(metadata).decode())
    code = [n for n in names if ".dist-info/" not in n]
    assert code and all(n.startswith("line_idlink/") for n in code), sorted(
        n for n in code if not n.startswith("line_idlink/"))
    assert "line_idlink/storage/sqlite.py" in code
    assert not [n for n in code if any(part in n for part in (
        "emulator", "reference", "bench", "line_idlink_addon", "odoo_"))]
    requires = meta.get_all("Requires-Dist")
    names = sorted(re.match(r"[A-Za-z0-9_.-]+", r).group().lower() for r in requires)
    assert names == ["line-bot-sdk", "pyjwt", "requests"], requires
    assert any(r.startswith("pyjwt[crypto]") for r in requires)


def test_the_emulator_and_the_core_enforce_the_same_rate_limit_table():
    """LINE's published table lives twice, since neither distribution depends on the other: the
    core's client-side limiter and the emulator's server side must not drift apart."""
    from line_emulator import ratelimit as server
    from line_idlink import ratelimit as client

    assert server.LINE_LIMITS == client.LINE_LIMITS
    assert server.DEFAULT_LIMIT == client.DEFAULT_LIMIT
