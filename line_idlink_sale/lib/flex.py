"""LINE message objects of the sales answers and notices, built from display strings the models
prepare (labels translated with Odoo's ``_``, dates and amounts formatted in the customer's
language). Pure functions: no Odoo import, so they are easy to check in isolation.

Limits are LINE's (Messaging API reference, "Flex Message" and "Message objects"): altText at
most 400 characters, a carousel at most 12 bubbles, an action label at most 40 characters in a
Flex button, a URI at most 1,000 characters. ``line.message`` checks the sizes again before a
push is queued.
"""

from line_idlink.texts import u16clip

ALT_TEXT_MAX = 400
TEXT_MAX = 5000
LABEL_MAX = 40
URI_MAX = 1000
CAROUSEL_MAX = 12
MUTED = "#888888"
ALERT = "#D0312D"


def _text(value, **style):
    value = str(value) if value not in (None, False, "") else "-"  # LINE refuses empty text
    return {"type": "text", "text": value, "wrap": True, **style}


def _row(label, value, **style):
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(label, size="sm", color=MUTED, flex=2), _text(value, size="sm", flex=4, **style)]}


def uri_button(label, url):
    if not url or len(url) > URI_MAX:
        return None
    return {"type": "button", "style": "link", "height": "sm",
            "action": {"type": "uri", "label": u16clip(label, LABEL_MAX), "uri": url}}


def bubble(title, rows=(), big=None, note=None, buttons=(), alert_rows=()):
    """One kilo bubble: a title, an optional big figure, label/value rows (``alert_rows``: the
    indexes drawn in red, e.g. overdue), a note and link buttons."""
    body = [_text(big, size="xl", weight="bold")] if big is not None else []
    for index, (label, value) in enumerate(rows):
        style = {"color": ALERT, "weight": "bold"} if index in alert_rows else {}
        body.append(_row(label, value, **style))
    if note:
        body.append(_text(note, size="xs", color=MUTED))
    result = {"type": "bubble", "size": "kilo",
              "header": {"type": "box", "layout": "vertical",
                         "contents": [_text(title, weight="bold", size="md")]},
              "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                       "contents": body or [_text(title, size="sm")]}}
    footer = [button for button in buttons if button]
    if footer:
        result["footer"] = {"type": "box", "layout": "vertical", "contents": footer}
    return result


def flex(alt_text, bubbles):
    """A Flex message: one bubble, or a carousel of up to 12."""
    bubbles = list(bubbles)[:CAROUSEL_MAX]
    contents = bubbles[0] if len(bubbles) == 1 else {"type": "carousel", "contents": bubbles}
    return {"type": "flex", "altText": u16clip(alt_text, ALT_TEXT_MAX), "contents": contents}


def text(body):
    return {"type": "text", "text": u16clip(body, TEXT_MAX)}


def notice(body, button_label=None, url=None):
    """A transactional notice: the rendered template text, with a link button when there is a
    page to open (portal page, tracking page); a plain text message otherwise."""
    button = uri_button(button_label, url) if button_label else None
    if not button:
        return text(body)
    result = {"type": "bubble", "size": "kilo",
              "body": {"type": "box", "layout": "vertical",
                       "contents": [_text(u16clip(body, 2000), size="sm")]},
              "footer": {"type": "box", "layout": "vertical", "contents": [button]}}
    return {"type": "flex", "altText": u16clip(body, ALT_TEXT_MAX), "contents": result}
