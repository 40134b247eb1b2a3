"""The bot: the webhook route and what it does with each event.

follow -> invitation (the unlinked menu is the default); postback ``action=link`` -> a link token
and a button to ``/line/link``; ``accountLink`` -> the core's decision, then linked menu and
confirmation; ``action=unlink`` -> "unlink?" -> ``action=unlink_confirm`` -> unlinked; unfollow ->
blocked (the link stays); keywords and menu buttons -> Flex answers built only from the linked
customer's own rows.

Undocumented behaviour chosen here
----------------------------------
* Keywords match anywhere in the text ("残高を教えて" is 残高); 連携解除 is tested before 連携.
* Any other text gets a short help message (what to type), so a customer is never left without
  an answer; a linked user's help omits the invitation to link.
* A friend who blocked and follows again gets the linked menu back if still linked (LINE does not
  say whether per-user menus survive a block, so it is set again).
"""

import logging
from datetime import datetime, timedelta, timezone

from werkzeug.wrappers import Response

from line_idlink import flex_builders, message_builders, postbacks
from line_idlink.linking import LinkStatus
from line_idlink.webhook import (
    MAX_WEBHOOK_BODY, BodyTooLarge, InvalidSignature, WebhookError, request_body,
    signature_from_headers,
)

log = logging.getLogger("line_idlink_dev.reference.bot")
JST = timezone(timedelta(hours=9))
KEYWORDS = (("連携解除", "unlink"), ("連携", "link"), ("残高", "balance"), ("ポイント", "points"),
            ("注文履歴", "orders"), ("注文", "orders"), ("会員証", "member_card"))
TIERS = {"regular": "レギュラー", "silver": "シルバー", "gold": "ゴールド"}
ORDER_STATES = {"draft": "お見積り", "sale": "ご注文受付", "shipped": "発送済み",
                "done": "お届け済み", "cancel": "キャンセル"}
HELP = "「残高」「ポイント」「注文履歴」「会員証」と送っていただくと、お客様の情報をお答えします。"


def webhook(app, request):
    """POST /line/webhook: signature over the raw bytes, store, 200; then process (see app.py).
    A body over MAX_WEBHOOK_BODY is refused with 413 before it is read; nothing is stored."""
    try:
        raw = request_body(request, MAX_WEBHOOK_BODY)
    except BodyTooLarge as exc:
        return Response(str(exc), status=413, content_type="text/plain; charset=utf-8",
                        headers={"Connection": "close"})
    try:
        app.receiver.receive(raw, signature_from_headers(request.headers))
    except InvalidSignature as exc:
        return Response(str(exc), status=403, content_type="text/plain; charset=utf-8")
    except WebhookError as exc:
        return Response(str(exc), status=400, content_type="text/plain; charset=utf-8")
    if app.process_inline:
        app.process_pending()
    return Response("OK", content_type="text/plain")


def register(app):
    handlers = Handlers(app)
    for event_type in ("follow", "unfollow", "postback", "message", "accountLink"):
        app.receiver.on(event_type, getattr(handlers, "on_" + event_type.lower()))
    return handlers


