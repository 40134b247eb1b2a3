"""Web plumbing for the reference app: server-side sessions, CSRF tokens and HTML pages."""

import hmac
import secrets
from html import escape
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from line_idlink.redirects import safe_redirect

SESSION_COOKIE = "shop_session"


class Session(dict):
    """A dict saved in the shop database under a random id kept in an HttpOnly cookie."""

    def __init__(self, db, request):
        self.db = db
        self.id = request.cookies.get(SESSION_COOKIE)
        data = db.load_session(self.id) if self.id else None
        self.is_new = data is None
        if data is None:
            self.id = secrets.token_urlsafe(32)
            data = {"csrf": secrets.token_urlsafe(32)}
        super().__init__(data)

    @property
    def customer_id(self):
        return self.get("customer_id")

    def login(self, customer_id):
        # A fresh id at login: a session id known before login is worthless after it.
        self.db.drop_session(self.id)
        self.id = secrets.token_urlsafe(32)
        self["customer_id"] = customer_id
        self["csrf"] = secrets.token_urlsafe(32)
        self.is_new = True

    def logout(self):
        self.db.drop_session(self.id)
        self.clear()
        self.id = secrets.token_urlsafe(32)
        self["csrf"] = secrets.token_urlsafe(32)
        self.is_new = True

    def csrf_ok(self, token):
        return bool(token) and hmac.compare_digest(str(token), self["csrf"])

    def commit(self, response):
        self.db.save_session(self.id, dict(self))
        response.set_cookie(SESSION_COOKIE, self.id, httponly=True, samesite="Lax")
        return response


def safe_next(target, default="/my/line"):
    """Only same-site paths: an open redirect would let a phishing link borrow our login.
    The rule is the core's (:func:`line_idlink.redirects.safe_redirect`), shared with Odoo."""
    return safe_redirect(target, default)


def login_redirect(request):
    return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))


PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}
header{{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd}}
.line{{background:#06c755;color:#fff;border:0;padding:.6rem 1.2rem;border-radius:6px;font-size:1rem}}
.danger{{background:#fff;color:#c00;border:1px solid #c00;padding:.5rem 1rem;border-radius:6px}}
.notice{{background:#f4fbf6;border-left:4px solid #06c755;padding:.6rem 1rem}}
.error{{background:#fdf0f0;border-left:4px solid #c00;padding:.6rem 1rem}}
label{{display:block;margin:.5rem 0}} input{{font-size:1rem;padding:.3rem}}
</style></head>
<body><header><h1>LINE ID Link shop</h1><nav>{nav}</nav></header>
<main>{body}</main></body></html>"""


def page(title, body, session=None, status=200):
    if session is not None and session.customer_id:
        nav = ('<a href="/my/line">LINE連携</a> · <form method="post" action="/logout" '
               f'style="display:inline"><input type="hidden" name="csrf_token" value="{session["csrf"]}">'
               '<button>ログアウト</button></form>')
    else:
        nav = '<a href="/login">ログイン</a>'
    html = PAGE.format(title=escape(title), nav=nav, body=body)
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def csrf_field(session):
    return f'<input type="hidden" name="csrf_token" value="{escape(session["csrf"])}">'


__all__ = ["Session", "csrf_field", "escape", "login_redirect", "page", "redirect", "safe_next"]
