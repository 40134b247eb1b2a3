"""A simulated user's chat, as a browser page (the LINE app's chat screen, much simplified):
``GET /__emulator__/users/{userId}/chat`` shows the messages the bot sent the user, oldest first
(texts, and Flex bubbles with their texts and their link buttons as links a browser can follow),
and a box to send the bot a text; ``POST`` the same path with ``text`` sends it (a ``message``
event, like :meth:`SimUser.say`) and comes back to the page.

Links open directly (the page does not go through :meth:`SimUser.open_url`)."""

import html
from urllib.parse import quote

from werkzeug.wrappers import Response

from ...errors import LineError
from ...users import SimUser

HTML = {"Content-Type": "text/html; charset=utf-8"}
STYLE = """
body{font-family:sans-serif;background:#8cabd9;margin:0;padding:12px;max-width:640px}
h1{font-size:18px;color:#fff;margin:0 0 12px}
.le-msg{margin:8px 0}.le-text{background:#fff;border-radius:14px;padding:8px 12px;
display:inline-block;white-space:pre-wrap}
.le-carousel{display:flex;gap:8px;overflow-x:auto}
.le-bubble{background:#fff;border-radius:14px;padding:10px 12px;min-width:200px}
.le-bubble p{margin:2px 0}.le-button{display:block;text-align:center;margin-top:8px;padding:6px;
border-radius:8px;background:#06c755;color:#fff;text-decoration:none}
.le-sent{text-align:right;color:#fff}
form{display:flex;gap:6px;margin-top:16px}input{flex:1;padding:8px;font-size:16px}
"""


def _page(user, body):
    title = html.escape(f"{user.display_name} – LINE")
    text = (f"<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>")
    return 200, text.encode("utf-8"), dict(HTML)


def _nodes(value):
    """Every dict inside a message, in document order."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _bubble(bubble):
    parts = []
    for node in _nodes(bubble):
        if node.get("type") == "text" and isinstance(node.get("text"), str):
            parts.append(f"<p>{html.escape(node['text'])}</p>")
        elif node.get("type") == "button" and isinstance(node.get("action"), dict):
            action = node["action"]
            label = html.escape(str(action.get("label") or ""))
            if action.get("type") == "uri" and str(action.get("uri", "")).startswith(
                    ("http://", "https://")):
                parts.append(f"<a class=\"le-button\" href=\"{html.escape(action['uri'])}\">"
                             f"{label}</a>")
            else:
                parts.append(f"<span class=\"le-button\">{label}</span>")
    return f"<div class=\"le-bubble\">{''.join(parts)}</div>"


def render_message(message):
    """One message of the inbox as HTML."""
    kind = message.get("type")
    if kind in ("text", "textV2"):
        return f"<div class=\"le-msg le-text\">{html.escape(message.get('text') or '')}</div>"
    if kind == "flex":
        contents = message.get("contents") or {}
        bubbles = contents.get("contents") if contents.get("type") == "carousel" else [contents]
        alt = html.escape(message.get("altText") or "")
        return (f"<div class=\"le-msg le-flex le-carousel\" title=\"{alt}\">"
                f"{''.join(_bubble(bubble) for bubble in bubbles or [])}</div>")
    return f"<div class=\"le-msg le-other\">[{html.escape(str(kind))}]</div>"


def _user(call):
    record = call.emu.users.get(call.args["userId"])
    if record is None:
        raise LineError(404, f"Unknown user {call.args['userId']}")
    return SimUser(call.emu, record)


def chat_page(call):
    user = _user(call)
    messages = "".join(render_message(entry["message"]) for entry in user.inbox)
    sent = call.query("sent")
    sent_html = f"<div class=\"le-msg le-sent\">{html.escape(sent)}</div>" if sent else ""
    form = ("<form method=\"post\"><input name=\"text\" autocomplete=\"off\" "
            "placeholder=\"Aa\"><button type=\"submit\">Send</button></form>")
    return _page(user, f"<div class=\"le-chat\">{messages}{sent_html}</div>{form}")


def chat_send(call):
    """Send the bot the form's ``text``, then show the chat again (303, Post/Redirect/Get)."""
    user = _user(call)
    text = (call.request.form.get("text") or "").strip()
    if not text:
        raise LineError(400, "text must be a non-empty string")
    user.say(text)
    location = f"{call.request.path}?sent={quote(text)}"
    return Response(b"", status=303, headers={"Location": location})