class Handlers:
    def __init__(self, app):
        self.app = app

    # Friendship ---------------------------------------------------------------------------
    def on_follow(self, event):
        app, user_id = self.app, event.user_id
        app.db.save_profile(user_id, blocked=False)
        name = app.display_name(user_id, fresh=True)
        customer = app.customer_for(user_id)
        app.audit("follow", user_id, customer["id"] if customer else None)
        if customer is not None:
            app.switch_menu(user_id, app.menu_ids.get("linked"))
            app.reply(event.reply_token, message_builders.text(
                f"おかえりなさい、{customer['name']}様。アカウントは引き続き連携されています。"))
            return "welcome back"
        greeting = f"{name}さん、" if name else ""
        app.reply(event.reply_token,
                  message_builders.text(f"{greeting}友だち追加ありがとうございます！\n"
                                        "ショップのアカウントと連携すると、注文履歴・ポイント・残高を"
                                        "LINEで確認できます。連携はいつでも解除できます。"),
                  message_builders.link_first(reason="メニューの「連携する」か、下のボタンから連携できます。"))
        return "invited"

    def on_unfollow(self, event):
        # The link stays: the customer only blocked the chat. Sends skip blocked users.
        self.app.db.save_profile(event.user_id, blocked=True)
        self.app.audit("unfollow", event.user_id)
        return "blocked"

    # Postbacks and text -------------------------------------------------------------------
    def on_postback(self, event):
        data = (event.data.get("postback") or {}).get("data")
        return self.act(event, postbacks.parse_postback(data).get("action"))

    def on_message(self, event):
        message = event.data.get("message") or {}
        if message.get("type") != "text":
            return self.act(event, None)
        text = message.get("text") or ""
        action = next((action for word, action in KEYWORDS if word in text), None)
        return self.act(event, action)

    def act(self, event, action):
        app, user_id, token = self.app, event.user_id, event.reply_token
        if not user_id:  # a group or room without the sender's id: nothing is personal here
            return "ignored"
        customer = app.customer_for(user_id)
        if action == "link":
            if customer is not None:
                app.reply(token, message_builders.text(
                    f"このLINEアカウントは{customer['name']}様のアカウントと連携済みです。\n"
                    "解除はメニューの「連携解除」からいつでもできます。"))
                return "already linked"
            link_token = app.issue_link_token(user_id)
            app.reply(token, message_builders.link_account(app.public_url, link_token))
            return "link token issued"
        if action == "unlink":
            if customer is None:
                app.reply(token, message_builders.text("現在、連携しているアカウントはありません。"))
                return "not linked"
            app.reply(token, message_builders.unlink_question())
            return "asked to confirm"
        if action == "unlink_confirm":
            ended = app.unlink(line_user_id=user_id, via="chat")
            app.reply(token, message_builders.unlink_done() if ended
                      else message_builders.text("現在、連携しているアカウントはありません。"))
            return "unlinked" if ended else "not linked"
        if action == "unlink_cancel":
            app.reply(token, message_builders.text("連携解除をキャンセルしました。連携はそのままです。"))
            return "unlink cancelled"
        if action in SERVICES:
            if customer is None:
                app.reply(token, message_builders.link_first(
                    reason="この情報を表示するには、まずアカウントを連携してください。"))
                return "invited to link"
            app.reply(token, SERVICES[action](app, customer))
            return action
        help_text = HELP if customer else HELP + "\nまずはメニューの「連携する」から連携してください。"
        app.reply(token, message_builders.text(help_text))
        return "help"

    # Account link -------------------------------------------------------------------------
    def on_accountlink(self, event):
        app = self.app
        outcome = app.linker.complete_link(event)
        if outcome.ok:
            app.linked(outcome, outcome.reply_token)
        else:
            # failed (e.g. another LINE user opened the link), unknown/used nonce...: nothing linked
            log.warning("account link refused: %s (%s)", outcome.status.value, outcome.reason)
            app.audit("link_failed", outcome.line_user_id, outcome.customer_id,
                      f"{outcome.status.value}: {outcome.reason}")
            if outcome.reply_token and outcome.status is not LinkStatus.FAILED_RESULT:
                app.reply(outcome.reply_token, message_builders.text(
                    "アカウント連携を完了できませんでした。お手数ですが、メニューの「連携する」から"
                    "もう一度お試しください。"))
        return outcome


# In-chat services: every value comes from the linked customer's own rows -----------------------
def _today(app):
    return datetime.fromtimestamp(app.clock(), JST).date()


def balance(app, customer):
    return flex_builders.balance(customer["balance"], "JPY", as_of=_today(app))


def points(app, customer):
    return flex_builders.points(customer["points"],
                                tier=TIERS.get(customer["tier"], customer["tier"]),
                                as_of=_today(app))


def orders(app, customer):
    rows = app.db.orders(customer["id"])[:12]  # newest first; a carousel shows 12
    return flex_builders.order_list([{"name": o["name"], "date": o["date"], "total": o["total"],
                                      "state": ORDER_STATES.get(o["state"], o["state"])} for o in rows])


def member_card(app, customer):
    return flex_builders.member_card(customer["customer_number"],
                                     TIERS.get(customer["tier"], customer["tier"]),
                                     customer["points"], name=customer["name"])


SERVICES = {"balance": balance, "points": points, "orders": orders, "member_card": member_card}
