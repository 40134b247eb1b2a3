"""The customer's pages: /my/line (status, link, unlink), the account-link landing /line/link,
and LINE Login (/line/login, /line/callback) for linking and for logging in.

Undocumented behaviour chosen here
----------------------------------
* /line/link checks the link token before asking to log in: an expired link says so at once
  instead of after a login.
* A "log in with LINE" of a LINE user linked to nobody keeps the verified ``sub`` (and the Login
  token) in the server-side session for 10 minutes; the next password login or sign-up in that
  session links it, and the login and sign-up pages say so (with a way to cancel). A "log in with
  LINE" of a linked user in that session drops it (and revokes its token): on a shared device it
  may be someone else's. Nothing is ever bound by e-mail.
* A LINE Login link that the core refuses (the LINE user is linked to another customer) revokes
  the Login token just obtained.
"""

import hmac
import logging
from datetime import datetime
from urllib.parse import urlencode

from line_idlink.linking import LinkStartError, LinkStatus
from line_idlink.login import LoginDenied, LoginError
from line_idlink.message_builders import unlink_done
from line_idlink.storage import METHOD_LINE_LOGIN
from .bot import JST
from .web import csrf_field, escape, login_redirect, page, redirect, safe_next

log = logging.getLogger("line_idlink_dev.reference.portal")
PENDING_TTL = 600
METHODS = {METHOD_LINE_LOGIN: "LINEログイン", "messaging_api": "LINEのトーク（アカウント連携）"}
UNLINK_NOTICE = ('<p class="notice">連携はいつでも解除できます。このページの「連携を解除する」、'
                 "またはLINEのメニュー「連携解除」から、いつでも解除できます。</p>")


def error_page(session, title, message, status=400, link=None):
    extra = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    return page(title, f'<p class="error">{escape(message)}</p>{extra}', session, status=status)


def _flash(session):
    flash = session.pop("flash", None)
    if not flash:
        return ""
    kind, text = flash
    return f'<p class="{"error" if kind == "error" else "notice"}">{escape(text)}</p>'


def _when(seconds):
    return datetime.fromtimestamp(seconds, JST).strftime("%Y-%m-%d %H:%M")


def home(app, request, session):
    return redirect("/my/line" if session.customer_id else "/login")


# /my/line -----------------------------------------------------------------------------------
def my_line(app, request, session):
    if not session.customer_id:
        return login_redirect(request)
    customer = app.db.customer(session.customer_id)
    links = app.linker.links_for(session.customer_id)
    rows = []
    for link in links:
        name = app.display_name(link.line_user_id) or link.line_user_id
        rows.append(
            f'<div class="notice"><p>連携中のLINEアカウント: <strong>{escape(name)}</strong><br>'
            f"連携日時: {_when(link.linked_at)}（{METHODS.get(link.method, link.method)}）</p>"
            f'<form method="post" action="/my/line/unlink">{csrf_field(session)}'
            f'<input type="hidden" name="line_user_id" value="{escape(link.line_user_id)}">'
            '<button class="danger">連携を解除する</button></form></div>')
    status = "".join(rows) or "<p>LINEアカウントはまだ連携されていません。</p>"
    body = (f"{_flash(session)}<h2>{escape(customer['name'])}様のLINE連携</h2>{status}"
            '<p><a class="line" href="/line/login?purpose=link">LINEで連携する</a></p>'
            f"{UNLINK_NOTICE}")
    return page("LINE連携", body, session)


def unlink(app, request, session):
    if not session.customer_id:
        return login_redirect(request)
    if not session.csrf_ok(request.form.get("csrf_token")):
        return error_page(session, "連携解除", "フォームの有効期限が切れました。もう一度お試しください。",
                          link=("/my/line", "LINE連携へ戻る"))
    line_user_id = request.form.get("line_user_id", "")
    mine = {link.line_user_id for link in app.linker.links_for(session.customer_id)}
    if line_user_id not in mine:  # only one's own links, whatever the form says
        return error_page(session, "連携解除", "この連携は見つかりません。", status=404,
                          link=("/my/line", "LINE連携へ戻る"))
    app.unlink(line_user_id=line_user_id, customer_id=session.customer_id, via="portal")
    app.push(line_user_id, unlink_done())
    session["flash"] = ["notice", "LINEアカウントとの連携を解除しました。"]
    return redirect("/my/line")


# /line/link: the landing page of the "連携する" button LINE users get in the chat ------------------
def link(app, request, session):
    token = request.values.get("linkToken", "")
    if not token:
        return error_page(session, "アカウント連携", "リンクが正しくありません（linkTokenがありません）。")
    line_user_id = app.linker.line_user_for_link_token(token)  # None once used (core)
    if line_user_id is None:
        return _link_gone(session)
    if not session.customer_id:
        if request.method == "POST":
            return redirect("/login?" + urlencode({"next": "/line/link?"
                                                   + urlencode({"linkToken": token})}))
        return login_redirect(request)
    if request.method == "POST":
        return _start_link(app, request, session, token, line_user_id)
    customer = app.db.customer(session.customer_id)
    current = app.linker.customer_for(line_user_id)
    if current == str(customer["id"]):
        return page("アカウント連携", "<p>このLINEアカウントはすでに連携済みです。</p>"
                    '<p><a href="/my/line">LINE連携の状態を見る</a></p>', session)
    if current is not None:  # someone else's LINE account: the same page as a spent link
        return _link_gone(session)
    name = app.display_name(line_user_id, fresh=True) or "（表示名を取得できませんでした）"
    body = (f"<p>LINEアカウント <strong>「{escape(name)}」</strong> を、"
            f"<strong>{escape(customer['name'])}</strong>（{escape(customer['email'])}）"
            "のアカウントと連携します。</p>"
            "<p>連携すると、LINEで注文履歴・ポイント・残高を確認でき、お知らせが届きます。</p>"
            f"{UNLINK_NOTICE}"
            f'<form method="post" action="/line/link">{csrf_field(session)}'
            f'<input type="hidden" name="linkToken" value="{escape(token)}">'
            '<button class="line">連携する</button></form>'
            '<p><a href="/my/line">連携しない</a></p>')
    return page("アカウント連携の確認", body, session)


