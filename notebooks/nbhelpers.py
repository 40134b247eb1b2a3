"""Small helpers shared by the notebooks. They print things and start plumbing; every LINE flow is
written out in the notebooks themselves, so a reader sees each call that matters.

- :func:`quiet`: no log lines or warnings in cell outputs (nbval compares outputs strictly, and a
  log line from a server thread lands in whatever cell is running).
- :func:`serve`: run a WSGI app (the notebook's bot) on 127.0.0.1 and a free port, in a thread;
  :func:`direct_session`: a requests session that never goes through an environment proxy.
- :class:`RequestLog`: print what LINE received since the last look, one line per request.
- :func:`seeded_uuids` / :class:`RecordingSleep`: retry keys and backoff waits that repeat run to
  run, and sleeps that only record (the emulator's clock is frozen; nothing needs real waiting).
- :func:`short`, :func:`show_events`, :func:`show_json`: compact, stable printing.

Nothing here prints a port, a real time or a latency: those change from run to run.
"""

import json
import logging
import random
import re
import threading
import uuid
import warnings

from werkzeug.serving import make_server

from line_emulator.server import QuietHandler

SECRET_FIELDS = {"client_secret", "code_verifier", "access_token", "refresh_token", "id_token",
                 "userAccessToken", "nonce", "state", "code_challenge"}
_LINE_ID = re.compile(r"\b([UCR])([0-9a-f]{32})\b")
_MENU_ID = re.compile(r"richmenu-([0-9a-f]{32})")


def quiet():
    """Silence every logger and the usual deprecation noise (see the module doc)."""
    logging.disable(logging.CRITICAL)
    logging.getLogger("werkzeug").disabled = True
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)


# Serving the notebook's bot ------------------------------------------------------------------------
class Served:
    """A WSGI app on ``url``; :meth:`stop` shuts it down."""

    def __init__(self, app, path="/line/webhook"):
        self._server = make_server("127.0.0.1", 0, app, threaded=True,
                                   request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def serve(app, path="/line/webhook"):
    return Served(app, path)


def direct_session():
    """A requests session that ignores proxy settings from the environment: the emulator and
    the bot run on 127.0.0.1 and must be reached directly."""
    import requests

    session = requests.Session()
    session.trust_env = False
    return session


# Determinism -----------------------------------------------------------------------------------
def seeded_uuids(seed):
    """A ``key_factory`` for ``Sender``: UUID4 strings from a seeded generator."""
    rng = random.Random(seed)
    return lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))


class RecordingSleep:
    """Use as ``sleep=``: records each wait (rounded to ms) instead of sleeping."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(round(float(seconds), 3))


# Printing ------------------------------------------------------------------------------------------
def short(value):
    """Shorten LINE ids inside any string: ``U4f3c…`` for userIds, ``richmenu-1a2b…`` for menus."""
    text = str(value)
    text = _LINE_ID.sub(lambda m: f"{m.group(1)}{m.group(2)[:5]}…", text)
    return _MENU_ID.sub(lambda m: f"richmenu-{m.group(1)[:5]}…", text)


def masked(value, keys=SECRET_FIELDS):
    """A copy of a JSON value with the secret fields replaced by ``<secret>``."""
    if isinstance(value, dict):
        return {k: "<secret>" if k in keys and v else masked(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, keys) for v in value]
    return value


def compact(value, width=110):
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = short(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def show_json(value, width=110):
    print(compact(value, width))


class RequestLog:
    """Prints the emulator's request log since the previous call: what LINE received."""

    def __init__(self, emu):
        self.emu = emu
        self.seen = len(emu.request_log)
        self.last = []  # the entries the last show() printed

    def new(self):
        entries = self.emu.request_log[self.seen:]
        self.seen += len(entries)
        return entries

    def show(self, bodies=False, width=110):
        """Print the new entries (kept in ``self.last``); returns nothing, so a cell that ends
        with ``log.show()`` shows no extra output."""
        entries = self.last = self.new()
        if not entries:
            print("(no requests)")
        for entry in entries:
            status = "dropped" if entry["status"] is None else entry["status"]
            line = (f"#{entry['seq']:<3} {entry['method']:<6} {short(entry['path']):<48} "
                    f"{status!s:>7}  {entry['endpoint']}")
            if entry.get("retryKey"):
                line += f"  key={entry['retryKey'][:8]}"
            if entry.get("fault"):
                line += f"  [fault: {entry['fault']}]"
            print(line)
            if bodies and entry.get("body") is not None:
                print("       body:", compact(masked(entry["body"]), width - 13))

    def skip(self):
        """Forget the entries so far (they were shown elsewhere)."""
        self.new()


def event_summary(event):
    """One line for a webhook event: type, user, what it carries."""
    parts = [f"{event['type']:<12}"]
    user = (event.get("source") or {}).get("userId")
    parts.append(short(user) if user else "(no source)")
    if event.get("deliveryContext", {}).get("isRedelivery"):
        parts.append("REDELIVERY")
    kind = event["type"]
    if kind == "message":
        parts.append(repr(event["message"].get("text")))
    elif kind == "postback":
        parts.append(f"data={event['postback']['data']!r}")
        if event["postback"].get("params"):
            parts.append(f"params={event['postback']['params']}")
    elif kind == "accountLink":
        parts.append(f"result={event['link']['result']} nonce=<{len(event['link']['nonce'])} chars>")
    elif kind == "follow":
        parts.append(f"isUnblocked={event['follow']['isUnblocked']}")
    parts.append(f"id={event['webhookEventId'][-6:]}")
    return "  ".join(parts)


def show_events(events):
    for event in events:
        print(event_summary(event))


def describe_message(message):
    """What the user sees of one message, on one line: text, or alt text plus the buttons."""
    kind = message.get("type")
    if kind == "text":
        return "text: " + message["text"].replace("\n", " / ")
    if kind == "template":
        template = message["template"]
        buttons = []
        for action in template.get("actions", []):
            target = action.get("uri") or action.get("data") or action.get("text")
            buttons.append(f"[{action.get('label')}] -> {short(target)}")
        return f"{template['type']}: {template.get('text', '')}  " + "  ".join(buttons)
    if kind == "flex":
        return "flex: " + message.get("altText", "")
    return compact(message)


class Inbox:
    """Prints the messages a simulated user received since the last look."""

    def __init__(self, user):
        self.user = user
        self.seen = len(user.inbox)
        self.last = []  # the inbox items the last show() printed

    def show(self):
        items = self.last = self.user.inbox[self.seen:]
        self.seen += len(items)
        if not items:
            print(f"{self.user.display_name}'s chat: (nothing new)")
        for item in items:
            print(f"{self.user.display_name}'s chat <- {item['api']}: "
                  f"{describe_message(item['message'])}")
