"""The shop's pages (/shop, the cart, check-out) and the abandoned-cart reminder on LINE.

A logged-in customer fills a cart; a cart nobody touched for ``delay`` seconds and not reminded
yet is reminded once on LINE when its customer is linked and has not blocked the official
account: a Flex message listing the cart with a button to ``/shop/cart?token=<access token>``,
the cart's own address (no login needed to see it, like Odoo's ``/shop/cart?access_token=``).
Checking out turns the cart into an order, so a customer who ordered since is never reminded.
Adding to a cart after a reminder makes it a new cart (it may be reminded again).

    app.remind_abandoned_carts(delay=3600)   # a cron / timer calls this; returns the carts reminded
"""

from datetime import datetime
from urllib.parse import urlencode

from line_idlink import flex_builders
from .bot import JST
from .db import PRODUCTS, cart_total
from .web import csrf_field, escape, login_redirect, page, redirect

REMIND_AFTER = 3600  # seconds without a change before a cart counts as abandoned


def catalogue(app, request, session):
    if not session.customer_id:
        return login_redirect(request)
    rows = "".join(
        f'<form method="post" action="/shop/cart/add" class="product">{csrf_field(session)}'
        f'<input type="hidden" name="sku" value="{escape(sku)}">'
        f"<strong>{escape(name)}</strong> {flex_builders.format_amount(price)} "
        '<input name="quantity" value="1" size="2"> <button>カートに入れる</button></form>'
        for sku, (name, price) in PRODUCTS.items())
    return page("ショップ", f'<h2>商品</h2>{rows}<p><a href="/shop/cart">カートを見る</a></p>',
                session)


def _refused(request, session, title):
    """The answer to a form posted without a login or with a stale CSRF token; None if fine."""
    if not session.customer_id:
        return login_redirect(request)
    if not session.csrf_ok(request.form.get("csrf_token")):
        return page(title, '<p class="error">フォームの有効期限が切れました。</p>', session,
                    status=400)
    return None


def cart_add(app, request, session):
    refused = _refused(request, session, "カート")
    if refused:
        return refused
    try:
        app.db.add_to_cart(session.customer_id, request.form.get("sku", ""),
                           int(request.form.get("quantity") or 1), app.clock())
    except ValueError:
        return page("カート", '<p class="error">この商品はカートに入れられません。</p>', session,
                    status=400)
    return redirect("/shop/cart")


def cart_page(app, request, session):
    """The session customer's cart, or the cart of ``token`` (the reminder's link)."""
    token = request.args.get("token")
    if token:
        cart = app.db.cart(token=token)
        if cart is None:
            return page("カート", '<p class="error">このカートは見つかりません（ご注文済みの可能性が'
                        'あります）。</p>', session, status=404)
    elif session.customer_id:
        cart = app.db.cart(session.customer_id)
    else:
        return login_redirect(request)
    if not cart:
        return page("カート", "<p>カートは空です。</p>", session)
    lines = "".join(f'<li class="cart-line">{escape(PRODUCTS[sku][0])} x {qty}</li>'
                    for sku, qty in cart["items"].items() if sku in PRODUCTS)
    checkout = ""
    if session.customer_id == cart["customer_id"]:
        checkout = (f'<form method="post" action="/shop/checkout">{csrf_field(session)}'
                    '<button class="line">注文する</button></form>')
    elif token:
        checkout = ('<p><a href="/login?' + urlencode({"next": "/shop/cart"})
                    + '">ログインしてご注文へ</a></p>')
    body = (f"<h2>カート</h2><ul>{lines}</ul>"
            f"<p>合計: {flex_builders.format_amount(cart_total(cart['items']))}</p>{checkout}")
    return page("カート", body, session)


def checkout(app, request, session):
    refused = _refused(request, session, "ご注文")
    if refused:
        return refused
    now = datetime.fromtimestamp(app.clock(), JST)
    count = app.db.query("SELECT COUNT(*) AS n FROM sale_order")[0]["n"]
    try:
        app.db.check_out(session.customer_id, f"W{count + 1:05d}", now.date().isoformat())
    except ValueError:
        return redirect("/shop/cart")
    return page("ご注文", '<p class="notice">ご注文ありがとうございました。</p>', session)


def remind_abandoned_carts(app, delay=REMIND_AFTER):
    """Remind each abandoned cart once on LINE; returns the ids of the carts reminded. A cart
    whose customer is not linked (or blocked the account) is left for a later run: linking
    later still gets the reminder. The cart is claimed before the push, so two runs never
    remind it twice (the push itself carries its retry key)."""
    now = app.clock()
    line_user = {}
    for link in app.active_links():
        line_user.setdefault(int(link.customer_id), link.line_user_id)
    reminded = []
    for cart in app.db.abandoned_carts(now - delay):
        user_id = line_user.get(cart["customer_id"])
        profile = user_id and app.db.profile(user_id)
        if not user_id or (profile and profile["blocked"]):
            continue
        if not app.db.claim_cart_reminder(cart["id"], now):
            continue
        items = app.db.cart(token=cart["token"])["items"]
        message = flex_builders.cart_reminder(
            [{"name": PRODUCTS[sku][0], "quantity": qty} for sku, qty in items.items()
             if sku in PRODUCTS], cart_total(items),
            f"{app.public_url}/shop/cart?" + urlencode({"token": cart["token"]}))
        app.push(user_id, message)
        app.audit("cart_reminder", user_id, cart["customer_id"], f"cart {cart['id']}")
        reminded.append(cart["id"])
    return reminded