def _link_gone(session):
    """Unknown, expired, used or someone else's link: one page that names nobody."""
    return error_page(session, "アカウント連携",
                      "このリンクは有効期限が切れているか、無効です。LINEのトーク画面で"
                      "「連携する」をもう一度押してください。", status=410)


def _start_link(app, request, session, token, line_user_id):
    if not session.csrf_ok(request.form.get("csrf_token")):
        return error_page(session, "アカウント連携", "フォームの有効期限が切れました。"
                          "リンクをもう一度開いてください。")
    try:
        start = app.linker.start_link(session.customer_id, line_user_id, token)
    except LinkStartError as exc:
        status = 409 if exc.status is LinkStatus.LINE_USER_TAKEN else 400
        return error_page(session, "アカウント連携", str(exc), status=status)
    app.audit("link_started", line_user_id, session.customer_id)
    return redirect(start.dialog_url)


# LINE Login ---------------------------------------------------------------------------------
def line_login(app, request, session):
    purpose = request.args.get("purpose", "login")
    if purpose not in ("link", "login"):
        return error_page(session, "LINEログイン", "purpose は link か login です。")
    next_url = safe_next(request.args.get("next"))
    if purpose == "link" and not session.customer_id:
        return login_redirect(request)
    if purpose == "login" and session.customer_id:
        return redirect(next_url)
    auth = app.login.authorization_request(scope=("openid", "profile"), bot_prompt="normal")
    session["line_login"] = dict(auth.to_session(), purpose=purpose, next=next_url,
                                 customer_id=session.customer_id)
    return redirect(auth.url)


def callback(app, request, session):
    pending = session.get("line_login")
    retry = ("/my/line", "LINE連携へ戻る") if session.customer_id else ("/login", "ログインへ戻る")
    if not pending:
        return error_page(session, "LINEログイン", "このログイン要求は見つかりません。"
                          "もう一度「LINEでログイン」からお試しください。", link=retry)
    state = request.args.get("state")
    if not (isinstance(state, str) and hmac.compare_digest(state.encode(),
                                                           str(pending["state"]).encode())):
        # not the callback of the login this browser started (a crafted link): refused before
        # reading anything else, and the login request stays usable
        return error_page(session, "LINEログイン", "LINEログインに失敗しました。もう一度お試しください。",
                          link=retry)
    session.pop("line_login", None)
    try:
        result = app.login.exchange_code(request.args, pending)
    except LoginDenied:
        return error_page(session, "LINEログイン", "LINEログインがキャンセルされました。", link=retry)
    except LoginError as exc:  # a fixed sentence: LINE's description goes to the log only
        log.info("LINE Login failed: %s", exc.error)
        return error_page(session, "LINEログイン", "LINEログインに失敗しました。もう一度お試しください。",
                          link=retry)
    claims, token = result.id_claims, result.tokens.access_token
    if pending["purpose"] == "link":
        if not session.customer_id or session.customer_id != pending["customer_id"]:
            app.revoke_login_token(token)
            return error_page(session, "LINE連携", "ログイン状態が変わったため連携を中止しました。",
                              link=retry)
        outcome = app.link_via_login(session.customer_id, claims, token)
        if not outcome.ok:
            return error_page(session, "LINE連携", "このLINEアカウントは別のアカウントと連携済みです。"
                              "そちらで連携を解除してから、もう一度お試しください。", status=409,
                              link=retry)
        session["flash"] = ["notice", f"LINEアカウント「{claims.get('name') or 'LINE'}」と連携しました。"]
        return redirect(pending["next"])
    customer = app.customer_for(claims["sub"])
    if customer is not None:
        unfinished = session.pop("pending_line", None)  # an older LINE login, maybe not theirs
        if unfinished:
            app.revoke_login_token(unfinished["token"])
        session.login(customer["id"])
        app.remember_login_token(claims["sub"], token)
        app.audit("login_with_line", claims["sub"], customer["id"])
        return redirect(pending["next"])
    older = session.get("pending_line")
    if older and older["token"] != token:
        app.revoke_login_token(older["token"])
    session["pending_line"] = {"sub": claims["sub"], "token": token, "name": claims.get("name"),
                               "expires": app.clock() + PENDING_TTL}
    app.audit("login_with_line_unknown", claims["sub"])
    query = urlencode({"next": pending["next"]})
    body = (f"<p>LINEアカウント「{escape(claims.get('name') or '')}」は、まだどのアカウントとも"
            "連携されていません。</p><p>既存のアカウントにログインするか、新規登録してください。"
            "完了すると、このLINEアカウントと連携します。</p>"
            f'<p><a class="line" href="/login?{escape(query)}">ログインして連携する</a></p>'
            f'<p><a href="/signup?{escape(query)}">新規登録して連携する</a></p>{UNLINK_NOTICE}')
    return page("LINEアカウントの連携", body, session)
