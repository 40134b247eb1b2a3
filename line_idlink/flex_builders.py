"""Flex builders for the in-chat services (orders, balance, points, member card). Values come from
the linked customer's own records; the caller passes display strings for states and may pass
pre-formatted amounts (``str``)."""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .message_builders import text, uri_action
from .texts import (ALT_TEXT_MAX, FLEX_BUBBLE_BYTES, FLEX_CAROUSEL_BUBBLES, FLEX_CAROUSEL_BYTES,
                    FLEX_LABEL_MAX, MessageTooLarge, _fit, _t, json_size)

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK"}
CURRENCY_SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}
MUTED = "#888888"


def format_amount(amount, currency="JPY"):
    """``¥1,234`` / ``$12.50`` / ``1,234.00 THB``; a ``str`` amount is shown as given."""
    if isinstance(amount, str):
        return _fit(amount, 100, "amount")
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValueError(f"amount must be a number or a formatted string, not {amount!r}")
    if not value.is_finite():
        raise ValueError("amount must be finite")
    currency = (currency or "").upper()
    places = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    number = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    if currency in CURRENCY_SYMBOLS:
        return f"{sign}{CURRENCY_SYMBOLS[currency]}{number}"
    return f"{sign}{number} {currency}".rstrip()


def _date(value, lang):
    if value is None or value == "":
        return "-"
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y/%m/%d" if lang == "ja" else "%Y-%m-%d")
    return str(value)


def _text(value, **style):
    value = str(value) if value not in (None, "") else "-"  # LINE refuses empty Flex text
    return {"type": "text", "text": value, "wrap": True, **style}


def _row(label, value):
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(label, size="sm", color=MUTED, flex=2), _text(value, size="sm", flex=4)]}


def _bubble(title, rows, big=None, note=None, button=None, size="kilo"):
    body = [_text(big, size="xxl", weight="bold")] if big is not None else []
    body += [_row(label, value) for label, value in rows]
    if note:
        body.append(_text(note, size="xs", color=MUTED))
    bubble = {"type": "bubble", "size": size,
              "header": {"type": "box", "layout": "vertical",
                         "contents": [_text(title, weight="bold", size="md")]},
              "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body}}
    if button:
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "link", "height": "sm", "action": button}]}
    return bubble


def _flex(alt_text, contents):
    _fit(alt_text, ALT_TEXT_MAX, "altText", MessageTooLarge)
    if contents["type"] == "carousel":
        bubbles = contents["contents"]
        if not 1 <= len(bubbles) <= FLEX_CAROUSEL_BUBBLES:
            raise MessageTooLarge(f"a Flex carousel holds 1 to {FLEX_CAROUSEL_BUBBLES} bubbles,"
                                  f" not {len(bubbles)}")
        if json_size(contents) > FLEX_CAROUSEL_BYTES:
            raise MessageTooLarge(f"the Flex carousel is {json_size(contents)} bytes of JSON;"
                                  f" LINE allows {FLEX_CAROUSEL_BYTES}")
    else:
        bubbles = [contents]
    for index, bubble in enumerate(bubbles):
        if json_size(bubble) > FLEX_BUBBLE_BYTES:
            raise MessageTooLarge(f"Flex bubble {index} is {json_size(bubble)} bytes of JSON;"
                                  f" LINE allows {FLEX_BUBBLE_BYTES}")
    return {"type": "flex", "altText": alt_text, "contents": contents}


def _button(label, url):
    return uri_action(label, url, label_max=FLEX_LABEL_MAX) if url else None


def order_list(orders, lang="ja", currency="JPY"):
    """A carousel, one bubble per order (at most 12: pass the newest). Each order is a mapping
    with ``name``, ``date`` (date/datetime/str), ``total`` (number or formatted str),
    ``state`` (display label) and optional ``currency`` and ``url`` (a "details" button).
    No orders: a text message saying so."""
    orders = list(orders)
    if not orders:
        return text(_t(lang, "orders_none"))
    if len(orders) > FLEX_CAROUSEL_BUBBLES:
        raise MessageTooLarge(f"{len(orders)} orders: a carousel shows at most"
                              f" {FLEX_CAROUSEL_BUBBLES}; pass the newest ones")
    bubbles = []
    for order in orders:
        if not order.get("name"):
            raise ValueError("every order needs a name")
        rows = [(_t(lang, "order_date"), _date(order.get("date"), lang)),
                (_t(lang, "order_total"), format_amount(order.get("total", 0),
                                                        order.get("currency") or currency)),
                (_t(lang, "order_state"), order.get("state"))]
        bubbles.append(_bubble(order["name"], rows,
                               button=_button(_t(lang, "details"), order.get("url"))))
    return _flex(_t(lang, "orders_alt"), {"type": "carousel", "contents": bubbles})


def balance(amount, currency="JPY", as_of=None, lang="ja", url=None):
    """The customer's balance (amount due or credit) as of a date."""
    shown = format_amount(amount, currency)
    note = _t(lang, "as_of", date=_date(as_of, lang)) if as_of is not None else None
    bubble = _bubble(_t(lang, "balance_title"), [], big=shown, note=note,
                     button=_button(_t(lang, "details"), url))
    return _flex(f"{_t(lang, 'balance_alt')}: {shown}", bubble)


def points(points, lang="ja", tier=None, as_of=None, url=None):
    shown = _t(lang, "points_unit", n=_count(points))
    rows = [(_t(lang, "tier"), tier)] if tier else []
    note = _t(lang, "as_of", date=_date(as_of, lang)) if as_of is not None else None
    bubble = _bubble(_t(lang, "points_title"), rows, big=shown, note=note,
                     button=_button(_t(lang, "details"), url))
    return _flex(f"{_t(lang, 'points_alt')}: {shown}", bubble)


def member_card(customer_number, tier=None, points=None, lang="ja", name=None, url=None):
    """The member card: name, customer number, tier, points; ``url`` opens the LIFF card (with
    the barcode), since Flex cannot draw one."""
    if customer_number in (None, ""):
        raise ValueError("customer_number is required")
    rows = [(_t(lang, "customer_no"), customer_number), (_t(lang, "tier"), tier)]
    if points is not None:
        rows.append((_t(lang, "points_title"), _t(lang, "points_unit", n=_count(points))))
    bubble = _bubble(_t(lang, "card_title"), rows, big=name,
                     button=_button(_t(lang, "open_card"), url))
    return _flex(_t(lang, "card_alt"), bubble)


def _count(value):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"points must be a number, not {value!r}")
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,}"
