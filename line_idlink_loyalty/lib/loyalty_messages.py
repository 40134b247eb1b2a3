"""Flex answers of the loyalty bridge: one bubble per loyalty/eWallet card (program, points in
the program's own point name, tier, expiry). Labels come translated from the caller (Odoo's
``_()`` in the customer's language); sizes follow the core's limits."""

from line_idlink import message_builders
from line_idlink.texts import ALT_TEXT_MAX, FLEX_LABEL_MAX

MUTED = "#888888"
CAROUSEL_MAX = 12  # LINE: at most 12 bubbles in a carousel


def _text(value, **style):
    value = str(value) if value not in (None, False, "") else "-"  # LINE refuses empty text
    return {"type": "text", "text": value, "wrap": True, **style}


def _row(label, value):
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(label, size="sm", color=MUTED, flex=2), _text(value, size="sm", flex=4)]}


def card_bubble(card, labels, url=None):
    """``card``: one entry of ``loyalty.card._line_card_values``; ``labels``: translated
    ``tier``, ``expires``, ``no_expiry``, ``details``."""
    rows = []
    if card.get("tier"):
        rows.append(_row(labels["tier"], card["tier"]))
    rows.append(_row(labels["expires"], card.get("expiration_date") or labels["no_expiry"]))
    bubble = {"type": "bubble", "size": "kilo",
              "header": {"type": "box", "layout": "vertical",
                         "contents": [_text(card["program"], weight="bold", size="md")]},
              "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                       "contents": [_text(card["points_display"], size="xxl", weight="bold",
                                          wrap=True)] + rows}}
    if url:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [{
            "type": "button", "style": "link", "height": "sm",
            "action": message_builders.uri_action(labels["details"], url,
                                                  label_max=FLEX_LABEL_MAX)}]}
    return bubble


def points_answer(cards, labels, alt_text, url=None):
    """A Flex carousel of the customer's cards (the first 12), or None when there are none."""
    cards = list(cards)[:CAROUSEL_MAX]
    if not cards:
        return None
    contents = {"type": "carousel", "contents": [card_bubble(c, labels, url) for c in cards]}
    alt = alt_text[:ALT_TEXT_MAX]
    return {"type": "flex", "altText": alt, "contents": contents}
